"""Issue 16 in the web admin (R28, R29), in real Chromium at 1280 and 390 px.

An admin chooses what tracking is for (AGGREGATE, kept after a reload; then INDIVIDUAL with
DELIVERABILITY for contacts without consent) and turns the withdrawal link on with words of
the account's own, which the next prepared email carries. On a contact's page they record
tracking consent GRANTED then WITHDRAWN: both are in its history with their source and who
recorded them, the legal basis stays as it was, and the contact's next open keeps only its
day (the deliverability fallback), which the page then shows. The API agrees at each step.
A user reads the settings without changing them; a German admin sees both pages in German.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser import german
from browser.conftest import DESKTOP, PHONE, _test_name, new_tenant, open_ui
from browser.german import assert_german
from browser.harness import CHROME, TOO_SOON, Site, Ui, load_pixel, sign_in
from playwright.sync_api import Browser, Page, expect
from support import PASSWORD, Tenant

german_ui = german.german_ui  # the fixture: the admin in a German Chromium, 1280 and 390 px

SETTINGS = """{ account { settings { trackingPurpose exemptPurpose withdrawalLink
  withdrawalLinkText privacyMode } } }"""
CONTACT = """query($id: ID!) { contact(id: $id) { address legalBasis trackingConsent lastOpenOn
  trackingConsentHistory { consent source wording actor } } }"""
PREPARE = """mutation($i: PrepareEmailInput!) {
  prepareEmail(input: $i) { email { id } messages { html } } }"""
FOOTER = "Stop following my opens, please"
WITHDRAWAL = "Add a withdrawal link to tracked emails"
WORDING = "Yes, Sendtrail may tell my contact when I open their emails."


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "390px"])
def any_ui(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Ui]:
    """The admin in English at 1280 and 390 px."""
    yield from open_ui(browser, site, _test_name(request), request.param)


def _graphql(site: Site, token: str, query: str, **variables: Any) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def _settings(site: Site, token: str) -> dict[str, Any]:
    settings: dict[str, Any] = _graphql(site, token, SETTINGS)["account"]["settings"]
    return settings


def _prepare(site: Site, token: str, address: str, subject: str) -> tuple[str, str]:
    """A tracked email to ``address`` (its contact is created with it): its HTML and pixel."""
    prepared = _graphql(site, token, PREPARE, i={
        "subject": subject, "html": "<p>Hi, see you soon.</p>",
        "recipients": [{"address": address}]})["prepareEmail"]
    html: str = prepared["messages"][0]["html"]
    pixel = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', html)
    assert pixel, html
    return html, pixel.group(1)


def _phone(page: Page) -> bool:
    return bool(page.viewport_size == PHONE)


def _open_tracking(ui: Ui, heading: str = "Tracking & privacy") -> None:
    ui.goto("/settings/tracking")
    expect(ui.page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def _contact_id(page: Page) -> str:
    match = re.search(r"/contacts/([^/?#]+)", page.url)
    assert match, page.url
    return match.group(1)


def test_an_admin_chooses_the_purposes_and_the_withdrawal_link(any_ui: Ui, site: Site) -> None:
    ui, page = any_ui, any_ui.page
    tenant = new_tenant(site, "Purposes")
    sign_in(ui, tenant.admin_email)
    _open_tracking(ui)
    purpose = page.get_by_role("radiogroup", name="Tracking purpose")
    exempt = page.get_by_role("radiogroup", name="Exempt purpose for contacts without consent")
    expect(purpose.get_by_role("radio", name="Each recipient")).to_be_checked()  # R28 default
    expect(exempt.get_by_role("radio", name="Counts only")).to_be_checked()
    expect(purpose).to_contain_text("no recipient, contact, address or user agent is stored")
    expect(purpose).to_contain_text("Only the day of each contact's last open is kept")
    expect(page.get_by_role("switch", name="Privacy mode")).to_be_visible()
    expect(page.get_by_text("tracked anonymously")).to_have_count(0)  # the old wording
    ui.assert_fits()
    ui.snap("purposes-default")

    purpose.get_by_role("radio", name="Counts only").check()
    expect(exempt).to_have_count(0)  # only INDIVIDUAL falls back to anything
    expect(page.get_by_text("1 unsaved change(s).")).to_be_visible()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("No unsaved changes.")).to_be_visible()
    assert _settings(site, tenant.admin_token)["trackingPurpose"] == "AGGREGATE"
    page.reload()
    expect(purpose.get_by_role("radio", name="Counts only")).to_be_checked()
    expect(exempt).to_have_count(0)

    purpose.get_by_role("radio", name="Each recipient").check()
    exempt.get_by_role("radio", name="Last open only (deliverability)").check()
    withdrawal = page.get_by_role("switch", name=WITHDRAWAL)
    expect(withdrawal).not_to_be_checked()
    withdrawal.click()
    wording = page.get_by_label("Wording of the link")
    expect(wording).to_have_attribute("placeholder", "Stop tracking whether I open this")
    wording.fill("x" * 201)
    expect(page.get_by_text("Too long: at most 200 characters.")).to_be_visible()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    wording.fill(FOOTER)
    expect(page.get_by_text("4 unsaved change(s).")).to_be_visible()
    ui.assert_fits()
    ui.snap("purposes-edited")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("No unsaved changes.")).to_be_visible()
    expect(page.get_by_text("Settings saved")).to_be_visible()  # the toast
    assert _settings(site, tenant.admin_token) == {
        "trackingPurpose": "INDIVIDUAL", "exemptPurpose": "DELIVERABILITY",
        "withdrawalLink": True, "withdrawalLinkText": FOOTER, "privacyMode": False}

    page.reload()
    expect(purpose.get_by_role("radio", name="Each recipient")).to_be_checked()
    expect(exempt.get_by_role("radio", name="Last open only (deliverability)")).to_be_checked()
    expect(page.get_by_role("switch", name=WITHDRAWAL)).to_be_checked()
    expect(page.get_by_label("Wording of the link")).to_have_value(FOOTER)
    # The next tracked email carries the account's words (R29).
    html, _pixel = _prepare(site, tenant.admin_token, "wes@client.test", "Footer check")
    assert FOOTER in html, html

    page.get_by_label("Wording of the link").fill("")  # empty: back to the default wording
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("No unsaved changes.")).to_be_visible()
    assert _settings(site, tenant.admin_token)["withdrawalLinkText"] is None


def test_a_user_reads_the_purposes_without_changing_them(any_ui: Ui, site: Site) -> None:
    ui, page = any_ui, any_ui.page
    sign_in(ui, site.tenant.user_email)
    _open_tracking(ui)
    expect(page.get_by_text("Read only", exact=True)).to_be_visible()
    purpose = page.get_by_role("radiogroup", name="Tracking purpose")
    for name in ("Each recipient", "Counts only", "Last open only (deliverability)", "Nothing"):
        expect(purpose.get_by_role("radio", name=name)).to_be_disabled()
    expect(purpose.get_by_role("radio", name="Each recipient")).to_be_checked()
    expect(page.get_by_role("switch", name=WITHDRAWAL)).to_be_disabled()
    expect(page.get_by_label("Wording of the link")).to_be_disabled()
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    ui.assert_fits()


def _open_contact_page(ui: Ui, address: str, *, contacts: str = "Contacts",
                       search: str = "Search contacts") -> None:
    page = ui.page
    if _phone(page):
        page.get_by_role("button", name=re.compile("^(Open navigation|Navigation öffnen)$")).click()
    page.get_by_role("navigation", name=re.compile("^(Main navigation|Hauptnavigation)$")
                     ).get_by_role("link", name=contacts).click()
    page.get_by_role("searchbox", name=search).fill(address.split("@", maxsplit=1)[0])
    page.keyboard.press("Enter")
    page.get_by_role("link", name=address).click()
    expect(page.get_by_role("heading", name=address, level=1)).to_be_visible()


def _wait_for_last_open(site: Site, tenant: Tenant, contact_id: str) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        day = _graphql(site, tenant.admin_token, CONTACT, id=contact_id)["contact"]["lastOpenOn"]
        if day:
            return str(day)
        time.sleep(0.1)
    raise AssertionError("the contact's last open was never recorded")


def test_an_admin_records_tracking_consent_on_a_contacts_page(any_ui: Ui, site: Site) -> None:
    ui, page = any_ui, any_ui.page
    tenant = new_tenant(site, "Consent")
    _graphql(site, tenant.admin_token, """mutation { updateAccountSettings(input: {
        exemptPurpose: DELIVERABILITY}) { id } }""")
    address = "nora.north@client.test"
    prepared_at = time.monotonic()
    _html, pixel = _prepare(site, tenant.admin_token, address, "Quote for Nora")
    sign_in(ui, tenant.admin_email)
    _open_contact_page(ui, address)
    contact_id = _contact_id(page)

    card = page.get_by_role("region", name="Tracking consent")
    expect(card).to_contain_text("Unknown · never recorded")
    expect(card).to_contain_text("No consent recorded yet.")
    expect(card).not_to_contain_text("Last open (deliverability)")
    expect(card.get_by_label("Source")).to_have_value("ADMIN")  # recorded by hand
    history = card.get_by_role("list", name="Recorded consents")

    card.get_by_label("Consent to record").select_option(label="Granted")
    card.get_by_label("Wording shown to the person (optional)").fill(WORDING)
    card.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Now: Granted (source: By hand (admin)).")).to_be_visible()  # toast
    expect(history.get_by_role("listitem")).to_have_count(1)
    expect(card).to_contain_text("Granted · recorded")

    card.get_by_label("Consent to record").select_option(label="Withdrawn")
    card.get_by_label("Source").select_option(label="Form")
    card.get_by_role("button", name="Record consent").click()
    expect(history.get_by_role("listitem")).to_have_count(2)
    newest, oldest = history.get_by_role("listitem").nth(0), history.get_by_role("listitem").nth(1)
    expect(newest).to_contain_text(f"Withdrawn · source: Form · by user:{tenant.admin_email}")
    expect(oldest).to_contain_text(
        f"Granted · source: By hand (admin) · by user:{tenant.admin_email}")
    expect(oldest).to_contain_text(f"Wording: “{WORDING}”")
    expect(card).to_contain_text("Withdrawn · recorded")
    expect(page.get_by_role("region", name="Legal basis for processing")).to_contain_text(
        "None · never set")  # kept apart (R29)
    ui.assert_fits()
    ui.snap("consent-recorded")

    contact = _graphql(site, tenant.admin_token, CONTACT, id=contact_id)["contact"]
    assert contact["trackingConsent"] == "WITHDRAWN"
    assert contact["legalBasis"] == "NONE"
    label = f"user:{tenant.admin_email}"
    assert contact["trackingConsentHistory"] == [
        {"consent": "WITHDRAWN", "source": "FORM", "wording": None, "actor": label},
        {"consent": "GRANTED", "source": "ADMIN", "wording": WORDING, "actor": label},
    ]

    # Withdrawn: the open of the email sent before keeps only its day (R28's DELIVERABILITY).
    time.sleep(max(0.0, TOO_SOON - (time.monotonic() - prepared_at)))  # a person, not a scanner
    load_pixel(pixel, CHROME)
    day = _wait_for_last_open(site, tenant, contact_id)
    page.reload()
    expect(card).to_contain_text("Last open (deliverability):")
    shown = card.get_by_text(re.compile(rf"^Last open \(deliverability\): .*{day[:4]}"))
    expect(shown).to_be_visible()


def _german_admin(ui: Ui, site: Site, name: str) -> Tenant:
    tenant = new_tenant(site, name)
    ui.goto("/sign-in")
    ui.page.get_by_label("E-Mail-Adresse").fill(tenant.admin_email)
    ui.page.get_by_label("Passwort").fill(PASSWORD)
    ui.page.get_by_role("button", name="Anmelden").click()
    expect(ui.page.get_by_role("heading", name="Übersicht", level=1)).to_be_visible()
    return tenant


def test_purposes_and_tracking_consent_in_german(german_ui: Ui, site: Site) -> None:
    ui, page = german_ui, german_ui.page
    tenant = _german_admin(ui, site, "Zwecke")
    _open_tracking(ui, "Tracking & Datenschutz")
    purpose = page.get_by_role("radiogroup", name="Tracking-Zweck")
    expect(purpose.get_by_role("radio", name="Jeder Empfänger")).to_be_checked()
    page.get_by_role("radiogroup", name="Ausgenommener Zweck für Kontakte ohne Einwilligung"
                     ).get_by_role("radio", name="Nichts").check()
    page.get_by_role("switch", name="Verfolgten E-Mails einen Widerrufslink hinzufügen").click()
    expect(page.get_by_text("2 ungespeicherte Änderung(en).")).to_be_visible()
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("purposes-german")
    page.get_by_role("button", name="Änderungen speichern").click()
    expect(page.get_by_text("Keine ungespeicherten Änderungen.")).to_be_visible()
    settings = _settings(site, tenant.admin_token)
    assert (settings["exemptPurpose"], settings["withdrawalLink"]) == ("OFF", True)

    address = "lena.lind@kunde.test"
    _prepare(site, tenant.admin_token, address, "Angebot für Lena")
    _open_contact_page(ui, address, contacts="Kontakte", search="Kontakte suchen")
    card = page.get_by_role("region", name="Einwilligung in das Tracking")
    expect(card).to_contain_text("Unbekannt · nie erfasst")
    card.get_by_label("Zu erfassende Einwilligung").select_option(label="Erteilt")
    card.get_by_label("Herkunft").select_option(label="Import")
    card.get_by_role("button", name="Einwilligung erfassen").click()
    history = card.get_by_role("list", name="Erfasste Einwilligungen")
    expect(history.get_by_role("listitem")).to_contain_text(
        f"Erteilt · Herkunft: Import · von user:{tenant.admin_email}")
    expect(page.get_by_text("Einwilligung in das Tracking erfasst", exact=True)).to_be_visible()
    assert_german(page.locator("main"))
    ui.assert_fits()
    ui.snap("consent-german")
