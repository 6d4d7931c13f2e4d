"""The activity feed and the email pages in real Chromium (R4, R8-R10, R15, R22, R25): a
tracked email prepared over the API, its pixel loaded by a person, shows up in the open
feed without a reload (and as a desktop notification); a scanner's hit on the same pixel
is listed on the email's page as MACHINE, next to the person's HUMAN open, each with its
reasons, under the diagnosis in plain sentences.
"""

from __future__ import annotations

import re
import time
import uuid

from browser.conftest import PHONE
from browser.harness import (
    CHROME,
    SCANNER,
    TOO_SOON,
    Site,
    Ui,
    load_pixel,
    prepare_tracked_email,
    sign_in,
    wait_until_derived,
)
from playwright.sync_api import expect

# Counts the page's desktop notifications; reports "default" permission until the page asks
# (the context grants it), so that the "Enable desktop notifications" button is exercised.
WRAP_NOTIFICATION = """
(() => {
  const Native = window.Notification;
  if (!Native) return;
  let asked = false;
  window.__desktopNotifications = [];
  function Counted(title, options) {
    window.__desktopNotifications.push({ title, body: options && options.body });
    return new Native(title, options);
  }
  Counted.prototype = Native.prototype;
  Object.defineProperty(Counted, "permission", {
    get: () => (asked ? Native.permission : "default"),
  });
  Counted.requestPermission = async () => {
    asked = true;
    return Native.requestPermission();
  };
  window.Notification = Counted;
})();
"""


