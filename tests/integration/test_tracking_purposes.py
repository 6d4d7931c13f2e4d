"""Tracking purposes (R28) with tracking consent (R29), through real HTTP on both databases.

Three contacts (consent granted, withdrawn, unknown) receive one email and open it; one
clicks. Each purpose keeps exactly what it promises: a scan of every table of the database
finds the hits' user agent only where individual tracking was allowed; the report, the
activity feed and the webhook deliveries agree with what was kept.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from support import (
    FakeClock,
    Tenant,
    gql,
    gql_ok,
    link_paths,
    pixel_path,
    rows_mentioning,
    run,
    seed_tenant,
)

from sendtrail.settings import Settings

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html recipients } } }"""
SETTINGS = """mutation($i: AccountSettingsInput!) { updateAccountSettings(input: $i) {
  settings { trackingPurpose exemptPurpose privacyMode } } }"""
CONTACTS = "{ contacts(first: 50) { edges { node { id address trackingConsent lastOpenOn } } } }"
CONSENT = """mutation($c: ID!, $k: TrackingConsent!) {
  setTrackingConsent(contactId: $c, consent: $k, source: "FORM") { id } }"""
WEBHOOK = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  endpoint { id } } }"""
DELIVERIES = """query($id: ID!) { webhookEndpoint(id: $id) {
  deliveries(first: 50) { edges { node { eventType payload } } } } }"""
ENGAGEMENTS = """query($id: ID!) { email(id: $id) {
  engagements(first: 50) { edges { node { type attribution reasons
    recipient { address } } } } } }"""
FEED = "{ activityFeed(first: 50) { edges { node { type recipient { address } } } } }"
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) {
  totals { humanOpens humanClicks } } }"""
HTML = '<p>See <a href="https://shop.test/pricing">our pricing</a>.</p>'
GRANTED, WITHDRAWN, UNKNOWN = "granted@client.test", "withdrawn@client.test", "unknown@client.test"



