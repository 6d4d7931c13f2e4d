"""Issue 15, item 12: the settings for tracking domains, webhooks and outbound mail in German,
in real Chromium at 1280 and 390 px, with real data as the English tests make it.

A German admin adds a tracking domain (its DNS records, as a table and as phone cards) and
has it checked, adds a webhook endpoint and sends it a test event (a delivery and its
attempts), and saves an outbound server and a DKIM key. Each page, and each dialog it opens
(edit, delete, remove, leave without saving), is checked against the English catalogues
(``browser/german.py``): no English sentence may be left.
"""

from __future__ import annotations

import re

from browser import german
from browser.conftest import PHONE, new_tenant
from browser.german import assert_german
from browser.harness import Site, Ui
from playwright.sync_api import Page, expect
from support import PASSWORD, Tenant

german_ui = german.german_ui  # the fixture: the admin in a German Chromium, 1280 and 390 px

URL = "https://1.1.1.1/hooks/crm"  # an IP literal: saved without DNS, and never called here


def _german_admin(ui: Ui, site: Site, name: str) -> Tenant:
    """A new account's admin, signed in to the German admin."""
    tenant = new_tenant(site, name)
    ui.goto("/sign-in")
    ui.page.get_by_label("E-Mail-Adresse").fill(tenant.admin_email)
    ui.page.get_by_label("Passwort").fill(PASSWORD)
    ui.page.get_by_role("button", name="Anmelden").click()
    expect(ui.page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()
    return tenant


def _nav(page: Page, name: str) -> None:
    """Within the admin (no page load), as a person goes from page to page."""
    if page.viewport_size == PHONE:
        page.get_by_role("button", name="Navigation öffnen").click()
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name=name).click()


def _phone(page: Page) -> bool:
    return bool(page.viewport_size == PHONE)


def test_a_german_admin_adds_a_tracking_domain(german_ui: Ui, site: Site) -> None:
    ui, page = german_ui, german_ui.page
    tenant = _german_admin(ui, site, "Domains de")
    _nav(page, "Tracking-Domains")
    expect(page.get_by_role("heading", name="Tracking-Domains", level=1)).to_be_visible()
    expect(page.get_by_text("Keine eigenen Tracking-Domains")).to_be_visible()
    assert_german(page.locator("main"))

    hostname = f"track.{tenant.slug}.example.com"
    form = page.get_by_role("form", name="Tracking-Domain hinzufügen")
    form.get_by_label("Verwendet für").select_option("MARKETING")
    expect(form.get_by_label("Geschäftsbereich")).to_be_visible()
    assert_german(form)
    form.get_by_label("Verwendet für").select_option("SALES")
    form.get_by_label("Hostname").fill(hostname)
    form.get_by_role("button", name="Domain hinzufügen").click()
    card = page.get_by_role("article", name=hostname)
    expect(card.get_by_label("Status: Wartet auf DNS")).to_be_visible()
    expect(card).to_contain_text("Vertriebs- und Service-E-Mails")
    card.get_by_role("button", name=f"{hostname} jetzt prüfen").click()
    expect(card.get_by_text("Zuletzt geprüft: —")).to_have_count(0)  # checked, on loopback DNS
    expect(card.get_by_role("alert").filter(has_text="Warum sie nicht aktiv ist")).to_be_visible()
    if _phone(page):  # a card per record: the value to copy stays on screen (item 9)
        records = card.get_by_role("list", name=f"DNS-Einträge für {hostname}")
        cname = records.get_by_role("listitem").filter(has_text="CNAME-Eintrag")
        ui.assert_on_screen(cname.get_by_role("button", name="Wert des CNAME-Eintrags kopieren"))
        ui.assert_fits()
    else:
        records = card.get_by_role("table", name=f"DNS-Einträge für {hostname}")
        expect(records.get_by_role("columnheader", name="Wert")).to_be_visible()
        cname = records.get_by_role("row").filter(has_text="CNAME")
        expect(cname.get_by_role("button", name="Wert des CNAME-Eintrags kopieren")).to_be_visible()
    expect(cname).to_contain_text(hostname)
    assert_german(page.locator("main"))  # the server's DNS findings included
    ui.snap("domain-german")

    card.get_by_role("button", name=f"{hostname} entfernen").click()
    dialog = page.get_by_role("dialog", name="Diese Tracking-Domain entfernen?")
    expect(dialog).to_contain_text(f"Neue E-Mails verwenden {hostname} nicht mehr")
    assert_german(dialog)
    dialog.get_by_role("button", name="Domain entfernen").click()
    expect(card).to_have_count(0)
    expect(page.get_by_text("Keine eigenen Tracking-Domains")).to_be_visible()


