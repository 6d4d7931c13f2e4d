"""A notification taken back (R30, issue 17): a scanner's first click looked like a person
and was toasted; when the rest of its burst arrives the sender is told it no longer counts,
the first toast goes, and the live feed drops the row. Real Chromium, real hits over HTTP."""

from __future__ import annotations

import time
import uuid

from browser.conftest import new_tenant
from browser.harness import (
    CHROME,
    TOO_SOON,
    Site,
    Ui,
    click_link,
    prepare_tracked_email,
    sign_in,
)
from browser.test_notifications import Subscriptions, _api
from playwright.sync_api import expect

PAID_SEAT = """mutation($id: ID!) { updateUser(input: {id: $id, seat: SALES_STARTER}) { seat } }"""
HTML = ('<p>See the <a href="https://example.test/pricing">pricing</a> and the '
        '<a href="https://example.test/terms">terms</a>.</p>')


def _scanner_burst(ui: Ui, site: Site, *, width: str) -> None:
    page = ui.page
    tenant = new_tenant(site, f"Taken back {width}")
    _api(site, tenant.admin_token, PAID_SEAT, {"id": tenant.admin_id})  # clicks (R12)
    address = f"pat-{uuid.uuid4().hex[:6]}@customer.test"
    subject = f"Pricing {uuid.uuid4().hex[:6]}"
    sent = prepare_tracked_email(site, tenant.admin_token, subject, address, html=HTML)
    assert len(sent.links) == 2, sent
    live = Subscriptions(page)
    sign_in(ui, tenant.admin_email)
    ui.goto("/contacts")
    live.wait_for(1)
    time.sleep(TOO_SOON)

    click_link(sent.links[0], CHROME)  # one click: a person, as far as anyone knows yet
    clicked = page.get_by_role("alert").filter(has_text="Link clicked")
    expect(clicked).to_be_visible()
    click_link(sent.links[1], CHROME)  # every link within a second: a link scanner (R11)
    taken_back = page.get_by_role("alert").filter(has_text="Taken back")
    # The click, and the open it implied (R7), each taken back in words.
    expect(taken_back.filter(has_text="The click in")).to_contain_text(
        f"The click in \u201c{subject}\u201d by {address} was a scanner, not a person: "
        "it no longer counts.")
    expect(taken_back.filter(has_text="The open of")).to_contain_text(
        f"The open of \u201c{subject}\u201d by {address} was a scanner")
    expect(clicked).to_have_count(0)  # their own toasts are gone
    expect(page.get_by_role("alert").filter(has_text="Email opened")).to_have_count(0)
    ui.assert_fits()
    ui.snap(f"taken-back-{width}")

    ui.goto("/activity")
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    # Neither the click nor the open it implied (R7) is a person's: the feed shows none.
    expect(page.get_by_test_id("activity-row").filter(has_text=subject)).to_have_count(0)


def test_a_scanners_click_is_taken_back_on_any_page(ui: Ui, site: Site) -> None:
    _scanner_burst(ui, site, width="desktop")


def test_a_scanners_click_is_taken_back_on_a_phone(phone_ui: Ui, site: Site) -> None:
    _scanner_burst(phone_ui, site, width="phone")
