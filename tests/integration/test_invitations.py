"""Invitations (issue 15, defect 3; R19): an invited colleague gets an email through the
account's own mail server (R26) with a single-use, expiring link, sets a password with it
and is signed in. Before that they are "invited", not an active user without a password.

Both backends; the account's upstream is a real aiosmtpd server with STARTTLS and AUTH on
127.0.0.1 (tests/mail_components.py), so "the email arrives" means the sink received it.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from mail_components import MailTls, UpstreamSink
from support import (
    PASSWORD,
    FakeClock,
    Tenant,
    give_upstream,
    gql,
    gql_data,
    refusal,
    run,
    seed_tenant,
)

from sendtrail.db.engine import Database
from sendtrail.settings import SendingSettings, Settings
from sendtrail.tenancy.auth import set_password

NEW_PASSWORD = "a long new password"
INVITE = """mutation($input: InviteUserInput!) { inviteUser(input: $input) {
  id email status active invitation { state sentAt emailProblem expiresAt invitedBy link } } }"""
RESEND = """mutation($id: ID!, $send: Boolean!) { resendInvitation(id: $id, sendEmail: $send) {
  id status invitation { state sentAt emailProblem link } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) {
  id status active invitation { state } } }"""
USERS = """{ users(first: 50) { edges { node { id email status active
  invitation { state sentAt link } } } } }"""
SEATS = "{ account { seats { seat used } } }"
AUDIT = "{ auditLog(first: 50) { edges { node { actor action target } } } }"


@pytest.fixture
def settings(settings: Settings, mail_tls: MailTls) -> Settings:
    """Upstreams on loopback allowed (SENDTRAIL_OUTBOUND_ALLOW_PRIVATE), as in the sending
    tests; the invitation link lives under the test server's public URL."""
    return replace(settings, sending=SendingSettings(
        delivery_worker=False, outbound_allow_private=True,
        outbound_ca_bundle=mail_tls.ca_bundle, delivery_timeout_seconds=10))


def _invite(client: TestClient[Any], tenant: Tenant, address: str, **more: Any) -> dict[str, Any]:
    user: dict[str, Any] = gql_data(client, INVITE, {"input": {"email": address, **more}},
                                    token=tenant.admin_token, field="inviteUser")
    return user


def _token(link: str) -> str:
    assert link.startswith("http://testserver.local/invitation#"), link
    return link.split("#", 1)[1]


def _emailed_link(sink: UpstreamSink, count: int, recipient: str) -> tuple[str, Any]:
    """The link in the ``count``-th email the upstream accepted, and that email."""
    transaction = sink.wait_for(count)[count - 1]
    assert transaction.rcpt_tos == (recipient,)
    message = email.message_from_bytes(transaction.content, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"http://testserver\.local/invitation#\S+", text)
    assert found, text
    return found.group(0), message


def _show(client: TestClient[Any], token: str) -> Any:
    return client.get("/auth/invitation", headers={"X-Sendtrail-Invitation": token})


def _accept(client: TestClient[Any], token: str, password: str = NEW_PASSWORD) -> Any:
    return client.post("/auth/invitation/accept", json={"token": token, "password": password})


def _sign_in(client: TestClient[Any], address: str, password: str) -> Any:
    return client.post("/auth/login", json={"email": address, "password": password})


def _user(client: TestClient[Any], tenant: Tenant, address: str) -> dict[str, Any]:
    edges = gql_data(client, USERS, token=tenant.admin_token, field="users")["edges"]
    (node,) = [edge["node"] for edge in edges if edge["node"]["email"] == address]
    return node  # type: ignore[no-any-return]


def _actions(client: TestClient[Any], tenant: Tenant) -> list[str]:
    edges = gql_data(client, AUDIT, token=tenant.admin_token, field="auditLog")["edges"]
    return [edge["node"]["action"] for edge in edges]


