"""GraphQL hardening: depth/token/alias limits, no batching, queries only over GET, no IDE,
unexpected errors masked, field suggestions off."""

from __future__ import annotations

from typing import Any

from support import error_codes, gql, run, seed_tenant

from sendtrail.graphql.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS


def test_too_deep_query_is_refused(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    deep = "{ viewer " + "{ account { users { edges { node " * 3 + "{ id }" + " } } } }" * 3 + " }"
    body = gql(client, deep, token=tenant.admin_token)
    assert body.get("data") is None
    assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])
    assert MAX_DEPTH < 13  # the query above is 13 levels deep


def test_too_many_aliases_are_refused(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(MAX_ALIASES + 1))
    body = gql(client, "{ " + aliases + " }", token=tenant.admin_token)
    assert body.get("data") is None
    assert "aliases" in body["errors"][0]["message"]


def test_too_many_tokens_are_refused(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    query = "{ viewer { " + " ".join(["id"] * MAX_TOKENS) + " } }"
    body = gql(client, query, token=tenant.admin_token)
    assert body.get("data") is None
    assert "token" in body["errors"][0]["message"].lower()


def test_batched_requests_are_refused(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    response = client.post(
        "/graphql",
        json=[{"query": "{ viewer { id } }"}, {"query": "{ viewer { id } }"}],
        headers={"Authorization": f"Bearer {tenant.admin_token}"},
    )
    assert 400 <= response.status_code < 500


def test_mutations_are_refused_over_get(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    response = client.get(
        "/graphql",
        params={"query": "mutation { updateAccountSettings(input: {trackingEnabled: false}) "
                         "{ id } }"},
        headers={"Authorization": f"Bearer {tenant.admin_token}"},
    )
    assert 400 <= response.status_code < 500
    body = gql(client, "{ account { settings { trackingEnabled } } }", token=tenant.admin_token)
    assert body["data"]["account"]["settings"]["trackingEnabled"] is True


def test_queries_work_over_get(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    response = client.get("/graphql", params={"query": "{ viewer { email } }"},
                          headers={"Authorization": f"Bearer {tenant.admin_token}"})
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["email"] == "admin@acme.test"


def test_graphiql_is_not_served_outside_debug(client: Any) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in response.text.lower()
    assert response.status_code >= 400


def test_syntax_errors_are_typed_and_suggest_nothing(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    broken = gql(client, "{ viewer { email ", token=tenant.admin_token)
    assert error_codes(broken) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Syntax Error" in broken["errors"][0]["message"]
    unknown = gql(client, "{ viewer { emial } }", token=tenant.admin_token)
    assert error_codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in unknown["errors"][0]["message"]


def test_unauthenticated_requests_get_a_typed_error(client: Any) -> None:
    body = gql(client, "{ viewer { email } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "Bearer" in body["errors"][0]["message"]
