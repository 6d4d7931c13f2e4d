"""Users and seats over GraphQL: invites, seat limits (R19), admins, audit, pagination."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from support import Tenant, error_codes, gql, refusal, run, seed_tenant

INVITE = """mutation($input: InviteUserInput!) {
  inviteUser(input: $input) { id email name role seat active }
}"""
UPDATE = """mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { id email role seat active }
}"""
SEATS = "{ account { seats { seat purchased used available } } }"
USERS = """query($first: Int, $after: String) {
  users(first: $first, after: $after) {
    edges { cursor node { id email } } pageInfo { hasNextPage endCursor }
  }
}"""
AUDIT = "{ auditLog(first: 20) { edges { node { actor action target before after } } } }"
ACTOR = "user:admin@acme.test (API token)"


def invite(client: Any, tenant: Tenant, email: str, **fields: Any) -> dict[str, Any]:
    return gql(client, INVITE, {"input": {"email": email, **fields}}, token=tenant.admin_token)


def update(client: Any, tenant: Tenant, user_id: str, **fields: Any) -> dict[str, Any]:
    return gql(client, UPDATE, {"input": {"id": user_id, **fields}}, token=tenant.admin_token)


def seat_usage(client: Any, tenant: Tenant, seat: str) -> dict[str, Any]:
    seats = gql(client, SEATS, token=tenant.admin_token)["data"]["account"]["seats"]
    (usage,) = [s for s in seats if s["seat"] == seat]
    return dict(usage)


def emails(client: Any, tenant: Tenant) -> list[str]:
    body = gql(client, USERS, {"first": 100}, token=tenant.admin_token)
    return [edge["node"]["email"] for edge in body["data"]["users"]["edges"]]


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


def test_paid_seats_are_limited_to_what_was_bought(client: Any, tenant: Tenant) -> None:
    assert seat_usage(client, tenant, "SALES_STARTER") == {
        "seat": "SALES_STARTER", "purchased": 1, "used": 0, "available": 1}
    first = invite(client, tenant, "sam@acme.test", name="Sam", seat="SALES_STARTER")
    assert first.get("errors") is None, first
    assert first["data"]["inviteUser"] == {
        "id": first["data"]["inviteUser"]["id"], "email": "sam@acme.test", "name": "Sam",
        "role": "USER", "seat": "SALES_STARTER", "active": True}
    assert seat_usage(client, tenant, "SALES_STARTER") == {
        "seat": "SALES_STARTER", "purchased": 1, "used": 1, "available": 0}

    code, message = refusal(invite(client, tenant, "sue@acme.test", seat="SALES_STARTER"))
    assert code == "ENTITLEMENT_REQUIRED"
    assert "in use" in message
    assert "deactivating" in message
    assert "buy more" in message
    assert "sue@acme.test" not in emails(client, tenant)
    free = seat_usage(client, tenant, "FREE")
    assert free["purchased"] is None
    assert free["available"] is None
    assert free["used"] == 2


def test_deactivating_frees_a_seat_and_reactivating_needs_one(
    client: Any, tenant: Tenant
) -> None:
    sam = invite(client, tenant, "sam@acme.test", seat="SALES_STARTER")["data"]["inviteUser"]
    off = update(client, tenant, sam["id"], active=False)
    assert off["data"]["updateUser"]["active"] is False
    assert seat_usage(client, tenant, "SALES_STARTER")["available"] == 1
    sue = invite(client, tenant, "sue@acme.test", seat="SALES_STARTER")
    assert sue.get("errors") is None, sue

    code, message = refusal(update(client, tenant, sam["id"], active=True))
    assert code == "ENTITLEMENT_REQUIRED"
    assert "Sales Starter" in message or "SALES_STARTER" in message.upper()
    # Back on a free seat, Sam can be reactivated at once.
    back = update(client, tenant, sam["id"], active=True, seat="FREE")
    assert back["data"]["updateUser"] == {
        "id": sam["id"], "email": "sam@acme.test", "role": "USER", "seat": "FREE",
        "active": True}


def test_moving_to_a_paid_seat_is_limited_free_is_always_allowed(
    client: Any, tenant: Tenant
) -> None:
    assert update(client, tenant, tenant.user_id, seat="SALES_STARTER").get("errors") is None
    code, _ = refusal(update(client, tenant, tenant.admin_id, seat="SALES_STARTER"))
    assert code == "ENTITLEMENT_REQUIRED"
    code, _ = refusal(update(client, tenant, tenant.admin_id, seat="SALES_ENTERPRISE"))
    assert code == "ENTITLEMENT_REQUIRED"
    assert seat_usage(client, tenant, "SALES_STARTER")["used"] == 1
    down = update(client, tenant, tenant.user_id, seat="FREE")
    assert down["data"]["updateUser"]["seat"] == "FREE"
    assert update(client, tenant, tenant.admin_id, seat="SALES_STARTER").get("errors") is None
    # Keeping one's own paid seat while changing something else is no new assignment.
    same = update(client, tenant, tenant.admin_id, seat="SALES_STARTER", role="ADMIN")
    assert same.get("errors") is None, same


def test_duplicate_email_is_a_conflict_naming_the_address(client: Any, tenant: Tenant) -> None:
    # Only within the account: another account's addresses are no concern of this one's
    # admin (issue 12, defect 5; see test_invite_oracle.py).
    for email, shown in (
        (tenant.user_email, tenant.user_email),
        ("  USER@Acme.test ", tenant.user_email),
    ):
        code, message = refusal(invite(client, tenant, email))
        assert code == "CONFLICT", email
        assert shown in message
    assert len(emails(client, tenant)) == 2


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@acme.test", ""])
def test_invalid_email_is_bad_input(client: Any, tenant: Tenant, email: str) -> None:
    code, message = refusal(invite(client, tenant, email))
    assert code == "BAD_USER_INPUT"
    assert "is not a valid email address" in message


def test_unknown_seat_is_a_validation_error_naming_it(client: Any, tenant: Tenant) -> None:
    inline = gql(client, 'mutation { inviteUser(input: {email: "g@acme.test", seat: GOLD}) '
                 "{ id } }", token=tenant.admin_token)
    assert error_codes(inline) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "GOLD" in inline["errors"][0]["message"]
    as_variable = invite(client, tenant, "g@acme.test", seat="GOLD")
    assert error_codes(as_variable) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "GOLD" in as_variable["errors"][0]["message"]
    assert "g@acme.test" not in emails(client, tenant)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    client: Any, tenant: Tenant
) -> None:
    for change in ({"role": "USER"}, {"active": False}):
        code, message = refusal(update(client, tenant, tenant.admin_id, **change))
        assert code == "CONFLICT"
        assert "at least one active admin" in message
    promoted = update(client, tenant, tenant.user_id, role="ADMIN")
    assert promoted["data"]["updateUser"]["role"] == "ADMIN"
    assert update(client, tenant, tenant.admin_id, role="USER").get("errors") is None


def test_admin_changes_are_audited(client: Any, tenant: Tenant) -> None:
    sam = invite(client, tenant, "sam@acme.test", name="Sam", seat="SALES_STARTER")
    update(client, tenant, sam["data"]["inviteUser"]["id"], role="ADMIN", seat="FREE")
    update(client, tenant, tenant.user_id, active=False)
    entries = [e["node"] for e in gql(client, AUDIT, token=tenant.admin_token)
               ["data"]["auditLog"]["edges"]]
    # Inviting also sends the invitation (issue 15, defect 3): audited on its own.
    sent = entries.pop(2)
    assert (sent["action"], sent["target"]) == ("invitation.sent", "user:sam@acme.test")
    assert entries[:3] == [
        {"actor": ACTOR, "action": "user.updated", "target": f"user:{tenant.user_email}",
         "before": {"active": True}, "after": {"active": False}},
        {"actor": ACTOR, "action": "user.updated", "target": "user:sam@acme.test",
         "before": {"role": "user", "seat": "sales_starter"},
         "after": {"role": "admin", "seat": "free"}},
        {"actor": ACTOR, "action": "user.invited", "target": "user:sam@acme.test",
         "before": None,
         "after": {"email": "sam@acme.test", "name": "Sam", "role": "user",
                   "seat": "sales_starter", "active": True}},
    ]


def test_plain_users_cannot_invite_or_read_the_audit_log(client: Any, tenant: Tenant) -> None:
    code, message = refusal(gql(client, INVITE, {"input": {"email": "x@acme.test"}},
                                token=tenant.user_token))
    assert code == "FORBIDDEN"
    assert "admin" in message
    code, _ = refusal(gql(client, UPDATE, {"input": {"id": tenant.user_id, "seat": "FREE"}},
                          token=tenant.user_token))
    assert code == "FORBIDDEN"
    code, _ = refusal(gql(client, AUDIT, token=tenant.user_token))
    assert code == "FORBIDDEN"
    assert "x@acme.test" not in emails(client, tenant)


def test_update_of_an_unknown_user_is_not_found(
    client: Any, database_url: str, tenant: Tenant
) -> None:
    other = run(seed_tenant(database_url, "Beta"))
    for user_id in (other.user_id, "nope"):
        code, message = refusal(update(client, tenant, user_id, active=False))
        assert code == "NOT_FOUND"
        assert user_id in message


def test_users_are_paged_by_email(client: Any, tenant: Tenant) -> None:
    first = gql(client, USERS, {"first": 1}, token=tenant.admin_token)["data"]["users"]
    assert [e["node"]["email"] for e in first["edges"]] == [tenant.admin_email]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][0]["cursor"]
    second = gql(client, USERS, {"first": 1, "after": first["pageInfo"]["endCursor"]},
                 token=tenant.admin_token)["data"]["users"]
    assert [e["node"]["email"] for e in second["edges"]] == [tenant.user_email]
    assert second["pageInfo"]["hasNextPage"] is False
    done = gql(client, USERS, {"first": 1, "after": second["pageInfo"]["endCursor"]},
               token=tenant.admin_token)["data"]["users"]
    assert done == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


def _cursor(values: list[dict[str, str]]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "garbage!!",
        "bm90IGpzb24",
        _cursor([{"s": "only-one-key"}]),
        _cursor([{"s": "a@acme.test"}, {"s": "not-a-uuid"}]),
        _cursor([{"d": "2020-01-01T00:00:00+00:00"},
                 {"u": "00000000-0000-0000-0000-000000000000"}]),
    ],
    ids=["garbage", "not-json", "wrong-arity", "bad-id", "audit-log-cursor"],
)
def test_bad_cursors_are_bad_input(client: Any, tenant: Tenant, after: str) -> None:
    code, message = refusal(gql(client, USERS, {"first": 1, "after": after},
                                token=tenant.admin_token))
    assert code == "BAD_USER_INPUT"
    assert "cursor" in message


def test_page_size_is_bounded(client: Any, tenant: Tenant) -> None:
    code, message = refusal(gql(client, USERS, {"first": 1000}, token=tenant.admin_token))
    assert code == "BAD_USER_INPUT"
    assert "at most 100" in message
    code, _ = refusal(gql(client, USERS, {"first": -1}, token=tenant.admin_token))
    assert code == "BAD_USER_INPUT"