def test_an_invited_colleague_gets_the_email_sets_a_password_and_is_signed_in(
    app: TestClient[Any], acme: Tenant, upstream_sink: UpstreamSink
) -> None:
    # Issue 15 defect 3, done when: the invitation arrives at the account's upstream (R26).
    give_upstream(app, acme, upstream_sink.endpoint())
    invited = _invite(app, acme, "sam@acme.test", name="Sam Seller")
    assert invited["status"] == "INVITED"  # not an active user without a password
    invitation = invited["invitation"]
    assert invitation["state"] == "PENDING"
    assert invitation["sentAt"] is not None
    assert invitation["emailProblem"] is None
    link, message = _emailed_link(upstream_sink, 1, "sam@acme.test")
    assert link == invitation["link"]  # the admin's copy is the emailed link
    assert message["From"].addresses[0].addr_spec == acme.admin_email
    assert "Acme" in message["Subject"]

    # The link's page says who invited them to which account, before any password.
    shown = _show(app, _token(link))
    assert shown.status_code == 200, shown.text
    assert shown.json()["accountName"] == "Acme"
    assert shown.json()["email"] == "sam@acme.test"
    assert acme.admin_email in shown.json()["invitedBy"]
    # Until they accept, no password signs them in.
    assert _sign_in(app, "sam@acme.test", NEW_PASSWORD).status_code == 401

    accepted = _accept(app, _token(link))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["email"] == "sam@acme.test"
    session = app.get("/auth/session")  # the cookie the answer set: signed in
    assert session.status_code == 200
    assert session.json()["email"] == "sam@acme.test"
    assert _user(app, acme, "sam@acme.test")["status"] == "ACTIVE"
    assert _user(app, acme, "sam@acme.test")["invitation"] == {
        "state": "ACCEPTED", "sentAt": invitation["sentAt"], "link": None}
    assert _sign_in(app, "sam@acme.test", NEW_PASSWORD).status_code == 200
    assert {"invitation.sent", "invitation.accepted"} <= set(_actions(app, acme))


def test_a_link_works_once(app: TestClient[Any], acme: Tenant) -> None:
    token = _token(_invite(app, acme, "sam@acme.test")["invitation"]["link"])
    assert _accept(app, token).status_code == 200
    for again in (_accept(app, token, "another long password"), _show(app, token)):
        assert again.status_code == 410
        assert "works only once" in again.json()["error"]["message"]
    # The first password stays: the reused link changed nothing.
    assert _sign_in(app, "sam@acme.test", NEW_PASSWORD).status_code == 200
    assert _sign_in(app, "sam@acme.test", "another long password").status_code == 401


def test_an_expired_link_is_refused_in_words_and_a_resent_one_works(
    app: TestClient[Any], acme: Tenant, clock: FakeClock
) -> None:
    invited = _invite(app, acme, "sam@acme.test")
    token = _token(invited["invitation"]["link"])
    clock.advance(8 * 24 * 3600)  # links work for 7 days (SENDTRAIL_INVITATION_TTL_HOURS)
    for refused in (_show(app, token), _accept(app, token)):
        assert refused.status_code == 410
        message = refused.json()["error"]["message"]
        assert "expired on" in message
        assert acme.admin_email in message
    sam = _user(app, acme, "sam@acme.test")
    assert (sam["status"], sam["invitation"]["state"]) == ("INVITED", "EXPIRED")
    fresh = gql_data(app, RESEND, {"id": invited["id"], "send": False},
                     token=acme.admin_token, field="resendInvitation")
    assert fresh["invitation"]["state"] == "PENDING"
    assert "copy the link" in fresh["invitation"]["emailProblem"]
    assert _accept(app, _token(fresh["invitation"]["link"])).status_code == 200


