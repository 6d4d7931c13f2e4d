"""Issue 15, item 12: the support console and the audit log in German, in real Chromium, at
1280 and 390 px, on the same data as ``test_support_console.py`` and ``test_audit_log.py``.

Support staff find an account and read it tab by tab (settings, emails and a diagnosis, the
top emails and one email, tracking domains, webhooks and their deliveries, users); an admin
reads the audit log, unfolds a visit and filters it by kind, person and dates. No English
sentence or label of the admin's or the server's catalogues may be left on these pages
(``browser/german.py``), and dates are written the German way. The customer's own data (the
emails' subjects, people's names and addresses) is left out of the check: it may be made of
English words of ours. The server's sentences (diagnosis findings, a domain's stored reason,
audit entries) are checked with the rest.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from browser.conftest import PHONE
from browser.german import assert_german, german_ui
from browser.harness import Site, Ui
from browser.test_audit_log import STAFF, Audited, _database, audited
from browser.test_support_console import (
    DOMAIN,
    HOOK_URL,
    STAFF_EMAIL,
    TRACKED,
    Helped,
    helped,
)
from playwright.sync_api import Locator, expect
from sqlalchemy import update
from support import PASSWORD, STAFF_PASSWORD, Tenant

from sendtrail.tenancy.store import UserRow

__all__ = ["audited", "german_ui", "helped"]  # fixtures (two shared with the English tests)

GERMAN_DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}")
USERS = UserRow.__table__  # type: ignore[attr-defined]


def _name_the_user_in_german(site: Site, tenant: Tenant) -> None:
    """The seeded user is "Uma User", whose surname is an English label of ours (the role):
    she is Uma Ullrich here, so that the check reads only the page's own words."""
    _database(site, lambda conn: conn.execute(update(USERS).where(
        USERS.c.id == uuid.UUID(tenant.user_id)).values(name="Uma Ullrich")))


def _assert_german_but_subjects(table: Locator) -> None:
    """``assert_german`` on an emails table but for the subjects, which are the customer's
    words and may be English words of ours ("Signed contract")."""
    for part in table.locator("th, td:not(:has(a)), td:has(a) > :not(a)").all():
        assert_german(part)


def _sign_in(ui: Ui, email: str, password: str) -> None:
    ui.goto("/sign-in")
    ui.page.get_by_label("E-Mail-Adresse").fill(email)
    ui.page.get_by_role("textbox", name="Passwort").fill(password)
    ui.page.get_by_role("button", name="Anmelden").click()


