"""The compose window and the email page's delivery status in real Chromium (R2, R16, R18,
R26, R27), against a real aiosmtpd upstream on loopback:

- "New email" from Emails completes a contact from part of their name, and sends to them;
- a user whose own default is "don't track" starts with Track off, and their copy carries
  no pixel;
- before sending, the window says that privacy mode makes a contact without a legal basis
  "Someone", and that tracking turned off for the account tracks nothing;
- the email page shows a copy the upstream put off (451) as retrying with its next attempt,
  and one it refused (550) as failed with its answer, at 1280 and 390 px.

Each test has an account of its own (``new_tenant``): they change account-wide settings.
Fails on any console error or failed request (conftest.py)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser.conftest import PHONE, new_tenant, serve_site
from browser.harness import Site, Ui, open_contact, sign_in
from browser.test_sending import DELIVERED, sending_settings
from components import ChallTestSrv
from mail_components import (  # noqa: F401
    MailTls,
    UpstreamSink,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from playwright.sync_api import Locator, Page, expect
from support import Tenant

RETRY_SECONDS = 600
"""The wait after a temporary failure: long enough that a retrying copy stays so while a
test reads it (the worker would otherwise try again, and move its next attempt)."""
OUTBOUND = "mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) { host } }"
SETTINGS = """mutation($i: AccountSettingsInput!) {
  updateAccountSettings(input: $i) { settings { trackingEnabled privacyMode } } }"""
PREPARE = "mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) { email { id } } }"
SEND = "mutation($i: SendEmailInput!) { sendEmail(input: $i) { email { id } } }"
DELIVERIES = """query($id: ID!) { email(id: $id) { deliveries {
  recipient status nextAttemptAt lastError } } }"""


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory, mail_tls: MailTls) -> Iterator[Site]:
    """test_sending.py's site, retrying a temporary failure only after ``RETRY_SECONDS``."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory, {
        **sending_settings(mail_tls), "SENDTRAIL_DELIVERY_RETRY": str(RETRY_SECONDS)})


