"""A verdict that changes is announced (R30, issue 17 item 3): a scanner's first click looks
like a person until the rest of its burst arrives (R11); the sender heard of it live and is
told it is taken back, and webhook endpoints that want it get ``engagement.reclassified``."""

from __future__ import annotations

from dataclasses import replace
from queue import Empty
from typing import Any

import pytest
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession
from support import FakeClock, Tenant, gql_ok, link_paths, run, seed_tenant, subscribed

from sendtrail.settings import Settings

SUBSCRIBE = ("subscription { engagementNotifications { id type who emailSubject message "
             "reclassified } }")
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
WEBHOOK = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  endpoint { id } } }"""
DELIVERIES = """query($id: ID!) { webhookEndpoint(id: $id) {
  deliveries(first: 50) { edges { node { eventType status payload } } } } }"""
CLICKS = """query($id: ID!) { email(id: $id) { engagements(filter: {verdicts: [HUMAN, MACHINE]}) {
  edges { node { id type verdict category final } } } } }"""
SCANNER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")
HTML = ('<p>See <a href="https://shop.test/pricing">pricing</a> and '
        '<a href="https://shop.test/terms">terms</a>.</p>')



@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A loopback receiver allowed and no dispatcher: the queued deliveries are the proof."""
    return replace(settings, notifications=replace(
        settings.notifications, webhook_allow_loopback=True, webhook_dispatcher=False))


@pytest.fixture
def paid(app_client: Any, database_url: str) -> Tenant:
    tenant = run(seed_tenant(database_url, "Reclassified"))
    gql_ok(app_client, tenant.admin_token, 'mutation($id: ID!) { updateUser(input: {id: $id, '
       'seat: SALES_STARTER}) { seat } }', {"id": tenant.admin_id})  # clicks tracked (R12)
    return tenant



def _next(socket: WebSocketTestSession) -> dict[str, Any]:
    message: dict[str, Any] = socket.receive_json(timeout=5)
    assert message["type"] == "next", message
    note: dict[str, Any] = message["payload"]["data"]["engagementNotifications"]
    return note


def _all(socket: WebSocketTestSession) -> list[dict[str, Any]]:
    """Every notification that arrives until none has for a second."""
    notes = [_next(socket)]
    while True:
        try:
            message = socket.receive_json(timeout=1)
        except Empty:
            return notes
        assert message["type"] == "next", message
        notes.append(message["payload"]["data"]["engagementNotifications"])


def test_a_scanners_first_click_is_taken_back_live_and_by_webhook(
    app_client: TestClient[Any], clock: FakeClock, paid: Tenant
) -> None:
    token = paid.admin_token
    endpoint = gql_ok(app_client, token, WEBHOOK, {"i": {
        "url": "http://127.0.0.1:9/sendtrail",
        "eventTypes": ["engagement.clicked", "engagement.reclassified"]}})[
        "createWebhookEndpoint"]["endpoint"]["id"]
    prepared = gql_ok(app_client, token, PREPARE, {"i": {
        "subject": "Pricing", "html": HTML,
        "recipients": [{"address": "ann@client.test"}]}})["prepareEmail"]
    first, second = link_paths(prepared["messages"][0]["html"])
    clock.advance(600)
    with subscribed(app_client, token, SUBSCRIBE) as socket:
        app_client.get(first, headers={"User-Agent": SCANNER}, follow_redirects=False)
        told = _all(socket)  # one click: a person, as far as anyone can tell yet
        clock.advance(1)
        app_client.get(second, headers={"User-Agent": SCANNER}, follow_redirects=False)
        taken_back = _all(socket)  # every link within a second: a scanner after all (R11)
    # The click, and the open it implies (R7), were announced; both are taken back, and the
    # second click itself notifies no one.
    assert sorted((n["type"], n["reclassified"]) for n in told) == [
        ("CLICK", False), ("OPEN", False)]
    assert sorted((n["id"], n["reclassified"]) for n in taken_back) == sorted(
        (n["id"], True) for n in told)
    click = next(n for n in told if n["type"] == "CLICK")
    assert {n["message"] for n in taken_back} == {
        "The click in \u201cPricing\u201d by ann@client.test was a scanner, not a person: "
        "it no longer counts.",
        "The open of \u201cPricing\u201d by ann@client.test was a scanner, not a person: "
        "it no longer counts."}
    clicks = gql_ok(app_client, token, CLICKS, {"id": prepared["email"]["id"]})["email"]
    verdicts = {e["node"]["id"]: (e["node"]["verdict"], e["node"]["category"], e["node"]["final"])
                for e in clicks["engagements"]["edges"]}
    # Provisional until the settle window (the burst window) has passed (R30).
    assert verdicts[click["id"]] == ("MACHINE", "click_burst", False)
    clock.advance(10)
    clicks = gql_ok(app_client, token, CLICKS, {"id": prepared["email"]["id"]})["email"]
    assert all(e["node"]["final"] for e in clicks["engagements"]["edges"])
    deliveries = [d["node"] for d in gql_ok(app_client, token, DELIVERIES, {"id": endpoint})[
        "webhookEndpoint"]["deliveries"]["edges"]]
    (reclassified,) = [d for d in deliveries if d["eventType"] == "engagement.reclassified"
                       and d["payload"]["data"]["engagementType"] == "click"]
    data = reclassified["payload"]["data"]
    assert (data["engagementId"], data["previousVerdict"], data["verdict"]) == (
        click["id"], "human", "machine")
    assert (data["engagementType"], data["category"]) == ("click", "click_burst")
    assert reclassified["status"] == "PENDING"  # due at once, not after a burst window


def test_an_endpoint_not_asking_for_it_gets_no_reclassification(
    app_client: TestClient[Any], clock: FakeClock, paid: Tenant
) -> None:
    token = paid.admin_token
    endpoint = gql_ok(app_client, token, WEBHOOK, {"i": {
        "url": "http://127.0.0.1:9/sendtrail", "eventTypes": ["engagement.clicked"]}})[
        "createWebhookEndpoint"]["endpoint"]["id"]
    prepared = gql_ok(app_client, token, PREPARE, {"i": {
        "subject": "Terms", "html": HTML,
        "recipients": [{"address": "ben@client.test"}]}})["prepareEmail"]
    clock.advance(600)
    for link in link_paths(prepared["messages"][0]["html"]):
        app_client.get(link, headers={"User-Agent": SCANNER}, follow_redirects=False)
    deliveries = gql_ok(app_client, token, DELIVERIES, {"id": endpoint})["webhookEndpoint"][
        "deliveries"]["edges"]
    assert {d["node"]["eventType"] for d in deliveries} == {"engagement.clicked"}
