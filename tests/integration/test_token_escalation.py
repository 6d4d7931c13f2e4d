"""Issue 12, defect 1: a credential never produces or grants more than it holds.

A token made with a token has at most the creator's scopes and never outlives it; a web
session creates up to its user's role (R19). The same holds for everything else a token
can create or grant: users and their roles and seats, webhook endpoints.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from support import PASSWORD, FakeClock, Tenant, error_codes, gql, refusal, run, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.settings import Settings
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.values import Principal, Role, Scope

CREATE = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { secret apiToken { id scopes userId expiresAt } }
}"""
TOKENS = "{ apiTokens { id name scopes userId expiresAt } }"
USERS = "{ users(first: 100) { edges { node { email role seat active } } } }"
ENDPOINTS = "{ webhookEndpoints { id } }"
R, W, A = Scope.READ, Scope.WRITE, Scope.ADMIN


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Webhook endpoints on loopback allowed, so one exists to rotate the secret of."""
    return replace(settings, notifications=replace(
        settings.notifications, webhook_allow_loopback=True))


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


async def _mint(url: str, tenant: Tenant, scopes: set[Scope], expires_at: datetime | None,
                now: datetime, *, admin: bool) -> str:
    """A token of the tenant's admin (or user), made directly as the owner's web session."""
    database = Database(url)
    account_id = uuid.UUID(tenant.account_id)
    owner = Principal(
        login_id=uuid.uuid4(), email=tenant.admin_email if admin else tenant.user_email,
        account_id=account_id, user_id=uuid.UUID(tenant.admin_id if admin else tenant.user_id),
        role=Role.ADMIN if admin else Role.USER,
    )
    try:
        async with database.session(account_id=account_id) as session:
            _, secret = await create_api_token(
                session, owner, account_id, name="creator", scopes=frozenset(scopes),
                expires_at=expires_at, now=now,
            )
        return secret
    finally:
        await database.dispose()


def mint(url: str, tenant: Tenant, *scopes: Scope, expires_at: datetime | None = None,
         now: datetime, admin: bool = True) -> str:
    return run(_mint(url, tenant, set(scopes), expires_at, now, admin=admin))


def token_count(client: TestClient[Any], tenant: Tenant) -> int:
    return len(gql(client, TOKENS, token=tenant.admin_token)["data"]["apiTokens"])


def create(client: TestClient[Any], token: str, *scopes: str, **fields: Any) -> dict[str, Any]:
    return gql(client, CREATE, {"input": {"name": "x", "scopes": list(scopes), **fields}},
               token=token)


# --- the instance: createApiToken --------------------------------------------------------


def test_read_write_token_of_an_admin_cannot_mint_an_admin_token(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 1 as reported (R19: scopes never exceed the credential's).
    creator = mint(database_url, tenant, R, W, now=clock.now)
    before = token_count(app, tenant)
    code, message = refusal(create(app, creator, "ADMIN", "READ", "WRITE"))
    assert code == "FORBIDDEN"
    assert "admin" in message
    assert "read, write" in message  # says what the creating token holds
    assert token_count(app, tenant) == before  # nothing was created


def test_expiring_token_cannot_mint_a_token_that_outlives_it(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 1: a token expiring in 10 minutes asked for a later expiry.
    soon = clock.now + timedelta(minutes=10)
    creator = mint(database_url, tenant, R, W, A, expires_at=soon, now=clock.now)
    before = token_count(app, tenant)
    later = (clock.now + timedelta(days=365)).isoformat()
    code, message = refusal(create(app, creator, "ADMIN", "READ", "WRITE", expiresAt=later))
    assert code == "FORBIDDEN"
    assert "expires" in message
    assert soon.isoformat()[:16] in message.replace(" ", "T")  # names the limit
    assert token_count(app, tenant) == before


def test_token_made_by_an_expiring_token_without_expiry_gets_the_creators_expiry(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 1: no expiresAt used to mean "never" even from a 10-minute token.
    soon = clock.now + timedelta(minutes=10)
    creator = mint(database_url, tenant, R, W, A, expires_at=soon, now=clock.now)
    body = create(app, creator, "READ", "WRITE", "ADMIN")
    assert body.get("errors") is None, body
    made = body["data"]["createApiToken"]["apiToken"]
    assert datetime.fromisoformat(made["expiresAt"]) == soon
    # ... also for a token it makes for another user of the account.
    for_user = create(app, creator, "READ", userId=tenant.user_id)
    assert for_user.get("errors") is None, for_user
    made = for_user["data"]["createApiToken"]["apiToken"]
    assert datetime.fromisoformat(made["expiresAt"]) == soon


def test_token_may_make_narrower_and_shorter_tokens(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    soon = clock.now + timedelta(minutes=10)
    creator = mint(database_url, tenant, R, W, expires_at=soon, now=clock.now)
    sooner = (clock.now + timedelta(minutes=5)).isoformat()
    body = create(app, creator, "READ", expiresAt=sooner)
    assert body.get("errors") is None, body
    assert body["data"]["createApiToken"]["apiToken"]["scopes"] == ["READ"]
    # Write implies read: a write-only token may make a read+write one.
    writer = mint(database_url, tenant, W, now=clock.now)
    body = create(app, writer, "READ", "WRITE")
    assert body.get("errors") is None, body


def test_admin_only_token_may_make_a_full_token(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # The admin scope already lets a token read and write everything its admin may.
    creator = mint(database_url, tenant, A, now=clock.now)
    body = create(app, creator, "READ", "WRITE", "ADMIN")
    assert body.get("errors") is None, body


def test_web_session_creates_up_to_its_users_role(app: TestClient[Any], tenant: Tenant) -> None:
    signed_in = app.post("/auth/login", json={"email": tenant.admin_email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    headers = {"X-CSRF-Token": signed_in.json()["csrfToken"]}
    body = gql(app, CREATE, {"input": {"name": "ci", "scopes": ["READ", "WRITE", "ADMIN"]}},
               headers=headers)
    assert body.get("errors") is None, body
    assert body["data"]["createApiToken"]["apiToken"]["expiresAt"] is None


# --- the class: what else a token can create or grant -------------------------------------


def test_read_write_token_of_an_admin_cannot_invite_or_grant_roles_or_seats(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 1 (class): users, roles and seats need the admin scope (R19).
    creator = mint(database_url, tenant, R, W, now=clock.now)
    before = gql(app, USERS, token=tenant.admin_token)["data"]
    invite = gql(app, 'mutation { inviteUser(input: {email: "new@acme.test", role: ADMIN}) '
                 "{ id } }", token=creator)
    update = gql(app, 'mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN, '
                 "seat: SALES_STARTER}) { id } }", {"id": tenant.user_id}, token=creator)
    deactivate = gql(app, 'mutation($id: ID!) { updateUser(input: {id: $id, active: false}) '
                     "{ id } }", {"id": tenant.user_id}, token=creator)
    for body in (invite, update, deactivate):
        code, message = refusal(body)
        assert code == "FORBIDDEN"
        assert "admin scope" in message
    assert gql(app, USERS, token=tenant.admin_token)["data"] == before


def test_read_write_token_of_an_admin_cannot_add_webhook_endpoints_or_domains(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    creator = mint(database_url, tenant, R, W, now=clock.now)
    hook = gql(app, 'mutation { createWebhookEndpoint(input: {url: "https://hooks.example.com/x", '
               'eventTypes: ["engagement.opened"]}) { endpoint { id } } }', token=creator)
    domain = gql(app, 'mutation { addTrackingDomain(input: {hostname: "links.acme.test"}) '
                 "{ id } }", token=creator)
    for body in (hook, domain):
        assert error_codes(body) == ["FORBIDDEN"], body
    assert gql(app, ENDPOINTS, token=tenant.admin_token)["data"]["webhookEndpoints"] == []


def test_user_token_cannot_make_a_token_for_someone_else(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    creator = mint(database_url, tenant, R, W, now=clock.now, admin=False)
    before = token_count(app, tenant)
    body = create(app, creator, "READ", userId=tenant.admin_id)
    assert error_codes(body) == ["FORBIDDEN"]
    assert token_count(app, tenant) == before


def test_expiring_admin_token_cannot_make_grants_that_outlast_it(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 1 (class): a 10-minute admin token must not leave behind an admin
    # role, a webhook endpoint that keeps sending the account's events out, or a tracking
    # domain that every new email's links go through, after it.
    soon = clock.now + timedelta(minutes=10)
    creator = mint(database_url, tenant, R, W, A, expires_at=soon, now=clock.now)
    users_before = gql(app, USERS, token=tenant.admin_token)["data"]
    invite = gql(app, 'mutation { inviteUser(input: {email: "new@acme.test", role: ADMIN}) '
                 "{ id } }", token=creator)
    promote = gql(app, "mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN}) "
                  "{ id } }", {"id": tenant.user_id}, token=creator)
    hook = gql(app, 'mutation { createWebhookEndpoint(input: {url: "https://hooks.example.com/x", '
               'eventTypes: ["engagement.opened"]}) { endpoint { id } } }', token=creator)
    # Reactivating a deactivated admin gives the role back just the same.
    second_admin = gql(app, 'mutation { inviteUser(input: {email: "a2@acme.test", role: ADMIN})'
                       " { id } }", token=tenant.admin_token)["data"]["inviteUser"]["id"]
    gql(app, "mutation($id: ID!) { updateUser(input: {id: $id, active: false}) { id } }",
        {"id": second_admin}, token=tenant.admin_token)
    users_before = gql(app, USERS, token=tenant.admin_token)["data"]
    reactivate = gql(app, "mutation($id: ID!) { updateUser(input: {id: $id, active: true}) "
                     "{ id } }", {"id": second_admin}, token=creator)
    domain = gql(app, 'mutation { addTrackingDomain(input: {hostname: "links.acme-corp.example"})'
                 " { id } }", token=creator)
    for body in (invite, promote, hook, reactivate, domain):
        code, message = refusal(body)
        assert code == "FORBIDDEN"
        assert "expires" in message
        assert "web admin" in message  # where to do it instead
    assert gql(app, USERS, token=tenant.admin_token)["data"] == users_before
    assert gql(app, ENDPOINTS, token=tenant.admin_token)["data"]["webhookEndpoints"] == []
    assert gql(app, "{ trackingDomains { id } }", token=tenant.admin_token)["data"] == {
        "trackingDomains": []}
    # What lasts no longer than the token stays allowed: a plain user, a seat change.
    plain = gql(app, 'mutation { inviteUser(input: {email: "plain@acme.test"}) { role } }',
                token=creator)
    assert plain.get("errors") is None, plain


def test_expiring_token_cannot_take_a_webhook_signing_secret_that_outlasts_it(
    app: TestClient[Any], database_url: str, clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 1 (class): a signing secret lets its holder sign "events" that the
    # receiver trusts, for as long as it is kept: longer than a 10-minute token.
    made = gql(app, 'mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks",'
               ' eventTypes: ["engagement.opened"]}) { endpoint { id } } }',
               token=tenant.admin_token)
    endpoint = made["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    soon = clock.now + timedelta(minutes=10)
    creator = mint(database_url, tenant, R, W, A, expires_at=soon, now=clock.now)
    rotate = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }"
    code, message = refusal(gql(app, rotate, {"id": endpoint}, token=creator))
    assert code == "FORBIDDEN"
    assert "expires" in message
    lasting = mint(database_url, tenant, R, W, A, now=clock.now)
    assert gql(app, rotate, {"id": endpoint}, token=lasting).get("errors") is None