def _api(site: Site, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def _sending_account(site: Site, sink: UpstreamSink, name: str) -> Tenant:
    """A new account whose admin set Settings → Outbound mail to ``sink``."""
    tenant = new_tenant(site, name)
    _api(site, tenant.admin_token, OUTBOUND, {"i": {
        "host": "127.0.0.1", "port": sink.port, "security": "STARTTLS",
        "username": "alice", "password": "secret"}})
    return tenant


def _contact(site: Site, tenant: Tenant, address: str, name: str) -> None:
    """A contact exists once an email was prepared for it."""
    _api(site, tenant.admin_token, PREPARE, {"i": {
        "subject": f"Hello {name}", "html": "<p>Hi</p>",
        "recipients": [{"address": address, "name": name}]}})


def _new_email_from_emails(page: Page) -> Locator:
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Emails").click()
    expect(page.get_by_role("heading", name="Emails", level=1)).to_be_visible()
    page.get_by_role("button", name="New email").click()
    compose = page.get_by_role("dialog", name="New email")
    expect(compose).to_be_visible()
    return compose


def _write(page: Page, compose: Locator, subject: str, body: str) -> None:
    compose.get_by_label("Subject").fill(subject)
    compose.get_by_role("textbox", name="Message").click()
    page.keyboard.type(body)


def _parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _html(content: bytes) -> str:
    html = _parse(content).get_body(preferencelist=("html",))
    assert html is not None
    text: str = html.get_content()
    return text


def _expect_sent(page: Page, subject: str, address: str) -> None:
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    row = page.get_by_role("table", name="Delivery status").get_by_role("row").filter(
        has_text=address)
    expect(row).to_contain_text("Sent", timeout=DELIVERED)


def _listed(page: Page, subject: str) -> Locator:
    """The row of ``subject`` in Emails, reached through the navigation."""
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Emails").click()
    emails = page.get_by_role("table", name="Emails")
    row = emails.get_by_role("row").filter(has=page.get_by_role("link", name=subject))
    expect(row).to_have_count(1)
    return row


def test_new_email_from_emails_completes_a_contact_by_name_and_sends_to_them(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    # R26: "New email" on Emails; To offers the account's contacts as one types.
    tenant = _sending_account(site, upstream_sink, "Completion")
    quinn = "q.quill@client.test"
    _contact(site, tenant, quinn, "Quinn Quill")
    _contact(site, tenant, "rae.reed@client.test", "Rae Reed")
    subject = "Samples for Quinn"
    sign_in(ui, tenant.admin_email)
    page = ui.page

    compose = _new_email_from_emails(page)
    to = compose.get_by_label("To", exact=True)
    expect(to).to_be_focused()
    page.keyboard.type("quin")  # part of the name, not of the address
    # The To box's suggestions (the header's language picker has options of its own).
    offered = page.get_by_role("listbox").get_by_role("option")
    expect(offered).to_have_count(1)
    expect(offered).to_contain_text("Quinn Quill")
    expect(offered).to_contain_text(quinn)
    ui.snap("completion")
    offered.click()
    expect(to).to_have_value("")  # the typed part became the address
    expect(compose.get_by_text(quinn, exact=True)).to_be_visible()
    expect(compose.get_by_role("region", name="What will apply")).to_contain_text(
        "Tracked · logged on the contacts' records")
    _write(page, compose, subject, "Dear Quinn, the samples left today.")
    compose.get_by_role("button", name="Send", exact=True).click()

    _expect_sent(page, subject, quinn)
    (copy,) = upstream_sink.wait_for(1, timeout=10)
    assert copy.rcpt_tos == (quinn,)
    assert _parse(copy.content)["Subject"] == subject
    assert "/o/" in _html(copy.content)  # tracked, as the window said

    row = _listed(page, subject)
    expect(row.get_by_text("Tracked", exact=True)).to_be_visible()
    expect(row.get_by_text("Logged", exact=True)).to_be_visible()
    ui.snap("listed")


def test_a_user_whose_own_default_is_not_to_track_starts_with_track_off(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    # R2: the user's own default pre-fills the switch, over the account's (which tracks).
    tenant = _sending_account(site, upstream_sink, "Defaults")
    _api(site, tenant.user_token, "mutation($i: EmailDefaultsInput!) { "
         "updateEmailDefaults(input: $i) { defaultTrack } }", {"i": {"track": "OFF"}})
    address = "sam.stone@client.test"
    subject = "Minutes of Monday"
    sign_in(ui, tenant.user_email)
    page = ui.page

    compose = _new_email_from_emails(page)
    expect(compose.get_by_role("switch", name="Track opens and clicks")).not_to_be_checked()
    expect(compose.get_by_role("switch", name="Log on the contacts' records")).to_be_checked()
    page.keyboard.type(f"{address},")  # To has the focus; a comma ends the address
    expect(compose.get_by_text(address, exact=True)).to_be_visible()
    applies = compose.get_by_role("region", name="What will apply")
    expect(applies).to_contain_text("Not tracked · logged on the contacts' records")
    expect(applies).to_contain_text("Tracking is off for this email")
    _write(page, compose, subject, "Hi Sam, the minutes are below.")
    ui.snap("track-off")
    compose.get_by_role("button", name="Send", exact=True).click()

    _expect_sent(page, subject, address)
    (copy,) = upstream_sink.wait_for(1, timeout=10)
    assert copy.rcpt_tos == (address,)
    html = _html(copy.content)
    assert "/o/" not in html  # no pixel
    assert "Hi Sam" in html
    row = _listed(page, subject)
    expect(row.get_by_text("Logged", exact=True)).to_be_visible()
    expect(row.get_by_text("Tracked", exact=True)).to_have_count(0)


def test_before_sending_the_window_says_whose_hits_are_only_counted_and_when_nothing_is_tracked(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    tenant = _sending_account(site, upstream_sink, "Privacy")
    lena, carl = "lena.law@client.test", "carl.contract@client.test"
    _contact(site, tenant, lena, "Lena Law")  # no legal basis recorded
    _contact(site, tenant, carl, "Carl Contract")
    (edge,) = _api(site, tenant.admin_token, "query($s: String!) { contacts(search: $s) { "
                   "edges { node { id } } } }", {"s": carl})["contacts"]["edges"]
    _api(site, tenant.admin_token, "mutation($c: ID!) { setContactLegalBasis(contactId: $c, "
         "basis: CONTRACT) { legalBasis } }", {"c": edge["node"]["id"]})
    _api(site, tenant.admin_token, SETTINGS, {"i": {"privacyMode": True}})
    sign_in(ui, tenant.admin_email)
    page = ui.page

    # R16, R28: privacy mode on, and one recipient has neither consent nor a legal basis:
    # their hits fall back to the account's exempt purpose (aggregate by default).
    open_contact(ui, lena)
    page.get_by_role("button", name="Email", exact=True).click()
    compose = page.get_by_role("dialog", name="New email")
    compose.get_by_label("To", exact=True).click()
    page.keyboard.type(f"{carl},")
    expect(compose.get_by_text(carl, exact=True)).to_be_visible()
    applies = compose.get_by_role("region", name="What will apply")
    someone = applies.get_by_role("listitem").filter(has_text="Privacy mode is on")
    expect(someone).to_have_text(
        f"Privacy mode is on and {lena} has neither tracking consent nor a legal basis: their "
        "opens and clicks are only counted in reports, without their name.")  # Carl's
    # contract is a legal basis: he is not named
    expect(applies).to_contain_text("Tracked · logged on the contacts' records")
    ui.snap("privacy-mode")
    compose.get_by_role("button", name="Discard").click()
    expect(compose).to_have_count(0)

    # R18: an admin turned tracking off for the whole account: nothing will be tracked.
    _api(site, tenant.admin_token, SETTINGS, {"i": {"trackingEnabled": False}})
    page.reload()
    expect(page.get_by_role("heading", name=lena, level=1)).to_be_visible()
    page.get_by_role("button", name="Email", exact=True).click()
    compose = page.get_by_role("dialog", name="New email")
    applies = compose.get_by_role("region", name="What will apply")
    expect(applies).to_contain_text("Not tracked · logged on the contacts' records")
    expect(applies).to_contain_text(
        "Tracking is turned off for the whole account by an admin: nothing in this email is "
        "tracked.")
    expect(applies).not_to_contain_text("Someone")  # nothing tracked, so nobody anonymous
    track = compose.get_by_role("switch", name="Track opens and clicks")
    expect(track).not_to_be_checked()  # the switch agrees with the note
    expect(track).to_be_disabled()
    ui.snap("tracking-off")


def _next_attempt(site: Site, tenant: Tenant, email_id: str, recipient: str) -> str:
    deliveries = _api(site, tenant.admin_token, DELIVERIES, {"id": email_id})["email"]
    (delivery,) = [d for d in deliveries["deliveries"] if d["recipient"] == recipient]
    assert delivery["status"] == "RETRYING", delivery
    when: str = delivery["nextAttemptAt"]
    assert datetime.fromisoformat(when) > datetime.now(UTC)
    return when


def test_the_email_page_shows_a_copy_put_off_as_retrying_and_a_refused_one_as_failed(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    # R27: a temporary answer (4xx) is retried later, a permanent one (5xx) fails with the
    # upstream's words; the other copy goes on its way.
    tenant = _sending_account(site, upstream_sink, "Delivery")
    ann, gone, busy = "ann@client.test", "gone@client.test", "busy.bee@client.test"
    upstream_sink.reply_to_rcpt(gone, "550 5.1.1 No such user here")
    upstream_sink.reply_to_rcpt(busy, "451 4.2.1 Mailbox busy, try again later")
    sent = _api(site, tenant.admin_token, SEND, {"i": {
        "to": [ann, gone, busy], "subject": "Price list", "html": "<p>Attached, soon.</p>"}})
    email_id = sent["sendEmail"]["email"]["id"]
    sign_in(ui, tenant.admin_email)
    page = ui.page
    ui.goto(f"/emails/{email_id}")
    expect(page.get_by_role("heading", name="Price list", level=1)).to_be_visible()

    table = page.get_by_role("table", name="Delivery status")
    failed = table.get_by_role("row").filter(has_text=gone)
    expect(failed).to_contain_text("Failed", timeout=DELIVERED)
    expect(failed).to_contain_text("550 5.1.1 No such user here")
    retrying = table.get_by_role("row").filter(has_text=busy)
    expect(retrying).to_contain_text("Retrying", timeout=DELIVERED)
    expect(table.get_by_role("row").filter(has_text=ann)).to_contain_text("Sent")
    when = _next_attempt(site, tenant, email_id, busy)
    # The time as the page writes times (the browser's locale and zone).
    shown = page.evaluate("""iso => new Intl.DateTimeFormat(undefined,
        { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso))""", when)
    expect(retrying).to_contain_text(f"Next attempt {shown}.")
    expect(retrying).to_contain_text(re.compile(
        r"Last answer: 451 .*refused the recipient busy\.bee@client\.test: 451 4\.2\.1 "
        r"Mailbox busy, try again later"))
    expect(page.get_by_text("Some copies are still on their way")).to_be_visible()
    ui.snap("retrying-and-failed")

    page.set_viewport_size(PHONE)
    cards = page.get_by_role("list", name="Delivery status").get_by_role("listitem")
    expect(cards.filter(has_text=gone)).to_contain_text("No such user here")
    expect(cards.filter(has_text=busy)).to_contain_text(f"Next attempt {shown}.")
    ui.assert_fits()
    ui.snap("retrying-and-failed")
    assert upstream_sink.deliveries(recipient=ann) == 1
    assert upstream_sink.deliveries(recipient=gone) == 0
    assert upstream_sink.deliveries(recipient=busy) == 0
