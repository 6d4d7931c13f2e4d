"""Live notifications across nodes (issue 5): a real graphql-ws client (node) subscribed on
node B hears, within a second, a person's hit on node A — two real `sendtrail serve`
processes on one PostgreSQL database, fanned out through LISTEN/NOTIFY. Machine, self,
colleagues', other tenants' and tracking-off hits never arrive; a foreign Origin, a
missing or wrong token and a token asking for another tenant's stream get the socket closed.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from e2e.processes import Server, Subscriber, _free_port
from support import Tenant, run, seed_tenant

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"  # a security_scanner row: MACHINE
ALLOWED_ORIGIN = "https://admin.sendtrail.test"
SECRET = "live-notifications-e2e-secret-key-0123456789"
TOO_SOON = 2.5
"""Hits within 2 s of preparing are MACHINE (classify.TOO_SOON): positive hits wait longer."""
LATENCY = 1.0
QUIET = 2.0
"""How long the negative hits get to (not) arrive, counted from the last of them."""
HTML = '<p>Hi,</p><p>See <a href="https://shop.test/pricing">our pricing</a>.</p>'
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  clickTracking email { id } messages { recipients html } senderCopy { html } } }"""


@dataclass
class Cluster:
    a: Server
    b: Server
    database_url: str
    acme: Tenant
    """The subscriber is ``acme.user`` (on a paid seat); ``acme.admin`` is a colleague."""
    other: Tenant

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.b.port}/graphql"


def _node_env(database_url: str, data_dir: Path, port: int, tracking_url: str) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": database_url,
            "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SECRET_KEYS": SECRET,
            "SENDTRAIL_SMTP_PORT": "0", "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SENDTRAIL_TRACKING_BASE_URL": tracking_url,
            "SENDTRAIL_ALLOWED_ORIGINS": ALLOWED_ORIGIN}


@pytest.fixture(scope="module")
def cluster(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Node A (takes the pixel hits) and node B (holds the sockets) on one database."""
    root = tmp_path_factory.mktemp("live-notifications")
    port_a, port_b = _free_port(), _free_port()
    tracking_url = f"http://127.0.0.1:{port_a}"  # prepared pixels and links point at node A
    a = Server(_node_env(postgres_url, root / "node-a", port_a, tracking_url), port=port_a)
    b = Server(_node_env(postgres_url, root / "node-b", port_b, tracking_url), port=port_b)
    suffix = uuid.uuid4().hex[:8]
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()
        acme = run(seed_tenant(postgres_url, f"Live {suffix}"))
        other = run(seed_tenant(postgres_url, f"Elsewhere {suffix}"))
        seat = _gql(a, acme.admin_token, "mutation($id: ID!) { updateUser(input: "
                    "{id: $id, seat: SALES_STARTER}) { seat } }", {"id": acme.user_id})
        assert seat["updateUser"]["seat"] == "SALES_STARTER"  # clicks notify paid seats only
        yield Cluster(a, b, postgres_url, acme, other)
    finally:
        for server in (a, b):
            server.kill(signal.SIGTERM)


@pytest.fixture
def subscribers(wsclient: Path, tmp_path: Path) -> Iterator[Callable[..., Subscriber]]:
    """Start node clients (``start(url, token=..., account=..., origin=...)``); all are
    stopped at the end of the test."""
    started: list[Subscriber] = []

    def start(url: str, **options: Any) -> Subscriber:
        subscriber = Subscriber(wsclient, url, tmp_path, **options)
        started.append(subscriber)
        return subscriber

    try:
        yield start
    finally:
        for subscriber in started:
            subscriber.stop()


def _diagnosis(cluster: Cluster, *subscribers: Subscriber) -> str:
    """What the clients printed and what the servers logged (shown only when an assert fails)."""
    parts = [subscriber.report() for subscriber in subscribers]
    parts += [f"node A:\n{cluster.a.logs()[-6000:]}", f"node B:\n{cluster.b.logs()[-6000:]}"]
    return "\n\n".join(parts)


# --- HTTP helpers ------------------------------------------------------------------------------


def _gql(server: Server, token: str, query: str, variables: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    answer = httpx.post(f"{server.base_url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables or {}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


@dataclass(frozen=True)
class Prepared:
    email_id: str
    subject: str
    pixels: dict[str, str]
    """Pixel URL per recipient address; ``"self"`` is the sender's own copy."""
    links: dict[str, str]


def _prepare(server: Server, token: str, subject: str, *addresses: str) -> Prepared:
    data = _gql(server, token, PREPARE, {"i": {
        "subject": subject, "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": address} for address in addresses]}})["prepareEmail"]
    pixels, links = {"self": _pixel(data["senderCopy"]["html"])}, {}
    for message in data["messages"]:
        (address,) = message["recipients"]
        pixels[address] = _pixel(message["html"])
        found = re.findall(r'href="(https?://[^"]+/c/[^"]+)"', message["html"])
        if found:
            links[address] = found[0]
    return Prepared(data["email"]["id"], subject, pixels, links)


def _pixel(html: str) -> str:
    match = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', html)
    assert match, html
    return match.group(1)


