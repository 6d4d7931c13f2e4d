"""API tokens over GraphQL: shown once, stored hashed, scoped, revocable, expiring, checked."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from support import Tenant, error_codes, gql, refusal, run, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.db.tenant import unscoped
from sendtrail.db.types import utcnow
from sendtrail.tenancy.credentials import new_api_token
from sendtrail.tenancy.store import ApiTokenRow
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.values import Principal, Role, Scope

CREATE = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    secret apiToken { id name scopes prefix userId lastUsedAt expiresAt revoked }
  }
}"""
LIST = "{ apiTokens { id name scopes prefix userId createdAt lastUsedAt expiresAt revoked } }"
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) { id revoked revokedAt } }"
VIEWER = "{ viewer { email } }"


def new_token(client: Any, token: str, **fields: Any) -> dict[str, Any]:
    body = gql(client, CREATE, {"input": {"name": "ci", "scopes": ["READ"], **fields}},
               token=token)
    assert body.get("errors") is None, body
    created: dict[str, Any] = body["data"]["createApiToken"]
    return created


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


def test_secret_is_shown_once_and_never_listed(client: Any, tenant: Tenant) -> None:
    created = new_token(client, tenant.user_token)
    secret = created["secret"]
    assert secret.startswith("st_")
    assert len(secret) > 20
    token = created["apiToken"]
    assert token["scopes"] == ["READ"]
    assert token["prefix"] == secret[: len(token["prefix"])]
    assert 3 < len(token["prefix"]) < len(secret) // 2
    assert token["userId"] == tenant.user_id
    assert token["lastUsedAt"] is None
    assert token["revoked"] is False

    listing = gql(client, LIST, token=tenant.user_token)
    assert secret not in json.dumps(listing)
    assert secret[len(token["prefix"]):] not in json.dumps(listing)
    (mine,) = [t for t in listing["data"]["apiTokens"] if t["id"] == token["id"]]
    assert mine["prefix"] == token["prefix"]
    assert mine["scopes"] == ["READ"]
    assert mine["lastUsedAt"] is None


def test_secret_is_stored_hashed(client: Any, database_url: str, tenant: Tenant) -> None:
    secret = new_token(client, tenant.admin_token)["secret"]

    async def stored_rows() -> list[ApiTokenRow]:
        database = Database(database_url)
        try:
            async with database.session(account_id=None) as session:
                return list((await session.exec(unscoped(select(ApiTokenRow)))).all())
        finally:
            await database.dispose()

    rows = run(stored_rows())
    assert len(rows) == 3
    for row in rows:
        for column, value in row.model_dump().items():
            assert value != secret, column
            assert secret[3:] not in str(value), column
    for known in (secret, tenant.admin_token, tenant.user_token):
        assert not any(known in json.dumps(r.model_dump(), default=str) for r in rows)


def test_using_a_token_records_last_use(client: Any, tenant: Tenant) -> None:
    created = new_token(client, tenant.user_token)
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert gql(client, VIEWER, token=created["secret"])["data"]["viewer"]["email"] == (
        tenant.user_email)
    listing = gql(client, LIST, token=tenant.user_token)["data"]["apiTokens"]
    (used,) = [t for t in listing if t["id"] == created["apiToken"]["id"]]
    assert used["lastUsedAt"] is not None
    assert datetime.fromisoformat(used["lastUsedAt"]) >= before


def test_read_token_cannot_write(client: Any, tenant: Tenant) -> None:
    reader = new_token(client, tenant.admin_token)["secret"]
    code, message = refusal(gql(
        client, "mutation { updateAccountSettings(input: {trackingEnabled: false}) { id } }",
        token=reader))
    assert code == "FORBIDDEN"
    assert "read-only" in message
    assert "write scope" in message
    settings = gql(client, "{ account { settings { trackingEnabled } } }", token=reader)
    assert settings["data"]["account"]["settings"]["trackingEnabled"] is True
    code, _ = refusal(gql(client, CREATE, {"input": {"name": "more", "scopes": ["WRITE"]}},
                          token=reader))
    assert code == "FORBIDDEN"


def test_plain_user_cannot_mint_an_admin_token(client: Any, tenant: Tenant) -> None:
    body = gql(client, CREATE, {"input": {"name": "x", "scopes": ["READ", "ADMIN"]}},
               token=tenant.user_token)
    code, message = refusal(body)
    assert code == "FORBIDDEN"
    assert "admin" in message
    for_admin = gql(client, CREATE, {"input": {"name": "x", "userId": tenant.admin_id}},
                    token=tenant.user_token)
    assert error_codes(for_admin) == ["FORBIDDEN"]
    assert len(gql(client, LIST, token=tenant.user_token)["data"]["apiTokens"]) == 1


def test_users_see_their_own_tokens_admins_see_all(client: Any, tenant: Tenant) -> None:
    new_token(client, tenant.user_token, name="user's laptop")
    new_token(client, tenant.admin_token, name="admin's ci")
    mine = gql(client, LIST, token=tenant.user_token)["data"]["apiTokens"]
    assert {t["userId"] for t in mine} == {tenant.user_id}
    assert sorted(t["name"] for t in mine) == ["test", "user's laptop"]
    everyone = gql(client, LIST, token=tenant.admin_token)["data"]["apiTokens"]
    assert {t["userId"] for t in everyone} == {tenant.user_id, tenant.admin_id}
    assert len(everyone) == 4


