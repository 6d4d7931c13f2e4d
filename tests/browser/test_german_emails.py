"""Issue 15, item 12: the email pages and the compose window in German, in real Chromium, at
1280 and 390 px, on real data: a tracked email opened by a scanner and by a person who then
clicked its link (hits through HTTP), an email only logged, and an email written in the
compose window and sent to a real aiosmtpd upstream on loopback.

Walked as a German reader would: E-Mails (its filters, a filter's choices, an empty result,
the per-recipient popover), the tracked email's page (recipients, opens and clicks with their
verdicts, links, diagnosis), the logged email's page (its message and attachment), and
"Neue E-Mail" (a wrong address, what will apply, sending, the delivery status). Each part's
rendered text is checked against the English catalogues (``browser/german.py``).
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser.conftest import PHONE, new_tenant, serve_site
from browser.german import assert_german, german_ui  # noqa: F401 (no conftest lists it yet)
from browser.harness import (
    CHROME,
    TOO_SOON,
    Site,
    Ui,
    click_link,
    load_pixel,
    prepare_tracked_email,
    wait_until_derived,
)
from browser.test_sending import DELIVERED, sending_settings
from components import ChallTestSrv
from mail_components import (  # noqa: F401
    MailTls,
    UpstreamSink,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from playwright.sync_api import Locator, Page, expect
from support import PASSWORD, Tenant

OUTBOUND = "mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) { host } }"
PAID_SEAT = "mutation($id: ID!) { updateUser(input: {id: $id, seat: SALES_STARTER}) { seat } }"
LOG_EMAIL = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"
HTML = '<p>Hallo Lena, hier ist das <a href="https://example.test/angebot">Angebot</a>.</p>'
SCANNER = "Mozilla/5.0 (compatible; Google-Safety)"
"""A scanner that names itself: harness.SCANNER's "Barracuda Sentinel" holds the English
"Sent", which the German check would find in the reason quoting it."""
GERMAN_DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}")


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory, mail_tls: MailTls) -> Iterator[Site]:
    """The usual site, allowed to send to a loopback upstream (as in test_sending.py)."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory,
                          sending_settings(mail_tls))


def _api(site: Site, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def _german_account(site: Site, sink: UpstreamSink) -> Tenant:
    """A new account whose admin has a paid seat (clicks are tracked, R12) and whose
    outbound mail goes to ``sink``."""
    tenant = new_tenant(site, "Deutsch")
    _api(site, tenant.admin_token, PAID_SEAT, {"id": tenant.admin_id})
    _api(site, tenant.admin_token, OUTBOUND, {"i": {
        "host": "127.0.0.1", "port": sink.port, "security": "STARTTLS",
        "username": "alice", "password": "secret"}})
    return tenant


def _log_email(site: Site, tenant: Tenant, address: str, subject: str) -> str:
    data = _api(site, tenant.admin_token, LOG_EMAIL, {"i": {
        "subject": subject, "html": "<p>Notizen zum Gespräch</p>", "text": "Notizen",
        "recipients": [{"address": address, "name": "Ria Roth"}],
        "attachments": [{"filename": "notizen.txt", "contentType": "text/plain",
                         "contentBase64": base64.b64encode(subject.encode()).decode()}]}})
    email_id: str = data["logEmail"]["id"]
    return email_id


def _sign_in_in_german(ui: Ui, email: str) -> None:
    page = ui.page
    ui.goto("/sign-in")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()


def _phone(page: Page) -> bool:
    return page.viewport_size == PHONE


def _to_emails(page: Page) -> None:
    if _phone(page):
        page.get_by_role("button", name="Navigation öffnen").click()
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="E-Mails").click()
    expect(page.get_by_role("heading", name="E-Mails", level=1)).to_be_visible()


def _listed(page: Page) -> Locator:
    """The emails as listed: a table on a desktop, cards on a phone."""
    if _phone(page):
        return page.get_by_role("list", name="E-Mails").locator("> li")
    return page.get_by_role("table", name="E-Mails").locator("tbody tr")


