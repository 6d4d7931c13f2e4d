"""Forget hit details (address, user agent) older than each account's retention setting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from sendtrail.tenancy.store import AccountSettingsRow
from sendtrail.tracking.store import EngagementRow

__all__ = ["forget_old_hit_details", "run_retention"]

log = logging.getLogger("sendtrail.retention")
SETTINGS = AccountSettingsRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]


async def forget_old_hit_details(engine: AsyncEngine, *, now: datetime) -> int:
    """Blank the address and user agent of hits past retention; return how many."""
    forgotten = 0
    async with engine.begin() as conn:
        accounts = await conn.execute(
            select(SETTINGS.c.account_id, SETTINGS.c.hit_detail_retention_days)
            .where(SETTINGS.c.hit_detail_retention_days.is_not(None))
        )
        for account_id, days in accounts.all():
            result = await conn.execute(
                update(ENGAGEMENTS)
                .where(ENGAGEMENTS.c.account_id == account_id,
                       ENGAGEMENTS.c.occurred_at < now - timedelta(days=days),
                       or_(ENGAGEMENTS.c.ip.is_not(None), ENGAGEMENTS.c.user_agent.is_not(None)))
                .values(ip=None, user_agent=None)
            )
            forgotten += result.rowcount
    return forgotten


async def run_retention(
    engine: AsyncEngine, *, clock: Callable[[], datetime], interval: float = 3600.0
) -> None:
    """Run ``forget_old_hit_details`` now and then every ``interval`` seconds, forever."""
    while True:
        with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
            count = await forget_old_hit_details(engine, now=clock())
            if count:
                log.info("forgot the details of %d old hits", count)
        await asyncio.sleep(interval)