def test_a_german_admin_adds_a_webhook_endpoint_and_reads_its_delivery(
    german_ui: Ui, site: Site
) -> None:
    ui, page = german_ui, german_ui.page
    _german_admin(ui, site, "Webhooks de")
    _nav(page, "Webhooks")
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_text("Noch keine Webhook-Endpunkte")).to_be_visible()
    assert_german(page.locator("main"))

    form = page.get_by_role("form", name="Endpunkt hinzufügen")
    form.get_by_label("Endpunkt-URL").fill(URL)
    form.get_by_label("Beschreibung").fill("CRM")
    form.get_by_role("checkbox", name=re.compile(r"^Beantwortet")).uncheck()
    form.get_by_role("button", name="Endpunkt hinzufügen").click()
    notice = page.get_by_role("status").filter(
        has_text=f"Kopieren Sie jetzt den Signaturschlüssel für {URL}")
    expect(notice.get_by_label("Signaturschlüssel")).to_contain_text("whsec_")
    assert_german(notice)

    card = page.get_by_role("article", name=URL)
    expect(card).to_contain_text("Geöffnet, Geklickt, Neu eingestuft, nur menschliche Aktivität")
    expect(card).to_contain_text("1 Signaturschlüssel")
    expect(card.get_by_role("switch", name=f"Aktiv: {URL}")).to_be_checked()
    card.get_by_role("button", name="Testereignis senden").click()
    deliveries = (card.get_by_role("list", name=f"Zustellungen an {URL}") if _phone(page)
                  else card.get_by_role("table", name=f"Zustellungen an {URL}"))
    delivery = deliveries.get_by_role("listitem" if _phone(page) else "row").filter(
        has_text="msg_")
    expect(delivery).to_have_count(1)
    expect(delivery.get_by_label("Status: Ausstehend")).to_be_visible()
    expect(delivery).to_contain_text("Test")
    delivery.get_by_role("button", name=re.compile(r"^Versuche von msg_\S+ anzeigen$")).click()
    expect(card).to_contain_text("Noch nicht versucht.")
    if _phone(page):
        expect(delivery).to_contain_text("0 Versuche")
        ui.assert_on_screen(delivery.get_by_label("Status: Ausstehend"))
        ui.assert_fits()
    assert_german(page.locator("main"))
    ui.snap("webhook-german")

    card.get_by_role("button", name=f"{URL} bearbeiten").click()
    dialog = page.get_by_role("dialog", name="Endpunkt bearbeiten")
    expect(dialog.get_by_label("Endpunkt-URL")).to_have_value(URL)
    dialog.get_by_role("checkbox", name=re.compile(r"^Geöffnet")).uncheck()
    dialog.get_by_role("checkbox", name=re.compile(r"^Geklickt")).uncheck()
    dialog.get_by_role("checkbox", name=re.compile(r"^Neu eingestuft")).uncheck()
    dialog.get_by_role("button", name="Änderungen speichern").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Wählen Sie mindestens einen Ereignistyp.")
    assert_german(dialog)
    dialog.get_by_role("button", name="Abbrechen").click()
    expect(dialog).to_be_hidden()

    card.get_by_role("button", name=f"{URL} löschen").click()
    dialog = page.get_by_role("dialog", name="Diesen Endpunkt löschen?")
    expect(dialog).to_contain_text("Das lässt sich nicht rückgängig machen.")
    assert_german(dialog)
    dialog.get_by_role("button", name="Endpunkt löschen").click()
    expect(card).to_have_count(0)
    expect(page.get_by_text("Noch keine Webhook-Endpunkte")).to_be_visible()


