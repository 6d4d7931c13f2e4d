"""Invitations in real Chromium (issue 15, defect 3; R19, R26): an admin invites a colleague,
the invitation arrives at the account's upstream (a real aiosmtpd server on loopback,
STARTTLS and AUTH), the colleague follows the link, types a password twice and is signed
in; the same link used again, or an expired one, is refused in words. Without outbound
mail the admin is told so and copies the link instead. At 1280 and 390 px; fails on any
console error or failed request the test does not provoke (conftest.py)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser.conftest import new_tenant, serve_site
from browser.harness import Site, Ui, sign_in
from browser.test_sending import sending_settings
from components import ChallTestSrv
from mail_components import (  # noqa: F401
    MailTls,
    UpstreamSink,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from playwright.sync_api import expect
from sqlalchemy import text
from support import Tenant

from sendtrail.db.engine import create_sync_engine

PASSWORD = "my own long password"
OUTBOUND = """mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) { configured } }"""
INVITE = """mutation($i: InviteUserInput!) { inviteUser(input: $i) { invitation { link } } }"""


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory, mail_tls: MailTls) -> Iterator[Site]:
    """The usual site, allowed to send to a loopback upstream that trusts ``mail_tls``."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory,
                          sending_settings(mail_tls))


def _api(site: Site, tenant: Tenant, query: str, variables: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30, json={"query": query,
                        "variables": variables},
                        headers={"Authorization": f"Bearer {tenant.admin_token}"})
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.text
    data: dict[str, object] = answer.json()["data"]
    return data


