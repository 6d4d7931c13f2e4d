"""Notifications wherever the sender is (issue 15, item 7; R4, R22), in real Chromium at 1280
and 390 px, on real data: tracked emails prepared over GraphQL, their pixels loaded over
HTTP as a recipient would (never a click's redirect followed).

- On another page (Contacts) a live open shows as a toast naming the contact, and the
  "Activity" link counts it (behind the burger on a phone, the burger counts too); the count
  is kept in the browser across a reload and goes when the Activity page is seen; clicking
  the toast opens the email.
- The feed names people when known, says when in words ("5 seconds ago") with the exact
  time on hover, loads past its first 30 entries, and filters by type and by email.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, NamedTuple

import httpx
from browser.conftest import new_tenant
from browser.harness import (
    CHROME,
    TOO_SOON,
    Site,
    Ui,
    load_pixel,
    sign_in,
    wait_until_derived,
)
from playwright.sync_api import Locator, Page, expect
from support import Tenant

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html messageId } } }"""
LOG_REPLY = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"
# The exact time as the page writes it (labels.tsx formatWhen), in the browser's own zone.
EXACT = ("iso => new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'})"
         ".format(new Date(iso))")
AGO = re.compile(r"^(now|\d+ seconds? ago|\d+ minutes? ago|1 minute ago)$")


class Sent(NamedTuple):
    id: str
    pixel: str
    message_id: str


def _api(site: Site, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert not body.get("errors"), body
    return body["data"]


def _prepare(site: Site, tenant: Tenant, subject: str, address: str,
             name: str | None = None) -> Sent:
    """A tracked email to one recipient, named in its header when ``name`` is given (the
    contact is created with that name)."""
    prepared = _api(site, tenant.admin_token, PREPARE, {"i": {
        "subject": subject, "html": "<p>Hi, see you soon.</p>",
        "recipients": [{"address": address, **({"name": name} if name else {})}]}})
    message = prepared["prepareEmail"]["messages"][0]
    pixel = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', message["html"])
    assert pixel, message
    return Sent(prepared["prepareEmail"]["email"]["id"], pixel.group(1), message["messageId"])


def _log_reply(site: Site, tenant: Tenant, sent: Sent, address: str, subject: str) -> None:
    """The recipient's reply, logged over the API (R24): a REPLY in the feed."""
    _api(site, tenant.admin_token, LOG_REPLY, {"i": {
        "subject": f"Re: {subject}", "text": "Sounds good.", "from": {"address": address},
        "recipients": [{"address": tenant.admin_email}], "inReplyTo": sent.message_id}})


class Subscriptions:
    """Counts the page's live subscriptions to engagements as the server acknowledges its
    socket: an open loaded before the tab subscribed would never reach it."""

    def __init__(self, page: Page) -> None:
        self.sent = 0
        page.on("websocket", lambda socket: socket.on("framesent", self._sent))

    def _sent(self, frame: str | bytes) -> None:
        text = frame if isinstance(frame, str) else frame.decode(errors="replace")
        if '"subscribe"' in text and "EngagementNotifications" in text:
            self.sent += 1

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while self.sent < count:
            assert time.monotonic() < deadline, "the page never subscribed to live activity"
            time.sleep(0.05)
        time.sleep(0.5)  # the server registers the subscription after reading the frame


def _nav_link(ui: Ui, name: str) -> Locator:
    return ui.page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name=re.compile(f"^{name}"))


def _go(ui: Ui, name: str, phone: bool) -> None:
    """Through the navigation, opening it first on a phone."""
    if phone:
        ui.page.get_by_role("button", name=re.compile("^Open navigation")).click()
    _nav_link(ui, name).click()
    expect(ui.page.get_by_role("heading", name=name, level=1)).to_be_visible()


def _toast_then_count_then_email(ui: Ui, site: Site, *, phone: bool) -> None:
    page = ui.page
    tenant = new_tenant(site, "Toasts")
    address = f"ann.{uuid.uuid4().hex[:6]}@customer.test"
    subject = f"Proposal {uuid.uuid4().hex[:6]}"
    sent = _prepare(site, tenant, subject, address, name="Ann Archer")
    live = Subscriptions(page)
    sign_in(ui, tenant.admin_email)
    _go(ui, "Contacts", phone)
    expect(page.get_by_test_id("activity-unread")).to_have_count(0)
    time.sleep(TOO_SOON)  # a person, not a scanner opening at once (R10)
    live.wait_for(1)

    load_pixel(sent.pixel, CHROME)  # arrives over the socket while the sender is on Contacts
    toast = page.get_by_role("alert").filter(has_text=subject)
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Email opened")
    expect(toast).to_contain_text(f"Ann Archer opened \u201c{subject}\u201d")  # by name
    if phone:  # the link is behind the burger: the burger counts
        burger = page.get_by_role("button", name="Open navigation, 1 new in Activity")
        expect(burger).to_be_visible()
        expect(page.get_by_test_id("navigation-unread")).to_contain_text("1")
    else:
        expect(_nav_link(ui, "Activity")).to_have_accessible_name(
            re.compile(r"^Activity\s*1 new$"))
        expect(page.get_by_test_id("activity-unread")).to_have_text("1 new")
    ui.assert_fits()
    ui.snap("toast-on-contacts")

    load_pixel(sent.pixel, CHROME)  # read again: two unseen
    badge = page.get_by_test_id("navigation-unread" if phone else "activity-unread")
    expect(badge).to_contain_text("2")
    page.reload()  # kept in the browser, per user
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    expect(badge).to_contain_text("2")
    live.wait_for(2)

    load_pixel(sent.pixel, CHROME)
    toast = page.get_by_role("alert").filter(has_text=subject)
    expect(toast).to_have_count(1)  # the toasts before the reload are gone with the page
    toast.click()
    expect(page).to_have_url(f"{site.url}/emails/{sent.id}")
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    expect(toast).to_have_count(0)  # the clicked toast closes
    expect(badge).to_contain_text("3")  # opening the email is not seeing the feed

    _go(ui, "Activity", phone)
    expect(page.get_by_test_id("activity-unread")).to_have_count(0)  # seen
    expect(page.get_by_test_id("navigation-unread")).not_to_contain_text("3")
    rows = page.get_by_test_id("activity-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(f"Ann Archer ({address}) opened \u201c{subject}\u201d")
    load_pixel(sent.pixel, CHROME)  # on the Activity page the feed shows it, no toast, no count
    expect(rows).to_have_count(4)
    expect(rows.first.get_by_text("New")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text=subject)).to_have_count(0)
    expect(page.get_by_test_id("activity-unread")).to_have_count(0)

    rows.first.get_by_text("New").click()  # anywhere on a row opens its email
    expect(page).to_have_url(f"{site.url}/emails/{sent.id}")
    page.go_back()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    ui.assert_fits()
    ui.snap("activity-seen")


