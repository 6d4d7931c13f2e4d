"""What /graphql tells a stranger (issue 12, defect 7): introspection and "Did you mean"
hints are settings, off unless debug; two anonymous operations are one validation error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from support import error_codes, gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.settings import GraphQLSettings, HttpSettings, Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
SCHEMA = "{ __schema { queryType { name } types { name } } }"
TYPE = '{ __type(name: "User") { name fields { name } } }'

MISSPELLED = {
    "field": ("{ viewer { emial } }", None),
    "argument": ("{ emails(frist: 1) { edges { node { id } } } }", None),
    "enum value": ("{ engagements(filter: {type: OPNE}) { edges { node { id } } } }", None),
    "enum value in a variable": (
        "query ($t: EngagementType) { engagements(filter: {type: $t}) { edges { node { id } } } }",
        {"t": "OPNE"},
    ),
    "input field": ('{ engagements(filter: {emailld: "x"}) { edges { node { id } } } }', None),
    "input field in a variable": (
        "query ($f: EngagementFilterInput) { engagements(filter: $f) { edges { node { id } } } }",
        {"f": {"sendrId": "x"}},
    ),
    "type": ("query ($f: EmailFilterInpt) { emails(filter: $f) { edges { node { id } } } }",
             None),
    "type condition": ("{ viewer { ... on Usr { id } } }", None),
}


@pytest.fixture
def debug_client(settings: Settings) -> Iterator[TestClient[Any]]:
    """The app as SENDTRAIL_DEBUG=true configures it: introspection and suggestions on."""
    debug = replace(settings, http=replace(settings.http, debug=True),
                    graphql=GraphQLSettings(introspection=True, suggestions=True))
    with TestClient(create_app(debug), base_url="http://testserver.local") as test_client:
        yield test_client


def test_settings_turn_introspection_and_suggestions_on_only_with_debug() -> None:
    # issue 12, defect 7
    base = {"SENDTRAIL_SECRET_KEYS": "k" * 40, "SENDTRAIL_DATA_DIR": "/nonexistent"}
    production = Settings.from_env(base)
    assert production.graphql == GraphQLSettings(introspection=False, suggestions=False)
    debug = Settings.from_env({**base, "SENDTRAIL_DEBUG": "true"})
    assert debug.graphql == GraphQLSettings(introspection=True, suggestions=True)
    chosen = Settings.from_env({**base, "SENDTRAIL_DEBUG": "true",
                                "SENDTRAIL_GRAPHQL_INTROSPECTION": "false",
                                "SENDTRAIL_GRAPHQL_SUGGESTIONS": "false"})
    assert chosen.graphql == GraphQLSettings(introspection=False, suggestions=False)
    assert Settings.from_env({**base, "SENDTRAIL_GRAPHQL_INTROSPECTION": "on"}).graphql \
        == GraphQLSettings(introspection=True, suggestions=False)
    assert isinstance(production.http, HttpSettings)


@pytest.mark.parametrize("query", [SCHEMA, TYPE], ids=["__schema", "__type"])
def test_introspection_is_refused_without_credentials_by_default(client: Any, query: str) -> None:
    # issue 12, defect 7: the reviewer read the whole schema without a credential.
    body = gql(client, query)
    assert body.get("data") is None
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    message = body["errors"][0]["message"]
    assert "introspection is turned off" in message.lower()
    assert "sendtrail export-schema" in message
    answer = client.post("/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE})
    assert answer.status_code == 400
    assert "data" not in answer.json()


def test_introspection_off_is_off_for_tokens_too_and_typename_still_answers(
    client: Any, database_url: str
) -> None:
    # issue 12, defect 7: one switch, whoever asks; __typename is not introspection.
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, SCHEMA, token=tenant.admin_token)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert gql(client, "{ __typename }")["data"] == {"__typename": "Query"}


def test_introspection_answers_when_the_setting_is_on(debug_client: Any) -> None:
    # issue 12, defect 7
    body = gql(debug_client, SCHEMA)
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"] == {"name": "Query"}
    assert gql(debug_client, TYPE)["data"]["__type"]["name"] == "User"


@pytest.mark.parametrize(("query", "variables"), MISSPELLED.values(), ids=MISSPELLED.keys())
def test_misspelled_names_get_no_suggestions_by_default(
    client: Any, query: str, variables: dict[str, Any] | None
) -> None:
    # issue 12, defect 7: arguments, enum values and types still answered "Did you mean…".
    body = gql(client, query, variables)
    assert body["errors"], body
    for error in body["errors"]:
        assert "did you mean" not in error["message"].lower(), error
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(("query", "variables"), MISSPELLED.values(), ids=MISSPELLED.keys())
def test_misspelled_names_get_suggestions_when_the_setting_is_on(
    debug_client: Any, query: str, variables: dict[str, Any] | None
) -> None:
    # issue 12, defect 7: a developer's server still helps.
    body = gql(debug_client, query, variables)
    assert any("Did you mean" in error["message"] for error in body["errors"]), body


def test_two_anonymous_operations_are_one_validation_error_and_run_nothing(
    client: Any, database_url: str
) -> None:
    # issue 12, defect 7: "two anonymous operations in one document must be an error, not
    # run the first": the first one here would turn tracking off.
    tenant = run(seed_tenant(database_url, "Acme"))
    document = ("mutation { updateAccountSettings(input: {trackingEnabled: false}) { id } }\n"
                "{ viewer { id } }")
    headers = {"Authorization": f"Bearer {tenant.admin_token}"}
    strict = client.post("/graphql", json={"query": document},
                         headers={**headers, "Accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in strict.json()
    assert {error["extensions"]["code"] for error in strict.json()["errors"]} \
        == {"GRAPHQL_VALIDATION_FAILED"}
    assert "anonymous operation must be the only defined operation" \
        in strict.json()["errors"][0]["message"]
    legacy = client.post("/graphql", json={"query": document}, headers=headers)
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None
    assert error_codes(legacy.json()) == ["GRAPHQL_VALIDATION_FAILED"] * 2
    settings = gql(client, "{ account { settings { trackingEnabled } } }",
                   token=tenant.admin_token)
    assert settings["data"]["account"]["settings"]["trackingEnabled"] is True


def test_two_anonymous_operations_over_the_websocket_run_nothing(
    client: Any, database_url: str
) -> None:
    # issue 12, defect 7: the socket takes queries and mutations too (graphql-transport-ws).
    tenant = run(seed_tenant(database_url, "Acme"))
    document = ("mutation { updateAccountSettings(input: {trackingEnabled: false}) { id } }\n"
                "subscription { engagementNotifications { id } }")
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init",
                          "payload": {"authorization": f"Bearer {tenant.admin_token}"}})
        assert socket.receive_json(timeout=5)["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": document}})
        answer = socket.receive_json(timeout=5)
    assert answer["type"] == "error", answer
    assert all("anonymous operation" in error["message"] for error in answer["payload"])
    settings = gql(client, "{ account { settings { trackingEnabled } } }",
                   token=tenant.admin_token)
    assert settings["data"]["account"]["settings"]["trackingEnabled"] is True