def _emailed_link(sink: UpstreamSink, site: Site, recipient: str, count: int = 1) -> str:
    """The link in the ``count``-th email the upstream accepted."""
    sent = sink.wait_for(count)[count - 1]
    assert sent.rcpt_tos == (recipient,)
    message = email.message_from_bytes(sent.content, policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(re.escape(site.url) + r"/invitation#\S+", body)
    assert found, body
    return found.group(0)


def _expire(site: Site, link: str) -> None:
    """The link as it is a week later (the server's clock is real: its row is aged)."""
    token_hash = hashlib.sha256(link.split("#", 1)[1].encode()).hexdigest()
    engine = create_sync_engine(site.server.env["SENDTRAIL_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            done = conn.execute(text("UPDATE invitation SET expires_at = '2026-11-01 "
                                     "09:00:00.000000' WHERE token_hash = :h"), {"h": token_hash})
            assert done.rowcount == 1
    finally:
        engine.dispose()


def _open_link_signed_out(ui: Ui, link: str) -> None:
    """The colleague's own browser: nobody signed in, the link from the email."""
    ui.page.context.clear_cookies()
    ui.page.goto("about:blank")  # a new page load, as from the mail client (not a #change)
    ui.page.goto(link)


def _set_password(ui: Ui, account: str) -> None:
    page = ui.page
    heading = page.get_by_role("heading", name=f"Join {account} on Sendtrail", level=1)
    expect(heading).to_be_visible()
    form = page.get_by_role("form", name="Choose your password")
    form.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    form.get_by_label("Repeat the password").fill(PASSWORD + "!")
    form.get_by_role("button", name="Set password and sign in").click()
    expect(form.get_by_role("alert")).to_contain_text("The two passwords differ")
    form.get_by_label("Repeat the password").fill(PASSWORD)
    form.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def _invite_in_the_ui(ui: Ui, address: str, name: str) -> None:
    ui.goto("/settings/users")
    expect(ui.page.get_by_role("heading", name="Users & seats", level=1)).to_be_visible()
    form = ui.page.get_by_role("form", name="Invite a user")
    form.get_by_label("Email address").fill(address)
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Invite").click()


def test_an_invited_colleague_gets_the_email_sets_a_password_and_a_reused_link_is_refused(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    # Issue 15, defect 3, done when: the invitation arrives at the test SMTP sink, the link
    # sets a password and signs in, and the same link again is refused in words.
    tenant = new_tenant(site, "Invites")
    account = _api(site, tenant, "{ account { name } }", {})["account"]["name"]  # type: ignore[index]
    endpoint = upstream_sink.endpoint()
    _api(site, tenant, OUTBOUND, {"i": {"host": endpoint.host, "port": endpoint.port,
                                        "security": "STARTTLS", "username": "alice",
                                        "password": "secret"}})
    address = f"sam@{tenant.slug}.test"
    sign_in(ui, tenant.admin_email)
    _invite_in_the_ui(ui, address, "Sam Seller")
    expect(ui.page.get_by_role("status").filter(
        has_text=f"Invitation emailed to {address}")).to_be_visible()
    sam = ui.page.get_by_role("table", name="Users").get_by_role("row").filter(has_text=address)
    expect(sam).to_contain_text("Invited")
    expect(sam).to_contain_text("Emailed")
    expect(sam.get_by_role("button", name=f"Resend the invitation to {address}")).to_be_visible()
    expect(sam.get_by_role("button", name=f"Revoke the invitation of {address}")).to_be_visible()
    ui.snap("invited")

    # Deactivating someone asks first; cancelling changes nothing.
    uma = ui.page.get_by_role("row").filter(has_text=tenant.user_email)
    uma.get_by_role("button", name=f"Deactivate {tenant.user_email}").click()
    dialog = ui.page.get_by_role("dialog", name=f"Deactivate {tenant.user_email}?")
    expect(dialog).to_contain_text("They can no longer sign in")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(uma).to_contain_text("Active")

    # Resending emails a new link; the first one stops working.
    first = _emailed_link(upstream_sink, site, address)
    ui.page.get_by_role("button", name="Done").click()
    sam.get_by_role("button", name=f"Resend the invitation to {address}").click()
    expect(ui.page.get_by_role("status").filter(
        has_text=f"Invitation emailed to {address}")).to_be_visible()
    link = _emailed_link(upstream_sink, site, address, count=2)
    assert link != first

    ui.expect_status("/auth/invitation", 410)  # the refusals this test asks for
    _open_link_signed_out(ui, first)
    expect(ui.page.get_by_role("alert")).to_contain_text("A newer invitation replaced this link")
    _open_link_signed_out(ui, link)
    expect(ui.page.get_by_text(f"invited you to join {account}")).to_contain_text(
        tenant.admin_email)
    ui.snap("invitation")
    _set_password(ui, account)
    ui.snap("signed-in")

    _open_link_signed_out(ui, link)
    refusal = ui.page.get_by_role("alert")
    expect(refusal).to_contain_text("already used to set a password: it works only once")
    expect(ui.page.get_by_role("link", name="Go to sign-in")).to_be_visible()
    ui.snap("reused")


def test_without_outbound_mail_the_admin_copies_the_link_and_an_expired_one_is_refused(
    phone_ui: Ui, site: Site
) -> None:
    ui = phone_ui  # 390 px
    tenant = new_tenant(site, "No outbound")
    account = _api(site, tenant, "{ account { name } }", {})["account"]["name"]  # type: ignore[index]
    address = f"kim@{tenant.slug}.test"
    sign_in(ui, tenant.admin_email)
    _invite_in_the_ui(ui, address, "Kim")
    notice = ui.page.get_by_role("status").filter(has_text=f"{address} has not been emailed")
    expect(notice).to_contain_text("no outbound mail set up")
    link = notice.get_by_label("Invitation link").inner_text().strip()
    assert link.startswith(f"{site.url}/invitation#"), link
    expect(notice.get_by_role("button", name="Copy link")).to_be_visible()
    ui.assert_fits()
    ui.snap("copy-link")

    # A link from last week is refused in words; the one just copied works.
    late = _api(site, tenant, INVITE, {"i": {"email": f"lee@{tenant.slug}.test"}})
    late_link = late["inviteUser"]["invitation"]["link"]  # type: ignore[index]
    _expire(site, late_link)
    ui.expect_status("/auth/invitation", 410)
    _open_link_signed_out(ui, late_link)
    expect(ui.page.get_by_role("alert")).to_contain_text("This invitation link expired on")
    ui.assert_fits()
    ui.snap("expired")

    _open_link_signed_out(ui, link)
    ui.assert_fits()
    _set_password(ui, account)
    ui.assert_fits()
