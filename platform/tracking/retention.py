"""Retention (issue 16, item 4; R28): engagements older than an account's window are folded
into the hourly rollups and deleted, so reports keep their totals while nothing ties a
recipient or contact to a time, an address or a user agent past the window.

The rollups already count every engagement the deriver and logged replies store (they apply
deltas in the engagement's own transaction; migration 0011 counted the rows stored before).
Rows written in bulk without deltas (``rebuild_rollups`` exists for those) may not be
counted yet, so each batch *checks* before it deletes: for every hourly rollup key of its
rows, it locks the rollup row, counts the engagements still stored with that key, and adds
the difference when the rollup holds fewer. A rollup never holds fewer than its counted
stored rows (a reclassification moves one count with the row, an erasure only removes
rows), so the top-up adds exactly what is missing and never counts a row twice. A check
rather than a "counted" marker on each engagement: the marker would have to be written by
every engagement writer on the hot path, and a bulk writer that forgot it would be
double-counted by the fold; the check needs nothing from writers.

Each batch is its own transaction (check, top-up, forget webhook messages about the rows,
delete, audit count), at most ``batch_size`` rows, so a crash loses no count and counts
nothing twice, and no lock is held for long. The run's audit entry for an account is
written by its first batch and its count raised by each later one in the same transaction
as the delete: the log always says exactly how many were folded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sendtrail.db.timeslots import epoch_slot
from sendtrail.tenancy.store import AccountSettingsRow, AuditEntryRow
from sendtrail.tracking.rollups import (
    ROLLUP_SECONDS,
    RollupDelta,
    apply_rollup_deltas,
    hour_of,
)
from sendtrail.tracking.store import NO_LINK, EngagementRollupRow, EngagementRow

__all__ = ["FOLD_ACTION", "RETENTION_ACTOR", "FoldRun", "fold_batch", "fold_old_engagements",
           "run_retention"]

log = logging.getLogger("sendtrail.retention")
SETTINGS = AccountSettingsRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
ROLLUPS = EngagementRollupRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]
BATCH_SIZE = 500
FOLD_ACTION = "engagements.folded"
RETENTION_ACTOR = "retention"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

OnFolded = Callable[[AsyncConnection, uuid.UUID, Sequence[uuid.UUID]], Awaitable[object]]
"""Runs in a batch's transaction with the ids it deletes: layers above tracking (webhooks)
forget what they hold about those engagements (``webhooks.forget_engagements``)."""


@dataclass
class FoldRun:
    """One account's fold in one run of the job: its audit entry and how many so far."""

    account_id: uuid.UUID
    days: int
    audit_id: uuid.UUID
    folded: int = 0


def _key(row: Any) -> tuple[Any, ...]:
    """The hourly rollup key of an engagement row (as ``rollups._KEY`` orders it)."""
    return (row.account_id, hour_of(row.occurred_at), row.email_id, row.sender_id,
            NO_LINK if row.link_idx is None else row.link_idx, row.type, row.verdict,
            bool(row.counts_in_reports), bool(row.sender_copy), bool(row.inferred))


async def _top_up(conn: AsyncConnection, account_id: uuid.UUID, rows: Sequence[Any]) -> int:
    """Make the rollups count at least every stored engagement of the keys of ``rows``;
    return how many counts were missing (0 unless engagements were written without deltas)."""
    keys = {_key(row) for row in rows}
    emails = sorted({key[2] for key in keys})
    first, last = min(key[1] for key in keys), max(key[1] for key in keys)
    r, e = ROLLUPS.c, ENGAGEMENTS.c
    # Lock the rollup rows first: a writer storing an engagement of one of these keys
    # updates its rollup row in the same transaction, so once we hold the lock the count
    # below sees its engagement only if the rollup below includes it too.
    rollup_cols = (r.account_id, r.hour, r.email_id, r.sender_id, r.link_idx, r.type,
                   r.verdict, r.counts_in_reports, r.sender_copy, r.inferred)
    held = await conn.execute(
        select(*rollup_cols, r.n)
        .where(r.account_id == account_id, r.email_id.in_(emails),
               r.hour >= first, r.hour <= last)
        .order_by(*rollup_cols)
        .with_for_update()
    )
    counted = {tuple(row[:-1]): row[-1] for row in held.all()}
    hour = epoch_slot(e.occurred_at, ROLLUP_SECONDS)
    stored_key = (e.account_id, hour, e.email_id, e.sender_id,
                  func.coalesce(e.link_idx, literal_column(str(NO_LINK))), e.type, e.verdict,
                  e.counts_in_reports, e.sender_copy, e.inferred)
    stored = await conn.execute(
        select(*stored_key, func.count())
        .where(e.account_id == account_id, e.email_id.in_(emails),
               e.occurred_at >= _EPOCH + timedelta(seconds=first * ROLLUP_SECONDS),
               e.occurred_at < _EPOCH + timedelta(seconds=(last + 1) * ROLLUP_SECONDS))
        .group_by(*stored_key)
    )
    missing: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in stored.all():
        key = (row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]),
               bool(row[8]), bool(row[9]))
        if key in keys and row[-1] > counted.get(key, 0):
            missing[key] = row[-1] - counted.get(key, 0)
    deltas = [RollupDelta(
        account_id=key[0], email_id=key[2], sender_id=key[3],
        link_idx=None if key[4] == NO_LINK else key[4],
        occurred_at=_EPOCH + timedelta(seconds=key[1] * ROLLUP_SECONDS), type=key[5],
        verdict=key[6], counts_in_reports=key[7], sender_copy=key[8], inferred=key[9],
        change=n) for key, n in sorted(missing.items())]
    await apply_rollup_deltas(conn, deltas)
    return sum(missing.values())