def _hit(url: str, user_agent: str = CHROME) -> float:
    """GET a pixel or link the way a mail client would; returns when the answer came."""
    answer = httpx.get(url, headers={"User-Agent": user_agent}, follow_redirects=False,
                       timeout=10)
    assert answer.status_code in (200, 302), (url, answer.status_code, answer.text[:200])
    return time.monotonic()


def _verdict(database_url: str, user_agent: str, seconds: float = 5) -> str:
    """The verdict of the hit made with this (unique) user agent, once node A stored it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            row = conn.execute("SELECT verdict FROM engagement WHERE user_agent = %s",
                               (user_agent,)).fetchone()
        if row is not None:
            return str(row[0])
        time.sleep(0.05)
    raise AssertionError(f"the hit with user agent {user_agent!r} was never stored")


def _set_tracking(cluster: Cluster, enabled: bool) -> None:
    data = _gql(cluster.a, cluster.acme.admin_token, "mutation($on: Boolean!) { "
                "updateAccountSettings(input: {trackingEnabled: $on}) { "
                "settings { trackingEnabled } } }", {"on": enabled})
    assert data["updateAccountSettings"]["settings"]["trackingEnabled"] is enabled


def _connected(cluster: Cluster, subscriber: Subscriber) -> None:
    found = subscriber.wait_for(lambda e: e["event"] in {"connected", "closed", "exit"}, 15)
    assert found is not None, _diagnosis(cluster, subscriber)
    assert found[1]["event"] == "connected", _diagnosis(cluster, subscriber)


# --- tests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Emails:
    own: Prepared
    """The subscriber's email to ann (positive), bob, fay and the sender's own copy."""
    while_off: Prepared
    """The subscriber's email to eve, opened while the account's tracking is off."""
    colleagues: Prepared
    """The admin's email to carl (same account, another sender)."""
    other_tenants: Prepared
    """Another account's user's email to dan."""
    prepared_at: float

    def wait_until_hits_count(self) -> None:
        time.sleep(max(0.0, self.prepared_at + TOO_SOON - time.monotonic()))


@pytest.fixture(scope="module")
def emails(cluster: Cluster) -> Emails:
    """Prepared once, through both nodes, so the positive hits wait out TOO_SOON once."""
    acme, other, a, b = cluster.acme, cluster.other, cluster.a, cluster.b
    own = _prepare(b, acme.user_token, "Pricing for you", "ann@client.test",
                   "bob@client.test", "fay@client.test")
    assert set(own.links) == {"ann@client.test", "bob@client.test", "fay@client.test"}
    prepared = Emails(
        own=own,
        while_off=_prepare(a, acme.user_token, "Sent before the switch", "eve@client.test"),
        colleagues=_prepare(a, acme.admin_token, "The admin's own", "carl@client.test"),
        other_tenants=_prepare(a, other.user_token, "Another tenant's", "dan@client.test"),
        prepared_at=time.monotonic(),
    )
    for email in (prepared.own, prepared.while_off, prepared.colleagues, prepared.other_tenants):
        assert all(url.startswith(cluster.a.base_url) for url in email.pixels.values()), email
    return prepared


def _notification(who: str, kind: str) -> Callable[[dict[str, Any]], bool]:
    def wanted(event: dict[str, Any]) -> bool:
        note = (event.get("data") or {}).get("engagementNotifications") or {}
        return event["event"] == "next" and note.get("who") == who and note.get("type") == kind
    return wanted


def test_open_and_click_on_node_a_reach_the_senders_socket_on_node_b_within_a_second(
    cluster: Cluster, emails: Emails, subscribers: Callable[..., Subscriber]
) -> None:
    sender = subscribers(cluster.socket_url, token=cluster.acme.user_token)
    _connected(cluster, sender)
    emails.wait_until_hits_count()
    ann, own = "ann@client.test", emails.own

    for kind, url in (("OPEN", own.pixels[ann]), ("CLICK", own.links[ann])):
        mark = len(sender.events)
        answered = _hit(url)
        found = sender.wait_for(_notification(ann, kind), 5, after=mark)
        assert found is not None, f"no {kind} notification\n{_diagnosis(cluster, sender)}"
        latency = found[0] - answered
        assert latency < LATENCY, f"{kind} took {latency:.3f} s\n{_diagnosis(cluster, sender)}"
        note = found[1]["data"]["engagementNotifications"]
        assert note["emailId"] == own.email_id
        assert note["emailSubject"] == own.subject
        assert ann in note["message"]
        assert own.subject in note["message"]
        assert note["id"]
        assert note["occurredAt"]
        assert note["linkUrl"] == ("https://shop.test/pricing" if kind == "CLICK" else None)
    assert [n["type"] for n in sender.notifications()] == ["OPEN", "CLICK"], (
        _diagnosis(cluster, sender))


