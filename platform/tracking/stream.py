"""In-process stream of stored engagements (the notifications issue fans it out)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["EngagementEvent", "EngagementStream"]


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
    """False when tracking is off for the account now (R18) or the hit is not HUMAN."""


class EngagementStream:
    """Fan-out to subscribers; a slow subscriber loses old events, never blocks ingestion."""

    def __init__(self, *, buffer: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[EngagementEvent]] = set()
        self._buffer = buffer

    def publish(self, events: Sequence[EngagementEvent]) -> None:
        for queue in self._subscribers:
            for event in events:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[EngagementEvent]:
        queue: asyncio.Queue[EngagementEvent] = asyncio.Queue(self._buffer)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)
