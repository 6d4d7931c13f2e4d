"""The admin's settings pages in real Chromium: users and seats (R19), API tokens and
custom tracking domains (R21), and the support console (R25). Every test fails on any
console error or failed request (see conftest.py) and screenshots each page at 1280 px, and
at 390 px where it says so.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
from browser.conftest import DESKTOP, PHONE
from browser.harness import Site, Ui, sign_in
from playwright.sync_api import expect
from support import STAFF_PASSWORD, grant_support_staff, set_seats_purchased

STAFF_EMAIL = "console@support.sendtrail.test"
AUDIT_LOG = ("{ auditLog(first: 50) { edges { node { actor action target "
             "reads { action target } } } } }")


def _buy_seats(site: Site, seat: str, quantity: int) -> None:
    set_seats_purchased(site.server.env["SENDTRAIL_DATABASE_URL"], site.tenant.account_id,
                        seat, quantity)


def test_admin_invites_a_paid_seat_user_and_sees_the_refusal_when_none_are_left(
    ui: Ui, site: Site
) -> None:
    ui.expect_graphql_error("ENTITLEMENT_REQUIRED")  # the refusal this test asks for
    _buy_seats(site, "sales_starter", 1)  # R19
    sign_in(ui, site.tenant.admin_email)
    ui.page.get_by_role("link", name="Users & seats").click()
    expect(ui.page.get_by_role("heading", name="Users & seats", level=1)).to_be_visible()
    usage = ui.page.get_by_role("table", name="Seat usage")
    starter = usage.get_by_role("row").filter(has_text="Sales Starter")
    expect(starter).to_have_text(re.compile(r"Sales Starter\s*0\s*1\s*1"))  # in use, bought, left
    ui.snap("users")

    invite = ui.page.get_by_role("form", name="Invite a user")
    invite.get_by_label("Email address").fill(f"sam@{site.tenant.slug}.test")
    invite.get_by_label("Name").fill("Sam Seller")
    invite.get_by_label("Seat").select_option(label="Sales Starter")
    invite.get_by_role("button", name="Invite").click()
    users = ui.page.get_by_role("table", name="Users")
    sam = users.get_by_role("row").filter(has_text=f"sam@{site.tenant.slug}.test")
    expect(sam).to_contain_text("Sam Seller")
    expect(sam.get_by_label(f"Seat of sam@{site.tenant.slug}.test")).to_have_value("SALES_STARTER")
    expect(starter).to_have_text(re.compile(r"Sales Starter\s*1\s*1\s*0"))

    # The last paid seat is taken: giving one to Uma is refused, in the server's words.
    uma_seat = ui.page.get_by_label(f"Seat of {site.tenant.user_email}")
    uma_seat.select_option("SALES_STARTER")
    refusal = ui.page.get_by_text("All 1 Sales Starter seat(s) of this account are in use")
    expect(refusal).to_be_visible()
    expect(uma_seat).to_have_value("FREE")
    expect(uma_seat).to_have_attribute("aria-invalid", "true")
    ui.snap("seat-refused")

    # Sam is invited, not active (issue 15, defect 3): revoking the invitation, once
    # confirmed, frees the seat; Uma can have it now.
    expect(sam).to_contain_text("Invited")
    revoke = f"Revoke the invitation of sam@{site.tenant.slug}.test"
    sam.get_by_role("button", name=revoke).click()
    dialog = ui.page.get_by_role("dialog", name=f"{revoke}?")
    dialog.get_by_role("button", name="Revoke invitation").click()
    expect(sam).to_contain_text("Invitation revoked")
    expect(starter).to_have_text(re.compile(r"Sales Starter\s*0\s*1\s*1"))
    uma_seat.select_option("SALES_STARTER")
    expect(starter).to_have_text(re.compile(r"Sales Starter\s*1\s*1\s*0"))
    expect(ui.page.get_by_text("seat(s) of this account are in use")).to_have_count(0)


def test_admin_creates_a_token_sees_its_secret_once_and_revokes_it(ui: Ui, site: Site) -> None:
    ui.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(ui, site.tenant.admin_email)
    ui.page.get_by_role("link", name="API tokens").click()
    expect(ui.page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()

    form = ui.page.get_by_role("form", name="Create a token")
    form.get_by_label("Token name").fill("CRM sync")
    form.get_by_role("checkbox", name="Write").check()
    form.get_by_label("Expires").select_option(label="In 30 days")
    form.get_by_role("button", name="Create token").click()
    notice = ui.page.get_by_role("status").filter(has_text='Copy the token "CRM sync" now')
    expect(notice).to_contain_text("can't be shown again")
    secret = notice.get_by_label("New token").inner_text().strip()
    assert secret.startswith("st_"), secret
    notice.get_by_role("button", name="Copy token").click()
    expect(notice.get_by_role("button", name="Copied")).to_be_visible()
    assert ui.page.evaluate("navigator.clipboard.readText()") == secret
    row = ui.page.get_by_role("table", name="Tokens").get_by_role("row").filter(has_text="CRM sync")
    expect(row).to_contain_text("Read, Write")
    ui.snap("token-created")

    notice.get_by_role("button", name="I've stored it").click()
    expect(ui.page.get_by_text(secret)).to_have_count(0)  # shown once only
    row.get_by_role("button", name="Revoke CRM sync").click()
    dialog = ui.page.get_by_role("dialog", name="Revoke this token?")
    expect(dialog).to_contain_text("stops working at once")
    ui.snap("revoke-confirm")
    dialog.get_by_role("button", name="Revoke token").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Revoked")


def test_admin_adds_a_tracking_domain_and_sees_the_dns_records_to_create(
    ui: Ui, site: Site
) -> None:
    sign_in(ui, site.tenant.admin_email)
    ui.page.get_by_role("link", name="Tracking domains").click()
    expect(ui.page.get_by_role("heading", name="Tracking domains", level=1)).to_be_visible()
    expect(ui.page.get_by_text("No custom tracking domains")).to_be_visible()

    hostname = f"track.{site.tenant.slug}.example.com"
    form = ui.page.get_by_role("form", name="Add a tracking domain")
    form.get_by_label("Hostname").fill(hostname)
    form.get_by_role("button", name="Add domain").click()
    card = ui.page.get_by_role("article", name=hostname)
    expect(card.get_by_label("Status: Waiting for DNS")).to_be_visible()  # R21
    records = card.get_by_role("table", name=f"DNS records for {hostname}")
    cname = records.get_by_role("row").filter(has_text="CNAME")
    expect(cname).to_contain_text(hostname)
    expect(cname.get_by_role("button", name="Copy CNAME record value")).to_be_visible()
    ui.snap("domain-added")
    card.get_by_role("button", name=f"Verify {hostname} now").click()
    expect(card.get_by_text("Last checked: —")).to_have_count(0)  # checked now, on loopback DNS
    why = card.get_by_role("alert").filter(has_text="Why it isn't active")
    expect(why).to_contain_text("instead of a CNAME record")  # what DNS has, in words (R21)
    expect(why).to_contain_text("No TXT record named _sendtrail-verify")
    ui.snap("domain-not-verified")
    ui.page.set_viewport_size(PHONE)
    # A card per record on a phone: the value to copy stays on screen (issue 15, item 9).
    cards = card.get_by_role("list", name=f"DNS records for {hostname}")
    cname_card = cards.get_by_role("listitem").filter(has_text="CNAME record")
    ui.assert_on_screen(cname_card.get_by_role("button", name="Copy CNAME record value"))
    expect(cname_card).to_contain_text(hostname)
    ui.assert_fits()
    ui.snap("domain-phone")
    ui.page.set_viewport_size(DESKTOP)

    card.get_by_role("button", name=f"Remove {hostname}").click()
    dialog = ui.page.get_by_role("dialog", name="Remove this tracking domain?")
    dialog.get_by_role("button", name="Remove domain").click()
    expect(card).to_have_count(0)
    expect(ui.page.get_by_text("No custom tracking domains")).to_be_visible()


def test_settings_pages_fit_a_phone(phone_ui: Ui, site: Site) -> None:
    sign_in(phone_ui, site.tenant.admin_email)
    for path, heading in (("/settings/users", "Users & seats"), ("/settings/tokens", "API tokens"),
                          ("/settings/domains", "Tracking domains")):
        phone_ui.goto(path)
        expect(phone_ui.page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(phone_ui.page.get_by_role("status")).to_have_count(0)  # loaded
        phone_ui.assert_fits()
        phone_ui.snap(path.rsplit("/", 1)[-1])
        if path == "/settings/users":
            _user_cards_keep_access_on_screen(phone_ui, site)
        if path == "/settings/tokens":
            _token_cards_keep_the_revoke_button_on_screen(phone_ui)


def _user_cards_keep_access_on_screen(ui: Ui, site: Site) -> None:
    """At 390 px a user's status and access (the key column, issue 15 item 9) are on screen,
    and their role and seat can still be changed."""
    users = ui.page.get_by_role("list", name="Users")
    uma = users.get_by_role("listitem").filter(has_text=site.tenant.user_email)
    ui.assert_on_screen(uma.get_by_text("Active", exact=True))
    ui.assert_on_screen(uma.get_by_role("button", name=f"Deactivate {site.tenant.user_email}"))
    ui.assert_on_screen(uma.get_by_label(f"Role of {site.tenant.user_email}"))
    ui.assert_on_screen(uma.get_by_label(f"Seat of {site.tenant.user_email}"))
    ui.assert_on_screen(ui.page.get_by_role("table", name="Seat usage")
                        .get_by_role("row").filter(has_text="Sales Starter")
                        .locator("[data-key-column]"))  # seats left
    uma.get_by_role("button", name=f"Deactivate {site.tenant.user_email}").click()
    dialog = ui.page.get_by_role("dialog", name=f"Deactivate {site.tenant.user_email}?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)


def _token_cards_keep_the_revoke_button_on_screen(ui: Ui) -> None:
    tokens = ui.page.get_by_role("list", name="Tokens")
    # The admin's token, made with the account (other tests add tokens of their own).
    token = tokens.get_by_role("listitem").filter(
        has=ui.page.get_by_role("button", name="Revoke test")).filter(has_text="Admin")
    expect(token).to_contain_text("Read")  # its scopes
    ui.assert_on_screen(token.get_by_role("button", name="Revoke test"))


def test_support_staff_land_on_the_console_and_read_an_account_which_audits_it(
    ui: Ui, site: Site
) -> None:
    # Playwright's loop owns this thread: seed from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(grant_support_staff, site.server.env["SENDTRAIL_DATABASE_URL"],
                    STAFF_EMAIL).result()
    busy_name = site.busy.slug.replace("-", " ")
    ui.goto("/emails")  # a page of an account: signed out, so sent to sign in first
    expect(ui.page).to_have_url(f"{site.url}/sign-in?next=%2Femails")
    ui.page.get_by_label("Email address").fill(STAFF_EMAIL)
    ui.page.get_by_role("textbox", name="Password").fill(STAFF_PASSWORD)
    ui.page.get_by_role("button", name="Sign in").click()
    # Staff read no account until they choose one: they land on the console, not the overview.
    expect(ui.page).to_have_url(f"{site.url}/support")
    expect(ui.page.get_by_role("heading", name="Support console", level=1)).to_be_visible()
    console = ui.page.get_by_role("navigation").get_by_role("link", name="Support console")
    expect(console).to_have_attribute("aria-current", "page")
    ui.page.get_by_label("Account name or slug").fill(site.busy.slug)
    ui.page.keyboard.press("Enter")
    found = ui.page.get_by_role("table", name="Accounts found")
    expect(found.get_by_role("row")).to_have_count(2)  # header + the one account
    ui.snap("support-find")
    found.get_by_role("link").click()

    expect(ui.page.get_by_text("Your access to this account is recorded in its audit log")
           ).to_be_visible()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text(re.compile(busy_name, re.I))
    expect(console).to_have_attribute("data-active", "true")  # an account's page is in the console
    expect(console).not_to_have_attribute("aria-current", "page")
    switch = ui.page.get_by_role("switch", name="Self-open suppression")
    expect(switch).to_be_checked()
    expect(switch).to_be_disabled()  # read-only
    expect(ui.page.get_by_role("button", name="Save changes")).to_have_count(0)
    ui.snap("support-settings")

    ui.page.get_by_role("tab", name="Emails & diagnoses").click()
    emails = ui.page.get_by_role("table", name="Emails of this account")
    expect(emails).to_contain_text("Pricing for Q3")
    emails.get_by_role("button", name="Diagnose Pricing for Q3").click()
    findings = emails.get_by_role("list", name="Findings").get_by_role("listitem")
    expect(findings.first).to_be_visible()
    ui.snap("support-diagnosis")
    ui.page.get_by_role("tab", name="Opens & clicks").click()  # the account's, not staff's
    expect(ui.page.get_by_text(f"emails sent by everyone at {busy_name}").first).to_be_visible()
    expect(ui.page.get_by_role("group", name="Human opens", exact=True)
           .locator("[data-stat-value]")).to_have_text("0")
    expect(ui.page.get_by_role("radio", name="My emails")).to_have_count(0)
    ui.snap("support-report")
    ui.page.set_viewport_size(PHONE)
    ui.snap("support-report")

    log = httpx.post(f"{site.url}/graphql", timeout=30,
                     headers={"Authorization": f"Bearer {site.busy.admin_token}"},
                     json={"query": AUDIT_LOG})
    # A visit is one entry with its reads (issue 15, defect 5).
    entries = [read for edge in log.json()["data"]["auditLog"]["edges"]
               if edge["node"]["actor"] == f"support:{STAFF_EMAIL}"
               for read in edge["node"]["reads"]]
    actions = {entry["action"] for entry in entries}
    assert actions == {"support.search", "support.read"}, entries
    targets = " ".join(entry["target"] or "" for entry in entries)
    assert "TrackingSettings" in targets
    assert "SupportDiagnoseEmail" in targets
    assert "EngagementReport" in targets
