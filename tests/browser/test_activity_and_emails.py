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
from typing import Any

import httpx
from browser.conftest import PHONE
from browser.harness import Site, Ui, sign_in
from playwright.sync_api import expect

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"  # a security scanner: MACHINE
TOO_SOON = 2.3
"""Hits within 2 s of preparing are MACHINE: the person's hit waits longer."""
PREPARE = """mutation($i: PrepareEmailInput!) {
  prepareEmail(input: $i) { email { id } messages { html } } }"""

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


def _prepare(site: Site, subject: str, address: str) -> tuple[str, str]:
    """Prepare a tracked email from the tenant's admin; returns its id and pixel URL."""
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {site.tenant.admin_token}"},
                        json={"query": PREPARE, "variables": {"i": {
                            "subject": subject, "html": "<p>Hi Pat, see you soon.</p>",
                            "recipients": [{"address": address}]}}})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert not body.get("errors"), body
    prepared = body["data"]["prepareEmail"]
    match = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', prepared["messages"][0]["html"])
    assert match, prepared
    return prepared["email"]["id"], match.group(1)


def _hit(url: str, user_agent: str) -> None:
    """Load the pixel from 127.0.0.2: the browser signed the sender in from 127.0.0.1, and a
    hit from the sender's own address is theirs (SELF, R9)."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as client:
        answer = client.get(url, headers={"User-Agent": user_agent})
    assert answer.status_code == 200, (answer.status_code, answer.text[:200])


def _fits(ui: Ui) -> None:
    overflow = ui.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"


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
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
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
    email_id, pixel = _prepare(site, subject, address)
    time.sleep(TOO_SOON)
    _hit(pixel, CHROME)  # a person: arrives over the socket, no reload
    row = page.get_by_test_id("activity-row").filter(has_text=address)
    expect(row).to_contain_text(f"{address} opened")
    expect(row).to_contain_text(subject)
    expect(row.get_by_text("New")).to_be_visible()
    page.wait_for_function("window.__desktopNotifications.length === 1")
    shown = page.evaluate("window.__desktopNotifications")
    assert shown[0]["title"] == "Email opened", shown
    assert subject in shown[0]["body"], shown
    ui.snap("activity-live")

    _hit(pixel, SCANNER)  # a machine: stored with reasons, never notified (R10)
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
    ui.snap("emails")

    page.set_viewport_size(PHONE)
    for path, heading in (("/activity", "Activity"), ("/emails", "Emails"),
                          (f"/emails/{email_id}", subject)):
        ui.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text(address if path != "/emails" else subject)
        _fits(ui)
        if path == f"/emails/{email_id}":  # cards rather than a table on a phone
            hits = page.get_by_role("list", name="Opens and clicks")
            expect(hits.locator("li[data-verdict=MACHINE]")).to_contain_text("MACHINE")
            expect(hits.locator("li[data-verdict=HUMAN]")).to_contain_text("HUMAN")
        ui.snap(path.strip("/").split("/")[0] + ("-page" if path.count("/") > 1 else ""))