def test_resending_emails_a_new_link_and_the_old_one_stops_working(
    app: TestClient[Any], acme: Tenant, upstream_sink: UpstreamSink
) -> None:
    give_upstream(app, acme, upstream_sink.endpoint())
    invited = _invite(app, acme, "sam@acme.test")
    first, _ = _emailed_link(upstream_sink, 1, "sam@acme.test")
    resent = gql_data(app, RESEND, {"id": invited["id"], "send": True},
                      token=acme.admin_token, field="resendInvitation")
    second, _ = _emailed_link(upstream_sink, 2, "sam@acme.test")
    assert second == resent["invitation"]["link"] != first
    old = _accept(app, _token(first))
    assert old.status_code == 410
    assert "newer invitation replaced this link" in old.json()["error"]["message"]
    assert _accept(app, _token(second)).status_code == 200
    assert "invitation.resent" in _actions(app, acme)
    # Someone who set a password has no invitation to resend.
    code, message = refusal(gql(app, RESEND, {"id": invited["id"], "send": True},
                                token=acme.admin_token))
    assert (code, "has set a password" in message) == ("CONFLICT", True)


def test_revoking_stops_the_link_and_frees_the_seat(app: TestClient[Any], acme: Tenant) -> None:
    invited = _invite(app, acme, "sam@acme.test")
    token = _token(invited["invitation"]["link"])
    used = {s["seat"]: s["used"] for s in gql_data(app, SEATS, token=acme.admin_token,
                                                     field="account")["seats"]}
    revoked = gql_data(app, REVOKE, {"id": invited["id"]}, token=acme.admin_token,
                       field="revokeInvitation")
    assert revoked == {"id": invited["id"], "status": "DEACTIVATED", "active": False,
                       "invitation": {"state": "REVOKED"}}
    refused = _show(app, token)
    assert refused.status_code == 410
    assert "withdrew this invitation" in refused.json()["error"]["message"]
    assert _accept(app, token).status_code == 410
    after = {s["seat"]: s["used"] for s in gql_data(app, SEATS, token=acme.admin_token,
                                                      field="account")["seats"]}
    assert after["FREE"] == used["FREE"] - 1
    assert "invitation.revoked" in _actions(app, acme)
    code, message = refusal(gql(app, REVOKE, {"id": invited["id"]}, token=acme.admin_token))
    assert (code, "no pending invitation" in message) == ("CONFLICT", True)
    # Inviting again reactivates them with a new link.
    again = gql_data(app, RESEND, {"id": invited["id"], "send": False},
                     token=acme.admin_token, field="resendInvitation")
    assert (again["status"], again["invitation"]["state"]) == ("INVITED", "PENDING")


def test_without_outbound_mail_the_admin_is_told_and_copies_the_link(
    app: TestClient[Any], acme: Tenant
) -> None:
    invitation = _invite(app, acme, "sam@acme.test")["invitation"]
    assert invitation["sentAt"] is None
    assert "no outbound mail set up" in invitation["emailProblem"]
    assert _accept(app, _token(invitation["link"])).status_code == 200
    # The link is shown once: later reads never carry it (only its hash is stored).
    assert _user(app, acme, "sam@acme.test")["invitation"]["link"] is None


def test_an_unknown_link_is_not_found_and_a_short_password_is_refused(
    app: TestClient[Any], acme: Tenant
) -> None:
    for answer in (_show(app, "not-a-token"), app.get("/auth/invitation"),
                   _accept(app, "not-a-token")):
        assert answer.status_code == 404
        assert "invitation link is not known" in answer.json()["error"]["message"]
    token = _token(_invite(app, acme, "sam@acme.test")["invitation"]["link"])
    short = _accept(app, token, "short")
    assert short.status_code == 400
    assert "at least 10 characters" in short.text
    assert _show(app, token).status_code == 200  # still usable after the refusal