def test_machine_self_colleagues_other_tenants_and_tracking_off_hits_never_arrive(
    cluster: Cluster, emails: Emails, subscribers: Callable[..., Subscriber]
) -> None:
    sender = subscribers(cluster.socket_url, token=cluster.acme.user_token)
    # The colleague and the other tenant hear their own hits: those hits did notify someone.
    colleague = subscribers(cluster.socket_url, token=cluster.acme.admin_token)
    stranger = subscribers(cluster.socket_url, token=cluster.other.user_token)
    for subscriber in (sender, colleague, stranger):
        _connected(cluster, subscriber)
    emails.wait_until_hits_count()
    mark = len(sender.events)

    tag = uuid.uuid4().hex[:8]  # each hit's user agent is unique, to find its verdict
    negatives = {  # user agent -> (pixel, verdict the hit must get)
        f"{SCANNER} machine-{tag}": (emails.own.pixels["bob@client.test"], "machine"),  # R10
        f"{CHROME} self-{tag}": (emails.own.pixels["self"], "self"),  # the sender's copy: R9
        f"{CHROME} colleague-{tag}": (emails.colleagues.pixels["carl@client.test"], "human"),
        f"{CHROME} stranger-{tag}": (emails.other_tenants.pixels["dan@client.test"], "human"),
    }
    for agent, (pixel, _) in negatives.items():
        _hit(pixel, agent)
    # Tracking off is honoured when a hit is derived, a moment after its answer: the hits
    # above are derived while tracking is still on.
    for agent, (_, verdict) in negatives.items():
        assert _verdict(cluster.database_url, agent) == verdict
    _set_tracking(cluster, enabled=False)  # R18
    try:
        agent = f"{CHROME} tracking-off-{tag}"
        _hit(emails.while_off.pixels["eve@client.test"], agent)
        negatives[agent] = ("", "human")  # only the switch keeps it from notifying
        assert _verdict(cluster.database_url, agent) == "human"
        time.sleep(LATENCY)  # more than a notification takes to arrive
    finally:
        _set_tracking(cluster, enabled=True)
    last_negative = time.monotonic()
    _hit(emails.own.pixels["fay@client.test"])  # the control, after all of them

    arrived = sender.wait_for(_notification("fay@client.test", "OPEN"), 5, after=mark)
    assert arrived is not None, f"the control never arrived\n{_diagnosis(cluster, sender)}"
    for subscriber, who in ((colleague, "carl@client.test"), (stranger, "dan@client.test")):
        heard = subscriber.wait_for(_notification(who, "OPEN"), 5)
        assert heard is not None, _diagnosis(cluster, subscriber)
    time.sleep(max(LATENCY / 2, last_negative + QUIET - time.monotonic()))
    assert [n["who"] for n in sender.notifications(after=mark)] == ["fay@client.test"], (
        _diagnosis(cluster, sender))
    assert [n["who"] for n in colleague.notifications()] == ["carl@client.test"]
    assert [n["who"] for n in stranger.notifications()] == ["dan@client.test"]
    verdicts = {agent: _verdict(cluster.database_url, agent) for agent in negatives}
    assert verdicts == {agent: verdict for agent, (_, verdict) in negatives.items()}


REFUSED = {
    "foreign origin": 403,
    "missing token": 4403,
    "wrong token": 4403,
    "another tenant's stream": 4403,
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_socket_is_closed_and_hears_nothing(
    cluster: Cluster, subscribers: Callable[..., Subscriber], case: str
) -> None:
    options: dict[str, Any] = {
        "foreign origin": {"token": cluster.acme.user_token, "origin": "http://evil.test"},
        "missing token": {},
        "wrong token": {"token": "st_" + "x" * 38},
        "another tenant's stream": {"token": cluster.acme.user_token,
                                    "account": cluster.other.account_id},
    }[case]
    client = subscribers(cluster.socket_url, **options)
    ended = client.wait_for(lambda e: e["event"] == "exit", 15)
    assert ended is not None, _diagnosis(cluster, client)
    kinds = client.kinds()
    assert "connected" not in kinds, _diagnosis(cluster, client)
    assert "next" not in kinds, _diagnosis(cluster, client)
    closed = [event for _, event in client.events if event["event"] == "closed"]
    assert len(closed) == 1, _diagnosis(cluster, client)
    if REFUSED[case] == 403:  # refused at the handshake: no WebSocket at all
        assert "opened" not in kinds, _diagnosis(cluster, client)
        assert any(event.get("status") == 403 for _, event in client.events), (
            _diagnosis(cluster, client))
    else:  # the same answer whatever was wrong: no oracle for tokens or account ids
        assert (closed[0]["code"], closed[0]["reason"]) == (4403, "Forbidden"), (
            _diagnosis(cluster, client))


@pytest.mark.parametrize("case", ["own origin", "allowed origin", "own account"])
def test_accepted_socket_connects(
    cluster: Cluster, subscribers: Callable[..., Subscriber], case: str
) -> None:
    """The controls for the refusals above: only what was wrong there gets a socket refused."""
    options: dict[str, Any] = {
        "own origin": {"origin": cluster.b.base_url},
        "allowed origin": {"origin": ALLOWED_ORIGIN},
        "own account": {"account": cluster.acme.account_id},
    }[case]
    _connected(cluster, subscribers(cluster.socket_url, token=cluster.acme.user_token,
                                    **options))