def _walk_the_list(ui: Ui, subject: str, logged_subject: str, tag: str) -> None:
    page = ui.page
    _to_emails(page)
    main = page.locator("main")
    emails = _listed(page)
    tracked = emails.filter(has_text=subject)
    expect(tracked).to_have_count(1)
    expect(tracked.get_by_text("Verfolgt", exact=True)).to_be_visible()
    logged = emails.filter(has_text=logged_subject)
    expect(logged.get_by_text("Protokolliert", exact=True)).to_be_visible()
    expect(logged).to_contain_text("Nur protokolliert: nichts verfolgt")
    expect(tracked).to_contain_text(GERMAN_DATE)
    if not _phone(page):
        expect(page.get_by_role("columnheader", name="Wer was geöffnet hat")).to_be_visible()
    expect(page.get_by_role("link", name="E-Mails als CSV herunterladen")).to_be_visible()
    assert_german(main)

    # Who opened what: the per-recipient popover.
    summary = tracked.get_by_role("button", name="1 von 1 geöffnet · 1 geklickt · 0 beantwortet")
    summary.click()
    people = page.get_by_role("list", name=f"Empfänger von „{subject}“")
    expect(people.get_by_text("Geklickt", exact=True)).to_be_visible()
    popover = page.get_by_role("dialog").filter(has=people)
    expect(popover.get_by_role("link", name="Alle Öffnungen, Klicks und Antworten")).to_be_visible()
    assert_german(popover)
    ui.snap("emails-popover-german")
    page.keyboard.press("Escape")
    expect(people).to_be_hidden()

    # A filter's choices, then a search that matches nothing.
    page.get_by_role("combobox", name="Aktivität").click()
    choices = page.get_by_role("listbox", name="Aktivität")
    expect(choices.get_by_role("option", name="Geöffnet, nicht beantwortet")).to_be_visible()
    assert_german(choices)
    choices.get_by_role("option", name="Geöffnet, nicht beantwortet").click()
    expect(page).to_have_url(re.compile(r"activity=OPENED_NOT_REPLIED"))
    expect(tracked).to_have_count(1)
    expect(logged).to_have_count(0)  # nothing tracked, so never opened
    search = page.get_by_role("searchbox", name="E-Mails durchsuchen")
    search.fill(f"nichts-{tag}")
    page.get_by_role("button", name="Suchen", exact=True).click()
    expect(page.get_by_text("Keine passenden E-Mails")).to_be_visible()
    assert_german(main)
    ui.assert_fits()
    ui.goto("/emails")


def _walk_the_tracked_email(ui: Ui, subject: str, address: str) -> None:
    page = ui.page
    main = page.locator("main")
    _listed(page).get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    expect(main).to_contain_text(re.compile(r"Gesendet von \S+ am " + GERMAN_DATE.pattern))
    expect(main).to_contain_text("Öffnungen und Klicks werden verfolgt")
    recipients = page.locator("section[aria-labelledby=recipients]")
    expect(recipients).to_contain_text("1 Öffnung, 1 Klick.")
    name = "Öffnungen und Klicks"
    hits, row = ((page.get_by_role("list", name=name), "li") if _phone(page)
                 else (page.get_by_role("table", name=name), "tr"))
    expect(hits.locator(f"{row}[data-verdict]")).to_have_count(3)
    human = hits.locator(f"{row}[data-verdict=HUMAN]")
    expect(human).to_have_count(2)
    expect(human.filter(has_text="Klick")).to_contain_text("https://example.test/angebot")
    expect(human.first).to_contain_text(address)
    expect(human.first).to_contain_text("MENSCH")
    machine = hits.locator(f"{row}[data-verdict=MACHINE]")
    expect(machine).to_contain_text("MASCHINE")
    expect(machine).to_contain_text("Zählt nicht in Berichten")
    expect(page.locator("section[aria-labelledby=links]")).to_contain_text(
        "1 Klick durch einen Empfänger")
    diagnosis = page.locator("section[aria-labelledby=diagnosis]")
    expect(diagnosis.get_by_role("heading", name="Diagnose")).to_be_visible()
    expect(diagnosis).not_to_contain_text("Diagnose läuft")
    assert_german(main)
    ui.assert_fits()
    ui.snap("email-german")


def _walk_the_logged_email(ui: Ui, email_id: str, subject: str) -> None:
    page = ui.page
    ui.goto(f"/emails/{email_id}")
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Nicht verfolgt")
    expect(main).to_contain_text("Protokolliert")
    message = page.locator("section[aria-labelledby=message]")
    expect(message.get_by_role("heading", name="Nachricht")).to_be_visible()
    expect(message).to_contain_text("Anhänge")
    expect(message.get_by_role("link", name="notizen.txt")).to_be_visible()
    expect(message.locator("iframe")).to_have_attribute("title", f"Nachrichtentext von „{subject}“")
    expect(page.locator("section[aria-labelledby=engagements]")).to_contain_text(
        "Diese E-Mail wird nicht verfolgt.")
    assert_german(main)
    ui.assert_fits()
    ui.snap("logged-email-german")


