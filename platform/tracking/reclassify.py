"""``sendtrail reclassify``: judge stored engagements again with the signals as they are now
(an operator's new signal file, a shipped update), while their details are kept (R30,
issue 17 item 4).

Only what the classifier decides from a hit alone is judged again: its user agent,
address and time since sending. Kept as they were: the sender's own hits (SELF, decided
from who was signed in then), a scanner's burst and HEAD requests (decided from facts not
kept), inferred opens (they follow their click or reply) and engagements whose address or
user agent retention has deleted. A verdict that changes updates the engagement (verdict,
reason, ruleset, whether reports count it), the hourly rollups, the recipient's and the
email's activity, and is announced as ``engagement.reclassified`` (webhooks; live, to
whoever the old HUMAN verdict notified) — all in one transaction per batch, with the
run's audit entry per account ("Someone at the command line"), updated as batches commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sendtrail.tenancy.store import AuditEntryRow
from sendtrail.tracking.activity import recount_activity
from sendtrail.tracking.core.classify import Hit, Signals, classify
from sendtrail.tracking.core.model import HitKind, TokenClaims, Verdict
from sendtrail.tracking.core.reasons import REJUDGED
from sendtrail.tracking.deriver import recount_first_open
from sendtrail.tracking.rollups import apply_rollup_deltas, rollup_delta
from sendtrail.tracking.store import EngagementRow, TrackedEmailRow
from sendtrail.tracking.stream import EngagementEvent, EventSink

__all__ = ["RECLASSIFIED_ACTION", "RECLASSIFY_ACTOR", "Reclassified", "reclassify"]

RECLASSIFY_ACTOR = "Someone at the command line"
RECLASSIFIED_ACTION = "engagements.reclassified"
_KEPT_CATEGORIES = ("click_burst", "head_request")
_BATCH = 500

ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
EMAILS = TrackedEmailRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]


@dataclass
class Reclassified:
    """What a run did, per account: (engagements judged again, verdicts changed)."""

    ruleset: str
    accounts: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    audit_ids: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    @property
    def judged(self) -> int:
        return sum(counts[0] for counts in self.accounts.values())

    @property
    def changed(self) -> int:
        return sum(counts[1] for counts in self.accounts.values())


async def reclassify(
    engine: AsyncEngine, signals: Signals, *, since: datetime, until: datetime,
    account_id: uuid.UUID | None = None, sinks: Sequence[EventSink] = (),
) -> Reclassified:
    """Judge again every engagement of ``[since, until)`` (of one account, or all)."""
    run = Reclassified(ruleset=signals.version)
    after: tuple[uuid.UUID, datetime, uuid.UUID] | None = None
    while True:
        async with engine.begin() as conn:
            rows = await _batch(conn, since, until, account_id, after)
            if not rows:
                break
            events = await _judge(conn, rows, signals, run)
            await _audit(conn, run, since, until)
            for sink in sinks:
                await sink.in_transaction(conn, events)
        for sink in sinks:
            sink.committed(events)
        last = rows[-1]
        after = (last.account_id, last.occurred_at, last.id)
    return run


async def _batch(conn: AsyncConnection, since: datetime, until: datetime,
                 account_id: uuid.UUID | None,
                 after: tuple[uuid.UUID, datetime, uuid.UUID] | None) -> list[Row[Any]]:
    e = ENGAGEMENTS.c
    query = (
        select(ENGAGEMENTS, EMAILS.c.sent_at)
        .join(EMAILS, and_(EMAILS.c.account_id == e.account_id, EMAILS.c.id == e.email_id))
        .where(e.occurred_at >= since, e.occurred_at < until,
               e.ip.is_not(None), e.user_agent.is_not(None), e.inferred.is_(False),
               e.sender_copy.is_(False), e.verdict != Verdict.SELF.value,
               e.category.not_in(_KEPT_CATEGORIES))
        .order_by(e.account_id, e.occurred_at, e.id)
        .limit(_BATCH)
    )
    if account_id is not None:
        query = query.where(e.account_id == account_id)
    if after is not None:
        query = query.where(tuple_(e.account_id, e.occurred_at, e.id) > after)
    return list((await conn.execute(query)).all())


async def _judge(conn: AsyncConnection, rows: Sequence[Row[Any]], signals: Signals,
                 run: Reclassified) -> list[EngagementEvent]:
    e = ENGAGEMENTS.c
    events: list[EngagementEvent] = []
    deltas = []
    touched: set[tuple[uuid.UUID, uuid.UUID, int | None]] = set()
    for row in rows:
        r = row._mapping
        counts = run.accounts.setdefault(r["account_id"], [0, 0])
        counts[0] += 1
        kind = HitKind(r["type"])
        sent_at = r["sent_at"] or r["occurred_at"]
        judged = classify(Hit(
            kind=kind, method="GET", at=r["occurred_at"], ip=r["ip"], user_agent=r["user_agent"],
            claims=TokenClaims(kind=kind, account_id=r["account_id"], email_id=r["email_id"],
                               recipient=r["recipient_idx"], sender_copy=False,
                               sent_at=int(sent_at.astimezone(UTC).timestamp()),
                               link=r["link_idx"], url=None),
        ), signals, self_open_suppression=False)
        if judged.verdict.value == r["verdict"] and judged.category == r["category"]:
            continue
        counts[1] += 1
        now_counts = judged.verdict is Verdict.HUMAN and r["attribution"] == "recipient"
        new = {"verdict": judged.verdict.value, "category": judged.category,
               "reasons": [*judged.reasons, REJUDGED.format(ruleset=signals.version)],
               "ruleset": signals.version, "counts_in_reports": now_counts}
        await conn.execute(update(ENGAGEMENTS).where(
            e.account_id == r["account_id"], e.id == r["id"]).values(**new))
        before = dict(r)
        deltas += [rollup_delta(before, -1), rollup_delta({**before, **new}, +1)]
        touched.add((r["account_id"], r["email_id"], r["recipient_idx"]))
        events.append(EngagementEvent(
            account_id=r["account_id"], engagement_id=r["id"], email_id=r["email_id"],
            sender_id=r["sender_id"], type=r["type"], verdict=judged.verdict.value,
            attribution=r["attribution"], occurred_at=r["occurred_at"],
            # Only what a HUMAN verdict announced is taken back live.
            notify=r["verdict"] == Verdict.HUMAN.value, reclassified=True,
            previous_verdict=r["verdict"]))
    await apply_rollup_deltas(conn, deltas)
    for account, email, recipient in sorted(touched, key=str):
        if recipient is not None:
            await recount_first_open(conn, account, email, recipient)
        await recount_activity(conn, account, email, recipient)
    return events


async def _audit(conn: AsyncConnection, run: Reclassified, since: datetime,
                 until: datetime) -> None:
    """One entry per account and run, brought up to date as each batch commits."""
    for account_id, (judged, changed) in run.accounts.items():
        after = {"engagements": judged, "changed": changed, "ruleset": run.ruleset,
                 "since": since.isoformat(), "until": until.isoformat()}
        entry = run.audit_ids.get(account_id)
        if entry is None:
            run.audit_ids[account_id] = uuid.uuid4()
            await conn.execute(AUDIT.insert().values(
                account_id=account_id, id=run.audit_ids[account_id],
                at=datetime.now(UTC), actor=RECLASSIFY_ACTOR, action=RECLASSIFIED_ACTION,
                target="engagements", after=after))
        else:
            await conn.execute(update(AUDIT).where(
                AUDIT.c.account_id == account_id, AUDIT.c.id == entry).values(after=after))
