"""Issue 15, defect 1: the email page no longer contradicts itself (R7, R9, R15-R17).

Seen before the fix: the sender's own Sent-folder open (SELF) listed under Who as
"Someone — Shared pixel or privacy mode"; "Links clicked: 0 clicks by recipients" beside a
HUMAN click by Someone; one open and one click in privacy mode shown as two opens, one
"Inferred"; rule codes ("(R15)", "mail_client:") and ".;" in sentences; dates written two
ways ("Dec 3, 2026, 7:35 AM" and "2026-12-03 07:35 UTC"). Checked at 1280 and 390 px, on
real hits through HTTP.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
from browser.conftest import PHONE, new_tenant
from browser.harness import (
    CHROME,
    TOO_SOON,
    Site,
    Ui,
    click_link,
    load_pixel,
    open_contact,
    prepare_tracked_email,
    sign_in,
    wait_until_derived,
)
from playwright.sync_api import Page, expect

PREPARE = """mutation($i: PrepareEmailInput!) {
  prepareEmail(input: $i) {
    email { id } notTrackedReasons messages { html } senderCopy { html } } }"""
PAID_SEAT = """mutation($id: ID!) { updateUser(input: {id: $id, seat: SALES_STARTER}) { seat } }"""
HTML = '<p>Hi Pat, the <a href="https://example.test/pricing">pricing</a> is attached.</p>'
RULE_CODE = re.compile(r"\(R\d+|\bR\d+\)|\b[a-z]+_[a-z_]+:|\.;|UTC|\d{4}-\d{2}-\d{2}")
"""What a person should never read: a rule code, a category code, ".;", a second date format."""


def _api(site: Site, token: str, query: str, variables: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables or {}})
    body: dict[str, Any] = answer.json()
    assert answer.status_code == 200, body
    assert not body.get("errors"), body
    return body["data"]


def _pixel(html: str) -> str:
    match = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', html)
    assert match, html
    return match.group(1)


def _assert_plain_words(page: Page) -> None:
    text = page.locator("main").inner_text()
    assert not RULE_CODE.search(text), RULE_CODE.search(text)


def test_the_email_page_agrees_with_itself_for_someone(ui: Ui, site: Site) -> None:
    """Issue 15, defect one, first seen in privacy mode; since R28 privacy mode keeps no
    row for a recipient without consent, so 'Someone' is the shared copy of one message
    to two recipients (R15)."""
    tenant = new_tenant(site, "Privacy defect one")
    _api(site, tenant.admin_token, PAID_SEAT, {"id": tenant.admin_id})  # clicks (R12)
    prepared = _api(site, tenant.admin_token, PREPARE, {"i": {
        "subject": "Pricing for Pat", "html": HTML, "deliveryMode": "SINGLE_MESSAGE",
        "recipients": [{"address": f"pat-{uuid.uuid4().hex[:6]}@example.test"},
                       {"address": f"sam-{uuid.uuid4().hex[:6]}@example.test"}]}})
    email_id = prepared["prepareEmail"]["email"]["id"]
    sent = prepared["prepareEmail"]["messages"][0]["html"]
    links = re.findall(r'href="(https?://[^"]+/c/[^"]+)"', sent)
    assert len(links) == 1, prepared
    (link,) = links
    time.sleep(TOO_SOON)  # a person's hits come later than a gateway's
    load_pixel(_pixel(prepared["prepareEmail"]["senderCopy"]["html"]), CHROME)  # R9: SELF
    load_pixel(_pixel(sent), CHROME)  # the shared copy: Someone (R15)
    wait_until_derived(site, tenant.admin_token, email_id, ["HUMAN", "SELF"])
    assert click_link(link, CHROME) == "https://example.test/pricing"
    # One open and one click: the click infers no second open (R7), in any batch.
    wait_until_derived(site, tenant.admin_token, email_id, ["HUMAN", "HUMAN", "SELF"])

    page = ui.page
    sign_in(ui, tenant.admin_email)
    ui.goto(f"/emails/{email_id}")
    expect(page.get_by_role("heading", name="Pricing for Pat", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Opens and clicks")
    self_row = table.locator("tr[data-verdict=SELF]")
    expect(self_row).to_contain_text("(the sender)")
    expect(self_row).not_to_contain_text("Someone")
    expect(self_row).not_to_contain_text("Shared pixel or privacy mode")
    human = table.locator("tr[data-verdict=HUMAN]")
    expect(human).to_have_count(2)
    expect(human.filter(has_text="Someone")).to_have_count(2)
    expect(table).not_to_contain_text("Inferred")
    links = page.locator("section[aria-labelledby=links]")
    expect(links).to_contain_text("0 clicks by recipients, and 1 click by Someone")
    _assert_plain_words(page)
    ui.snap("email-detail-privacy")

    page.set_viewport_size(PHONE)
    cards = page.get_by_role("list", name="Opens and clicks")
    expect(cards.locator("li[data-verdict=SELF]")).to_contain_text("(the sender)")
    expect(cards.locator("li[data-verdict=HUMAN]")).to_have_count(2)
    _assert_plain_words(page)
    ui.assert_fits()
    ui.snap("email-detail-privacy-phone")


def test_a_contacts_timeline_reads_as_sentences(ui: Ui, site: Site) -> None:
    address = f"ria-{uuid.uuid4().hex[:6]}@example.test"
    prepared = prepare_tracked_email(site, site.tenant.admin_token, "Agenda for Ria", address,
                                     html=HTML)
    time.sleep(TOO_SOON)
    load_pixel(prepared.pixel, CHROME)
    load_pixel(prepared.pixel, CHROME)
    wait_until_derived(site, site.tenant.admin_token, prepared.id, ["HUMAN", "HUMAN"])

    sign_in(ui, site.tenant.admin_email)
    open_contact(ui, address)
    opens = ui.page.get_by_role("article", name="Opened “Agenda for Ria”")
    expect(opens).to_have_count(2)
    # "browser: The client ….; It came …" before the fix: sentences, one after the other.
    expect(opens.first).to_contain_text("It came")
    _assert_plain_words(ui.page)

    ui.goto(f"/emails/{prepared.id}")
    recipient = ui.page.locator("section[aria-labelledby=recipients]")
    expect(recipient).to_contain_text("Opened 2 times.")
    expect(recipient).to_contain_text("First opened")
    _assert_plain_words(ui.page)
