"""Issue 15, item 11: settings are never lost silently, and every account setting the API
offers is on the page (R16, R18, R26).

An admin changes a switch and the hit-detail retention (until now only in the API), then
leaves by a link and by Back: the page asks, Stay keeps the changes, Save stores them (the
API reads them back), Leave drops them. Outbound mail asks the same. A user who cannot
change anything is never asked. At 1280 and 390 px.
"""

from __future__ import annotations

from typing import Any

import httpx
from browser.conftest import PHONE, new_tenant
from browser.harness import Site, Ui, sign_in
from playwright.sync_api import Page, expect

SETTINGS = "{ account { settings { privacyMode hitDetailRetentionDays } } }"
RETENTION = "Forget addresses and user agents after (days)"


def _settings(site: Site, token: str) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"}, json={"query": SETTINGS})
    assert answer.status_code == 200, answer.text
    settings: dict[str, Any] = answer.json()["data"]["account"]["settings"]
    return settings


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name=name).click()


def _open_tracking(ui: Ui) -> None:
    ui.goto("/settings/tracking")
    expect(ui.page.get_by_role("heading", name="Tracking & privacy", level=1)).to_be_visible()


def test_unsaved_settings_are_kept_saved_or_dropped_never_lost_silently(
    ui: Ui, site: Site
) -> None:
    tenant = new_tenant(site, "Unsaved settings")
    page = ui.page
    sign_in(ui, tenant.admin_email)
    # Within the admin only (no page load), so that Back stays in the admin too: a page
    # load in between would be the browser's own "Leave site?" question instead.
    _nav(page, "Tracking & privacy")
    expect(page.get_by_role("heading", name="Tracking & privacy", level=1)).to_be_visible()
    retention = page.get_by_label(RETENTION)
    expect(retention).to_have_value("")  # kept until someone says otherwise
    retention.fill("30")
    page.get_by_role("switch", name="Privacy mode").click()
    expect(page.get_by_text("2 unsaved change(s).")).to_be_visible()

    _nav(page, "Contacts")  # a link: the page asks
    dialog = page.get_by_role("dialog", name="Leave without saving?")
    expect(dialog).to_contain_text("tracking and privacy settings are not saved yet")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Tracking & privacy", level=1)).to_be_visible()
    expect(retention).to_have_value("30")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("No unsaved changes.")).to_be_visible()
    assert _settings(site, tenant.admin_token) == {"privacyMode": True,
                                                   "hitDetailRetentionDays": 30}

    retention.fill("")  # back to "kept", then Back in the browser: asked again
    _nav(page, "Contacts")
    page.get_by_role("dialog", name="Leave without saving?").get_by_role(
        "button", name="Leave without saving").click()
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Tracking & privacy", level=1)).to_be_visible()
    expect(page.get_by_label(RETENTION)).to_have_value("30")  # the dropped change is gone
    assert _settings(site, tenant.admin_token)["hitDetailRetentionDays"] == 30

    page.get_by_label(RETENTION).fill("45")
    page.go_back()
    expect(page.get_by_role("dialog", name="Leave without saving?")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label(RETENTION)).to_have_value("45")
    page.get_by_role("button", name="Discard").click()
    _nav(page, "Outbound mail")  # nothing unsaved: no question
    expect(page.get_by_role("heading", name="Outbound mail", level=1)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.get_by_role("form", name="Outbound mail server").get_by_label("Host").fill(
        "smtp.unsaved.test")
    _nav(page, "Emails")
    dialog = page.get_by_role("dialog", name="Leave without saving?")
    expect(dialog).to_contain_text("outbound mail settings")
    dialog.get_by_role("button", name="Leave without saving").click()
    expect(page.get_by_role("heading", name="Emails", level=1)).to_be_visible()


def test_a_user_reads_the_retention_and_is_never_asked(ui: Ui, site: Site) -> None:
    ui.page.set_viewport_size(PHONE)
    sign_in(ui, site.tenant.user_email)
    _open_tracking(ui)
    retention = ui.page.get_by_label(RETENTION)
    expect(retention).to_be_visible()
    expect(retention).to_be_disabled()
    ui.assert_fits()
    ui.snap("settings-read-only-phone")
    ui.goto("/contacts")
    expect(ui.page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    expect(ui.page.get_by_role("dialog")).to_have_count(0)
