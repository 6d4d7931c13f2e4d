"""The Overview in real Chromium: opens and clicks over time with people and machines side by
side (R10), the top emails, the same numbers as a table, the account-wide view for admins
only, and an empty state for someone whose emails nobody opened yet."""

from __future__ import annotations

import time
import uuid

from browser.harness import (
    CHROME,
    SCANNER,
    TOO_SOON,
    Site,
    Ui,
    load_pixel,
    prepare_tracked_email,
    sign_in,
)
from playwright.sync_api import expect


def _stat(ui: Ui, label: str, value: int) -> None:
    card = ui.page.get_by_role("group", name=label, exact=True)  # a labelled group: read out
    expect(card.locator("[data-stat-value]")).to_have_text(str(value))


def test_an_open_by_a_person_and_one_by_a_scanner_are_charted_apart(ui: Ui, site: Site) -> None:
    page = ui.page
    subject = f"Renewal {uuid.uuid4().hex[:6]}"
    email_id, pixel = prepare_tracked_email(site, site.tenant.admin_token, subject,
                                            "pat@customer.test")
    time.sleep(TOO_SOON)
    load_pixel(pixel, CHROME)
    load_pixel(pixel, SCANNER)

    sign_in(ui, site.tenant.admin_email)
    _stat(ui, "Human opens", 1)
    _stat(ui, "Machine opens", 1)
    _stat(ui, "Human clicks", 0)
    chart = page.get_by_role("figure", name="Opens and clicks on emails sent by you")
    expect(chart.locator(".recharts-bar-rectangle")).to_have_count(2)  # one bar per kind
    expect(chart.locator(".recharts-legend-wrapper")).to_contain_text("Machine opens")
    top = page.get_by_role("region", name="Top emails")
    expect(top.get_by_role("row")).to_have_count(2)  # header + the email
    expect(top).to_contain_text("1 recipient")
    ui.snap("overview-chart")

    page.get_by_label("Show as a table").check()
    table = page.get_by_role("table", name="Opens and clicks on emails sent by you")
    expect(table.locator("tbody tr").first).to_be_visible()
    days = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    assert len(days) >= 7, days  # a row per day of the week
    assert [day for day in days if day != ["0", "0", "0", "0"]] == [["1", "0", "1", "0"]], days
    ui.snap("overview-table")

    page.get_by_text("Whole account").click()  # admins: everyone's emails
    expect(page.get_by_role("table", name=f"emails sent by everyone at {site.account_name}",
                            exact=False)).to_be_visible()
    page.get_by_text("24 hours").click()
    _stat(ui, "Human opens", 1)
    top.get_by_role("link", name=subject).click()
    expect(page).to_have_url(f"{site.url}/emails/{email_id}")


def test_a_user_sees_only_their_own_emails_and_an_empty_state(ui: Ui, site: Site) -> None:
    sign_in(ui, site.tenant.user_email)
    expect(ui.page.get_by_text("No opens or clicks in this period")).to_be_visible()
    _stat(ui, "Human opens", 0)
    expect(ui.page.get_by_text("Whole account")).to_have_count(0)  # no account-wide view
    expect(ui.page.get_by_role("region", name="Top emails")).to_contain_text(
        "No opened emails in this period")
    ui.snap("overview-empty")


def test_the_overview_fits_a_phone(phone_ui: Ui, site: Site) -> None:
    sign_in(phone_ui, site.tenant.admin_email)
    expect(phone_ui.page.get_by_role("region", name="Top links")).to_be_visible()
    phone_ui.assert_fits()
    phone_ui.snap("overview")