def test_revoked_token_is_refused_saying_so(client: Any, tenant: Tenant) -> None:
    created = new_token(client, tenant.user_token)
    assert gql(client, VIEWER, token=created["secret"]).get("errors") is None
    body = gql(client, REVOKE, {"id": created["apiToken"]["id"]}, token=tenant.user_token)
    assert body["data"]["revokeApiToken"]["revoked"] is True
    code, message = refusal(gql(client, VIEWER, token=created["secret"]))
    assert code == "UNAUTHENTICATED"
    assert "revoked" in message
    listing = gql(client, LIST, token=tenant.user_token)["data"]["apiTokens"]
    (row,) = [t for t in listing if t["id"] == created["apiToken"]["id"]]
    assert row["revoked"] is True


def test_user_cannot_revoke_someone_elses_token(client: Any, tenant: Tenant) -> None:
    admins = new_token(client, tenant.admin_token)
    code, _ = refusal(gql(client, REVOKE, {"id": admins["apiToken"]["id"]},
                          token=tenant.user_token))
    assert code == "NOT_FOUND"
    assert gql(client, VIEWER, token=admins["secret"]).get("errors") is None
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        code, message = refusal(gql(client, REVOKE, {"id": unknown}, token=tenant.user_token))
        assert code == "NOT_FOUND"
        assert unknown in message


def test_admin_can_revoke_a_users_token(client: Any, tenant: Tenant) -> None:
    users = new_token(client, tenant.user_token)
    body = gql(client, REVOKE, {"id": users["apiToken"]["id"]}, token=tenant.admin_token)
    assert body["data"]["revokeApiToken"]["revoked"] is True
    assert error_codes(gql(client, VIEWER, token=users["secret"])) == ["UNAUTHENTICATED"]


def test_expired_token_is_refused_saying_so(
    client: Any, database_url: str, tenant: Tenant
) -> None:
    async def expired_secret() -> str:
        database = Database(database_url)
        account_id = uuid.UUID(tenant.account_id)
        actor = Principal(login_id=uuid.uuid4(), email=tenant.user_email,
                          account_id=account_id, user_id=uuid.UUID(tenant.user_id),
                          role=Role.USER)
        long_ago = utcnow() - timedelta(days=3)
        try:
            async with database.session(account_id=account_id) as session:
                _, secret = await create_api_token(
                    session, actor, account_id, name="old", scopes=frozenset({Scope.READ}),
                    expires_at=long_ago + timedelta(days=1), now=long_ago)
            return secret
        finally:
            await database.dispose()

    code, message = refusal(gql(client, VIEWER, token=run(expired_secret())))
    assert code == "UNAUTHENTICATED"
    assert "expired" in message


def test_expiry_in_the_future_is_kept(client: Any, tenant: Tenant) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    created = new_token(client, tenant.user_token, expiresAt=later.isoformat())
    assert datetime.fromisoformat(created["apiToken"]["expiresAt"]) == later
    assert gql(client, VIEWER, token=created["secret"]).get("errors") is None


def test_expiry_in_the_past_is_bad_input(client: Any, tenant: Tenant) -> None:
    body = gql(client, CREATE, {"input": {"name": "x", "expiresAt": "2020-01-01T00:00:00+00:00"}},
               token=tenant.user_token)
    code, message = refusal(body)
    assert code == "BAD_USER_INPUT"
    assert "future" in message


@pytest.mark.parametrize("expires_at", ["2099-01-01T00:00:00", "2020-01-01T00:00:00"])
def test_expiry_without_timezone_is_explained(client: Any, tenant: Tenant,
                                              expires_at: str) -> None:
    body = gql(client, CREATE, {"input": {"name": "x", "expiresAt": expires_at}},
               token=tenant.user_token)
    code, message = refusal(body)
    assert code == "BAD_USER_INPUT"
    assert "timezone" in message


def test_unparseable_expiry_is_a_validation_error(client: Any, tenant: Tenant) -> None:
    body = gql(client, CREATE, {"input": {"name": "x", "expiresAt": "next tuesday"}},
               token=tenant.user_token)
    assert error_codes(body) in (["GRAPHQL_VALIDATION_FAILED"], ["BAD_USER_INPUT"])
    assert "next tuesday" in body["errors"][0]["message"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_token_needs_a_sensible_name(client: Any, tenant: Tenant, name: str) -> None:
    code, message = refusal(gql(client, CREATE, {"input": {"name": name}},
                                token=tenant.user_token))
    assert code == "BAD_USER_INPUT"
    assert "name" in message


def test_bad_credentials_get_distinct_helpful_messages(client: Any, tenant: Tenant) -> None:
    secret = tenant.user_token
    middle = len(secret) // 2
    swapped = "A" if secret[middle] != "A" else "B"
    cases = {
        "garbled": {"Authorization": f"Bearer {secret[:middle]}{swapped}{secret[middle + 1:]}"},
        "truncated": {"Authorization": f"Bearer {secret[:-4]}"},
        "no prefix": {"Authorization": f"Bearer {secret[3:]}"},
        "not bearer": {"Authorization": f"Token {secret}"},
        "empty bearer": {"Authorization": "Bearer "},
    }
    messages = {}
    for case, headers in cases.items():
        response = client.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert response.status_code == 200, (case, response.text)
        code, message = refusal(response.json())
        assert code == "UNAUTHENTICATED", case
        messages[case] = message
    assert "checksum" in messages["garbled"] or "garbled" in messages["garbled"]
    assert "truncated" in messages["truncated"]
    assert "st_" in messages["no prefix"]
    assert "Bearer" in messages["not bearer"]
    assert len({messages[c] for c in ("garbled", "truncated", "no prefix", "not bearer")}) == 4


def test_well_formed_unknown_token_is_refused(client: Any, tenant: Tenant) -> None:
    code, message = refusal(gql(client, VIEWER, token=new_api_token()))
    assert code == "UNAUTHENTICATED"
    assert "not valid" in message
    code, _ = refusal(gql(client, VIEWER))
    assert code == "UNAUTHENTICATED"