def test_a_deactivated_user_or_an_address_signing_in_elsewhere_cannot_accept(
    app: TestClient[Any], acme: Tenant, rival: Tenant
) -> None:
    invited = _invite(app, acme, "sam@acme.test")
    gql_data(app, "mutation($id: ID!) { updateUser(input: {id: $id, active: false}) { id } }",
             {"id": invited["id"]}, token=acme.admin_token, field="updateUser")
    refused = _accept(app, _token(invited["invitation"]["link"]))
    assert refused.status_code == 409
    assert "deactivated" in refused.json()["error"]["message"]
    # Rival's user is invited to Acme like anyone (no oracle, issue 12 defect 5): opening the
    # link shows the invitation as for anyone (Acme's admin holds the link too); accepting
    # tells the person why it cannot give them a second sign-in.
    elsewhere = _token(_invite(app, acme, rival.user_email)["invitation"]["link"])
    fresh = _token(_invite(app, acme, "fresh@elsewhere.test")["invitation"]["link"])
    shown, shown_fresh = _show(app, elsewhere), _show(app, fresh)
    assert (shown.status_code, shown_fresh.status_code) == (200, 200)
    assert shown.json().keys() == shown_fresh.json().keys()
    refused = _accept(app, elsewhere)
    assert refused.status_code == 409
    assert "already signs in to Sendtrail elsewhere" in refused.json()["error"]["message"]
    assert _sign_in(app, rival.user_email, NEW_PASSWORD).status_code == 401  # untouched


def test_other_accounts_and_non_admins_cannot_touch_invitations(
    app: TestClient[Any], acme: Tenant, rival: Tenant
) -> None:
    invited = _invite(app, acme, "sam@acme.test")
    for mutation, variables in ((RESEND, {"id": invited["id"], "send": True}),
                                (REVOKE, {"id": invited["id"]})):
        code, _ = refusal(gql(app, mutation, variables, token=rival.admin_token))
        assert code == "NOT_FOUND"  # another account's user does not exist for Rival
        code, _ = refusal(gql(app, mutation, variables, token=acme.user_token))
        assert code == "FORBIDDEN"  # only admins invite (R19)
    code, _ = refusal(gql(app, INVITE, {"input": {"email": "x@acme.test"}},
                          token=acme.user_token))
    assert code == "FORBIDDEN"
    assert _user(app, acme, "sam@acme.test")["invitation"]["state"] == "PENDING"


def test_a_second_account_with_the_same_invitee_keeps_its_own_link(
    app: TestClient[Any], database_url: str
) -> None:
    # The token finds its account: two accounts inviting at once never mix their links.
    one = run(seed_tenant(database_url, "One", seats={}))
    two = run(seed_tenant(database_url, "Two", seats={}))
    first = _invite(app, one, "pat@example.test")["invitation"]["link"]
    second = _invite(app, two, "kim@example.test")["invitation"]["link"]
    assert _show(app, _token(first)).json()["accountName"] == "One"
    assert _show(app, _token(second)).json()["accountName"] == "Two"
    assert _accept(app, _token(second)).status_code == 200
    assert _sign_in(app, "kim@example.test", NEW_PASSWORD).status_code == 200
    assert _sign_in(app, two.admin_email, PASSWORD).status_code == 200


async def _operator_sets_password(url: str, address: str) -> None:
    database = Database(url)
    try:
        async with database.session(account_id=None) as session:
            await set_password(session, email=address, password=NEW_PASSWORD)
    finally:
        await database.dispose()


def test_a_password_set_by_the_operator_ends_the_invitation(
    app: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    # `sendtrail users set-password` for an invited user: they sign in, the link is done.
    token = _token(_invite(app, acme, "sam@acme.test")["invitation"]["link"])
    run(_operator_sets_password(database_url, "sam@acme.test"))
    sam = _user(app, acme, "sam@acme.test")
    assert (sam["status"], sam["invitation"]["state"]) == ("ACTIVE", "ACCEPTED")
    assert _show(app, token).status_code == 410
    assert _sign_in(app, "sam@acme.test", NEW_PASSWORD).status_code == 200
