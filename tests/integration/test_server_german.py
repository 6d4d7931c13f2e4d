"""Issue 15, item 12: the server's explanatory sentences come back in the reader's language,
through real HTTP on both backends. The web admin's ``sendtrail_language`` cookie (also sent
on the subscription's WebSocket) or ``Accept-Language`` chooses German; without either, the
English is exactly what it was. What is stored (engagement reasons, a domain's findings,
audit entries) stays English: only its showing changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from components import ChallTestSrv
from litestar.testing import TestClient
from sqlalchemy import text
from support import FakeClock, Tenant, engagement_nodes, gql_data, pixel_path, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.db.engine import create_sync_engine
from sendtrail.settings import DomainSettings, Settings

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
CURL = "curl/8.5.0"
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
EMAIL = """query($id: ID!, $v: [Verdict!]) { email(id: $id) { recipients { hints }
  engagements(filter: {verdicts: $v}) { edges { node { verdict reasons } } } } }"""
DIAGNOSIS = "query($id: ID!) { diagnoseEmail(id: $id) { findings } }"
SETTINGS = """mutation { updateAccountSettings(input: {privacyMode: true}) { id } }"""
AUDIT = "{ auditLog { edges { node { action summary actorDetails { name } } } } }"
ADD_DOMAIN = """mutation($i: AddTrackingDomainInput!) { addTrackingDomain(input: $i) {
  id lastError dnsRecords { value } } }"""
VERIFY = "mutation($id: ID!) { verifyTrackingDomain(id: $id) { status lastError } }"
DOMAINS = "{ trackingDomains { lastError } }"
SUBSCRIBE = "subscription { engagementNotifications { who message } }"

READERS = {
    "cookie": ({"Cookie": "sendtrail_language=de"}, "de"),
    "accept-language": ({"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}, "de"),
    "neither": ({}, "en"),
}


@pytest.fixture(params=sorted(READERS))
def reader(request: pytest.FixtureRequest) -> tuple[dict[str, str], str]:
    """The request headers of a reader, and the language they should read."""
    return READERS[request.param]


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


def _ask(client: TestClient[Any], query: str, variables: dict[str, Any] | None, tenant: Tenant,
         headers: dict[str, str], field: str) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {tenant.admin_token}", **headers})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors") is None, body
    return body["data"][field]


def _tracked_email(client: TestClient[Any], clock: FakeClock, tenant: Tenant) -> str:
    """An email a scanner fetched at once and its recipient opened twice, a minute later."""
    prepared = gql_data(client, PREPARE, {"i": {
        "subject": "Proposal", "html": "<p>Hello</p>",
        "recipients": [{"address": "ann@client.test"}]}},
        token=tenant.admin_token, field="prepareEmail")
    pixel = pixel_path(prepared["messages"][0]["html"])
    assert client.get(pixel, headers={"User-Agent": CURL}).status_code == 200
    clock.advance(65)
    for _open in range(2):
        assert client.get(pixel, headers={"User-Agent": CHROME}).status_code == 200
    email_id: str = prepared["email"]["id"]
    return email_id


def test_reasons_hints_and_diagnosis_are_in_the_readers_language(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant,
    reader: tuple[dict[str, str], str],
) -> None:
    headers, language = reader
    email_id = _tracked_email(app_client, clock, acme)
    human = _ask(app_client, EMAIL, {"id": email_id, "v": ["HUMAN"]}, acme, headers, "email")
    machine = _ask(app_client, EMAIL, {"id": email_id, "v": ["MACHINE"]}, acme, headers,
                   "email")
    findings = _ask(app_client, DIAGNOSIS, {"id": email_id}, acme, headers,
                    "diagnoseEmail")["findings"]
    reasons = engagement_nodes(human)[0]["reasons"]
    (scanned,) = engagement_nodes(machine)
    hints = human["recipients"][0]["hints"]
    if language == "de":
        assert reasons == [
            f"Google Chrome hat dies für eine Person geladen (User-Agent '{CHROME}').",
            "Der Zugriff kam 1 Minute nach dem Versand der E-Mail, und keine Regel "
            "kennzeichnet ihn als automatisch.",
        ]
        assert scanned["reasons"] == [
            "Das Kommandozeilenwerkzeug curl hat dies abgerufen; das ist ein Skript, kein "
            f"E-Mail-Programm (User-Agent '{CURL}')."]
        assert hints[0].startswith("2-mal geöffnet. Mehrfaches Öffnen ist normal")
        assert "1 Zugriff nicht als Aktivität gezählt (durch Maschinen): Das "  \
               "Kommandozeilenwerkzeug curl hat dies abgerufen" in " ".join(findings)
        assert "2 Öffnungen oder Klicks von Personen erfasst." in findings
    else:
        assert reasons == [
            f"Google Chrome loaded this for a person (user agent '{CHROME}').",
            "It came 1 minute after the email was sent, and no rule marks it as automated.",
        ]
        assert scanned["reasons"] == [
            "The command-line tool curl fetched this; that is a script, not a mail client "
            f"(user agent '{CURL}')."]
        assert hints[0].startswith("Opened 2 times. Multiple opens are normal")
        assert "1 hit not counted as activity (by machines): The command-line tool curl " \
               "fetched this" in " ".join(findings)
        assert "2 human open or clicks recorded." in findings


def test_what_is_stored_stays_english_whoever_caused_it(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant, database_url: str
) -> None:
    """A German reader's hits are judged in English: the record never changes language."""
    prepared = gql_data(app_client, PREPARE, {"i": {
        "subject": "Proposal", "html": "<p>Hello</p>",
        "recipients": [{"address": "ann@client.test"}]}},
        token=acme.admin_token, field="prepareEmail")
    clock.advance(65)
    app_client.get(pixel_path(prepared["messages"][0]["html"]),
                   headers={"User-Agent": CHROME, "Accept-Language": "de-DE",
                            "Cookie": "sendtrail_language=de"})
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT reasons FROM engagement")).scalar_one()
    finally:
        engine.dispose()
    assert "Google Chrome loaded this for a person" in str(stored)


