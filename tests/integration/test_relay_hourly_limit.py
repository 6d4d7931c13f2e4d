"""The relay's hourly send limit is counted in the database, so it holds across nodes: two
relays on one database (two nodes) refuse the user's next message with 451 once the
submissions of the last hour, wherever they were made, reach the limit. Older submissions
and a colleague's do not count. Clear-text AUTH is accepted on a loopback listener. # R26
"""

from __future__ import annotations

import smtplib
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import cast

import pytest
from support import Tenant, run, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.sending.relay import RelayLimits, SubmissionRelay
from sendtrail.sending.service import SendContext
from sendtrail.sending.store import OutgoingMessageRow

LIMIT = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _store_submissions(url: str, tenant: Tenant, user_id: str, *, count: int,
                             age: timedelta) -> None:
    """Submissions as another node stored them (the relay only counts them)."""
    database = Database(url)
    account_id = uuid.UUID(tenant.account_id)
    try:
        async with database.session(account_id=account_id) as session:
            for _ in range(count):
                session.add(OutgoingMessageRow(
                    account_id=account_id, email_id=uuid.uuid4(), sender_id=uuid.UUID(user_id),
                    envelope_from="x@example.test", source="relay", trackability="html",
                    raw=b"Subject: x\r\n\r\nx\r\n", created_at=utcnow() - age,
                ))
            await session.commit()
    finally:
        await database.dispose()


@pytest.fixture
def nodes(database_url: str) -> Iterator[tuple[int, int]]:
    """Two relays on one database, loopback, no TLS (clear AUTH is allowed on loopback)."""
    relays, ports = [], []
    for _ in range(2):
        port = _free_port()
        relay = SubmissionRelay(
            database_url=database_url,
            # Never reached: nothing in this test gets as far as DATA.
            context=cast("SendContext", object()),
            limits=RelayLimits(max_message_bytes=100_000, max_recipients=10,
                               sends_per_hour=LIMIT),
            host="127.0.0.1", port=port, server_name="relay.sendtrail.test", tls=None,
            clock=utcnow,
        )
        relay.start()
        relays.append(relay)
        ports.append(port)
    try:
        yield ports[0], ports[1]
    finally:
        for relay in relays:
            relay.stop()


def _mail_answer(port: int, tenant: Tenant) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.sendtrail.test")
        assert smtp.has_extn("auth")  # offered without TLS: the listener is loopback
        smtp.login(tenant.user_email, tenant.user_token)  # write includes send
        code, _ = smtp.mail(tenant.user_email)
        return code


def test_the_hourly_limit_holds_across_nodes(database_url: str,
                                             nodes: tuple[int, int]) -> None:
    tenant = run(seed_tenant(database_url, f"Relay Limit {uuid.uuid4().hex[:6]}"))
    node_a, node_b = nodes
    run(_store_submissions(database_url, tenant, tenant.user_id, count=LIMIT - 1,
                           age=timedelta(minutes=10)))
    run(_store_submissions(database_url, tenant, tenant.user_id, count=5,
                           age=timedelta(minutes=61)))  # older than an hour: not counted
    run(_store_submissions(database_url, tenant, tenant.admin_id, count=LIMIT,
                           age=timedelta(minutes=1)))  # a colleague's: not counted
    assert _mail_answer(node_a, tenant) == 250
    assert _mail_answer(node_b, tenant) == 250
    # One more, stored by "node B": now both nodes refuse.
    run(_store_submissions(database_url, tenant, tenant.user_id, count=1,
                           age=timedelta(seconds=5)))
    assert _mail_answer(node_a, tenant) == 451
    assert _mail_answer(node_b, tenant) == 451

