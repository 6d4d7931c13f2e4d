"""Webhooks end to end: endpoints over GraphQL, hits through the real ingest path (the
outbox row is written by the ingest transaction), a real receiver on 127.0.0.1 that fails
on cue, and the dispatcher driven with the fake clock through the documented schedule."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import anyio
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from support import (
    FakeClock,
    Tenant,
    error_codes,
    gql,
    link_paths,
    pixel_path,
    refusal,
    run,
    seed_tenant,
)

from sendtrail.app import create_app
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.notifications.dispatcher import WebhookDispatcher
from sendtrail.notifications.signing import WebhookVerificationError, verify
from sendtrail.notifications.store import (
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from sendtrail.notifications.webhooks import forget_engagements
from sendtrail.secretbox import secret_box
from sendtrail.settings import Settings
from sendtrail.tracking.retention import fold_old_engagements

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
APPLE_MPP = "Mozilla/5.0"
HTML = '<html><body><p>See <a href="https://shop.test/pricing">our pricing</a>.</p></body></html>'
TIMEOUT = 2.0
"""Long enough that a loaded CI machine never times out a healthy receiver; the "stall"
step sleeps past it."""
CREATE = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  secret endpoint { id url eventTypes active signingSecretCount secretRotatedAt } } }"""
ENDPOINT = """query($id: ID!, $status: WebhookDeliveryStatus) { webhookEndpoint(id: $id) {
  id active disabledReason signingSecretCount oldSecretExpiresAt
  deliveries(first: 100, status: $status) { edges { node {
    id eventType status attemptCount nextAttemptAt deliveredAt lastStatusCode lastError payload
    attempts { at statusCode error durationMs nextAttemptAt } } } } } }"""
MESSAGES = WebhookMessageRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = WebhookAttemptRow.__table__  # type: ignore[attr-defined]
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id messageId } messages { recipients html } } }"""


# --- a receiver on 127.0.0.1 that answers what each test scripts ---------------------------

class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many deliveries connect at once: accept them all
    daemon_threads = True


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: str
    path: str
    at: datetime
    """The fake clock when it arrived (what a receiver would check the timestamp against)."""
    answered: int | None
    """The status sent back; None when the receiver stalled past the sender's timeout."""


class Receiver:
    """Answers the n-th request carrying a given webhook-id with ``script[n]`` (then 200).

    A step is a status code, ``(status, headers)``, ``("hold", seconds)`` (then 200), or
    ``"stall"`` (hold the request past the dispatcher's timeout)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.script: list[Any] = []
        self.requests: list[Received] = []
        self.active = self.most_at_once = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                webhook_id = self.headers.get("webhook-id", "")
                with receiver._lock:
                    seen = sum(1 for r in receiver.requests if r.webhook_id == webhook_id)
                    step = receiver.script[seen] if seen < len(receiver.script) else 200
                    record = Received(webhook_id, dict(self.headers.items()), body, self.path,
                                      receiver.clock(), None)
                    receiver.requests.append(record)
                if step == "stall":
                    time.sleep(TIMEOUT + 0.5)
                    return
                if isinstance(step, tuple) and step[0] == "hold":
                    with receiver._lock:
                        receiver.active += 1
                        receiver.most_at_once = max(receiver.most_at_once, receiver.active)
                    time.sleep(step[1])
                    with receiver._lock:
                        receiver.active -= 1
                    step = 200
                status, headers = step if isinstance(step, tuple) else (step, {})
                record.answered = status
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def by_id(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        for request in self.requests:
            found.setdefault(request.webhook_id, []).append(request)
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- fixtures and helpers ----------------------------------------------------------------

@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback receivers allowed, short timeouts, and no background dispatcher: each
    test drives its own with the fake clock."""
    return replace(settings, notifications=replace(
        settings.notifications, webhook_allow_loopback=True, webhook_timeout_seconds=TIMEOUT,
        webhook_dispatcher=False,
    ))


@pytest.fixture
def receiver(clock: FakeClock) -> Iterator[Receiver]:
    server = Receiver(clock)
    yield server
    server.close()


@pytest.fixture
def paid(app_client: TestClient[Any], database_url: str) -> Tenant:
    """An account whose admin has a paid seat (clicks are tracked, R12)."""
    tenant = run(seed_tenant(database_url, "Paid"))
    body = gql(app_client, 'mutation($id: ID!) { updateUser(input: {id: $id, '
               'seat: SALES_STARTER}) { seat } }', {"id": tenant.admin_id},
               token=tenant.admin_token)
    assert body["data"]["updateUser"]["seat"] == "SALES_STARTER", body
    return tenant


