"""The Emails page lists the emails only logged (issue 15, defect 4; R1, R23): an email
logged by BCC or with logEmail never appeared in "Tracked and logged emails", so a rep
could not find what they had logged except through a contact's record. At 1280 and 390 px.
And it exports what its filters show as CSV (item 10), and says who opened what (item 6).
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

from browser.harness import (
    CHROME,
    TOO_SOON,
    Site,
    Ui,
    load_pixel,
    log_email,
    prepare_tracked_email,
    sign_in,
)
from playwright.sync_api import Locator, expect


def _listed_emails(ui: Ui) -> Locator:
    """The emails as listed: a table on a desktop, cards on a phone (issue 15, item 9)."""
    size = ui.page.viewport_size
    if size and size["width"] < 576:
        return ui.page.get_by_role("list", name="Emails").locator("> li")
    return ui.page.get_by_role("table", name="Emails").locator("tbody tr")


def _find_the_logged_email_in_emails(ui: Ui, site: Site) -> None:
    tag = uuid.uuid4().hex[:6]
    logged_subject = f"Call notes {tag}"
    logged = log_email(site, f"ria.{tag}@customer.test", logged_subject, html="<p>Notes</p>")
    prepare_tracked_email(site, site.tenant.admin_token, f"Pricing {tag}",
                          f"pat.{tag}@customer.test")
    sign_in(ui, site.tenant.admin_email)
    ui.goto("/emails")
    emails = _listed_emails(ui)
    row = emails.filter(has_text=logged_subject)
    expect(row).to_have_count(1)
    expect(row.get_by_text("Logged", exact=True)).to_be_visible()
    expect(row.get_by_text("Tracked", exact=True)).to_have_count(0)
    # The tracked email (logged as well, R2) is listed once, beside it.
    expect(emails.filter(has_text=f"Pricing {tag}")).to_have_count(1)
    ui.assert_fits()
    row.get_by_role("link", name=logged_subject).click()
    expect(ui.page).to_have_url(re.compile(f"/emails/{logged['id']}$"))
    expect(ui.page.get_by_role("heading", name=logged_subject, level=1)).to_be_visible()
    expect(ui.page.get_by_text("notes.txt")).to_be_visible()  # its attachment (R23)
    ui.snap("logged-email")


def test_an_email_only_logged_is_listed_and_opens(ui: Ui, site: Site) -> None:
    _find_the_logged_email_in_emails(ui, site)


def test_an_email_only_logged_is_listed_and_opens_on_a_phone(phone_ui: Ui, site: Site) -> None:
    _find_the_logged_email_in_emails(phone_ui, site)


def test_the_emails_page_exports_what_its_filters_show(ui: Ui, site: Site) -> None:
    """Issue 15, item 10: the CSV holds the emails the page's filters let through."""
    tag = uuid.uuid4().hex[:6]
    log_email(site, f"ria.{tag}@customer.test", f"Minutes {tag}", html="<p>Notes</p>")
    prepare_tracked_email(site, site.tenant.admin_token, f"Offer {tag}", f"pat.{tag}@customer.test")
    sign_in(ui, site.tenant.admin_email)
    ui.goto(f"/emails?q=minutes+{tag}")
    expect(ui.page.get_by_role("table", name="Emails").get_by_role("row")).to_have_count(2)
    with ui.page.expect_download() as download:
        ui.page.get_by_role("link", name="Export emails (CSV)").click()
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [(row["subject"], row["logged"], row["tracked"]) for row in rows] == [
        (f"Minutes {tag}", "yes", "no")]
    assert download.value.suggested_filename.startswith("emails-")


def _who_opened_what(ui: Ui, site: Site) -> None:
    tag = uuid.uuid4().hex[:6]
    subject = f"Proposal {tag}"
    prepared = prepare_tracked_email(site, site.tenant.admin_token, subject,
                                     f"ann.{tag}@customer.test", also=(f"ben.{tag}@customer.test",))
    time.sleep(TOO_SOON)  # a person opens later than a scanner would
    load_pixel(prepared.pixel, CHROME)  # a shared pixel (one message): Someone opened (R15)
    single = prepare_tracked_email(site, site.tenant.admin_token, f"Single {tag}",
                                   f"cy.{tag}@customer.test")
    time.sleep(TOO_SOON)
    load_pixel(single.pixel, CHROME)
    sign_in(ui, site.tenant.admin_email)
    ui.goto("/emails?order=LAST_ACTIVITY")
    emails = _listed_emails(ui)
    first = emails.first
    expect(first).to_contain_text(f"Single {tag}")  # the latest activity comes first
    summary = first.get_by_role("button", name="1 of 1 opened · 0 clicked · 0 replied")
    summary.click()
    people = ui.page.get_by_role("list", name=f"Recipients of “Single {tag}”")
    expect(people.get_by_text(f"cy.{tag}@customer.test")).to_be_visible()
    expect(people.get_by_text("Opened", exact=True)).to_be_visible()
    ui.page.keyboard.press("Escape")  # the keyboard closes it, back on its button
    expect(people).to_be_hidden()
    expect(summary).to_be_focused()
    shared = emails.filter(has_text=subject)
    # The open came through the pixel both share: it names nobody (R15) and counts nowhere
    # (R17), as in reports; the email's page lists it as Someone's.
    shared.get_by_role("button", name="0 of 2 opened · 0 clicked · 0 replied").click()
    expect(ui.page.get_by_role("list", name=f"Recipients of “{subject}”").get_by_text(
        "Not opened", exact=True)).to_have_count(2)
    ui.page.keyboard.press("Escape")
    ui.assert_fits()
    ui.snap("who-opened-what")
    ui.goto(f"/emails?activity=NOT_OPENED&q={tag}")
    expect(emails.get_by_role("link", name=subject)).to_be_visible()
    expect(emails.get_by_role("link", name=f"Single {tag}")).to_have_count(0)
    ui.goto(f"/emails?activity=OPENED_NOT_REPLIED&q={tag}")
    expect(emails.get_by_role("link", name=f"Single {tag}")).to_be_visible()
    expect(emails.get_by_role("link", name=subject)).to_have_count(0)


def test_the_emails_list_says_who_opened_what(ui: Ui, site: Site) -> None:
    _who_opened_what(ui, site)


def test_the_emails_list_says_who_opened_what_on_a_phone(phone_ui: Ui, site: Site) -> None:
    _who_opened_what(phone_ui, site)