def test_a_german_admin_saves_an_outbound_server_and_a_dkim_key(
    german_ui: Ui, site: Site
) -> None:
    ui, page = german_ui, german_ui.page
    _german_admin(ui, site, "Outbound de")
    _nav(page, "Ausgangsserver")
    expect(page.get_by_role("heading", name="Ausgangsserver", level=1)).to_be_visible()
    expect(page.get_by_text("Nicht eingerichtet")).to_be_visible()
    assert_german(page.locator("main"))

    form = page.get_by_role("form", name="Ausgangsserver")
    form.get_by_label("Host").fill("1.1.1.1")
    security = form.get_by_label("Sicherheit", exact=True)
    expect(security.locator("option", has_text="TLS von Anfang an (meist Port 465)")).to_have_count(
        1)
    security.select_option("STARTTLS")
    expect(form.get_by_label("Port")).to_have_value("587")
    form.get_by_label("Benutzername", exact=True).fill("alice")
    form.get_by_label("Passwort", exact=True).fill("secret")
    form.get_by_role("switch", name="Eine Kopie per IMAP in einem Gesendet-Ordner ablegen").click()
    expect(form.get_by_label("IMAP-Host")).to_be_visible()
    assert_german(form)

    _nav(page, "Übersicht")  # unsaved: the page asks, in German
    dialog = page.get_by_role("dialog", name="Ohne Speichern verlassen?")
    expect(dialog).to_contain_text("den Einstellungen des Ausgangsservers")
    assert_german(dialog)
    dialog.get_by_role("button", name="Abbrechen").click()
    if _phone(page):  # the navigation stayed open: it closes on leaving only
        page.get_by_role("button", name="Navigation schließen").click()
    form.get_by_role("switch", name="Eine Kopie per IMAP in einem Gesendet-Ordner ablegen").click()
    form.get_by_role("button", name="Server speichern").click()
    expect(page.get_by_text("Eingerichtet", exact=True)).to_be_visible()
    expect(form.get_by_label("Passwort: gesetzt")).to_be_visible()  # write-only (R26)
    expect(form.get_by_role("button", name="Passwort ersetzen")).to_be_visible()
    expect(page.get_by_role("button", name="Verbindung testen")).to_be_visible()

    keys = page.get_by_role("region", name="DKIM-Schlüssel")
    expect(keys.get_by_text("Keine DKIM-Schlüssel")).to_be_visible()
    add = keys.get_by_role("form", name="DKIM-Schlüssel hinzufügen")
    add.get_by_label("Absenderdomain").fill("example.com")
    add.get_by_role("button", name="DKIM-Schlüssel hinzufügen").click()
    key = keys.get_by_role("article", name="example.com")
    expect(key).to_contain_text("Veröffentlichen Sie diesen TXT-Eintrag unter")
    expect(key.get_by_label("TXT-Eintrag für sendtrail._domainkey.example.com")).to_contain_text(
        "v=DKIM1")
    expect(key).to_contain_text(
        re.compile(r"Selektor sendtrail · hinzugefügt am \d{2}\.\d{2}\.\d{4}"))  # German date
    if _phone(page):
        ui.assert_fits()
    assert_german(page.locator("main"))
    ui.snap("outbound-german")

    key.get_by_role("button", name="DKIM-Schlüssel von example.com entfernen").click()
    dialog = page.get_by_role("dialog", name="Diesen DKIM-Schlüssel entfernen?")
    assert_german(dialog)
    dialog.get_by_role("button", name="Schlüssel entfernen").click()
    expect(key).to_have_count(0)

    page.get_by_role("button", name="Ausgangsserver entfernen").click()
    dialog = page.get_by_role("dialog", name="Den Ausgangsserver entfernen?")
    assert_german(dialog)
    dialog.get_by_role("button", name="Server entfernen").click()
    expect(page.get_by_text("Nicht eingerichtet")).to_be_visible()