class Drive:
    """The dispatcher under test, run on the fake clock."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.database = Database(settings.database.url)
        self.clock = clock
        self.dispatcher = WebhookDispatcher(
            self.database.engine, settings.notifications, clock=clock,
            rng=random.Random(5), box=secret_box(settings.secrets.keys))  # noqa: S311

    async def once(self) -> int:
        return await self.dispatcher.run_once(self.clock())

    async def until_quiet(self, client: TestClient[Any], tenant: Tenant, endpoint_id: str,
                          *, max_rounds: int = 20) -> None:
        """Deliver, then jump the clock to the next due attempt, until none is pending."""
        for _ in range(max_rounds):
            await self.once()
            pending = _deliveries(client, tenant, endpoint_id, "PENDING")
            if not pending:
                return
            self.clock.now = min(_at(d["nextAttemptAt"]) for d in pending)
        raise AssertionError("deliveries still pending after many rounds")


@pytest.fixture
async def drive(settings: Settings, clock: FakeClock) -> Any:
    driver = Drive(settings, clock)
    yield driver
    await driver.database.dispose()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _create(client: TestClient[Any], tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    body = gql(client, CREATE, {"i": {"url": url, "eventTypes": ["engagement.opened"],
                                      **fields}}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    created: dict[str, Any] = body["data"]["createWebhookEndpoint"]
    return created


def _endpoint(client: TestClient[Any], tenant: Tenant, endpoint_id: str,
              status: str | None = None) -> dict[str, Any]:
    body = gql(client, ENDPOINT, {"id": endpoint_id, "status": status}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    endpoint: dict[str, Any] = body["data"]["webhookEndpoint"]
    return endpoint


def _deliveries(client: TestClient[Any], tenant: Tenant, endpoint_id: str,
                status: str | None = None) -> list[dict[str, Any]]:
    edges = _endpoint(client, tenant, endpoint_id, status)["deliveries"]["edges"]
    return [edge["node"] for edge in edges]


def _send_email(client: TestClient[Any], tenant: Tenant, clock: FakeClock,
                *addresses: str) -> dict[str, Any]:
    recipients = [{"address": address} for address in addresses]
    body = gql(client, PREPARE, {"i": {"subject": "Pricing", "html": HTML, "text": "Pricing",
                                       "recipients": recipients,
                                       "deliveryMode": "PER_RECIPIENT"}},
               token=tenant.admin_token)
    assert body.get("errors") is None, body
    clock.advance(120)  # an instant hit after sending is a scanner, not a person (R10)
    prepared: dict[str, Any] = body["data"]["prepareEmail"]
    return prepared


def _open(client: TestClient[Any], message: dict[str, Any], agent: str = OUTLOOK) -> None:
    assert client.get(pixel_path(message["html"]), headers={"User-Agent": agent}).status_code == 200


def _click(client: TestClient[Any], message: dict[str, Any]) -> None:
    (link,) = link_paths(message["html"])
    response = client.get(link, headers={"User-Agent": CHROME}, follow_redirects=False)
    assert response.status_code == 302


def _verified(request: Received, secret: str) -> bool:
    try:
        verify(secret, request.headers, request.body, now=int(request.at.timestamp()))
    except WebhookVerificationError:
        return False
    return True


# --- the tests -----------------------------------------------------------------------------

def test_endpoints_are_managed_by_admins_with_the_secret_shown_once(
    app_client: TestClient[Any], acme: Tenant, rival: Tenant, receiver: Receiver,
    database_url: str,
) -> None:
    created = _create(app_client, acme, receiver.url(), description="CRM sync")
    assert created["secret"].startswith("whsec_")
    endpoint = created["endpoint"]
    assert (endpoint["eventTypes"], endpoint["active"], endpoint["signingSecretCount"]) == (
        ["engagement.opened"], True, 1)
    listed = gql(app_client, "{ webhookEndpoints { id url description secretRotatedAt } }",
                 token=acme.admin_token)["data"]["webhookEndpoints"]
    assert listed == [{"id": endpoint["id"], "url": receiver.url(), "description": "CRM sync",
                       "secretRotatedAt": endpoint["secretRotatedAt"]}]
    assert created["secret"] not in json.dumps(listed)  # never shown again
    engine = create_sync_engine(database_url)
    with engine.connect() as conn:  # at rest it is encrypted (it must stay readable to sign)
        stored = json.dumps(conn.execute(select(WebhookEndpointRow.secrets)).scalars().all())
    engine.dispose()
    assert "whsec_" not in stored
    assert created["secret"][len("whsec_"):] not in stored
    updated = gql(app_client, 'mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, '
                  'eventTypes: ["engagement.opened", "engagement.clicked"]}) { eventTypes } }',
                  {"id": endpoint["id"]}, token=acme.admin_token)
    assert updated["data"]["updateWebhookEndpoint"]["eventTypes"] == [
        "engagement.opened", "engagement.clicked"]

    # Plain users may not see or manage webhooks.
    for query in ("{ webhookEndpoints { id } }",
                  f'mutation {{ createWebhookEndpoint(input: {{url: "{receiver.url()}", '
                  'eventTypes: ["engagement.opened"]}) { secret } }'):
        assert refusal(gql(app_client, query, token=acme.user_token))[0] == "FORBIDDEN"

    # Another account's ids are not found, whatever it tries.
    sent = gql(app_client, "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }",
               {"id": endpoint["id"]}, token=acme.admin_token)["data"]["sendTestWebhook"]
    for query, variables in [
        ("query($id: ID!) { webhookEndpoint(id: $id) { id } }", {"id": endpoint["id"]}),
        ('mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, active: false}) '
         '{ id } }', {"id": endpoint["id"]}),
        ("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", {"id": endpoint["id"]}),
        ("mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }", {"id": endpoint["id"]}),
        ("mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }",
         {"id": endpoint["id"]}),
        ("mutation($id: ID!) { replayWebhookDelivery(id: $id) { id } }", {"id": sent["id"]}),
    ]:
        assert refusal(gql(app_client, query, variables, token=rival.admin_token))[0] == (
            "NOT_FOUND"), query
    assert gql(app_client, "{ webhookEndpoints { id } }",
               token=rival.admin_token)["data"]["webhookEndpoints"] == []

    # Bad input says what is wrong.
    for url, types, message in [
        ("ftp://hooks.example.com/", ["engagement.opened"], "must start with https://"),
        ("https://user:pw@hooks.example.com/", ["engagement.opened"], "no user name or password"),
        ("https://", ["engagement.opened"], "needs a host name"),
        ("https://hooks.example.com/" + "x" * 2000, ["engagement.opened"], "at most 2000"),
        (receiver.url(), ["engagement.bounced"], "Unknown event type 'engagement.bounced'"),
        (receiver.url(), [], "at least one event type"),
        ("http://10.0.0.8/hooks", ["engagement.opened"],
         "may not be sent to 10.0.0.8: it is a private address"),
        ("http://169.254.169.254/", ["engagement.opened"], "link-local address"),
        ("http://[::ffff:192.168.0.1]/", ["engagement.opened"], "private address"),
    ]:
        body = gql(app_client, CREATE, {"i": {"url": url, "eventTypes": types}},
                   token=acme.admin_token)
        code, text = refusal(body)
        assert code == "BAD_USER_INPUT", body
        assert message in text, (url, text)

    deleted = gql(app_client, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
                  {"id": endpoint["id"]}, token=acme.admin_token)
    assert deleted["data"] == {"deleteWebhookEndpoint": True}
    assert gql(app_client, "{ webhookEndpoints { id } }",
               token=acme.admin_token)["data"]["webhookEndpoints"] == []
    audit = gql(app_client, "{ auditLog { edges { node { action } } } }",
                token=acme.admin_token)["data"]["auditLog"]["edges"]
    actions = {edge["node"]["action"] for edge in audit}
    assert {"webhook_endpoint.created", "webhook_endpoint.updated",
            "webhook_endpoint.deleted"} <= actions


async def test_failing_receiver_sees_the_schedule_then_every_event_exactly_once(
    app_client: TestClient[Any], paid: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive,
) -> None:
    created = _create(app_client, paid, receiver.url(host="localhost"),
                      eventTypes=["engagement.opened", "engagement.clicked"])
    endpoint_id, secret = created["endpoint"]["id"], created["secret"]
    prepared = _send_email(app_client, paid, clock, "ann@client.test", "ben@client.test")
    ann, ben = prepared["messages"]
    _open(app_client, ann)
    _click(app_client, ben)  # a click, and the open it implies (R7)
    _open(app_client, ann, APPLE_MPP)  # a privacy proxy: MACHINE, not sent (R10)
    queued = _deliveries(app_client, paid, endpoint_id)
    assert sorted(d["eventType"] for d in queued) == [
        "engagement.clicked", "engagement.opened", "engagement.opened"]
    assert all(d["status"] == "PENDING" and d["attemptCount"] == 0 for d in queued)

    # Each message: 429 asking for 2 minutes, then 500, then no answer in time, then 200.
    receiver.script = [(429, {"Retry-After": "120"}), 500, "stall"]
    await drive.until_quiet(app_client, paid, endpoint_id)

    deliveries = _deliveries(app_client, paid, endpoint_id)
    assert {d["status"] for d in deliveries} == {"DELIVERED"}
    for delivery in deliveries:
        attempts = delivery["attempts"]
        assert [a["statusCode"] for a in attempts] == [429, 500, None, 200]
        assert attempts[2]["error"] == f"no complete answer within {TIMEOUT:g} s (timeout)"
        assert "the endpoint answered 500 Internal Server Error" in attempts[1]["error"]
        times = [_at(a["at"]) for a in attempts]
        gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
        assert gaps[0] == 120  # Retry-After beat the 5 s of the schedule
        assert 300 * 0.8 <= gaps[1] <= 300 * 1.2  # then the schedule: 5 min, ±20 %
        assert 1800 * 0.8 <= gaps[2] <= 1800 * 1.2  # 30 min, ±20 %
        assert [_at(a["nextAttemptAt"]) for a in attempts[:3]] == times[1:]
        assert attempts[3]["nextAttemptAt"] is None
        assert (delivery["lastStatusCode"], delivery["attemptCount"]) == (200, 4)

    # Every event reached the receiver answered 2xx exactly once per webhook-id, signed.
    received = receiver.by_id()
    assert set(received) == {d["id"] for d in deliveries}
    for requests in received.values():
        assert [r.answered for r in requests] == [429, 500, None, 200]
        assert all(r.path == "/hooks" and r.headers["Host"] == f"localhost:{receiver.port}"
                   for r in requests)
        assert all(_verified(r, secret) for r in requests)
    payloads = {d["id"]: json.loads(received[d["id"]][-1].body) for d in deliveries}
    assert all(payloads[d["id"]] == d["payload"] for d in deliveries)
    by_type = {(p["type"], p["data"]["recipient"]): p for p in payloads.values()}
    click = by_type[("engagement.clicked", "ben@client.test")]["data"]
    assert click["linkUrl"] == "https://shop.test/pricing"
    assert (click["who"], click["verdict"], click["attribution"]) == (
        "ben@client.test", "human", "recipient")
    opened = by_type[("engagement.opened", "ann@client.test")]["data"]
    assert (opened["emailSubject"], opened["senderEmail"], opened["linkUrl"]) == (
        "Pricing", paid.admin_email, None)
    assert opened["messageId"] == prepared["email"]["messageId"]
    assert ("engagement.opened", "ben@client.test") in by_type

    # Nothing more is due, and nothing is sent twice.
    clock.advance(86_400 * 2)
    assert await drive.once() == 0
    assert len(receiver.requests) == 12


async def test_gone_disables_the_endpoint_and_redirects_are_not_followed(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive,
) -> None:
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    (message,) = _send_email(app_client, acme, clock, "ann@client.test")["messages"]
    _open(app_client, message)
    receiver.script = [(301, {"Location": receiver.url("/moved")}), 410]
    assert await drive.once() == 1
    (delivery,) = _deliveries(app_client, acme, endpoint_id)
    assert [r.path for r in receiver.requests] == ["/hooks"]  # the redirect was not followed
    assert delivery["lastStatusCode"] == 301
    assert delivery["lastError"] == (
        f"redirects are not followed (got 301 to {receiver.url('/moved')})")
    wait = _at(delivery["nextAttemptAt"]) - _at(delivery["attempts"][0]["at"])
    assert 4 <= wait.total_seconds() <= 6  # a redirect is a failure like any other: 5 s ±20 %
    clock.now = _at(delivery["nextAttemptAt"])

    assert await drive.once() == 1  # 410 Gone
    endpoint = _endpoint(app_client, acme, endpoint_id)
    assert endpoint["active"] is False
    assert "410 Gone" in endpoint["disabledReason"]
    (delivery,) = [edge["node"] for edge in endpoint["deliveries"]["edges"]]
    assert (delivery["status"], delivery["lastStatusCode"]) == ("DISABLED", 410)

    clock.advance(60)
    _open(app_client, message)  # later events are not queued, nor attempted
    clock.advance(86_400)
    assert await drive.once() == 0
    assert len(receiver.requests) == 2
    assert len(_deliveries(app_client, acme, endpoint_id)) == 1

    # Enabled again: the held message goes out (same webhook-id); replay sends it again.
    enabled = gql(app_client, 'mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, '
                  'active: true}) { active disabledReason } }', {"id": endpoint_id},
                  token=acme.admin_token)["data"]["updateWebhookEndpoint"]
    assert enabled == {"active": True, "disabledReason": None}
    assert await drive.once() == 1
    assert [r.answered for r in receiver.requests] == [301, 410, 200]
    assert {r.webhook_id for r in receiver.requests} == {delivery["id"]}
    replayed = gql(app_client, "mutation($id: ID!) { replayWebhookDelivery(id: $id) "
                   "{ id status attemptCount attempts { statusCode } } }", {"id": delivery["id"]},
                   token=acme.admin_token)["data"]["replayWebhookDelivery"]
    assert replayed == {"id": delivery["id"], "status": "PENDING", "attemptCount": 0,
                        "attempts": [{"statusCode": 301}, {"statusCode": 410},
                                     {"statusCode": 200}]}
    assert await drive.once() == 1
    assert [r.webhook_id for r in receiver.requests[-2:]] == [delivery["id"]] * 2
    assert receiver.requests[-1].answered == 200

    # Tracking turned off for the account (R18): hits queue nothing.
    gql(app_client, "mutation { updateAccountSettings(input: {trackingEnabled: false}) { id } }",
        token=acme.admin_token)
    clock.advance(60)
    _open(app_client, message)
    assert len(_deliveries(app_client, acme, endpoint_id)) == 1


async def test_a_rotated_secret_signs_beside_the_new_one_until_it_expires(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive,
) -> None:
    created = _create(app_client, acme, receiver.url())
    endpoint_id, old = created["endpoint"]["id"], created["secret"]
    rotated = gql(app_client, "mutation($id: ID!) { rotateWebhookSecret(id: $id, "
                  "keepOldForHours: 1) { secret endpoint { signingSecretCount "
                  "oldSecretExpiresAt } } }", {"id": endpoint_id},
                  token=acme.admin_token)["data"]["rotateWebhookSecret"]
    new = rotated["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert rotated["endpoint"]["signingSecretCount"] == 2
    assert _at(rotated["endpoint"]["oldSecretExpiresAt"]) == clock() + timedelta(hours=1)

    test_id = gql(app_client, "mutation($id: ID!) { sendTestWebhook(endpointId: $id) "
                  "{ id eventType status } }", {"id": endpoint_id},
                  token=acme.admin_token)["data"]["sendTestWebhook"]["id"]
    assert await drive.once() == 1
    (during,) = receiver.requests
    assert during.webhook_id == test_id
    assert json.loads(during.body)["type"] == "webhook.test"
    assert len(during.headers["webhook-signature"].split()) == 2
    assert _verified(during, new)
    assert _verified(during, old)

    clock.advance(3601)
    assert _endpoint(app_client, acme, endpoint_id)["signingSecretCount"] == 1
    gql(app_client, "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }",
        {"id": endpoint_id}, token=acme.admin_token)
    assert await drive.once() == 1
    after = receiver.requests[-1]
    assert len(after.headers["webhook-signature"].split()) == 1
    assert _verified(after, new)
    assert not _verified(after, old)

    codes = error_codes(gql(app_client, "mutation($id: ID!) { rotateWebhookSecret(id: $id, "
                            "keepOldForHours: 10000) { secret } }", {"id": endpoint_id},
                            token=acme.admin_token))
    assert codes == ["BAD_USER_INPUT"]


async def test_the_background_dispatcher_delivers_as_soon_as_woken(
    acme: Tenant, receiver: Receiver, clock: FakeClock, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's own dispatcher, polling every 30 s, has already looked and found nothing;
    a pixel hit then goes through ingest, whose outbox wakes it: delivered within seconds."""
    claims: list[int] = []
    claim = WebhookDispatcher._claim

    async def counted(self: WebhookDispatcher, now: datetime, limit: int) -> Any:
        found = await claim(self, now, limit)
        claims.append(len(found))
        return found

    monkeypatch.setattr(WebhookDispatcher, "_claim", counted)
    background = replace(settings, notifications=replace(
        settings.notifications, webhook_dispatcher=True, webhook_poll_seconds=30))
    with TestClient(create_app(background, clock=clock),
                    base_url="http://testserver.local") as live:
        endpoint_id = _create(live, acme, receiver.url())["endpoint"]["id"]
        (message,) = _send_email(live, acme, clock, "ann@client.test")["messages"]
        for _ in range(100):  # its first look, at start: nothing queued yet
            if claims:
                break
            await anyio.sleep(0.02)
        assert claims == [0]
        assert receiver.requests == []
        _open(live, message)  # ingest -> outbox (on_queued) -> wake
        for _ in range(60):
            if receiver.requests:
                break
            await anyio.sleep(0.05)
        assert [r.answered for r in receiver.requests] == [200], claims
        # The receiver has answered; the dispatcher records the outcome just after.
        delivered: list[dict[str, Any]] = []
        for _ in range(60):
            delivered = _deliveries(live, acme, endpoint_id, "DELIVERED")
            if delivered:
                break
            await anyio.sleep(0.05)
        (delivery,) = delivered
    assert delivery["id"] == receiver.requests[0].webhook_id
    assert delivery["eventType"] == "engagement.opened"


