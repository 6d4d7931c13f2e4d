"""Issue 12, defect 14: the authorization matrix through GraphQL, per credential kind.

The unit matrix (``tests/unit/test_authz_matrix.py``) asks the authorizer; this one asks
the API: every operation that reads or writes an authorization object, sent with each
kind of credential (an admin's and a user's web session, support staff inspecting the
account, and an admin's and a user's API token of each scope combination the web admin
lets them create). The expected outcome of each operation is the hand-written table
below (R19 roles, R25 support read-only, token scopes), not the policy file's.
"""

from __future__ import annotations

import uuid
from itertools import count
from typing import Any

import pytest
from litestar.testing import TestClient
from support import (
    PASSWORD,
    Tenant,
    gql,
    grant_support_staff,
    run,
    seed_tenant,
    sign_in_as_staff,
)

from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.tenancy.auth import set_password
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.values import Principal, Role, Scope

Y, N = True, False
READ, WRITE, ADMIN = Scope.READ, Scope.WRITE, Scope.ADMIN
STAFF = "helper@sendtrail.test"
_serial = count()

# name: (operation, admin may, user may, support may, scope a token needs).
# "{me}" / "{other}": the caller's own user id and another user's of the account.
OPERATIONS: dict[str, tuple[str, bool, bool, bool, Scope]] = {
    "account-read": ("{ account { __typename } }", Y, Y, Y, READ),
    "users-read": ("{ users(first: 5) { __typename } }", Y, Y, Y, READ),
    "audit-log-read": ("{ auditLog(first: 1) { __typename } }", Y, N, Y, ADMIN),
    "own-tokens-read": ("{ apiTokens { __typename } }", Y, Y, Y, READ),
    "emails-read": ("{ emails(first: 1) { __typename } }", Y, Y, Y, READ),
    "engagements-read": ("{ engagements(first: 1) { __typename } }", Y, Y, Y, READ),
    "account-report-read": (
        "{ engagementReport(input: {scope: ACCOUNT}) { __typename } }", Y, N, Y, ADMIN),
    "contacts-read": ("{ contacts(first: 1) { __typename } }", Y, Y, Y, READ),
    "domains-read": ("{ trackingDomains { __typename } }", Y, Y, Y, READ),
    "webhooks-read": ("{ webhookEndpoints { __typename } }", Y, N, Y, ADMIN),
    "settings-write": (
        "mutation { updateAccountSettings(input: {trackingEnabled: true}) { __typename } }",
        Y, N, N, ADMIN),
    "users-write": (
        'mutation { inviteUser(input: {email: "new{n}@acme.test"}) { __typename } }',
        Y, N, N, ADMIN),
    # Issue 15, defect 3: invitations are the admins' like the users they invite.
    "invitations-write": (
        'mutation { resendInvitation(id: "{other}", sendEmail: false) { __typename } }',
        Y, N, N, ADMIN),
    "own-profile-write": (
        "mutation { updateEmailDefaults(input: {track: ON}) { __typename } }", Y, Y, N, WRITE),
    "own-tokens-write": (
        'mutation { createApiToken(input: {name: "m", scopes: [READ]}) { __typename } }',
        Y, Y, N, WRITE),
    # Issue 12, defect 1: only a credential holding the admin scope mints an admin token.
    "mint-an-admin-token": (
        'mutation { createApiToken(input: {name: "m", scopes: [READ, WRITE, ADMIN]}) '
        "{ __typename } }", Y, N, N, ADMIN),
    "others-tokens-write": (
        'mutation { createApiToken(input: {name: "m", scopes: [READ], userId: "{other}"}) '
        "{ __typename } }", Y, N, N, ADMIN),
    "emails-write": (
        'mutation { prepareEmail(input: {subject: "Hi", html: "<p>Hi</p>", '
        'recipients: [{address: "r@example.com"}]}) { __typename } }', Y, Y, N, WRITE),
    "others-emails-write": (
        'mutation { prepareEmail(input: {subject: "Hi", html: "<p>Hi</p>", '
        'senderId: "{other}", recipients: [{address: "r@example.com"}]}) { __typename } }',
        Y, N, N, ADMIN),
    "contacts-write": (
        'mutation { setContactLegalBasis(contactId: "{random}", basis: CONSENT) '
        "{ __typename } }", Y, Y, N, WRITE),
    # R29: tracking consent is recorded like the legal basis, by anyone who writes contacts.
    "consent-write": (
        'mutation { setTrackingConsent(contactId: "{random}", consent: GRANTED, '
        'source: "ADMIN") { __typename } }', Y, Y, N, WRITE),
    "consents-write": (
        'mutation { setTrackingConsents(contactIds: ["{random}"], consent: WITHDRAWN, '
        'source: "API") { __typename } }', Y, Y, N, WRITE),
    # R28: what tracking is for is the admins' choice, like every account setting.
    "purpose-write": (
        "mutation { updateAccountSettings(input: {trackingPurpose: AGGREGATE, "
        "exemptPurpose: OFF}) { __typename } }", Y, N, N, ADMIN),
    "domains-write": (
        'mutation { addTrackingDomain(input: {hostname: "links{n}.acme-corp.example"}) '
        "{ __typename } }", Y, N, N, ADMIN),
    "webhooks-write": (
        'mutation { createWebhookEndpoint(input: {url: "https://hooks.example.com/{n}", '
        'eventTypes: ["engagement.opened"]}) { __typename } }', Y, N, N, ADMIN),
    # R26: a user learns only whether outbound mail is configured; its settings are admins'.
    "outbound-configured-read": (
        "{ account { outboundMail { configured } } }", Y, Y, Y, READ),
    "outbound-read": ("{ account { outboundMail { host dkimKeys { domain } } } }",
                      Y, N, Y, ADMIN),
    "outbound-write": (
        'mutation { updateOutboundMail(input: {host: "1.1.1.1", port: 587, '
        "security: STARTTLS}) { __typename } }", Y, N, N, ADMIN),
    "dkim-write": (
        'mutation { setDkimKey(input: {domain: "m{n}.acme.test", selector: "s1"}) '
        "{ __typename } }", Y, N, N, ADMIN),
    "own-outbound-login-write": (
        'mutation { updateOutboundLogin(input: {username: "me", password: "pw"}) '
        "{ __typename } }", Y, Y, N, WRITE),
}

