"""Live engagement events across server nodes through PostgreSQL LISTEN/NOTIFY.

Why PostgreSQL and not Redis: every node already shares the database, and ``NOTIFY`` sent
inside the transaction that stores the engagements is delivered exactly when (and only
if) that transaction commits — no event is announced that was rolled back, and no extra
service has to run. Live notifications are best effort by design (a socket that is down
misses them; webhooks are the reliable channel), so NOTIFY's lack of persistence is fine.

Each node keeps one listening connection and publishes what arrives to its in-process
``EngagementStream``; the node that stored the hit hears its own NOTIFY too, so it does
not publish locally.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Sequence

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from sendtrail.tracking.stream import EngagementEvent, EngagementStream

__all__ = ["CHANNEL", "PostgresFanout"]

log = logging.getLogger(__name__)

CHANNEL = "sendtrail_engagements"
MAX_PAYLOAD = 7_000
"""PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more: batches are split below it."""
QUIET_CHECK_SECONDS = 30.0


def _chunks(events: Sequence[EngagementEvent]) -> Iterator[str]:
    lines: list[str] = []
    size = 0
    for event in events:
        line = json.dumps(event.to_json(), separators=(",", ":"))
        if lines and size + len(line) + 1 > MAX_PAYLOAD:
            yield "\n".join(lines)
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        yield "\n".join(lines)


def parse_payload(payload: str) -> list[EngagementEvent]:
    events = []
    for line in payload.splitlines():
        try:
            events.append(EngagementEvent.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed engagement notification: %.200s", line)
    return events


class PostgresFanout:
    """An ``EventSink`` announcing stored engagements to every node, and each node's listener."""

    def __init__(self, database_url: str, stream: EngagementStream) -> None:
        self.stream = stream
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def in_transaction(
        self, conn: AsyncConnection, events: Sequence[EngagementEvent]
    ) -> None:
        # Only what may notify someone crosses nodes (MACHINE and SELF hits never do).
        for payload in _chunks([event for event in events if event.notify]):
            await conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": CHANNEL, "payload": payload})

    def committed(self, events: Sequence[EngagementEvent]) -> None:
        return None  # every node, this one included, hears the NOTIFY

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="sendtrail-fanout")
        try:
            # Serve only once listening, so a subscriber never misses a hit of the first second.
            await asyncio.wait_for(self._listening.wait(), timeout=10)
        except TimeoutError:
            log.warning("not yet listening for engagements from other nodes; retrying")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True, connect_timeout=10,
                    # A partition that never resets the connection is noticed, not waited on.
                    keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    delay = 0.5
                    while True:
                        async for notice in conn.notifies(timeout=QUIET_CHECK_SECONDS):
                            self.stream.publish(parse_payload(notice.payload))
                        await conn.execute("SELECT 1")  # quiet for a while: still connected?
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database restarts; live events resume after
                self._listening.clear()
                log.warning("engagement listener lost its connection (%s); reconnecting",
                            type(error).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
