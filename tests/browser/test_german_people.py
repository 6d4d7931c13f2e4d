"""Issue 15, item 12: the admin's pages about people in German, in real Chromium, at 1280
and 390 px: contacts (the list, a contact with a tracked email opened through HTTP on its
timeline, the erase question), users & seats (inviting a colleague, whose invitation arrives
at a real SMTP sink on loopback, and the deactivate question), API tokens (the secret shown
once, the revoke question), the invitation link opened and accepted, and a wrong password.
Every page and dialog is checked for English left (``browser/german.py``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import german
from browser.conftest import PHONE, new_tenant, serve_site
from browser.german import assert_german
from browser.harness import (
    CHROME,
    TOO_SOON,
    Site,
    Ui,
    load_pixel,
    log_email,
    prepare_tracked_email,
    wait_until_derived,
)
from browser.test_invitations import OUTBOUND, _api, _emailed_link, _open_link_signed_out
from browser.test_sending import sending_settings
from components import ChallTestSrv
from mail_components import (  # noqa: F401
    MailTls,
    UpstreamSink,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from playwright.sync_api import Page, expect
from sqlalchemy import text
from support import PASSWORD, Tenant

from sendtrail.db.engine import create_sync_engine

NEW_PASSWORD = "mein eigenes langes Passwort"

german_ui = german.german_ui  # the fixture: the admin in a German browser, 1280 and 390 px


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory, mail_tls: MailTls) -> Iterator[Site]:
    """The usual site, allowed to send invitations to a loopback upstream."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory,
                          sending_settings(mail_tls))


def _width(page: Page) -> int:
    return (page.viewport_size or {"width": 0})["width"]


def _sign_in(ui: Ui, email: str) -> None:
    page = ui.page
    ui.goto("/sign-in")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()


def _go(ui: Ui, link: str) -> None:
    """Through the navigation (opened first on a phone)."""
    if ui.page.viewport_size == PHONE:
        ui.page.get_by_role("button", name="Navigation öffnen").click()
    ui.page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name=link).click()


def _rename_uma(site: Site, tenant: Tenant) -> None:
    """The seeded colleague is "Uma User": an English word in the data, not in the admin."""
    engine = create_sync_engine(site.server.env["SENDTRAIL_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            done = conn.execute(text("UPDATE app_user SET name = 'Uma Ulm' WHERE email = :e"),
                                {"e": tenant.user_email})
            assert done.rowcount == 1
    finally:
        engine.dispose()


def test_contacts_and_a_contacts_timeline_in_german(german_ui: Ui, site: Site) -> None:
    ui, page = german_ui, german_ui.page
    address = f"lena.{_width(page)}@kunde.test"
    log_email(site, address, f"Angebot {_width(page)}", html="<p>Hallo</p>")
    tracked = prepare_tracked_email(site, site.tenant.admin_token, f"Termin {_width(page)}",
                                    address)
    time.sleep(TOO_SOON)  # a person's open, not a scanner's
    load_pixel(tracked.pixel, CHROME)
    wait_until_derived(site, site.tenant.admin_token, tracked.id, ["HUMAN"])

    _sign_in(ui, site.tenant.admin_email)
    _go(ui, "Kontakte")
    expect(page.get_by_role("heading", name="Kontakte", level=1)).to_be_visible()
    page.get_by_role("searchbox", name="Kontakte suchen").fill(address.split("@", maxsplit=1)[0])
    page.get_by_role("button", name="Suchen").click()
    contacts = page.get_by_role("table" if page.viewport_size != PHONE else "list",
                                name="Kontakte")
    expect(contacts).to_contain_text("Keine")  # no legal basis yet
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("contacts")

    contacts.get_by_role("link", name=address).click()
    expect(page.get_by_role("heading", name=address, level=1)).to_be_visible()
    timeline = page.get_by_role("list", name="Zeitleiste, neueste zuerst")
    opened = timeline.get_by_role("article", name=f"„Termin {_width(page)}“ geöffnet")
    expect(opened).to_contain_text("Mensch")
    expect(opened).to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}"))
    expect(timeline.get_by_role("article", name=f"E-Mail: Angebot {_width(page)}")).to_contain_text(
        f"An {address}")
    page.get_by_label("Neue Rechtsgrundlage").select_option(label="Einwilligung")
    page.get_by_role("button", name="Rechtsgrundlage speichern").click()
    expect(page.get_by_role("list", name="Verlauf").get_by_role("listitem")).to_contain_text(
        "Keine → Einwilligung")
    expect(timeline.get_by_role("article", name="Änderung der Rechtsgrundlage")).to_be_visible()
    expect(page.get_by_text("Rechtsgrundlage gespeichert")).to_be_visible()  # the toast
    assert_german(page.locator("main"))
    ui.assert_fits()

    page.get_by_role("button", name="Kontakt löschen").click()
    dialog = page.get_by_role("dialog", name="Diesen Kontakt löschen?")
    expect(dialog.get_by_role("button", name="Endgültig löschen")).to_be_disabled()
    assert_german(dialog)
    ui.snap("erase-question")
    dialog.get_by_role("button", name="Abbrechen").click()
    expect(dialog).to_have_count(0)


