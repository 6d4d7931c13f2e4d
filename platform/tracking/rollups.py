"""Engagement rollups: how many engagements share an account, hour, email, sender, link,
type and verdict, kept in step with the engagements in their own transaction.

Whoever stores engagements hands their changes over as ``RollupDelta`` values: +1 for each
newly stored row, and for a stored row whose verdict changes -1 with its old values and +1
with its new ones. ``apply_rollup_deltas`` folds them per key in Python, then runs one cached
``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` for all keys (executemany), on
SQLite and PostgreSQL alike, per grain: the hourly rollups (per email and link), the same
summed per UTC day (what a report ranks emails and links by over weeks: a day is one row
instead of 24), and summed over emails and links per hour (the report's time series). Reports
read the rollups instead of scanning every engagement
(``tracking/reports.py``); no recipient, contact, address or user agent is in them, so they
outlive the details retention forgets and serve privacy's aggregate purpose (R28).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Delete, Insert, Integer, Table, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from sendtrail.db.timeslots import epoch_slot
from sendtrail.tracking.store import (
    NO_LINK,
    EngagementDayRollupRow,
    EngagementRollupRow,
    EngagementRow,
    EngagementSeriesRollupRow,
)

__all__ = [
    "ROLLUP_SECONDS",
    "RollupDelta",
    "apply_rollup_deltas",
    "hour_of",
    "rebuild_rollups",
    "rollup_delta",
]

ROLLUPS = EngagementRollupRow.__table__  # type: ignore[attr-defined]
DAY_ROLLUPS = EngagementDayRollupRow.__table__  # type: ignore[attr-defined]
SERIES_ROLLUPS = EngagementSeriesRollupRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
ROLLUP_SECONDS = 3600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = timedelta(seconds=ROLLUP_SECONDS)
HOURS_PER_DAY = 24
_KEY = ("account_id", "hour", "email_id", "sender_id", "link_idx", "type", "verdict",
        "counts_in_reports", "sender_copy", "inferred")
_DAY_KEY = ("account_id", "day", "email_id", "sender_id", "link_idx", "type",
            "counts_in_reports")
_SERIES_KEY = ("account_id", "hour", "sender_id", "type", "verdict", "counts_in_reports")


@dataclass(frozen=True, slots=True)
class RollupDelta:
    account_id: uuid.UUID
    email_id: uuid.UUID
    sender_id: uuid.UUID
    link_idx: int | None
    occurred_at: datetime
    """The rollup hour is derived from this (UTC)."""
    type: str
    """``open`` | ``click`` (``reply`` too: every engagement is in one rollup row)."""
    verdict: str
    counts_in_reports: bool
    sender_copy: bool
    inferred: bool
    change: int
    """+1 a newly stored engagement; -1 one reclassified away."""


def hour_of(at: datetime) -> int:
    """The whole UTC hours since the epoch before ``at`` (what SQL's ``epoch_slot`` gives)."""
    if at.tzinfo is None:
        raise ValueError("engagement times are timezone-aware")
    return (at - _EPOCH) // _HOUR


def rollup_delta(row: Mapping[str, Any], change: int) -> RollupDelta:
    """The delta of an engagement row (a dict with the ``engagement`` table's columns)."""
    return RollupDelta(
        account_id=row["account_id"], email_id=row["email_id"], sender_id=row["sender_id"],
        link_idx=row.get("link_idx"), occurred_at=row["occurred_at"], type=row["type"],
        verdict=row["verdict"], counts_in_reports=bool(row["counts_in_reports"]),
        sender_copy=bool(row.get("sender_copy", False)),
        inferred=bool(row.get("inferred", False)), change=change,
    )


@dataclass(frozen=True)
class _Grain:
    table: Table
    key: tuple[str, ...]
    key_of: Callable[[RollupDelta], tuple[Any, ...]]

    def insert(self, dialect: str) -> Any:
        insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(self.table)
        return insert.on_conflict_do_update(
            index_elements=list(self.key), set_={"n": self.table.c.n + insert.excluded.n})


def _link(delta: RollupDelta) -> int:
    return NO_LINK if delta.link_idx is None else delta.link_idx


_GRAINS = (
    _Grain(ROLLUPS, _KEY, lambda d: (
        d.account_id, hour_of(d.occurred_at), d.email_id, d.sender_id, _link(d), d.type,
        d.verdict, d.counts_in_reports, d.sender_copy, d.inferred)),
    _Grain(DAY_ROLLUPS, _DAY_KEY, lambda d: (
        d.account_id, hour_of(d.occurred_at) // HOURS_PER_DAY, d.email_id, d.sender_id,
        _link(d), d.type, d.counts_in_reports)),
    _Grain(SERIES_ROLLUPS, _SERIES_KEY, lambda d: (
        d.account_id, hour_of(d.occurred_at), d.sender_id, d.type, d.verdict,
        d.counts_in_reports)),
)
# Built once per dialect: the same statement object keeps its compiled form cached.
_STATEMENTS = {(grain.table.name, dialect): grain.insert(dialect)
               for grain in _GRAINS for dialect in ("postgresql", "sqlite")}


async def apply_rollup_deltas(conn: AsyncConnection, deltas: Sequence[RollupDelta]) -> None:
    """Add ``deltas`` to the rollups of every grain, inside the caller's transaction."""
    for grain in _GRAINS:
        totals: dict[tuple[Any, ...], int] = defaultdict(int)
        for delta in deltas:
            totals[grain.key_of(delta)] += delta.change
        # One row per key (PostgreSQL refuses to update a row twice in one statement), in
        # key order, so that two transactions touching the same rows lock them in the same
        # order.
        rows = [{**dict(zip(grain.key, key, strict=True)), "n": n}
                for key, n in sorted(totals.items()) if n]
        if rows:
            await conn.execute(_STATEMENTS[(grain.table.name, conn.dialect.name)], rows)


def rebuild_rollups(account_id: uuid.UUID) -> tuple[Delete | Insert, ...]:
    """Statements that count an account's stored engagements into its rollups afresh, for
    engagements written in bulk without deltas (a benchmark's data set, an import). Run
    them in order in one transaction while nothing else stores engagements for the
    account. Counts whose engagements are gone (erased contacts, details folded away) are
    lost."""
    e = ENGAGEMENTS.c
    # Literals, not parameters: PostgreSQL must see the same expressions in SELECT and GROUP BY.
    key = (e.account_id, epoch_slot(e.occurred_at, ROLLUP_SECONDS), e.email_id, e.sender_id,
           func.coalesce(e.link_idx, literal_column(str(NO_LINK))), e.type, e.verdict,
           e.counts_in_reports, e.sender_copy, e.inferred)
    counted = select(*key, func.count()).where(e.account_id == account_id).group_by(*key)
    return (
        *(delete(grain.table).where(grain.table.c.account_id == account_id)
          for grain in _GRAINS),
        ROLLUPS.insert().from_select([*_KEY, "n"], counted),
        *summed_rollups(ROLLUPS.c.account_id == account_id),
    )


def summed_rollups(which: Any) -> tuple[Insert, Insert]:
    """Statements that fill the daily and the series rollups from the hourly ones selected
    by ``which`` (a rebuild, and migration 0012's backfill)."""
    r = ROLLUPS.c
    day = (r.account_id, r.hour // literal_column(str(HOURS_PER_DAY), Integer()), r.email_id,
           r.sender_id, r.link_idx, r.type, r.counts_in_reports)
    series = (r.account_id, r.hour, r.sender_id, r.type, r.verdict, r.counts_in_reports)
    return (
        DAY_ROLLUPS.insert().from_select(
            [*_DAY_KEY, "n"], select(*day, func.sum(r.n)).where(which).group_by(*day)),
        SERIES_ROLLUPS.insert().from_select(
            [*_SERIES_KEY, "n"], select(*series, func.sum(r.n)).where(which).group_by(*series)),
    )
