"""The web admin in real Chromium: signing in and out, the overview, and the account's
tracking and privacy settings (R9, R18) as an admin and as a user. Every test fails on
any console error or failed request (see conftest.py) and screenshots each page.
"""

from __future__ import annotations

import httpx
from browser.harness import Site, Ui, sign_in
from playwright.sync_api import expect
from support import PASSWORD


def test_wrong_password_says_so_and_the_right_one_lands_on_the_overview(
    ui: Ui, site: Site
) -> None:
    ui.expect_status("/auth/login", 401)
    ui.goto("/")
    expect(ui.page).to_have_url(f"{site.url}/sign-in")  # signed out: sent to sign in
    ui.snap("sign-in")
    ui.page.get_by_label("Email address").fill(site.tenant.admin_email)
    ui.page.get_by_role("textbox", name="Password").fill("not the password")
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.get_by_role("alert")).to_contain_text("Wrong email or password.")
    ui.snap("wrong-password")

    sign_in(ui, site.tenant.admin_email)
    expect(ui.page).to_have_url(f"{site.url}/")
    main = ui.page.get_by_role("main")
    expect(main).to_contain_text(f"Signed in as {site.tenant.admin_email} · {site.account_name}")
    expect(main.get_by_text("No opens or clicks in this period")).to_be_visible()  # empty state
    ui.snap("overview")


def test_an_emails_page_marks_emails_in_the_navigation_and_not_the_overview(
    ui: Ui, site: Site
) -> None:
    sign_in(ui, site.busy.admin_email)
    nav = ui.page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="Emails", exact=True).click()
    ui.page.get_by_role("main").get_by_role("link", name="Pricing for Q3").click()
    expect(ui.page.get_by_role("heading", name="Pricing for Q3", level=1)).to_be_visible()

    emails = nav.get_by_role("link", name="Emails", exact=True)
    expect(emails).to_have_attribute("data-active", "true")  # highlighted: its section
    expect(emails).not_to_have_attribute("aria-current", "page")  # but not this page itself
    expect(nav.get_by_role("link", name="Overview")).not_to_have_attribute("data-active", "true")
    ui.snap("email-page-navigation")


def test_too_many_failed_sign_ins_say_when_to_try_again(ui: Ui, site: Site) -> None:
    email = f"locked-out@{site.tenant.slug}.test"
    for _ in range(5):
        answer = httpx.post(f"{site.url}/auth/login", json={"email": email, "password": "x"})
        assert answer.status_code == 401
    ui.expect_status("/auth/login", 429)
    ui.goto("/sign-in")
    ui.page.get_by_label("Email address").fill(email)
    ui.page.get_by_role("textbox", name="Password").fill("still wrong")
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.get_by_role("alert")).to_contain_text(
        "Too many failed sign-ins. Try again in 15 minute(s)"
    )
    ui.snap("rate-limited")


def test_admin_turns_off_self_open_suppression_and_it_stays_off_after_reload(
    ui: Ui, site: Site
) -> None:
    sign_in(ui, site.tenant.admin_email)
    ui.page.get_by_role("link", name="Tracking & privacy").click()
    expect(ui.page.get_by_role("heading", name="Tracking & privacy")).to_be_visible()
    switch = ui.page.get_by_role("switch", name="Self-open suppression")
    expect(switch).to_be_checked()  # on by default (R9)
    expect(switch).to_be_enabled()
    # Each switch says what it does, in the words of its rule.
    expect(ui.page.get_by_text("never reported as an open or click")).to_be_visible()
    expect(ui.page.get_by_text("stop email tracking for every user")).to_be_visible()
    save = ui.page.get_by_role("button", name="Save changes")
    expect(save).to_be_disabled()
    ui.snap("settings")

    switch.press("Space")  # keyboard
    expect(switch).not_to_be_checked()
    expect(ui.page.get_by_text("1 unsaved change(s).")).to_be_visible()
    save.click()
    expect(ui.page.get_by_text("Settings saved")).to_be_visible()
    expect(save).to_be_disabled()
    ui.snap("saved")

    ui.page.reload()
    switch = ui.page.get_by_role("switch", name="Self-open suppression")
    expect(switch).not_to_be_checked()
    expect(ui.page.get_by_role("switch", name="Email tracking")).to_be_checked()

    switch.check()  # back to the default for the other tests
    ui.page.get_by_role("button", name="Save changes").click()
    expect(ui.page.get_by_text("Settings saved").first).to_be_visible()


def test_a_user_who_is_not_an_admin_sees_the_settings_read_only(ui: Ui, site: Site) -> None:
    sign_in(ui, site.tenant.user_email)
    expect(ui.page.get_by_role("main")).to_contain_text("Uma User")
    ui.goto("/settings/tracking")
    expect(ui.page.get_by_text("Only admins of")).to_be_visible()
    switches = ui.page.get_by_role("switch")
    expect(switches).to_have_count(8)
    for index in range(8):
        expect(switches.nth(index)).to_be_disabled()
    expect(ui.page.get_by_role("button", name="Save changes")).to_have_count(0)
    ui.snap("settings-read-only")


def test_sign_out_ends_the_session(ui: Ui, site: Site) -> None:
    sign_in(ui, site.tenant.admin_email)
    ui.page.get_by_role("button", name="Sign out").click()
    expect(ui.page.get_by_role("heading", name="Sign in to Sendtrail")).to_be_visible()
    ui.snap("signed-out")
    ui.goto("/settings/tracking")  # the cookie is gone: back to sign in, then onwards
    expect(ui.page).to_have_url(f"{site.url}/sign-in?next=%2Fsettings%2Ftracking")
    ui.page.get_by_label("Email address").fill(site.tenant.admin_email)
    ui.page.get_by_role("textbox", name="Password").fill(PASSWORD)
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.get_by_role("heading", name="Tracking & privacy")).to_be_visible()


def test_an_unknown_address_shows_page_not_found(ui: Ui, site: Site) -> None:
    sign_in(ui, site.tenant.admin_email)
    ui.goto("/no/such/page")
    expect(ui.page.get_by_role("heading", name="Page not found")).to_be_visible()
    ui.snap("not-found")
    ui.page.get_by_role("link", name="Go to the overview").click()
    expect(ui.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def test_every_page_fits_a_phone_screen(phone_ui: Ui, site: Site) -> None:
    ui = phone_ui
    ui.goto("/sign-in")
    expect(ui.page.get_by_role("heading", name="Sign in to Sendtrail")).to_be_visible()
    ui.assert_fits()
    ui.snap("sign-in")
    sign_in(ui, site.tenant.admin_email)
    ui.assert_fits()
    ui.snap("overview")
    ui.page.get_by_role("button", name="Open navigation").click()
    link = ui.page.get_by_role("link", name="Tracking & privacy")
    expect(link).to_be_visible()
    ui.snap("navigation")
    link.click()
    expect(ui.page.get_by_role("switch", name="Privacy mode")).to_be_visible()
    ui.assert_fits()
    ui.snap("settings")