def test_users_tokens_and_an_accepted_invitation_in_german(
    german_ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    ui, page = german_ui, german_ui.page
    tenant = new_tenant(site, "Einladungen")
    _rename_uma(site, tenant)
    account = _api(site, tenant, "{ account { name } }", {})["account"]["name"]  # type: ignore[index]
    endpoint = upstream_sink.endpoint()
    _api(site, tenant, OUTBOUND, {"i": {"host": endpoint.host, "port": endpoint.port,
                                        "security": "STARTTLS", "username": "alice",
                                        "password": "secret"}})
    _sign_in(ui, tenant.admin_email)

    # Users & seats: invite a colleague, who is emailed a link.
    _go(ui, "Benutzer & Lizenzen")
    expect(page.get_by_role("heading", name="Benutzer & Lizenzen", level=1)).to_be_visible()
    colleague = f"sam@{tenant.slug}.test"
    form = page.get_by_role("form", name="Benutzer einladen")
    form.get_by_label("E-Mail-Adresse").fill(colleague)
    form.get_by_label("Name").fill("Sam Sander")
    form.get_by_role("button", name="Einladen").click()
    issued = page.get_by_role("status").filter(
        has_text=f"Einladung per E-Mail an {colleague} verschickt")
    expect(issued).to_be_visible()
    users = page.get_by_role("table" if page.viewport_size != PHONE else "list",
                             name="Benutzer")
    sam = users.get_by_role("row" if page.viewport_size != PHONE else "listitem").filter(
        has_text=colleague)
    expect(sam).to_contain_text("Eingeladen")
    resend = f"Einladung erneut an {colleague} senden"
    expect(sam.get_by_role("button", name=resend)).to_be_visible()
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("users")

    page.get_by_role("button", name=f"{tenant.user_email} deaktivieren").click()
    dialog = page.get_by_role("dialog", name=f"{tenant.user_email} deaktivieren?")
    expect(dialog).to_contain_text("kann sich nicht mehr anmelden")
    assert_german(dialog)
    dialog.get_by_role("button", name="Abbrechen").click()
    expect(dialog).to_have_count(0)

    # API tokens: the secret shown once, then the revoke question.
    _go(ui, "API-Tokens")
    expect(page.get_by_role("heading", name="API-Tokens", level=1)).to_be_visible()
    create = page.get_by_role("form", name="Token erstellen")
    create.get_by_label("Name des Tokens").fill("CRM-Abgleich")
    create.get_by_role("checkbox", name="Schreiben").check()
    create.get_by_label("Läuft ab").select_option(label="In 30 Tagen")
    create.get_by_role("button", name="Token erstellen").click()
    secret_box = page.get_by_role("status").filter(
        has_text="Kopieren Sie das Token „CRM-Abgleich“ jetzt")
    secret = secret_box.get_by_label("Neues Token").inner_text().strip()
    assert secret.startswith("st_"), secret
    tokens = page.get_by_role("table" if page.viewport_size != PHONE else "list", name="Tokens")
    expect(tokens).to_contain_text("Lesen, Schreiben")
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("token-secret")
    secret_box.get_by_role("button", name="Ich habe es gespeichert").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    page.get_by_role("button", name="CRM-Abgleich widerrufen").click()
    revoke = page.get_by_role("dialog", name="Dieses Token widerrufen?")
    assert_german(revoke)
    revoke.get_by_role("button", name="Token widerrufen").click()
    expect(revoke).to_be_hidden()
    expect(tokens).to_contain_text("Widerrufen")

    # The colleague opens the emailed link in a German browser and accepts.
    link = _emailed_link(upstream_sink, site, colleague)
    _open_link_signed_out(ui, link)
    expect(page.get_by_role("heading", name=f"{account} bei Sendtrail beitreten",
                            level=1)).to_be_visible()
    expect(page.get_by_text(f"{tenant.admin_email} hat Sie eingeladen")).to_contain_text(
        colleague)
    assert_german(page.locator("main"))
    choose = page.get_by_role("form", name="Passwort wählen")
    choose.get_by_role("textbox", name="Passwort", exact=True).fill(NEW_PASSWORD)
    choose.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD + "!")
    choose.get_by_role("button", name="Passwort festlegen und anmelden").click()
    expect(choose.get_by_role("alert")).to_contain_text("Die beiden Passwörter unterscheiden sich")
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("invitation")
    choose.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
    choose.get_by_role("button", name="Passwort festlegen und anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()


def test_a_wrong_password_is_refused_in_german(german_ui: Ui, site: Site) -> None:
    ui, page = german_ui, german_ui.page
    ui.expect_status("/auth/login", 401)  # the refusal this test asks for
    ui.goto("/sign-in")
    page.get_by_label("E-Mail-Adresse").fill(site.tenant.admin_email)
    page.get_by_label("Passwort").fill("nicht das Passwort")
    page.get_by_role("button", name="Anmelden").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Anmeldung fehlgeschlagen")
    ui.assert_fits()
    ui.snap("wrong-password")
    # The refusal's sentence is the server's (tenancy/auth.py, platform/i18n/de).
    expect(refusal).to_contain_text("E-Mail-Adresse oder Passwort ist falsch.")
    assert_german(page.locator("main"))