def test_a_person_opening_shows_live_and_the_email_page_explains_every_hit(
    ui: Ui, site: Site
) -> None:
    page = ui.page
    page.context.grant_permissions(["notifications"], origin=site.url)
    page.add_init_script(WRAP_NOTIFICATION)
    sign_in(ui, site.tenant.admin_email)
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    expect(page.get_by_text("No activity yet")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^Live"))).to_be_visible()
    page.get_by_role("button", name="Enable desktop notifications").click()
    expect(page.get_by_text("Desktop notifications are on")).to_be_visible()
    opens_only = page.get_by_role("radio", name="Opens only")
    opens_only.focus()
    page.keyboard.press("Space")  # keyboard: opens still notify
    expect(page.get_by_text("Your notification choice is saved.")).to_be_visible()
    expect(opens_only).to_be_checked()
    ui.snap("activity-empty")

    address = f"pat.{uuid.uuid4().hex[:6]}@customer.test"
    subject = f"Proposal {uuid.uuid4().hex[:6]}"
    email_id, pixel, _ = prepare_tracked_email(site, site.tenant.admin_token, subject, address)
    time.sleep(TOO_SOON)
    load_pixel(pixel, CHROME)  # a person: arrives over the socket, no reload
    row = page.get_by_test_id("activity-row").filter(has_text=address)
    expect(row).to_contain_text(f"{address} opened")
    expect(row).to_contain_text(subject)
    expect(row.get_by_text("New")).to_be_visible()
    assert ui.wait_until("window.__desktopNotifications.length === 1")
    shown = page.evaluate("window.__desktopNotifications")
    assert shown[0]["title"] == "Email opened", shown
    assert subject in shown[0]["body"], shown
    ui.snap("activity-live")

    load_pixel(pixel, SCANNER)  # a machine: stored with reasons, never notified (R10)
    wait_until_derived(site, site.tenant.admin_token, email_id, ["HUMAN", "MACHINE"])
    row.get_by_role("link", name=subject).click()
    expect(page).to_have_url(f"{site.url}/emails/{email_id}")
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    expect(page.get_by_text("Tracked", exact=True)).to_be_visible()
    hits = page.get_by_role("table", name="Opens and clicks")
    human = hits.locator("tr[data-verdict=HUMAN]")
    machine = hits.locator("tr[data-verdict=MACHINE]")
    expect(human).to_have_count(1)
    expect(machine).to_have_count(1)
    expect(human).to_contain_text("HUMAN")
    expect(human).to_contain_text(address)
    expect(machine).to_contain_text("MACHINE")
    expect(machine).to_contain_text("Not counted in reports")
    expect(machine.get_by_role("listitem").first).to_be_visible()  # the verdict's reasons
    expect(page.get_by_text("1 open, 0 clicks.")).to_be_visible()
    findings = page.get_by_role("list", name="Findings")
    expect(findings.get_by_role("listitem").first).to_be_visible()
    assert page.evaluate("window.__desktopNotifications.length") == 1  # not for the scanner
    ui.snap("email")

    page.get_by_role("link", name="Emails", exact=True).click()
    table = page.get_by_role("table", name="Emails")
    expect(table.get_by_role("row")).to_have_count(2)  # header + the one email
    expect(table).to_contain_text(subject)
    page.get_by_role("combobox", name="Kind").click()
    page.get_by_role("option", name="Marketing").click()
    expect(page.get_by_text("No emails match")).to_be_visible()
    ui.snap("emails-filtered")
    page.get_by_role("combobox", name="Kind").click()
    page.get_by_role("option", name="Sales").click()
    expect(table).to_contain_text(subject)
    search = page.get_by_role("searchbox", name="Search emails")
    search.fill(address.split("@", maxsplit=1)[0].upper())  # part of the recipient, any case
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=PAT\."))
    expect(table.get_by_role("row")).to_have_count(2)
    search.fill("no such subject")
    search.press("Enter")
    expect(page.get_by_text("No emails match")).to_be_visible()
    search.fill("")
    search.press("Enter")
    expect(table).to_contain_text(subject)
    ui.snap("emails")
    load_pixel(pixel, CHROME)  # read again while the sender is on another page (R22)
    assert ui.wait_until("window.__desktopNotifications.length === 2"), page.evaluate(
        "window.__desktopNotifications")

    page.set_viewport_size(PHONE)
    for path, heading in (("/activity", "Activity"), ("/emails", "Emails"),
                          (f"/emails/{email_id}", subject)):
        ui.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text(address if path != "/emails" else subject)
        ui.assert_fits()
        if path == f"/emails/{email_id}":  # cards rather than a table on a phone
            # Read twice within a minute from one network: explained, not alarming (R8).
            expect(page.get_by_text("Opened 2 times", exact=False)).to_be_visible()
            expect(page.get_by_text("usually a preview pane", exact=False)).to_be_visible()
            hits = page.get_by_role("list", name="Opens and clicks")
            expect(hits.locator("li[data-verdict=MACHINE]")).to_contain_text("MACHINE")
            expect(hits.locator("li[data-verdict=HUMAN]")).to_have_count(2)  # read twice
        ui.snap(path.strip("/").split("/")[0] + ("-page" if path.count("/") > 1 else ""))


def test_a_shared_pixel_is_someone_and_the_diagnosis_says_why(ui: Ui, site: Site) -> None:
    subject = f"Team intro {uuid.uuid4().hex[:6]}"
    email_id, pixel, _ = prepare_tracked_email(site, site.tenant.admin_token, subject,
                                            "ann@customer.test", also=("ben@customer.test",))
    time.sleep(TOO_SOON)
    load_pixel(pixel, CHROME)  # one message to two people: either of them (R15)
    sign_in(ui, site.tenant.admin_email)
    ui.goto(f"/emails/{email_id}")
    expect(ui.page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    hits = ui.page.get_by_role("table", name="Opens and clicks")
    expect(hits.locator("tr[data-verdict=HUMAN]")).to_contain_text("Someone")
    findings = ui.page.get_by_role("list", name="Findings")
    expect(findings).to_contain_text("shared pixel")  # R25, in words
    expect(findings).to_contain_text("Free seat")  # the admin's seat: opens only (R12)
    ui.snap("someone")
