"""GraphQL over HTTP (issue 12, defect 15) and the transport's own refusals (defect 8).

``application/graphql-response+json`` when asked: request errors (parse, validation,
variable coercion) are a 400 without ``data``; ``application/json`` answers as before.
Malformed requests are refused with a GraphQL-shaped, coded error instead of text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import error_codes, run, seed_tenant

GRAPHQL_RESPONSE = "application/graphql-response+json"
# What urql (the web admin's client) sends by default.
URQL_ACCEPT = ("application/graphql-response+json, application/graphql+json, application/json, "
               "text/event-stream, multipart/mixed")
NESTED = 1_000


def post(client: Any, body: Any, *, accept: str | None = None, **headers: str) -> Any:
    if accept is not None:
        headers["Accept"] = accept
    return client.post("/graphql", json=body, headers=headers)


def only_error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body, body
    (error,) = body["errors"]
    return dict(error)


@pytest.mark.parametrize(("accept", "media_type"), [
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (URQL_ACCEPT, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
    ("application/json", "application/json"),
    ("*/*", "application/json"),
    (None, "application/json"),
])
def test_the_answer_has_the_media_type_the_client_prefers(
    client: Any, accept: str | None, media_type: str
) -> None:
    # issue 12, defect 15
    response = post(client, {"query": "{ __typename }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["vary"] == "Accept"


REQUEST_ERRORS = {
    "parse": ({"query": "{ viewer { email "}, "Syntax Error"),
    "validation": ({"query": "{ nosuchfield }"}, "Cannot query field"),
    "variable coercion": (
        {"query": "query ($n: Int) { emails(first: $n) { edges { node { id } } } }",
         "variables": {"n": "many"}},
        "Int cannot represent non-integer value",
    ),
    "missing non-null variable": (
        {"query": "query ($n: Int!) { emails(first: $n) { edges { node { id } } } }",
         "variables": {"n": None}},
        "non-null type",
    ),
}


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_request_errors_are_a_400_without_data_in_graphql_response_json(
    client: Any, body: dict[str, Any], message: str
) -> None:
    # issue 12, defect 15
    response = post(client, body, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    error = only_error(response)
    assert message in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_request_errors_are_unchanged_in_application_json(
    client: Any, body: dict[str, Any], message: str
) -> None:
    # issue 12, defect 15: clients that ask for application/json (or nothing) see no change.
    for accept in ("application/json", None):
        response = post(client, body, accept=accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        answer = response.json()
        assert answer["data"] is None
        assert message in answer["errors"][0]["message"]
        assert error_codes(answer) == ["GRAPHQL_VALIDATION_FAILED"]


def test_field_errors_keep_a_200_with_data_and_their_codes(
    client: Any, database_url: str
) -> None:
    # issue 12, defect 15: a resolver's error is not a request error (data is present).
    unauthenticated = post(client, {"query": "{ viewer { email } }"}, accept=GRAPHQL_RESPONSE)
    assert unauthenticated.status_code == 200
    assert unauthenticated.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert unauthenticated.json()["data"] is None
    assert error_codes(unauthenticated.json()) == ["UNAUTHENTICATED"]
    tenant = run(seed_tenant(database_url, "Acme"))
    missing = post(client, {"query": '{ email(id: "00000000-0000-0000-0000-000000000000") '
                                     "{ id } }"},
                   accept=GRAPHQL_RESPONSE, Authorization=f"Bearer {tenant.admin_token}")
    assert missing.status_code == 200, missing.text
    assert missing.json()["data"] is None
    assert error_codes(missing.json()) == ["NOT_FOUND"]


def test_get_queries_negotiate_too(client: Any) -> None:
    # issue 12, defect 15
    response = client.get("/graphql", params={"query": "{ nosuchfield }"},
                          headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    ok = client.get("/graphql", params={"query": "query Q($n: String!) { __typename }",
                                        "variables": json.dumps({"n": "x"})},
                    headers={"Accept": GRAPHQL_RESPONSE})
    assert ok.status_code == 400  # $n is unused: a validation error, not a crash
    fine = client.get("/graphql", params={"query": "{ __typename }"},
                      headers={"Accept": "application/json"})
    assert fine.status_code == 200
    assert fine.json() == {"data": {"__typename": "Query"}}


MALFORMED = {
    "no query": ({"notquery": "{ __typename }"}, 400, "query"),
    "query not a string": ({"query": ["{ __typename }"]}, 400, "query"),
    "operationName not a string": ({"query": "{ __typename }", "operationName": 0}, 400,
                                   "operationName"),
    "unknown operationName": ({"query": "{ __typename }", "operationName": "Nope"}, 400,
                              "Nope"),
    "variables not an object": ({"query": "{ __typename }", "variables": "x"}, 400,
                                "variables"),
    "extensions not an object": ({"query": "{ __typename }", "extensions": [1]}, 400,
                                 "extensions"),
}


@pytest.mark.parametrize(("body", "status", "word"), MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
def test_malformed_requests_get_a_coded_graphql_error(
    client: Any, body: Any, status: int, word: str, accept: str
) -> None:
    # issue 12, defect 15: a GraphQL client can read why, in the media type it asked for.
    response = post(client, body, accept=accept)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(accept)
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert word in error["message"]


def test_unparsable_or_untyped_bodies_get_a_coded_graphql_error(client: Any) -> None:
    # issue 12, defect 15
    broken = client.post("/graphql", content=b'{ "not a JSON',
                         headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert only_error(broken)["extensions"]["code"] == "BAD_REQUEST"
    untyped = client.post("/graphql", content=b'{"query": "{ __typename }"}')
    assert untyped.status_code == 415
    assert "application/json" in only_error(untyped)["message"]


def test_a_get_without_a_query_says_what_to_send(client: Any) -> None:
    # issue 12, defect 15: it answered a bare "Not Found" in text.
    response = client.get("/graphql", headers={"Accept": "*/*"})
    assert response.status_code == 400
    assert "query" in only_error(response)["message"]


def test_mutations_over_get_are_405_with_allow_post(client: Any) -> None:
    # issue 12, defect 15: the spec's status for a mutation over GET.
    response = client.get("/graphql", params={"query": "mutation { __typename }"},
                          headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in only_error(response)["message"]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_subscription_over_http_is_refused_with_where_to_go(client: Any, method: str) -> None:
    # issue 12, defect 8: it was executed as a query and answered a masked server error.
    query = "subscription { engagementNotifications { id } }"
    if method == "POST":
        response = post(client, {"query": query})
    else:
        response = client.get("/graphql", params={"query": query})
    assert response.status_code == 400, response.text
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"]
    assert "graphql-transport-ws" in error["message"]


def deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body", [
    deep_array(NESTED),
    '{"query": "{ __typename }", "variables": {"a": ' + deep_array(NESTED) + "}}",
    '{"query": ' + '{"a": ' * NESTED + "1" + "}" * NESTED + "}",
    "[" * NESTED,  # not even balanced
], ids=["array", "in variables", "objects", "unbalanced"])
def test_deeply_nested_json_on_graphql_is_a_400_even_unauthenticated(
    client: Any, body: str
) -> None:
    # issue 12, defect 8: RecursionError in the JSON decoder answered 500.
    response = client.post("/graphql", content=body.encode(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "nested" in error["message"]


def test_deeply_nested_json_on_sign_in_is_a_400(client: Any) -> None:
    # issue 12, defect 8: the whole app refuses it, not one route.
    body = '{"email": ' + deep_array(NESTED) + ', "password": "x"}'
    response = client.post("/auth/login", content=body.encode(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"]["code"] == "BAD_REQUEST"
    assert "nested" in answer["error"]["message"]


def test_reasonably_nested_json_still_works(client: Any) -> None:
    # issue 12, defect 8: the guard must not refuse what real clients send.
    body = {"query": "{ __typename }", "extensions": {"deep": json.loads(deep_array(30))}}
    response = client.post("/graphql", content=json.dumps(body).encode(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}