def test_a_toast_and_a_count_follow_the_sender_and_open_the_email(ui: Ui, site: Site) -> None:
    _toast_then_count_then_email(ui, site, phone=False)


def test_on_a_phone_the_burger_counts_and_the_toast_opens_the_email(
    phone_ui: Ui, site: Site
) -> None:
    _toast_then_count_then_email(phone_ui, site, phone=True)


def _busy_feed(site: Site) -> tuple[Tenant, str, str, str]:
    """33 opens of "Pricing" by Ann Archer, an open of "Demo" by Ben and his reply (35 in
    all), derived before the page opens."""
    tenant = new_tenant(site, "Feed")
    ann = f"ann.{uuid.uuid4().hex[:6]}@customer.test"
    ben = f"ben.{uuid.uuid4().hex[:6]}@customer.test"
    pricing = _prepare(site, tenant, f"Pricing {uuid.uuid4().hex[:6]}", ann, name="Ann Archer")
    demo_subject = f"Demo {uuid.uuid4().hex[:6]}"
    demo = _prepare(site, tenant, demo_subject, ben)
    time.sleep(TOO_SOON)
    for _ in range(33):
        load_pixel(pricing.pixel, CHROME)
    load_pixel(demo.pixel, CHROME)
    wait_until_derived(site, tenant.admin_token, pricing.id, ["HUMAN"] * 33)
    # Ben's open is stored before his reply is logged: a reply to an email with no open yet
    # infers one (R7), and a late-derived pixel would then make it two opens.
    wait_until_derived(site, tenant.admin_token, demo.id, ["HUMAN"])
    _log_reply(site, tenant, demo, ben, demo_subject)
    wait_until_derived(site, tenant.admin_token, demo.id, ["HUMAN", "HUMAN"])
    return tenant, ann, ben, demo_subject


def _feed_loads_more_and_filters(ui: Ui, site: Site, *, phone: bool) -> None:
    page = ui.page
    tenant, ann, ben, demo_subject = _busy_feed(site)
    sign_in(ui, tenant.admin_email)
    _go(ui, "Activity", phone)
    rows = page.get_by_test_id("activity-row")
    expect(rows).to_have_count(30)
    # Named when known (the contact), the address beside the name; Ben has no name.
    expect(rows.filter(has_text=f"Ann Archer ({ann}) opened").first).to_be_visible()
    expect(rows.filter(has_text=f"{ben} replied to \u201c{demo_subject}\u201d")).to_have_count(1)

    when = rows.first.locator("time")
    expect(when).to_have_text(AGO)  # e.g. "5 seconds ago"
    exact = page.evaluate(EXACT, when.get_attribute("datetime"))
    when.hover()
    expect(page.get_by_role("tooltip")).to_have_text(exact)
    ui.snap("feed-first-page")

    def show(kind: str) -> None:  # the segmented control's label: its radio is hidden
        page.get_by_role("search", name="Filter activity").get_by_text(kind, exact=True).click()
        expect(page.get_by_role("radio", name=kind, exact=True)).to_be_checked()

    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(35)  # 33 + 1 opens, 1 reply: all of them, each once
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    ui.assert_fits()

    show("Replies")
    expect(page).to_have_url(re.compile(r"[?&]type=REPLY"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"{ben} replied to")
    show("Clicks")
    expect(page.get_by_text("No activity matches")).to_be_visible()
    show("Opens")
    expect(rows).to_have_count(30)
    show("All")

    email = page.get_by_role("combobox", name="Email", exact=True)
    email.fill(demo_subject[:8])  # searched among the sender's emails
    page.get_by_role("option", name=demo_subject).click()
    expect(page).to_have_url(re.compile(r"[?&]email="))
    expect(rows).to_have_count(2)  # Ben's open and reply, none of Ann's
    expect(rows.filter(has_text=ann)).to_have_count(0)
    show("Opens")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"{ben} opened \u201c{demo_subject}\u201d")
    ui.assert_fits()
    ui.snap("feed-filtered")

    page.reload()  # the filters are in the address: the same view after a reload
    expect(rows).to_have_count(1)
    expect(email).to_have_value(demo_subject)


def test_the_feed_names_people_loads_more_than_30_and_filters(ui: Ui, site: Site) -> None:
    _feed_loads_more_and_filters(ui, site, phone=False)


def test_the_feed_on_a_phone(phone_ui: Ui, site: Site) -> None:
    _feed_loads_more_and_filters(phone_ui, site, phone=True)