def _open_tab(ui: Ui, name: str) -> None:
    tab = ui.page.get_by_role("tab", name=name, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(ui.page.get_by_role("status")).to_have_count(0)  # loaded


def _phone(ui: Ui) -> bool:
    return ui.page.viewport_size == PHONE


def _listed(ui: Ui, name: str) -> Locator:
    """The table called ``name``, or on a phone the list of cards that stands for it."""
    return ui.page.get_by_role("list" if _phone(ui) else "table", name=name)


def test_support_staff_read_an_account_in_german(
    german_ui: Ui, site: Site, helped: Helped
) -> None:
    ui, page = german_ui, german_ui.page
    main = page.locator("main")
    _name_the_user_in_german(site, helped.tenant)
    _sign_in(ui, STAFF_EMAIL, STAFF_PASSWORD)
    expect(page.get_by_role("heading", name="Support-Konsole", level=1)).to_be_visible()
    expect(page.get_by_text("Leer lassen, um alle Konten aufzulisten.")).to_be_visible()
    assert_german(main)
    page.get_by_label("Kontoname oder Slug").fill(helped.tenant.slug)
    page.get_by_role("button", name="Suchen").click()
    found = page.get_by_role("table", name="Gefundene Konten")
    expect(found.get_by_role("columnheader", name="Konto")).to_be_visible()
    assert_german(main)
    found.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Helped Co"))
    expect(page.get_by_role("note")).to_contain_text("Protokollierter Zugriff")
    expect(main).to_contain_text("schreibgeschützt")
    expect(page.get_by_role("switch", name=re.compile("^Datenschutzmodus"))).to_be_disabled()
    assert_german(main)  # the tabs and the read-only settings
    ui.snap("support-settings")

    _open_tab(ui, "E-Mails & Diagnosen")
    emails = page.get_by_role("table", name="E-Mails dieses Kontos")
    tracked = emails.get_by_role("row").filter(has_text=TRACKED)
    if _phone(ui):  # the date and the flags join the subject's line
        expect(tracked).to_contain_text("verfolgt · protokolliert")
        expect(tracked).to_contain_text(GERMAN_DATE)
    else:
        expect(emails.get_by_role("columnheader", name="Betreff")).to_be_visible()
        expect(tracked.get_by_role("cell", name="Ja", exact=True)).to_have_count(2)
        expect(tracked).to_contain_text(GERMAN_DATE)
    assert_german(page.get_by_role("tablist"))
    _assert_german_but_subjects(emails)
    tracked.get_by_role("button", name=f"Diagnose {TRACKED}").click()
    diagnosis = emails.get_by_role("row").filter(
        has_text="Warum Öffnungen und Klicks erfasst wurden oder nicht")
    expect(diagnosis).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)
    expect(tracked.get_by_role("button", name=f"Diagnose {TRACKED}")).to_have_text(
        "Ausblenden")
    _assert_german_but_subjects(emails)
    ui.assert_fits()
    ui.snap("support-emails")

    _open_tab(ui, "Öffnungen & Klicks")
    top = page.get_by_role("region", name="Meistgelesene E-Mails")
    top.get_by_role("link", name=TRACKED).click()
    expect(page).to_have_url(
        f"{site.url}/support/{helped.tenant.account_id}/emails/{helped.tracked_id}")
    expect(page.get_by_role("heading", name=TRACKED, level=1)).to_be_visible()
    expect(page.get_by_role("note")).to_have_text(re.compile("^Protokollierter Zugriff"))
    expect(page.get_by_role("link", name="← Die E-Mails des Kontos")).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)  # the diagnosis has loaded
    assert_german(main)
    ui.snap("support-email")

    page.get_by_role("link", name="← Die E-Mails des Kontos").click()
    expect(page.get_by_role("tab", name="E-Mails & Diagnosen")).to_have_attribute(
        "aria-selected", "true")

    _open_tab(ui, "Domains")
    domain = page.get_by_role("article", name=DOMAIN)
    expect(domain).to_contain_text(re.compile(
        "Vertriebs- und Service-E-Mails · (für neue E-Mails in Gebrauch|nicht in Gebrauch)"))
    expect(domain).to_contain_text(re.compile(
        "Zuletzt geprüft .+ · DNS bestätigt .+ · Zertifikat läuft ab .+"))
    expect(domain.get_by_label("Status: Wartet auf DNS")).to_be_visible()
    expect(domain.get_by_role("list" if _phone(ui) else "table",
                               name=f"DNS-Einträge für {DOMAIN}")).to_be_visible()
    assert_german(page.get_by_role("tablist"))
    assert_german(main)
    ui.assert_fits()
    ui.snap("support-domains")

    _open_tab(ui, "Webhooks")
    endpoint = page.get_by_role("article", name=HOOK_URL)
    expect(endpoint.get_by_text("Aktiv", exact=True)).to_be_visible()
    expect(endpoint).to_contain_text(re.compile(r" · seit \d{2}\.\d{2}\.\d{4}"))
    deliveries = endpoint.get_by_role("list" if _phone(ui) else "table",
                                      name=f"Zustellungen an {HOOK_URL}")
    if _phone(ui):
        expect(deliveries.get_by_role("listitem")).to_have_count(1)  # the test event
        expect(deliveries).to_contain_text(re.compile(r" · \d+ Versuch"))
    else:
        expect(deliveries.get_by_role("row")).to_have_count(2)  # header + the test event
        for header in ("Ereignis", "Status", "Versuche", "Letzte Antwort"):
            expect(deliveries.get_by_role("columnheader", name=header)).to_be_visible()
    expect(deliveries.get_by_label("Status: Ausstehend")).to_be_visible()
    expect(page.get_by_text("whsec_")).to_have_count(0)  # secrets are never shown
    assert_german(main)
    ui.assert_fits()
    ui.snap("support-webhooks")

    _open_tab(ui, "Benutzer")
    users = _listed(ui, "Benutzer dieses Kontos")
    admin = users.get_by_role("listitem" if _phone(ui) else "row").filter(
        has_text=helped.tenant.admin_email)
    expect(admin.get_by_text("Aktiv", exact=True)).to_be_visible()
    if not _phone(ui):
        for header in ("Benutzer", "Zugang", "Seit"):
            expect(users.get_by_role("columnheader", name=header)).to_be_visible()
        expect(admin).to_contain_text(GERMAN_DATE)
    # The page's words: the tabs, the headers and each user's access (role, seat, state);
    # names and addresses are the account's data ("user@…").
    assert_german(page.get_by_role("tablist"))
    for part in users.locator("th, [data-key-column]").all():
        assert_german(part)
    ui.assert_fits()
    ui.snap("support-users")

    page.get_by_role("link", name="← Anderes Konto suchen").click()
    expect(page.get_by_role("heading", name="Support-Konsole", level=1)).to_be_visible()