# Errors an allowed operation may still meet once past the permission check: the random
# contact does not exist, and the tests' DNS resolver answers no webhook host.
PAST_THE_CHECK = {"contacts-write": {"NOT_FOUND"}, "consent-write": {"NOT_FOUND"},
                  "consents-write": {"NOT_FOUND"}, "webhooks-write": {"BAD_USER_INPUT"}}

# What the scope combinations hold (admin includes write includes read); a plain user's
# tokens never have the admin scope, so they are offered the first three only.
TOKEN_KINDS = {
    "read": ({READ}, {READ}),
    "write": ({WRITE}, {READ, WRITE}),
    "read+write": ({READ, WRITE}, {READ, WRITE}),
    "admin": ({ADMIN}, {READ, WRITE, ADMIN}),
    "read+admin": ({READ, ADMIN}, {READ, WRITE, ADMIN}),
    "write+admin": ({WRITE, ADMIN}, {READ, WRITE, ADMIN}),
    "read+write+admin": ({READ, WRITE, ADMIN}, {READ, WRITE, ADMIN}),
}
CREDENTIALS = [
    "admin-session", "user-session", "support-session",
    *(f"admin-token[{kind}]" for kind in TOKEN_KINDS),
    *(f"user-token[{kind}]" for kind in ("read", "write", "read+write")),
]


def expected(credential: str, operation: str) -> bool:
    _, admin_may, user_may, support_may, needs = OPERATIONS[operation]
    if credential == "support-session":
        return support_may
    role_may = admin_may if credential.startswith("admin") else user_may
    if credential.endswith("-session"):
        return role_may
    kind = credential[credential.index("[") + 1:-1]
    return role_may and needs in TOKEN_KINDS[kind][1]


async def _prepare(url: str, tenant: Tenant, credential: str) -> str | None:
    """A token of the given kind, or (for a user's session) the user's password set."""
    database = Database(url)
    account_id = uuid.UUID(tenant.account_id)
    try:
        async with database.session(account_id=None) as session:
            if credential == "user-session":
                await set_password(session, email=tenant.user_email, password=PASSWORD)
                return None
        if "-token[" not in credential:
            return None
        admin = credential.startswith("admin")
        owner = Principal(
            login_id=uuid.uuid4(), email=tenant.admin_email if admin else tenant.user_email,
            account_id=account_id, user_id=uuid.UUID(tenant.admin_id if admin else tenant.user_id),
            role=Role.ADMIN if admin else Role.USER,
        )
        scopes = TOKEN_KINDS[credential[credential.index("[") + 1:-1]][0]
        async with database.session(account_id=account_id) as session:
            _, secret = await create_api_token(session, owner, account_id, name="matrix",
                                               scopes=frozenset(scopes), now=utcnow())
        return secret
    finally:
        await database.dispose()


def _headers(client: TestClient[Any], database_url: str, tenant: Tenant,
             credential: str, token: str | None) -> dict[str, str]:
    if token is not None:
        return {"Authorization": f"Bearer {token}"}
    if credential == "support-session":
        grant_support_staff(database_url, STAFF)
        return {**sign_in_as_staff(client, STAFF), "X-Sendtrail-Account": tenant.account_id}
    email = tenant.admin_email if credential == "admin-session" else tenant.user_email
    signed_in = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return {"X-CSRF-Token": signed_in.json()["csrfToken"]}


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_every_operation_is_allowed_or_refused_as_the_rules_say(
    app: TestClient[Any], database_url: str, credential: str
) -> None:
    # Issue 12, defect 14 (R19, R25): each cell of the table, through the API.
    tenant = run(seed_tenant(database_url, "Acme"))
    token = run(_prepare(database_url, tenant, credential))
    headers = _headers(app, database_url, tenant, credential, token)
    me, other = ((tenant.admin_id, tenant.user_id) if credential.startswith("admin")
                 else (tenant.user_id, tenant.admin_id))
    wrong = []
    for name, (operation, *_rest) in OPERATIONS.items():
        query = (operation.replace("{me}", me).replace("{other}", other)
                 .replace("{random}", str(uuid.uuid4())).replace("{n}", str(next(_serial))))
        body = gql(app, query, headers=headers)
        codes = {error["extensions"]["code"] for error in body.get("errors") or []}
        if expected(credential, name):
            if not codes <= PAST_THE_CHECK.get(name, set()):
                wrong.append(f"{name}: should be allowed: {body}")
        elif codes != {"FORBIDDEN"}:
            wrong.append(f"{name}: should be refused: {body}")
    assert wrong == []