async def fold_batch(
    engine: AsyncEngine, run: FoldRun, *, before: datetime, now: datetime,
    batch_size: int = BATCH_SIZE, on_folded: OnFolded | None = None,
) -> int:
    """Fold and delete at most ``batch_size`` of the account's engagements that occurred
    before ``before``, in one transaction; return how many (0: nothing left)."""
    e, st = ENGAGEMENTS.c, SETTINGS.c
    async with engine.begin() as conn:
        # A no-op write first. On SQLite it takes the one write lock before anything is
        # read (the driver begins a transaction only at the first write), so the counts
        # below cannot change before the delete; on PostgreSQL it locks the account's
        # settings row, so the processes that all run this job fold an account one batch
        # at a time. It also re-reads the window: a window an admin removed or changed
        # since the run began ends the run (the next one uses the new window).
        window = (await conn.execute(
            update(SETTINGS).where(st.account_id == run.account_id)
            .values(hit_detail_retention_days=st.hit_detail_retention_days)
            .returning(st.hit_detail_retention_days)
        )).scalar_one_or_none()
        if window != run.days:
            return 0
        rows = (await conn.execute(
            select(e.id, e.account_id, e.occurred_at, e.email_id, e.sender_id, e.link_idx,
                   e.type, e.verdict, e.counts_in_reports, e.sender_copy, e.inferred)
            .where(e.account_id == run.account_id, e.occurred_at < before)
            .order_by(e.occurred_at, e.id)
            .limit(batch_size)
            .with_for_update()
        )).all()
        if not rows:
            return 0
        topped_up = await _top_up(conn, run.account_id, rows)
        if topped_up:
            log.warning("counted %d engagements the rollups were missing before folding them",
                        topped_up)
        ids = [row.id for row in rows]
        if on_folded is not None:
            await on_folded(conn, run.account_id, ids)
        await conn.execute(ENGAGEMENTS.delete().where(
            e.account_id == run.account_id, e.id.in_(ids)))
        folded = run.folded + len(ids)
        after = {"engagements": folded, "days": run.days}
        if run.folded == 0:
            await conn.execute(AUDIT.insert().values(
                account_id=run.account_id, id=run.audit_id, at=now, actor=RETENTION_ACTOR,
                action=FOLD_ACTION, target="engagements", after=after))
        else:
            await conn.execute(update(AUDIT).where(
                AUDIT.c.account_id == run.account_id, AUDIT.c.id == run.audit_id
            ).values(after=after))
    run.folded = folded  # only once committed: a failed batch leaves the run as it was
    return len(ids)


async def fold_old_engagements(
    engine: AsyncEngine, *, now: datetime, batch_size: int = BATCH_SIZE,
    on_folded: OnFolded | None = None,
) -> int:
    """Fold every account's engagements past its window, batch by batch; return how many."""
    async with engine.connect() as conn:
        accounts = (await conn.execute(
            select(SETTINGS.c.account_id, SETTINGS.c.hit_detail_retention_days)
            .where(SETTINGS.c.hit_detail_retention_days.is_not(None))
            .order_by(SETTINGS.c.account_id)
        )).all()
    total = 0
    for account_id, days in accounts:
        run = FoldRun(account_id=account_id, days=days, audit_id=uuid.uuid4())
        before = now - timedelta(days=days)
        while await fold_batch(engine, run, before=before, now=now, batch_size=batch_size,
                               on_folded=on_folded):
            await asyncio.sleep(0)  # let the server's other work run between batches
        total += run.folded
    return total


async def run_retention(
    engine: AsyncEngine, *, clock: Callable[[], datetime], interval: float = 3600.0,
    on_folded: OnFolded | None = None,
) -> None:
    """Run ``fold_old_engagements`` now and then every ``interval`` seconds, forever. A
    failed batch (a deadlock, the database away) is retried at the next run."""
    while True:
        with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
            count = await fold_old_engagements(engine, now=clock(), on_folded=on_folded)
            if count:
                log.info("folded %d engagements past their retention window", count)
        await asyncio.sleep(interval)