async def test_deliveries_run_concurrently_but_no_more_than_the_bound(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver, drive: Drive,
    settings: Settings,
) -> None:
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    for _ in range(7):
        gql(app_client, "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }",
            {"id": endpoint_id}, token=acme.admin_token)
    receiver.script = [("hold", 0.2)]
    dispatcher = WebhookDispatcher(drive.database.engine, settings.notifications,
                                   clock=drive.clock, concurrency=3,
                                   box=secret_box(settings.secrets.keys))
    assert await dispatcher.run_once(drive.clock()) == 7
    assert receiver.most_at_once == 3
    assert sorted(len(requests) for requests in receiver.by_id().values()) == [1] * 7
    assert {d["status"] for d in _deliveries(app_client, acme, endpoint_id)} == {"DELIVERED"}


# --- regressions of the review -----------------------------------------------------------

TEST_WEBHOOK = ("mutation($id: ID!) { sendTestWebhook(endpointId: $id) "
                "{ id status payload } }")
REPLAY = "mutation($id: ID!) { replayWebhookDelivery(id: $id) { id status attemptCount } }"
TWO_LINKS = ('<html><body><p><a href="https://shop.test/pricing">Pricing</a> and '
             '<a href="https://shop.test/terms">terms</a>.</p></body></html>')