def _entries(ui: Ui) -> Locator:
    return ui.page.get_by_role("list", name="Einträge des Prüfprotokolls").locator(
        "[data-audit-entry]")


def test_an_admin_reads_and_filters_the_audit_log_in_german(
    german_ui: Ui, site: Site, audited: Audited
) -> None:
    ui, page = german_ui, german_ui.page
    main = page.locator("main")
    _name_the_user_in_german(site, audited.tenant)
    _sign_in(ui, audited.tenant.admin_email, PASSWORD)
    expect(page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()
    ui.goto("/settings/audit")
    expect(page.get_by_role("heading", name="Prüfprotokoll", level=1)).to_be_visible()
    entries = _entries(ui)
    expect(entries.first).to_contain_text(GERMAN_DATE)
    assert_german(ui.page.locator("main"))
    ui.assert_fits()
    ui.snap("audit-log")

    # A visit's button says "Angesehenes anzeigen (4)", then "Angesehenes ausblenden".
    visits = entries.filter(has=page.get_by_role("button", name=re.compile(
        r"^Angesehenes (anzeigen \(4\)|ausblenden)$")))
    expect(visits).to_have_count(2)  # two visits, not eight rows
    visit = visits.first
    visit.get_by_role("button", name="Angesehenes anzeigen (4)").click()
    viewed = visit.get_by_role("list", name="Was angesehen wurde")
    expect(viewed.get_by_role("listitem")).to_have_count(4)
    expect(viewed.get_by_role("listitem").first).to_contain_text(re.compile(r"^\d{2}:\d{2} "))
    expect(visit).to_contain_text("4 Elemente angesehen:")
    expect(visit.get_by_role("button", name="Angesehenes ausblenden")).to_be_visible()
    assert_german(ui.page.locator("main"))
    assert_german(visit.get_by_text("4 Elemente angesehen:"))
    ui.assert_fits()
    ui.snap("visit-open")

    page.get_by_role("combobox", name="Was").click()
    kinds = page.get_by_role("listbox")
    assert_german(kinds)
    kinds.get_by_role("option", name="Support-Zugriffe").click()
    expect(entries).to_have_count(2)
    expect(page).to_have_url(f"{site.url}/settings/audit?kind=SUPPORT")
    page.get_by_role("combobox", name="Was").click()
    page.get_by_role("option", name="Einstellungen").click()
    expect(entries).to_have_count(1)

    page.get_by_role("combobox", name="Wer").click()
    page.get_by_role("option", name=re.compile(re.escape(STAFF))).click()
    expect(page.get_by_text("Keine passenden Einträge")).to_be_visible()
    assert_german(main)
    ui.snap("filtered-nothing")

    ui.goto("/settings/audit")
    expect(visits).to_have_count(2)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page.get_by_label("Von", exact=True).fill(tomorrow)
    expect(page.get_by_text("Keine passenden Einträge")).to_be_visible()
    page.get_by_label("Bis", exact=True).fill(date.today().isoformat())
    expect(page.get_by_text("Prüfen Sie die Daten")).to_be_visible()
    expect(entries).to_have_count(0)
    assert_german(main)
    page.get_by_label("Von", exact=True).fill(date.today().isoformat())
    expect(visits).to_have_count(2)


def test_a_user_is_told_in_german_that_the_log_is_for_admins(
    german_ui: Ui, audited: Audited
) -> None:
    ui, page = german_ui, german_ui.page
    _sign_in(ui, audited.tenant.user_email, PASSWORD)
    expect(page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()
    ui.goto("/settings/audit")
    expect(page.get_by_text("Nur Admins des Kontos können sein Prüfprotokoll lesen.")
           ).to_be_visible()
    expect(page.get_by_role("search")).to_have_count(0)
    assert_german(page.locator("main"))
