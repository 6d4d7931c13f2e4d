"""Hourly engagement rollups: how many engagements share an account, hour, email, sender,
link, type and verdict, kept in step with the engagements in their own transaction.

Whoever stores engagements hands their changes over as ``RollupDelta`` values: +1 for each
newly stored row, and for a stored row whose verdict changes -1 with its old values and +1
with its new ones. ``apply_rollup_deltas`` folds them per key in Python, then runs one cached
``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` for all keys (executemany), on
SQLite and PostgreSQL alike. Reports read the rollups instead of scanning every engagement
(``tracking/reports.py``); no recipient, contact, address or user agent is in them, so they
outlive the details retention forgets and serve privacy's aggregate purpose (R28).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Delete, Insert, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from sendtrail.db.timeslots import epoch_slot
from sendtrail.tracking.store import NO_LINK, EngagementRollupRow, EngagementRow

__all__ = [
    "ROLLUP_SECONDS",
    "RollupDelta",
    "apply_rollup_deltas",
    "hour_of",
    "rebuild_rollups",
    "rollup_delta",
]

ROLLUPS = EngagementRollupRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
ROLLUP_SECONDS = 3600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = timedelta(seconds=ROLLUP_SECONDS)
_KEY = ("account_id", "hour", "email_id", "sender_id", "link_idx", "type", "verdict",
        "counts_in_reports", "sender_copy", "inferred")


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


def _insert(dialect: str) -> Any:
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(ROLLUPS)
    return insert.on_conflict_do_update(
        index_elements=list(_KEY), set_={"n": ROLLUPS.c.n + insert.excluded.n}
    )


# Built once per dialect: the same statement object keeps its compiled form cached.
_STATEMENTS = {dialect: _insert(dialect) for dialect in ("postgresql", "sqlite")}


async def apply_rollup_deltas(conn: AsyncConnection, deltas: Sequence[RollupDelta]) -> None:
    """Add ``deltas`` to the rollups, inside the caller's transaction."""
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    for delta in deltas:
        key = (delta.account_id, hour_of(delta.occurred_at), delta.email_id, delta.sender_id,
               NO_LINK if delta.link_idx is None else delta.link_idx, delta.type,
               delta.verdict, delta.counts_in_reports, delta.sender_copy, delta.inferred)
        totals[key] += delta.change
    # One row per key (PostgreSQL refuses to update a row twice in one statement), in key
    # order, so that two transactions touching the same rows lock them in the same order.
    rows = [{**dict(zip(_KEY, key, strict=True)), "n": n}
            for key, n in sorted(totals.items()) if n]
    if rows:
        await conn.execute(_STATEMENTS[conn.dialect.name], rows)



def rebuild_rollups(account_id: uuid.UUID) -> tuple[Delete, Insert]:
    """Statements that count an account's stored engagements into its rollups afresh, for
    engagements written in bulk without deltas (a benchmark's data set, an import). Run
    both in one transaction while nothing else stores engagements for the account. Counts
    whose engagements are gone (erased contacts, details folded away) are lost."""
    e = ENGAGEMENTS.c
    # Literals, not parameters: PostgreSQL must see the same expressions in SELECT and GROUP BY.
    key = (e.account_id, epoch_slot(e.occurred_at, ROLLUP_SECONDS), e.email_id, e.sender_id,
           func.coalesce(e.link_idx, literal_column(str(NO_LINK))), e.type, e.verdict,
           e.counts_in_reports, e.sender_copy, e.inferred)
    counted = select(*key, func.count()).where(e.account_id == account_id).group_by(*key)
    return (delete(ROLLUPS).where(ROLLUPS.c.account_id == account_id),
            ROLLUPS.insert().from_select([*_KEY, "n"], counted))
