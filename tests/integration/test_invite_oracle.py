"""Issue 12, defect 5: inviting an address tells nothing about other accounts.

``inviteUser`` with an address that signs in to another account used to answer "already
exists": an admin of any account could test whether an address uses Sendtrail. Now such
an address is invited like a fresh one (R19): it is added to the account, takes its seat
and answers like any other user, and everything an inviting admin can compare (the
answer, the user list, seats, the audit log, a token made for the new user, a second
invite) is the same. The other account is untouched.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from support import PASSWORD, Tenant, gql, grant_support_staff, refusal, run, seed_tenant

INVITE = """mutation($input: InviteUserInput!) {
  inviteUser(input: $input) { email name role seat active defaultTrack defaultLog
                              notificationPreference account { slug } }
}"""
USERS = """{ users(first: 100) { edges { node { id email role seat active } } } }"""
SEATS = "{ account { seats { seat purchased used available } } }"
AUDIT = "{ auditLog(first: 50) { edges { node { actor action target before after } } } }"
TOKEN = """mutation($id: ID!) {
  createApiToken(input: {name: "probe", scopes: [READ, WRITE], userId: $id}) {
    secret apiToken { scopes expiresAt revoked }
  }
}"""
VIEWER = "{ viewer { email role seat active } }"


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


@pytest.fixture
def beta(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Beta", seats={}))


def blind(value: Any, address: str) -> Any:
    """``value`` with ``address`` and ids blanked, for comparing two invites' traces."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", repr(value))
    return text.replace(address, "<address>").replace(address.upper(), "<address>")


def used_seats(client: TestClient[Any], acme: Tenant) -> dict[str, int]:
    seats = gql(client, SEATS, token=acme.admin_token)["data"]["account"]["seats"]
    return {seat["seat"]: seat["used"] for seat in seats}


def trace(client: TestClient[Any], acme: Tenant, address: str) -> dict[str, Any]:
    """Everything the inviting admin can observe about inviting ``address``."""
    seats_before = used_seats(client, acme)
    answer = gql(client, INVITE, {"input": {"email": address, "name": "Probe"}},
                 token=acme.admin_token)
    users = gql(client, USERS, token=acme.admin_token)["data"]["users"]["edges"]
    (invited,) = [edge["node"] for edge in users if edge["node"]["email"] == address]
    token = gql(client, TOKEN, {"id": invited["id"]}, token=acme.admin_token)
    secret = (token.get("data") or {}).get("createApiToken", {}).get("secret")
    as_them = gql(client, VIEWER, token=secret) if secret else None
    again = gql(client, INVITE, {"input": {"email": address.upper()}}, token=acme.admin_token)
    audit = gql(client, AUDIT, token=acme.admin_token)["data"]["auditLog"]["edges"]
    latest_invite = next(e["node"] for e in audit if e["node"]["action"] == "user.invited")
    return {
        "seats_taken": {seat: used_seats(client, acme)[seat] - seats_before[seat]
                        for seat in seats_before},
        "answer": blind(answer, address),
        "listed": blind(invited, address),
        "token": blind({**token, "data": token.get("data") and "made"}, address),
        "as_them": blind(as_them, address),
        "again": blind(again, address),
        "audit": blind(latest_invite, address),
    }


def test_an_address_of_another_account_is_invited_like_a_fresh_one(
    app: TestClient[Any], acme: Tenant, beta: Tenant
) -> None:
    # Issue 12, defect 5 (R19): nothing the inviting admin sees tells the two apart.
    fresh = trace(app, acme, "fresh@elsewhere.test")
    taken = trace(app, acme, beta.user_email)
    assert taken == fresh
    assert fresh["seats_taken"]["FREE"] == 1
    assert "'errors'" not in taken["answer"]
    assert "'errors'" not in taken["as_them"]  # a token made for them works, as for anyone
    code, message = refusal(gql(app, INVITE, {"input": {"email": beta.user_email}},
                                token=acme.admin_token))
    assert code == "CONFLICT"  # a second invite to this account is refused, as for any
    assert "in this account" in message


def test_a_support_staff_address_is_invited_like_a_fresh_one(
    app: TestClient[Any], database_url: str, acme: Tenant
) -> None:
    grant_support_staff(database_url, "helper@sendtrail.test")
    fresh = trace(app, acme, "fresh@elsewhere.test")
    staff = trace(app, acme, "helper@sendtrail.test")
    assert staff == fresh


def test_the_other_account_and_its_sign_ins_are_untouched(
    app: TestClient[Any], acme: Tenant, beta: Tenant
) -> None:
    before = {query: gql(app, query, token=beta.admin_token)
              for query in (USERS, SEATS, AUDIT, VIEWER)}
    for address in (beta.admin_email, beta.user_email):
        body = gql(app, INVITE, {"input": {"email": address, "role": "ADMIN"}},
                   token=acme.admin_token)
        assert body.get("errors") is None, body
    after = {query: gql(app, query, token=beta.admin_token)
             for query in (USERS, SEATS, AUDIT, VIEWER)}
    assert after == before
    assert gql(app, VIEWER, token=beta.user_token)["data"]["viewer"]["email"] == beta.user_email
    # Beta's admin still signs in to Beta, as Beta's admin: the address's one sign-in.
    signed_in = app.post("/auth/login", json={"email": beta.admin_email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["accountId"] == beta.account_id
    assert signed_in.json()["role"] == "ADMIN"