def _write_and_send(ui: Ui, sink: UpstreamSink, address: str, subject: str) -> None:
    page = ui.page
    _to_emails(page)
    page.get_by_role("button", name="Neue E-Mail").click()
    compose = page.get_by_role("dialog", name="Neue E-Mail")
    expect(compose).to_be_visible()
    to = compose.get_by_label("An", exact=True)
    expect(to).to_be_focused()
    page.keyboard.type("kein-empfang,")  # not an address: said in German
    expect(compose.get_by_text("Keine E-Mail-Adresse: kein-empfang")).to_be_visible()
    expect(compose.get_by_role("button", name="Fett")).to_be_visible()  # the editor's tools
    assert_german(compose)
    page.keyboard.press("Backspace")  # takes the wrong address back
    expect(compose.get_by_text("Keine E-Mail-Adresse")).to_have_count(0)
    page.keyboard.type(f"{address},")
    expect(compose.get_by_text(address, exact=True)).to_be_visible()
    applies = compose.get_by_role("region", name="Was gelten wird")
    expect(applies).to_contain_text("Verfolgt · bei den Kontakten protokolliert")
    expect(compose.get_by_role("switch", name="Öffnungen und Klicks verfolgen")).to_be_checked()
    compose.get_by_label("Betreff").fill(subject)
    compose.get_by_role("textbox", name="Nachricht").click()
    page.keyboard.type("Hallo Lena, hier sind die Unterlagen.")
    page.keyboard.press("ControlOrMeta+A")  # the whole text becomes a link, through the toolbar
    compose.get_by_role("button", name="Link", exact=True).click()
    link_url = page.get_by_role("textbox", name="URL eingeben")
    link_url.fill("https://example.test/unterlagen")
    page.get_by_role("button", name="Speichern").click()
    expect(compose.get_by_role("textbox", name="Nachricht").get_by_role("link")).to_have_attribute(
        "href", "https://example.test/unterlagen")
    assert_german(compose)
    ui.snap("compose-german")
    compose.get_by_role("button", name="Absenden", exact=True).click()

    toast = page.get_by_role("alert").filter(has_text="E-Mail unterwegs")
    expect(toast).to_contain_text("1 Kopie für Ihren Server eingereiht.")
    assert_german(toast)
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    name = "Zustellstatus"
    deliveries = (page.get_by_role("list", name=name).get_by_role("listitem") if _phone(page)
                  else page.get_by_role("table", name=name).get_by_role("row"))
    expect(deliveries.filter(has_text=address)).to_contain_text("Gesendet", timeout=DELIVERED)
    expect(page.get_by_text("Jede Kopie hat ihren endgültigen Zustand erreicht.")).to_be_visible()
    expect(deliveries.filter(has_text=address)).to_contain_text("Von Ihrem Server angenommen am")
    (copy,) = sink.wait_for(1, timeout=10)
    assert copy.rcpt_tos == (address,)
    expect(page.locator("section[aria-labelledby=links]")).to_contain_text(
        "https://example.test/unterlagen: 0 Klicks durch Empfänger")
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("sent-german")


def test_the_email_pages_and_the_compose_window_speak_german(
    german_ui: Ui, site: Site, upstream_sink: UpstreamSink  # noqa: F811 (the fixture, imported)
) -> None:
    tenant = _german_account(site, upstream_sink)
    tag = uuid.uuid4().hex[:6]
    lena = f"lena.{tag}@kunde.test"
    subject = f"Angebot für Lena {tag}"
    prepared = prepare_tracked_email(site, tenant.admin_token, subject, lena, html=HTML)
    load_pixel(prepared.pixel, SCANNER)  # a scanner, at once: MACHINE
    time.sleep(TOO_SOON)  # a person opens later than a scanner would
    load_pixel(prepared.pixel, CHROME)
    (link,) = prepared.links
    assert click_link(link, CHROME) == "https://example.test/angebot"
    wait_until_derived(site, tenant.admin_token, prepared.id, ["HUMAN", "HUMAN", "MACHINE"])
    logged_subject = f"Gesprächsnotizen {tag}"
    logged_id = _log_email(site, tenant, f"ria.{tag}@kunde.test", logged_subject)

    _sign_in_in_german(german_ui, tenant.admin_email)
    _walk_the_list(german_ui, subject, logged_subject, tag)
    _walk_the_tracked_email(german_ui, subject, lena)
    _walk_the_logged_email(german_ui, logged_id, logged_subject)
    _write_and_send(german_ui, upstream_sink, f"lena.neu.{tag}@kunde.test",
                    f"Unterlagen für Lena {tag}")
