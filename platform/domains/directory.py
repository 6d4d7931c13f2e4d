"""Which account owns which custom tracking hostname, in memory for the tracking hot path.

The pixel and click endpoints ask for every hit, so the answer is a dict lookup; the map
is reloaded from the database every few seconds (a new domain is only used in emails
once it is ACTIVE, minutes after it was added, so a few seconds of staleness is harmless).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sendtrail.domains.store import TrackingDomainRow

__all__ = ["DomainDirectory"]

log = logging.getLogger(__name__)
DOMAINS = TrackingDomainRow.__table__  # type: ignore[attr-defined]


class DomainDirectory:
    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float = 5.0) -> None:
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._owners: dict[str, uuid.UUID] = {}
        self._task: asyncio.Task[None] | None = None

    def owner(self, host: str) -> uuid.UUID | None:
        return self._owners.get(host)

    async def refresh(self) -> None:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(DOMAINS.c.hostname, DOMAINS.c.account_id))).all()
        self._owners = {row.hostname: row.account_id for row in rows}

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._refresh_forever(), name="sendtrail-domains")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.refresh()
            except Exception:  # keep the last map; the database comes back
                log.warning("could not reload the custom tracking domains", exc_info=True)
