"""Planner statistics for SQLite, which keeps none unless asked (PostgreSQL's autovacuum
analyzes on its own).

Without statistics SQLite cannot tell a contact's ten engagements from an account's
hundreds of thousands of HUMAN ones: both filters look like "two equal columns of an
index", and it may walk the wrong index (measured with 300,000 engagements: a contact's
page 470 ms on the verdict index, 5 ms on the contact's own after ``ANALYZE``).

- ``analyze`` runs a full ``ANALYZE`` when the app starts, before any background writer:
  about half a second per 300,000 engagements, paid once while nothing waits for the
  database's one write lock. A sampled one (``analysis_limit``) was tried and rejected:
  it reads the first rows of each index, so a column with few values (the sender, the
  verdict) looks as unselective as the whole table.
- ``keep_statistics`` runs ``PRAGMA optimize`` every few hours, SQLite's advice for
  long-lived connections: a no-op unless a table the connection queried has grown many
  times over since its statistics were taken, and then it analyzes that table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["analyze", "keep_statistics"]

log = logging.getLogger("sendtrail.db.statistics")
OPTIMIZE_EVERY = 6 * 3600.0


async def analyze(engine: AsyncEngine) -> None:
    """Gather SQLite's planner statistics for every table (nothing to do on PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    except (SQLAlchemyError, OSError, TimeoutError) as error:  # slower reads, never no start
        log.warning("ANALYZE failed, the planner has no fresh statistics: %s", error)


async def keep_statistics(engine: AsyncEngine, *, interval: float = OPTIMIZE_EVERY) -> None:
    """Every ``interval`` seconds, let SQLite refresh statistics that went stale; forever."""
    if engine.dialect.name != "sqlite":
        return
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
            async with engine.begin() as conn:
                await conn.exec_driver_sql("PRAGMA optimize")
            log.debug("PRAGMA optimize done")
