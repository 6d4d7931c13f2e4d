"""The Emails page lists the emails only logged (issue 15, defect 4; R1, R23): an email
logged by BCC or with logEmail never appeared in "Tracked and logged emails", so a rep
could not find what they had logged except through a contact's record. At 1280 and 390 px.
And it exports what its filters show as CSV (item 10).
"""

from __future__ import annotations

import csv
import io
import re
import uuid

from browser.harness import Site, Ui, log_email, prepare_tracked_email, sign_in
from playwright.sync_api import expect


def _find_the_logged_email_in_emails(ui: Ui, site: Site) -> None:
    tag = uuid.uuid4().hex[:6]
    logged_subject = f"Call notes {tag}"
    logged = log_email(site, f"ria.{tag}@customer.test", logged_subject, html="<p>Notes</p>")
    prepare_tracked_email(site, site.tenant.admin_token, f"Pricing {tag}",
                          f"pat.{tag}@customer.test")
    sign_in(ui, site.tenant.admin_email)
    ui.goto("/emails")
    table = ui.page.get_by_role("table", name="Emails")
    row = table.get_by_role("row").filter(has_text=logged_subject)
    expect(row).to_have_count(1)
    expect(row.get_by_text("Logged", exact=True)).to_be_visible()
    expect(row.get_by_text("Tracked", exact=True)).to_have_count(0)
    # The tracked email (logged as well, R2) is listed once, beside it.
    expect(table.get_by_role("row").filter(has_text=f"Pricing {tag}")).to_have_count(1)
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