def _set_lease(database_url: str, message_id: str, until: datetime) -> None:
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(MESSAGES).where(MESSAGES.c.id == message_id)
                               .values(lease_until=until))
    finally:
        engine.dispose()


def _webhook_rows_mentioning(database_url: str, needles: list[str]) -> list[tuple[str, str]]:
    """Every row of the webhook tables holding one of ``needles`` (the full scan)."""
    engine = create_sync_engine(database_url)
    found = []
    try:
        with engine.connect() as connection:
            for table in (MESSAGES, ATTEMPTS):
                for row in connection.execute(select(table)):
                    text = str(tuple(row)).lower()
                    if any(needle.lower() in text for needle in needles):
                        found.append((table.name, text))
    finally:
        engine.dispose()
    return found


@pytest.mark.parametrize("retry_after", ["\u00b2", "9" * 5000], ids=["superscript", "5000 nines"])
async def test_a_retry_after_that_is_no_delay_is_an_ordinary_failed_attempt(
    *, app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive, retry_after: str,
) -> None:
    """Regression: int() raised on these, out of the attempt: the lease expired and the
    message was tried again for ever, no attempt ever recorded."""
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    gql(app_client, TEST_WEBHOOK, {"id": endpoint_id}, token=acme.admin_token)
    receiver.script = [(429, {"Retry-After": retry_after})]
    assert await drive.once() == 1
    (delivery,) = _deliveries(app_client, acme, endpoint_id)
    assert (delivery["status"], delivery["attemptCount"]) == ("PENDING", 1)
    (attempt,) = delivery["attempts"]
    assert attempt["statusCode"] == 429
    assert attempt["error"].startswith("the endpoint answered 429 Too Many Requests")
    wait = _at(delivery["nextAttemptAt"]) - _at(attempt["at"])
    assert 4 <= wait.total_seconds() <= 6  # the schedule's 5 s: the header was ignored
    clock.now = _at(delivery["nextAttemptAt"])
    assert await drive.once() == 1
    assert [r.answered for r in receiver.requests] == [429, 200]
    assert _deliveries(app_client, acme, endpoint_id)[0]["status"] == "DELIVERED"