@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A loopback receiver allowed and no dispatcher: the deliveries queued are the
    assertion; nothing is sent anywhere."""
    return replace(settings, notifications=replace(
        settings.notifications, webhook_allow_loopback=True, webhook_dispatcher=False))


@pytest.fixture
def paid(app_client: Any, database_url: str) -> Tenant:
    """An account whose admin has a paid seat (clicks are tracked, R12)."""
    tenant = run(seed_tenant(database_url, "Purposeful"))
    gql_ok(app_client, tenant.admin_token, 'mutation($id: ID!) { updateUser(input: {id: $id, '
       'seat: SALES_STARTER}) { seat } }', {"id": tenant.admin_id})
    return tenant


def _run(app: Any, tenant: Tenant, clock: FakeClock, settings: dict[str, Any]) -> dict[str, Any]:
    """Send one email to the three contacts and let each open it (and Granted click)."""
    gql_ok(app, tenant.admin_token, SETTINGS, {"i": settings})
    endpoint = gql_ok(app, tenant.admin_token, WEBHOOK, {"i": {
        "url": "http://127.0.0.1:9/sendtrail",
        "eventTypes": ["engagement.opened", "engagement.clicked"]}})
    prepared = gql_ok(app, tenant.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": a} for a in (GRANTED, WITHDRAWN, UNKNOWN)]}})["prepareEmail"]
    ids = {edge["node"]["address"]: edge["node"]["id"]
           for edge in gql_ok(app, tenant.admin_token, CONTACTS)["contacts"]["edges"]}
    gql_ok(app, tenant.admin_token, CONSENT, {"c": ids[GRANTED], "k": "GRANTED"})
    gql_ok(app, tenant.admin_token, CONSENT, {"c": ids[WITHDRAWN], "k": "WITHDRAWN"})
    clock.advance(120)  # an instant hit after sending is a scanner (R10)
    agent = f"Mozilla/4.0 (compatible; ms-office; MSOffice 16; PurposeTest {uuid.uuid4().hex})"
    for message in prepared["messages"]:
        hit = app.get(pixel_path(message["html"]), headers={"User-Agent": agent})
        assert hit.status_code == 200
        if message["recipients"] == [GRANTED]:
            (link,) = link_paths(message["html"])
            click = app.get(link, headers={"User-Agent": agent}, follow_redirects=False)
            assert click.status_code == 302  # the person always reaches the page
    email_id = prepared["email"]["id"]
    engagements = [edge["node"] for edge in gql_ok(
        app, tenant.admin_token, ENGAGEMENTS, {"id": email_id})["email"]["engagements"]["edges"]]
    day = {"since": (clock.now - timedelta(days=1)).isoformat(),
           "until": (clock.now + timedelta(days=1)).isoformat()}
    return {
        "agent": agent,
        "engagements": sorted(((e["recipient"] or {}).get("address"), e["type"])
                              for e in engagements),
        "reasons": " ".join(" ".join(e["reasons"]) for e in engagements),
        "feed": sorted(((n["node"]["recipient"] or {}).get("address"), n["node"]["type"])
                       for n in gql_ok(app, tenant.admin_token, FEED)["activityFeed"]["edges"]),
        "report": gql_ok(app, tenant.admin_token, REPORT, {"i": {"scope": "ACCOUNT", **day}})[
            "engagementReport"]["totals"],
        "webhooks": sorted(d["node"]["eventType"] for d in gql_ok(
            app, tenant.admin_token, DELIVERIES, {"id": endpoint["createWebhookEndpoint"][
                "endpoint"]["id"]})["webhookEndpoint"]["deliveries"]["edges"]),
        "last_open_on": {edge["node"]["address"]: edge["node"]["lastOpenOn"] for edge in gql_ok(
            app, tenant.admin_token, CONTACTS)["contacts"]["edges"]},
        "today": clock.now.date().isoformat(),
    }


def test_individual_in_privacy_mode_tracks_only_the_consenting_contact(
    app_client: Any, paid: Tenant, clock: FakeClock, database_url: str
) -> None:
    seen = _run(app_client, paid, clock, {"trackingPurpose": "INDIVIDUAL",
                                          "exemptPurpose": "AGGREGATE", "privacyMode": True})
    # Granted: tracked as themselves; the click implies no second open (R7).
    assert seen["engagements"] == [(GRANTED, "CLICK"), (GRANTED, "OPEN")]
    assert "consented to individual tracking" in seen["reasons"]
    assert seen["feed"] == [(GRANTED, "CLICK"), (GRANTED, "OPEN")]
    assert seen["webhooks"] == ["engagement.clicked", "engagement.opened"]
    # Withdrawn and Unknown fell back to aggregate: counted, with nothing about them.
    assert seen["report"] == {"humanOpens": 3, "humanClicks": 1}
    stored = rows_mentioning(database_url, [seen["agent"]])
    assert {table for table, _ in stored} == {"engagement"}
    assert all(GRANTED in row or str(paid.account_id) in row for _, row in stored)
    assert len(stored) == 2  # Granted's open and click, no one else's
    assert set(seen["last_open_on"].values()) == {None}


def test_aggregate_counts_per_email_and_link_and_stores_nobody(
    app_client: Any, paid: Tenant, clock: FakeClock, database_url: str
) -> None:
    seen = _run(app_client, paid, clock, {"trackingPurpose": "AGGREGATE"})
    assert seen["engagements"] == []
    assert seen["feed"] == []
    assert seen["webhooks"] == []  # no notification naming anyone
    assert seen["report"] == {"humanOpens": 3, "humanClicks": 1}
    assert rows_mentioning(database_url, [seen["agent"]]) == []
    assert rows_mentioning(database_url, ["raw_hit"]) == []  # no raw hit left behind
    assert set(seen["last_open_on"].values()) == {None}


def test_deliverability_keeps_only_each_contacts_last_open_day(
    app_client: Any, paid: Tenant, clock: FakeClock, database_url: str
) -> None:
    seen = _run(app_client, paid, clock, {"trackingPurpose": "DELIVERABILITY"})
    assert (seen["engagements"], seen["feed"], seen["webhooks"]) == ([], [], [])
    assert seen["report"] == {"humanOpens": 0, "humanClicks": 0}
    assert seen["last_open_on"] == {GRANTED: seen["today"], WITHDRAWN: seen["today"],
                                    UNKNOWN: seen["today"]}
    assert rows_mentioning(database_url, [seen["agent"]]) == []


def test_off_keeps_nothing_at_all(
    app_client: Any, paid: Tenant, clock: FakeClock, database_url: str
) -> None:
    seen = _run(app_client, paid, clock, {"trackingPurpose": "OFF"})
    assert (seen["engagements"], seen["feed"], seen["webhooks"]) == ([], [], [])
    assert seen["report"] == {"humanOpens": 0, "humanClicks": 0}
    assert set(seen["last_open_on"].values()) == {None}
    assert rows_mentioning(database_url, [seen["agent"]]) == []


def test_individual_with_deliverability_fallback_keeps_a_day_for_the_others(
    app_client: Any, paid: Tenant, clock: FakeClock
) -> None:
    seen = _run(app_client, paid, clock, {"trackingPurpose": "INDIVIDUAL",
                                          "exemptPurpose": "DELIVERABILITY",
                                          "privacyMode": True})
    assert seen["engagements"] == [(GRANTED, "CLICK"), (GRANTED, "OPEN")]
    assert seen["report"] == {"humanOpens": 1, "humanClicks": 1}
    assert seen["last_open_on"] == {GRANTED: None, WITHDRAWN: seen["today"],
                                    UNKNOWN: seen["today"]}


def test_individual_tracking_cannot_be_the_fallback(app_client: Any, paid: Tenant) -> None:
    body = gql(app_client, SETTINGS, {"i": {"exemptPurpose": "INDIVIDUAL"}},
               token=paid.admin_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cannot fall back to individual tracking" in body["errors"][0]["message"]


def test_a_logged_reply_is_tracked_only_as_the_purpose_allows(
    app_client: Any, paid: Tenant, clock: FakeClock
) -> None:
    """R28 with R7: a reply implies the email was read; under DELIVERABILITY that is the
    contact's last-open day and nothing else (the reply itself stays logged, R4)."""
    gql_ok(app_client, paid.admin_token, SETTINGS, {"i": {"trackingPurpose": "DELIVERABILITY"}})
    prepared = gql_ok(app_client, paid.admin_token, """mutation($i: PrepareEmailInput!) {
      prepareEmail(input: $i) { email { id } messages { messageId } } }""", {"i": {
        "subject": "Pricing", "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": UNKNOWN}]}})["prepareEmail"]
    clock.advance(3600)
    gql_ok(app_client, paid.admin_token, """mutation($i: LogEmailInput!) { logEmail(input: $i) {
      id } }""", {"i": {"subject": "Re: Pricing", "text": "Yes please",
                        "from": {"address": UNKNOWN}, "recipients": [
                            {"address": paid.admin_email}],
                        "inReplyTo": prepared["messages"][0]["messageId"]}})
    email = gql_ok(app_client, paid.admin_token, ENGAGEMENTS, {"id": prepared["email"]["id"]})
    assert email["email"]["engagements"]["edges"] == []
    days = {edge["node"]["address"]: edge["node"]["lastOpenOn"]
            for edge in gql_ok(app_client, paid.admin_token, CONTACTS)["contacts"]["edges"]}
    assert days[UNKNOWN] == clock.now.date().isoformat()