def test_audit_summaries_are_in_the_readers_language(
    app_client: TestClient[Any], acme: Tenant, reader: tuple[dict[str, str], str]
) -> None:
    headers, language = reader
    gql_data(app_client, SETTINGS, token=acme.admin_token, field="updateAccountSettings")
    entries = [edge["node"] for edge in
               _ask(app_client, AUDIT, None, acme, headers, "auditLog")["edges"]]
    changed = next(e for e in entries if e["action"] == "account.settings.updated")
    name = changed["actorDetails"]["name"]
    expected = {"de": f"{name} hat den Datenschutzmodus eingeschaltet",
                "en": f"{name} turned privacy mode on"}
    assert changed["summary"] == expected[language]


@pytest.fixture
def dns_app(settings: Settings, challtestsrv: ChallTestSrv) -> Iterator[TestClient[Any]]:
    dns_settings = replace(settings, dns_nameservers=(challtestsrv.dns_address,),
                           domains=DomainSettings(worker=False, poll_seconds=0.2,
                                                  caa_identifiers=("pebble.test",)))
    with TestClient(create_app(dns_settings), base_url="http://testserver.local") as client:
        yield client


def test_a_domains_dns_findings_are_in_the_readers_language(
    dns_app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv,
    reader: tuple[dict[str, str], str],
) -> None:
    headers, language = reader
    host = f"links.acme{time.monotonic_ns()}.test"  # the DNS server is shared by the session
    added = _ask(dns_app, ADD_DOMAIN, {"i": {"hostname": host}}, acme, headers,
                 "addTrackingDomain")
    target = added["dnsRecords"][0]["value"]
    challtestsrv.set_cname(host, "elsewhere.example.test")
    verified = _ask(dns_app, VERIFY, {"id": added["id"]}, acme, headers, "verifyTrackingDomain")
    listed = _ask(dns_app, DOMAINS, None, acme, headers, "trackingDomains")
    assert verified["status"] == "PENDING_DNS"
    assert listed[0]["lastError"] == verified["lastError"]
    if language == "de":
        assert added["lastError"] == "Warten auf die unten aufgeführten DNS-Einträge."
        assert verified["lastError"].startswith(
            f"{host} zeigt auf elsewhere.example.test, nicht auf {target}. Ändern Sie den "
            f"CNAME-Eintrag von {host}, sodass er auf {target} zeigt; DNS-Änderungen können "
            "einige Minuten brauchen, bis sie sichtbar sind. Es gibt noch keinen TXT-Eintrag "
            "namens _sendtrail-verify.")
    else:
        assert added["lastError"] == "Waiting for the DNS records below to be created."
        assert verified["lastError"].startswith(
            f"{host} points to elsewhere.example.test, not to {target}. Change the CNAME "
            f"record of {host} to point to {target}; DNS changes can take a few minutes to "
            "appear. No TXT record named _sendtrail-verify.")


def test_a_live_notification_speaks_its_subscribers_language(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant,
    reader: tuple[dict[str, str], str],
) -> None:
    headers, language = reader
    prepared = gql_data(app_client, PREPARE, {"i": {
        "subject": "Proposal", "html": "<p>Hello</p>",
        "recipients": [{"address": "ann@client.test"}]}},
        token=acme.admin_token, field="prepareEmail")
    clock.advance(5)
    with app_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                      headers=headers) as socket:
        socket.send_json({"type": "connection_init",
                          "payload": {"authorization": f"Bearer {acme.admin_token}"}})
        assert socket.receive_json(timeout=5)["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        # The pixel request itself speaks English: the message follows the subscriber.
        app_client.get(pixel_path(prepared["messages"][0]["html"]),
                       headers={"User-Agent": CHROME})
        message = socket.receive_json(timeout=5)
        socket.send_json({"id": "1", "type": "complete"})
    assert message["type"] == "next", message
    note = message["payload"]["data"]["engagementNotifications"]
    assert note["who"] == "ann@client.test"  # data, not words: unchanged
    expected = {"de": "ann@client.test hat \u201eProposal\u201c geöffnet",
                "en": "ann@client.test opened \u201cProposal\u201d"}
    assert note["message"] == expected[language]
