"""Sending from the web admin in real Chromium (R1, R2, R23, R26, R27): an admin points
Settings → Outbound mail at a real aiosmtpd upstream on loopback (STARTTLS, AUTH), tests
the connection (each step in words), opens a contact, writes an email with the rich-text
editor and an attachment, and sends it; the copy arrives at the upstream, the email's page
shows the recipient's delivery as sent, and the contact's timeline shows the logged email
with its attachment. Then a reply, at 390 px: threaded on the first (In-Reply-To). Fails
on any console error or failed request (conftest.py)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from browser.conftest import DESKTOP, PHONE, serve_site
from browser.harness import Site, Ui, open_contact, prepare_tracked_email, sign_in
from components import ChallTestSrv
from mail_components import (  # noqa: F401
    MailTls,
    UpstreamSink,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from playwright.sync_api import expect

ATTACHMENT = b"%PDF-1.4\n% a quote, not a real PDF\n" + bytes(range(256)) * 8
DELIVERED = 30_000
"""ms: the delivery worker polls every second; the page asks again every two."""


def sending_settings(mail_tls: MailTls) -> dict[str, str]:
    """What lets the site send to a loopback upstream that trusts ``mail_tls``."""
    return {"SENDTRAIL_OUTBOUND_ALLOW_PRIVATE": "true",
            "SENDTRAIL_OUTBOUND_CA_BUNDLE": str(mail_tls.ca_bundle)}


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory, mail_tls: MailTls) -> Iterator[Site]:
    """The usual site, allowed to send to a loopback upstream that trusts ``mail_tls``."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory,
                          sending_settings(mail_tls))


def _parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _configure_outbound(ui: Ui, sink: UpstreamSink) -> None:
    page = ui.page
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Outbound mail").click()
    expect(page.get_by_role("heading", name="Outbound mail", level=1)).to_be_visible()
    expect(page.get_by_text("Not configured")).to_be_visible()
    form = page.get_by_role("form", name="Outbound mail server")
    form.get_by_label("Host").fill("127.0.0.1")
    form.get_by_label("Security", exact=True).select_option("STARTTLS")
    form.get_by_label("Port").fill(str(sink.port))
    form.get_by_label("Username", exact=True).fill("alice")
    form.get_by_label("Password", exact=True).fill("secret")
    form.get_by_role("button", name="Save server").click()
    expect(page.get_by_text("Configured", exact=True)).to_be_visible()
    # Write-only: the password is "set", never shown again (R26).
    expect(form.get_by_label("Password: set")).to_be_visible()
    expect(page.get_by_text("secret", exact=True)).to_have_count(0)
    ui.snap("outbound-saved")

    page.get_by_role("button", name="Test connection").click()
    result = page.get_by_role("status", name="The connection works")
    expect(result).to_contain_text("The connection works")
    steps = result.get_by_role("list", name="Steps").get_by_role("listitem")
    expect(steps.first).to_be_visible()
    expect(result).to_contain_text("(passed)")
    expect(result).not_to_contain_text("(failed)")
    assert sink.transactions == []  # a test sends nothing
    ui.snap("outbound-tested")


def test_an_admin_sets_the_upstream_and_sends_from_a_contact_with_an_attachment(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    address = "nora.north@client.test"
    subject = "Quote for the north office"
    # The contact exists once an email was prepared for it.
    prepare_tracked_email(site, site.tenant.admin_token, "Hello Nora", address)
    sign_in(ui, site.tenant.admin_email)
    _configure_outbound(ui, upstream_sink)
    page = ui.page

    open_contact(ui, address)
    page.get_by_role("button", name="Email", exact=True).click()
    compose = page.get_by_role("dialog", name="New email")
    expect(compose).to_be_visible()
    expect(compose.get_by_text(address)).to_be_visible()  # To pre-filled
    compose.get_by_label("Subject").fill(subject)
    body = compose.get_by_role("textbox", name="Message")
    body.click()
    page.keyboard.type("Dear Nora, here is ")
    compose.get_by_role("button", name="Bold").click()
    page.keyboard.type("our best price")
    compose.get_by_role("button", name="Bold").click()
    page.keyboard.type(". Kind regards")
    compose.get_by_label("Attachments").set_input_files(
        {"name": "quote.pdf", "mimeType": "application/pdf", "buffer": ATTACHMENT})
    expect(compose.get_by_role("list", name="Attached files")).to_contain_text("quote.pdf")
    expect(compose.get_by_role("switch", name="Track opens and clicks")).to_be_checked()
    expect(compose.get_by_role("switch", name="Log on the contacts' records")).to_be_checked()
    applies = compose.get_by_role("region", name="What will apply")
    expect(applies).to_contain_text("Tracked · logged on the contacts' records")
    ui.snap("compose")
    compose.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    sent_page = re.search(r"/emails/[^/]+$", page.url)
    assert sent_page, page.url
    deliveries = page.get_by_role("table", name="Delivery status")
    row = deliveries.get_by_role("row").filter(has_text=address)
    expect(row).to_contain_text("Sent", timeout=DELIVERED)
    expect(page.get_by_text("Every copy has reached its final state.")).to_be_visible()
    ui.snap("email-sent")

    sent = upstream_sink.wait_for(1, timeout=10)
    assert len(sent) == 1, sent
    copy = sent[0]
    assert copy.rcpt_tos == (address,)
    assert copy.login == "alice"
    assert copy.tls
    message = _parse(copy.content)
    assert message["Subject"] == subject
    assert address in message["To"]
    assert "Bcc" not in message
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "<strong>our best price</strong>" in content, content
    assert "/o/" in content  # tracked: the copy carries its pixel (R26)
    attachments = list(message.iter_attachments())
    assert [part.get_filename() for part in attachments] == ["quote.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == ATTACHMENT  # byte-identical

    # Logged (R1, R23): on the contact's timeline, with its attachment.
    open_contact(ui, address)
    logged = page.get_by_role("article", name=f"Email: {subject}")
    expect(logged).to_be_visible()
    expect(logged.get_by_role("link", name="quote.pdf")).to_be_visible()

    # A reply at 390 px, from the sent email's page: To is the recipient again, the
    # subject "Re: …", threaded.
    page.set_viewport_size(PHONE)
    ui.goto(sent_page.group(0))
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    ui.assert_fits()
    page.get_by_role("button", name="Reply").click()
    reply = page.get_by_role("dialog", name="Reply")
    expect(reply.get_by_label("Subject")).to_have_value(f"Re: {subject}")
    expect(reply.get_by_text(address)).to_be_visible()
    reply.get_by_role("textbox", name="Message").click()
    page.keyboard.type("One more thing: the price holds until Friday.")
    ui.assert_fits()
    ui.snap("reply")
    reply.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name=f"Re: {subject}", level=1)).to_be_visible()
    cards = page.get_by_role("list", name="Delivery status")
    expect(cards.get_by_role("listitem").filter(has_text=address)).to_contain_text(
        "Sent", timeout=DELIVERED)
    ui.assert_fits()
    ui.snap("reply-sent")
    answer = _parse(upstream_sink.wait_for(2, timeout=10)[1].content)
    assert answer["In-Reply-To"] == copy.message_id
    assert copy.message_id in (answer["References"] or "")

    ui.goto("/settings/outbound")
    expect(page.get_by_role("heading", name="Outbound mail", level=1)).to_be_visible()
    ui.assert_fits()
    ui.snap("outbound-phone")
    page.set_viewport_size(DESKTOP)
