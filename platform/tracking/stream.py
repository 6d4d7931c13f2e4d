"""Where stored engagements go: sinks inside the storing transaction, and a live stream.

The ingestion writer calls every ``EventSink`` twice per batch: ``in_transaction`` inside
the transaction that stores the engagements (the webhook outbox and PostgreSQL's
transactional ``NOTIFY`` write there, so they happen exactly when the engagement is
committed), and ``committed`` after the commit (the in-process stream publishes there).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["EngagementEvent", "EngagementStream", "EventSink", "LocalFanout", "LoopBoundSink"]


@dataclass(frozen=True)
class EngagementEvent:
    account_id: uuid.UUID
    engagement_id: uuid.UUID
    email_id: uuid.UUID
    sender_id: uuid.UUID
    type: str
    verdict: str
    attribution: str
    occurred_at: datetime
    notify: bool
    """True for HUMAN hits only (R9, R10); consumers check the account's tracking switch
    (R18) themselves, fresh, when they act on the event."""
    reclassified: bool = False
    """A stored engagement re-judged (a scanner's burst, R11; ``sendtrail reclassify``): it
    was ``previous_verdict``, it is now ``verdict``. Announced so that what its first
    verdict triggered can be undone (R30)."""
    previous_verdict: str = "human"
    """What a reclassified engagement was judged before."""

    def to_json(self) -> dict[str, Any]:
        fields = asdict(self)
        return {
            key: str(value) if isinstance(value, uuid.UUID)
            else value.isoformat() if isinstance(value, datetime) else value
            for key, value in fields.items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngagementEvent:
        return cls(
            account_id=uuid.UUID(data["account_id"]),
            engagement_id=uuid.UUID(data["engagement_id"]),
            email_id=uuid.UUID(data["email_id"]),
            sender_id=uuid.UUID(data["sender_id"]),
            type=str(data["type"]),
            verdict=str(data["verdict"]),
            attribution=str(data["attribution"]),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            notify=bool(data["notify"]),
            reclassified=bool(data.get("reclassified", False)),
            previous_verdict=str(data.get("previous_verdict", "human")),
        )


class EventSink(Protocol):
    async def in_transaction(
        self, conn: AsyncConnection, events: Sequence[EngagementEvent]
    ) -> None: ...

    def committed(self, events: Sequence[EngagementEvent]) -> None: ...


class EngagementStream:
    """This process's live subscribers, each listening for one sender's engagements.

    Events are routed by (account, sender) — a subscriber's queue never holds, and is never
    crowded by, anyone else's events. A slow subscriber loses its oldest events; ingestion
    never waits for it.
    """

    def __init__(self, *, buffer: int = 1000) -> None:
        self._subscribers: dict[tuple[uuid.UUID, uuid.UUID], set[asyncio.Queue[EngagementEvent]]]
        self._subscribers = {}
        self._buffer = buffer

    @property
    def subscriber_count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    def publish(self, events: Sequence[EngagementEvent]) -> None:
        for event in events:
            for queue in self._subscribers.get((event.account_id, event.sender_id), ()):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(event)

    async def subscribe(
        self, account_id: uuid.UUID, sender_id: uuid.UUID
    ) -> AsyncIterator[EngagementEvent]:
        """The engagements of ``sender_id``'s emails in ``account_id``, as they are stored."""
        key = (account_id, sender_id)
        queue: asyncio.Queue[EngagementEvent] = asyncio.Queue(self._buffer)
        self._subscribers.setdefault(key, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            queues = self._subscribers.get(key, set())
            queues.discard(queue)
            if not queues:
                self._subscribers.pop(key, None)


class LocalFanout:
    """The embedded default: events reach the subscribers of this process only."""

    def __init__(self, stream: EngagementStream) -> None:
        self.stream = stream

    async def in_transaction(
        self, conn: AsyncConnection, events: Sequence[EngagementEvent]
    ) -> None:
        return None

    def committed(self, events: Sequence[EngagementEvent]) -> None:
        self.stream.publish([event for event in events if event.notify])


class LoopBoundSink:
    """A sink used by a writer on another thread (the SMTP listener): the transaction part
    runs on the writer's connection, ``committed`` on the loop that owns the inner sink
    (asyncio queues and events are not thread-safe)."""

    def __init__(self, inner: EventSink, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._loop = loop

    async def in_transaction(
        self, conn: AsyncConnection, events: Sequence[EngagementEvent]
    ) -> None:
        await self._inner.in_transaction(conn, events)

    def committed(self, events: Sequence[EngagementEvent]) -> None:
        self._loop.call_soon_threadsafe(self._inner.committed, list(events))
