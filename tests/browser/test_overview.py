"""The Overview in real Chromium: opens and clicks over time with people and machines side by
side (R10), the top emails, the same numbers as a table, the account-wide view for admins
only, and an empty state for someone whose emails nobody opened yet."""

from __future__ import annotations

import time
import uuid

import httpx
from browser.harness import (
    CHROME,
    SCANNER,
    TOO_SOON,
    Site,
    Ui,
    click_link,
    load_pixel,
    prepare_tracked_email,
    sign_in,
)
from playwright.sync_api import expect

PRICING = "https://shop.test/pricing"
PAID_SEAT = "mutation($id: ID!) { updateUser(input: {id: $id, seat: SALES_STARTER}) { seat } }"


def _stat(ui: Ui, label: str, value: int) -> None:
    card = ui.page.get_by_role("group", name=label, exact=True)  # a labelled group: read out
    expect(card.locator("[data-stat-value]")).to_have_text(str(value))


def test_an_open_by_a_person_and_one_by_a_scanner_are_charted_apart(ui: Ui, site: Site) -> None:
    page = ui.page
    subject = f"Renewal {uuid.uuid4().hex[:6]}"
    email_id, pixel, _ = prepare_tracked_email(site, site.tenant.admin_token, subject,
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
    expect(page.get_by_role("table", name="last 24 hours", exact=False)).to_be_visible()
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


def test_a_clicked_link_is_ranked_with_its_clicks(ui: Ui, site: Site) -> None:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,  # a paid seat tracks clicks (R12)
                        headers={"Authorization": f"Bearer {site.tenant.admin_token}"},
                        json={"query": PAID_SEAT, "variables": {"id": site.tenant.admin_id}})
    assert answer.json()["data"]["updateUser"]["seat"] == "SALES_STARTER", answer.json()
    prepared = prepare_tracked_email(
        site, site.tenant.admin_token, "Price list", "pat@customer.test",
        html=f'<p>See <a href="{PRICING}">our prices</a>.</p>')
    (link,) = prepared.links
    time.sleep(TOO_SOON)
    assert click_link(link, CHROME) == PRICING  # the redirect, not followed

    sign_in(ui, site.tenant.admin_email)
    _stat(ui, "Human clicks", 1)
    links = ui.page.get_by_role("region", name="Top links")
    row = links.get_by_role("row").filter(has_text=PRICING)
    expect(row.get_by_role("cell")).to_have_text([PRICING, "1", "1"])
    ui.snap("overview-top-links")
