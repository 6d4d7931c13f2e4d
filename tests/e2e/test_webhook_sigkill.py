"""A `sendtrail serve` killed with SIGKILL while webhooks are in flight loses none: after a
restart every event reaches the receiver with a 2xx, always under one webhook-id, and
nothing is left pending (real processes, PostgreSQL, a slow receiver on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from e2e.processes import SENDTRAIL, Server

EVENTS = 40
HOLD_SECONDS = 1.0
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) { messages { html } } }"""
CREATE = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  secret endpoint { id } } }"""


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many deliveries connect at once: accept them all
    daemon_threads = True


class SlowReceiver:
    """Holds every request HOLD_SECONDS, then answers 200; remembers what it saw."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.answered: list[tuple[str, str]] = []
        """(webhook-id, engagement id) of requests answered 200 (written out in full)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                webhook_id = self.headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.started.append(webhook_id)
                time.sleep(HOLD_SECONDS)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.wfile.flush()
                except OSError:
                    return  # the sender is gone (killed): this one was not delivered
                engagement = json.loads(body)["data"]["engagementId"]
                with receiver.lock:
                    receiver.answered.append((webhook_id, engagement))

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def in_flight(self) -> int:
        with self.lock:
            return len(self.started) - len(self.answered)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    server = SlowReceiver()
    yield server
    server.close()



def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "SENDTRAIL_DATABASE_URL": database_url, "PYTHONSAFEPATH": "1",
            "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SMTP_PORT": "0",
            "SENDTRAIL_WEBHOOK_DISPATCHER": "true", "SENDTRAIL_WEBHOOK_ALLOW_LOOPBACK": "true",
            "SENDTRAIL_WEBHOOK_TIMEOUT": "2"}


def _graphql(server: Server, token: str, query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(f"{server.base_url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


def _messages(database_url: str, endpoint_id: str) -> list[tuple[str, str, str]]:
    """(webhook-id, status, engagement id) of every message queued for the endpoint."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT id, status, payload->'data'->>'engagementId' FROM webhook_message "
            "WHERE endpoint_id = %s", (endpoint_id,))
        return [(row[0], row[1], row[2]) for row in rows]


def test_sigkill_mid_delivery_loses_no_webhook(
    postgres_url: str, tmp_path: Path, stopped: list[Server], receiver: SlowReceiver
) -> None:
    env = _env(postgres_url, tmp_path)
    subprocess.run([SENDTRAIL, "migrate"], env=env, check=True, capture_output=True)
    demo = subprocess.run([SENDTRAIL, "demo"], env=env, check=True, capture_output=True,
                          text=True)
    (token,) = [line.split(": ", 1)[1] for line in demo.stdout.splitlines()
                if line.startswith("token: ")]
    server = Server(env)
    stopped.append(server)
    server.start()
    endpoint_id = _graphql(server, token, CREATE, {"i": {
        "url": receiver.url, "eventTypes": ["engagement.opened"],
        "includeNonHuman": True,  # every hit counts, however soon after sending it comes
    }})["createWebhookEndpoint"]["endpoint"]["id"]
    html = _graphql(server, token, PREPARE, {"i": {
        "subject": "Webhooks", "html": "<p>hi</p>", "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": "w@client.test"}]}})["prepareEmail"]["messages"][0]["html"]
    match = re.search(r'src="https?://[^/"]+(/o/[^"]+\.gif)"', html)
    assert match, html
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for n in range(EVENTS):  # each open is an engagement (R8), each queues a message
            assert client.get(match.group(1), headers={"User-Agent": f"hook-{n}"}).status_code \
                == 200

    deadline = time.monotonic() + 10
    while receiver.in_flight() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    in_flight = receiver.in_flight()
    assert in_flight >= 5, f"deliveries did not start: {server.logs()}"
    server.kill(signal.SIGKILL)  # with requests held open by the receiver
    server.start()

    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        messages = _messages(postgres_url, endpoint_id)
        if len(messages) == EVENTS and all(status == "delivered" for _, status, _ in messages):
            break
        time.sleep(0.25)
    server.kill(signal.SIGTERM)

    messages = _messages(postgres_url, endpoint_id)
    assert len(messages) == EVENTS, f"{len(messages)} messages queued for {EVENTS} events"
    statuses = {status for _, status, _ in messages}
    assert statuses == {"delivered"}, (statuses, server.logs())
    ids_per_event: dict[str, set[str]] = {}
    for webhook_id, _, engagement in messages:
        ids_per_event.setdefault(engagement, set()).add(webhook_id)
    assert len(ids_per_event) == EVENTS
    with receiver.lock:
        answered = list(receiver.answered)
    for webhook_id, engagement in answered:
        ids_per_event.setdefault(engagement, set()).add(webhook_id)
    assert all(len(ids) == 1 for ids in ids_per_event.values()), \
        "an event was sent under two webhook-ids"
    with receiver.lock:
        sent_again = [i for i, count in Counter(receiver.started).items() if count > 1]
    assert sent_again, "what was in flight at the kill must be sent again (same webhook-id)"
    delivered_ids = {webhook_id for webhook_id, _ in answered}
    assert delivered_ids == {webhook_id for webhook_id, _, _ in messages}, \
        "some webhook-id never reached the receiver with a 2xx"
