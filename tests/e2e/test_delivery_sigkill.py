"""A `sendtrail serve` killed with SIGKILL while copies are being delivered loses none (R27).

Real processes on PostgreSQL, and an upstream mail server on 127.0.0.1 that holds every
DATA for a moment before its 250, so the kill falls among deliveries in flight. After a
restart every copy reaches the upstream and is recorded as sent; a copy arrives twice only
when the kill fell between the upstream's 250 and the worker recording it — the test counts
(Message-ID, recipient) pairs at the upstream and reports how often that window was hit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from components import free_port
from e2e.processes import SENDTRAIL, Server

EMAILS = 8
RECIPIENTS = ("ann@client.test", "ben@client.test", "cy@client.test")
HOLD_SECONDS = 0.4
SEND = """mutation($i: SendEmailInput!) { sendEmail(input: $i) { email { id } } }"""


class SlowUpstream:
    """Accepts every message after HOLD_SECONDS; counts copies per (Message-ID, recipient)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = 0
        self.accepted: Counter[tuple[str, str]] = Counter()
        upstream = self

        class Handler:
            async def handle_DATA(self, server: SMTP, session: Session,
                                  envelope: Envelope) -> str:
                with upstream.lock:
                    upstream.started += 1
                await asyncio.sleep(HOLD_SECONDS)
                content = envelope.original_content or b""
                message_id = next(
                    (line.split(b":", 1)[1].strip().decode() for line in content.splitlines()
                     if line.lower().startswith(b"message-id:")), "")
                with upstream.lock:
                    for recipient in envelope.rcpt_tos:
                        upstream.accepted[(message_id, recipient)] += 1
                return "250 2.0.0 queued"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def copies(self) -> int:
        with self.lock:
            return sum(self.accepted.values())

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def upstream() -> Iterator[SlowUpstream]:
    server = SlowUpstream()
    yield server
    server.close()


def _graphql(server: Server, token: str, query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(f"{server.base_url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


def _statuses(database_url: str, account_id: str) -> Counter[str]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT status FROM delivery WHERE account_id = %s AND kind = "
                            "'recipient'", (account_id,))
        return Counter(row[0] for row in rows)


def _attempts(database_url: str, account_id: str) -> list[tuple[int, str | None]]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT attempts, last_error FROM delivery WHERE account_id = %s",
                            (account_id,))
        return [(row[0], row[1]) for row in rows]


def test_sigkill_mid_delivery_loses_no_copy(
    postgres_url: str, tmp_path: Path, stopped: list[Server], upstream: SlowUpstream
) -> None:
    env = {**os.environ, "SENDTRAIL_DATABASE_URL": postgres_url, "PYTHONSAFEPATH": "1",
           "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": "0",
           "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE": "true", "SENDTRAIL_DELIVERY_TIMEOUT": "2",
           "SENDTRAIL_DELIVERY_RETRY": "1,1,1,1,1"}
    subprocess.run([SENDTRAIL, "migrate"], env=env, check=True, capture_output=True)
    demo = subprocess.run([SENDTRAIL, "demo"], env=env, check=True, capture_output=True,
                          text=True)
    (token,) = [line.split(": ", 1)[1] for line in demo.stdout.splitlines()
                if line.startswith("token: ")]
    with psycopg.connect(postgres_url, connect_timeout=5) as conn:
        (account_id,) = conn.execute("SELECT id FROM account WHERE slug = 'demo'").fetchone() \
            or ("",)
        account_id = str(account_id)
        # The account's own mail server: the plain SMTP on loopback the operator allowed.
        conn.execute(
            "INSERT INTO outbound_mail (account_id, host, port, security, upstream_files_sent, "
            "per_user_logins, updated_at) VALUES (%s, '127.0.0.1', %s, 'none', false, false, "
            "now()) ON CONFLICT (account_id) DO UPDATE SET host = EXCLUDED.host, "
            "port = EXCLUDED.port, security = 'none', username = NULL, "
            "password_encrypted = NULL, imap_host = NULL, per_user_logins = false",
            (account_id, upstream.port))
        conn.execute("DELETE FROM delivery WHERE account_id = %s", (account_id,))
    server = Server(env)
    stopped.append(server)
    server.start()
    for n in range(EMAILS):
        _graphql(server, token, SEND, {"i": {
            "to": list(RECIPIENTS), "subject": f"Offer {n}", "html": f"<p>Offer {n}</p>",
            "log": False}})

    deadline = time.monotonic() + 20
    while upstream.started < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.started >= 4, f"deliveries did not start: {server.logs()}"
    server.kill(signal.SIGKILL)  # with DATA held open by the upstream
    with upstream.lock:  # begun, not yet answered: the upstream still takes them (250)
        in_flight = upstream.started - sum(upstream.accepted.values())
    server.start()

    wanted = EMAILS * len(RECIPIENTS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _statuses(postgres_url, account_id) == Counter({"sent": wanted}):
            break
        time.sleep(0.25)
    server.kill(signal.SIGTERM)

    assert _statuses(postgres_url, account_id) == Counter({"sent": wanted}), server.logs()
    with upstream.lock:
        accepted = dict(upstream.accepted)
    assert len(accepted) == wanted  # every copy arrived: EMAILS times recipients
    assert {recipient for _, recipient in accepted} == set(RECIPIENTS)
    twice = [pair for pair, count in accepted.items() if count > 1]
    assert all(count <= 2 for count in accepted.values()), (
        sorted(accepted.values()), _attempts(postgres_url, account_id), server.logs()[-3000:])
    # Only what was in flight at the kill can have been sent again.
    assert len(twice) <= in_flight
    print(f"\nSIGKILL with {in_flight} copies in flight: {len(twice)} of them had been "
          f"accepted upstream but not recorded, and were sent twice")