async def test_an_unexpected_error_in_an_attempt_is_recorded_as_a_failed_attempt(
    *, app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(value: str | None, *, now: datetime) -> timedelta | None:
        raise ValueError("details that stay in the log")

    monkeypatch.setattr("sendtrail.notifications.dispatcher.parse_retry_after", broken)
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    gql(app_client, TEST_WEBHOOK, {"id": endpoint_id}, token=acme.admin_token)
    receiver.script = [(503, {"Retry-After": "1"})]
    assert await drive.once() == 1
    (delivery,) = _deliveries(app_client, acme, endpoint_id)
    assert (delivery["status"], delivery["attemptCount"]) == ("PENDING", 1)
    assert delivery["lastError"] == "internal error: ValueError"
    (attempt,) = delivery["attempts"]
    assert attempt["error"] == "internal error: ValueError"
    wait = _at(delivery["nextAttemptAt"]) - _at(attempt["at"])
    assert 4 <= wait.total_seconds() <= 6
    assert await drive.once() == 0  # not due again before its time: no loop
    clock.now = _at(delivery["nextAttemptAt"])
    assert await drive.once() == 1
    assert [r.answered for r in receiver.requests] == [503, 200]


async def test_retry_after_as_an_http_date_is_honoured(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive,
) -> None:
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    gql(app_client, TEST_WEBHOOK, {"id": endpoint_id}, token=acme.admin_token)
    when = format_datetime(clock() + timedelta(hours=1), usegmt=True)
    receiver.script = [(503, {"Retry-After": when})]
    assert await drive.once() == 1
    (delivery,) = _deliveries(app_client, acme, endpoint_id)
    wait = _at(delivery["nextAttemptAt"]) - _at(delivery["attempts"][0]["at"])
    assert 3599 <= wait.total_seconds() <= 3600  # the date (whole seconds), not 5 s
    clock.advance(1800)
    assert await drive.once() == 0
    clock.now = _at(delivery["nextAttemptAt"])
    assert await drive.once() == 1
    assert [r.answered for r in receiver.requests] == [503, 200]


async def test_erasing_a_contact_forgets_its_webhook_messages_sent_or_queued(
    *, app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive, database_url: str,
) -> None:
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    ann, ben = _send_email(app_client, acme, clock, "ann@client.test",
                           "ben@client.test")["messages"]
    _open(app_client, ann)
    _open(app_client, ben)
    assert await drive.once() == 2  # delivered, with their attempts
    clock.advance(60)
    _open(app_client, ann)  # queued, not sent yet
    deliveries = _deliveries(app_client, acme, endpoint_id)
    anns = {d["payload"]["data"]["engagementId"] for d in deliveries
            if d["payload"]["data"]["recipient"] == "ann@client.test"}
    assert len(anns) == 2
    needles = ["ann@client.test", *anns]
    assert _webhook_rows_mentioning(database_url, needles)  # the scan sees her before

    contacts = gql(app_client, 'query { contacts(search: "ann@client.test") '
                   "{ edges { node { id address } } } }", token=acme.admin_token)
    (contact,) = [e["node"]["id"] for e in contacts["data"]["contacts"]["edges"]
                  if e["node"]["address"] == "ann@client.test"]
    erased = gql(app_client, "mutation($c: ID!) { eraseContact(contactId: $c) "
                 "{ engagements } }", {"c": contact}, token=acme.admin_token)
    assert erased["data"]["eraseContact"]["engagements"] == 2, erased

    left = _deliveries(app_client, acme, endpoint_id)
    assert [(d["status"], d["payload"]["data"]["recipient"]) for d in left] == [
        ("DELIVERED", "ben@client.test")]
    assert _webhook_rows_mentioning(database_url, needles) == []
    clock.advance(86_400)
    assert await drive.once() == 0  # her queued message is never sent
    assert len(receiver.requests) == 2


async def test_retention_forgets_the_webhook_messages_of_the_engagements_it_folds(
    *, app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive, database_url: str,
) -> None:
    """Issue 16, item 4 (R28): past the retention window an engagement is deleted, and so
    are the webhook messages about it (their payload names the recipient), as `sendtrail
    serve` wires it; a newer one stays queued."""
    body = gql(app_client, "mutation { updateAccountSettings(input: {hitDetailRetentionDays: 1})"
               " { id } }", token=acme.admin_token)
    assert body.get("errors") is None, body
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    ann, ben = _send_email(app_client, acme, clock, "ann@client.test",
                           "ben@client.test")["messages"]
    _open(app_client, ann)
    assert await drive.once() == 1
    clock.advance(2 * 86_400)
    _open(app_client, ben)  # queued, within the window

    folded = await fold_old_engagements(drive.database.engine, now=clock.now,
                                        on_folded=forget_engagements)

    assert folded == 1
    left = _deliveries(app_client, acme, endpoint_id)
    assert [(d["status"], d["payload"]["data"]["recipient"]) for d in left] == [
        ("PENDING", "ben@client.test")]
    assert _webhook_rows_mentioning(database_url, ["ann@client.test"]) == []


async def test_a_scanners_click_burst_is_not_sent_to_a_human_only_endpoint(
    app_client: TestClient[Any], paid: Tenant, receiver: Receiver, clock: FakeClock,
    drive: Drive,
) -> None:
    """A link scanner clicks every link at once: its first click is stored HUMAN and
    reclassified MACHINE when the burst completes. Clicks wait out the burst window, and
    the verdict is read again just before sending."""
    endpoint_id = _create(app_client, paid, receiver.url(),
                          eventTypes=["engagement.opened", "engagement.clicked"])["endpoint"]["id"]
    body = gql(app_client, PREPARE, {"i": {
        "subject": "Pricing", "html": TWO_LINKS, "text": "Pricing",
        "recipients": [{"address": "ann@client.test"}, {"address": "ben@client.test"}],
        "deliveryMode": "PER_RECIPIENT"}}, token=paid.admin_token)
    assert body.get("errors") is None, body
    clock.advance(120)
    ann, ben = body["data"]["prepareEmail"]["messages"]

    def click(message: dict[str, Any], n: int) -> None:
        links = link_paths(message["html"])
        assert len(links) == 2
        response = app_client.get(links[n], headers={"User-Agent": CHROME},
                                  follow_redirects=False)
        assert response.status_code == 302

    click(ann, 0)  # the scanner's first click: HUMAN for now
    click(ben, 0)  # a person's one click
    clock.advance(1)
    assert await drive.once() == 0  # clicks wait out the burst window
    click(ann, 1)  # every link within the window: a burst, the first click is MACHINE now
    clock.advance(10)
    await drive.once()

    deliveries = _deliveries(app_client, paid, endpoint_id)
    by_who = sorted((d["payload"]["data"]["recipient"], d["eventType"], d["status"],
                     d["lastError"]) for d in deliveries)
    reclassified = "the engagement was reclassified as MACHINE (click burst)"
    assert by_who == [
        ("ann@client.test", "engagement.clicked", "SUPPRESSED", reclassified),
        ("ann@client.test", "engagement.opened", "SUPPRESSED", reclassified),  # inferred
        ("ben@client.test", "engagement.clicked", "DELIVERED", None),
        ("ben@client.test", "engagement.opened", "DELIVERED", None),
    ]
    sent = {json.loads(r.body)["data"]["recipient"] for r in receiver.requests}
    assert sent == {"ben@client.test"}
    assert all(not d["attempts"] for d in deliveries if d["status"] == "SUPPRESSED")
    suppressed = _deliveries(app_client, paid, endpoint_id, "SUPPRESSED")
    assert len(suppressed) == 2


BAD_INPUTS = [
    ("nul in description", "create", {"description": "CRM\x00sync"}, "BAD_USER_INPUT",
     "may not contain control characters"),
    ("line break in description", "create", {"description": "CRM\nsync"}, "BAD_USER_INPUT",
     "may not contain control characters"),
    ("escape in description", "create", {"description": "\x1b[31mred"}, "BAD_USER_INPUT",
     "may not contain control characters"),
    ("lone surrogate in description", "create", {"description": "CRM \ud800"},
     "BAD_USER_INPUT", "may not contain control characters"),
    ("nul in description, updated", "update", {"description": "\x00"}, "BAD_USER_INPUT",
     "may not contain control characters"),
    ("overlong description", "create", {"description": "d" * 201}, "BAD_USER_INPUT",
     "at most 200 characters"),
    ("overlong url", "create", {"url": "https://hooks.example.com/" + "x" * 5000},
     "BAD_USER_INPUT", "at most 2000 characters"),
    ("nul in url", "create", {"url": "https://hooks.example.com/\x00"}, "BAD_USER_INPUT",
     "control characters"),
    ("surrogate in url", "create", {"url": "https://hooks.exa\ud800mple.com/"},
     "BAD_USER_INPUT", ""),
    ("huge event type list", "create", {"eventTypes": ["engagement.opened"] * 10_000},
     "BAD_USER_INPUT", "at most 4 event types"),
    ("duplicate event type", "create",
     {"eventTypes": ["engagement.opened", "engagement.opened"]}, "BAD_USER_INPUT",
     "listed twice"),
    ("unknown event type", "update", {"eventTypes": ["engagement.bounced"]}, "BAD_USER_INPUT",
     "Unknown event type 'engagement.bounced'"),
    ("huge unknown event type", "create", {"eventTypes": ["x" * 100_000]}, "BAD_USER_INPUT",
     "Unknown event type"),
    ("nul event type", "create", {"eventTypes": ["engagement.opened\x00"]}, "BAD_USER_INPUT",
     "Unknown event type"),
    ("malformed endpoint id", "get", {"id": "not-an-id"}, "NOT_FOUND", "No webhook endpoint"),
    ("nul in endpoint id", "get", {"id": "\x00"}, "NOT_FOUND", "No webhook endpoint"),
    ("unknown endpoint id", "update", {"id": "00000000-0000-4000-8000-000000000000"},
     "NOT_FOUND", "No webhook endpoint"),
    ("malformed delivery id", "replay", {"id": "msg_\x00" + "z" * 5000}, "NOT_FOUND",
     "No webhook delivery"),
    ("unknown delivery id", "replay", {"id": "msg_" + "0" * 32}, "NOT_FOUND",
     "No webhook delivery"),
]


@pytest.mark.parametrize(("operation", "fields", "code", "message"),
                         [case[1:] for case in BAD_INPUTS],
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_refused_never_an_internal_error(
    *, app_client: TestClient[Any], acme: Tenant, receiver: Receiver,
    operation: str, fields: dict[str, Any], code: str, message: str,
) -> None:
    """Regression: a NUL in the description was a 500 on PostgreSQL."""
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    query, variables = {
        "create": (CREATE, {"i": {"url": receiver.url(), "eventTypes": ["engagement.opened"],
                                  **fields}}),
        "update": ("mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint("
                   "input: $i) { id } }", {"i": {"id": endpoint_id, **fields}}),
        "get": ("query($id: ID!) { webhookEndpoint(id: $id) { id } }", fields),
        "replay": (REPLAY, fields),
    }[operation]
    # JSON with \\u escapes (as any client may send; lone surrogates cannot be UTF-8).
    response = app_client.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {acme.admin_token}",
                 "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    refused_code, text = refusal(body)
    assert (refused_code, message in text) == (code, True), body
    assert len(text) < 1000  # nothing huge echoed back
    listed = gql(app_client, "{ webhookEndpoints { id description } }",
                 token=acme.admin_token)["data"]["webhookEndpoints"]
    assert listed == [{"id": endpoint_id, "description": None}]  # nothing changed


def test_a_delivery_being_attempted_is_not_replayed(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver, clock: FakeClock,
    database_url: str,
) -> None:
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    sent = gql(app_client, TEST_WEBHOOK, {"id": endpoint_id},
               token=acme.admin_token)["data"]["sendTestWebhook"]
    _set_lease(database_url, sent["id"], clock() + timedelta(seconds=30))  # in flight
    assert refusal(gql(app_client, REPLAY, {"id": sent["id"]}, token=acme.admin_token)) == (
        "CONFLICT",
        "This delivery is being attempted right now; replay it when the attempt has finished.")
    _set_lease(database_url, sent["id"], clock() - timedelta(seconds=1))  # lease expired
    replayed = gql(app_client, REPLAY, {"id": sent["id"]}, token=acme.admin_token)
    assert replayed["data"]["replayWebhookDelivery"] == {
        "id": sent["id"], "status": "PENDING", "attemptCount": 0}


async def test_the_test_message_names_nobody(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver, drive: Drive,
) -> None:
    """Regression: the admin's address went to the third party in ``sentBy``."""
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    sent = gql(app_client, TEST_WEBHOOK, {"id": endpoint_id},
               token=acme.admin_token)["data"]["sendTestWebhook"]
    assert sent["payload"]["data"] == {"endpointId": endpoint_id,
                                       "message": "A test message from Sendtrail."}
    assert await drive.once() == 1
    (received,) = receiver.requests
    assert acme.admin_email.lower() not in received.body.lower()
    assert acme.admin_email.split("@")[0].lower() not in received.body.lower()


def test_read_only_tokens_and_plain_users_cannot_manage_endpoints(
    app_client: TestClient[Any], acme: Tenant, receiver: Receiver,
) -> None:
    endpoint_id = _create(app_client, acme, receiver.url())["endpoint"]["id"]
    created = gql(app_client, 'mutation { createApiToken(input: {name: "ro", '
                  'scopes: [READ]}) { secret } }', token=acme.admin_token)
    assert created.get("errors") is None, created
    read_only = created["data"]["createApiToken"]["secret"]
    attempts = [
        (CREATE, {"i": {"url": receiver.url(), "eventTypes": ["engagement.opened"]}}),
        ("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", {"id": endpoint_id}),
        ("mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }", {"id": endpoint_id}),
        ('mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, active: false}) '
         '{ id } }', {"id": endpoint_id}),
        (TEST_WEBHOOK, {"id": endpoint_id}),
    ]
    for token, who in ((read_only, "read-only admin token"), (acme.user_token, "plain user")):
        for query, variables in attempts:
            assert refusal(gql(app_client, query, variables, token=token))[0] == (
                "FORBIDDEN"), (who, query)
    (endpoint,) = gql(app_client, "{ webhookEndpoints { id active signingSecretCount } }",
                      token=acme.admin_token)["data"]["webhookEndpoints"]
    assert endpoint == {"id": endpoint_id, "active": True, "signingSecretCount": 1}
