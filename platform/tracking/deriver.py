"""The second stage: turn raw hits into engagements, exactly once, behind the hot path.

A thin shell around ``core.derive.decide``. For a batch of raw hits (in arrival order) it
loads what the batch needs to know (``FactsLoader``), lets the core decide, and writes the
decisions — engagements, first opens, contact dates, reclassified bursts, rollups, the
outbox — in the transaction that deletes the raw hits. Either all of that commits or none
of it, so a crash at any point leaves each hit derived once or still waiting.

Raw hits are spread over ``PARTITIONS`` by email: every decision that depends on earlier
hits is about one message copy (its bursts, R11; its first open, R7), and what several
emails share only moves one way (contact dates forward, first opens back), so emails can
be judged apart and one busy account still spreads over every deriver. On PostgreSQL a
deriver takes a partition with a transaction-scoped advisory lock
(``pg_try_advisory_xact_lock``) before reading it, so across processes and nodes one
partition is derived by one transaction at a time, in order; the lock goes with the
transaction, also when its process is killed. Why not ``FOR UPDATE SKIP LOCKED`` on rows:
two derivers could then judge hits of the same message copy at once, and both would infer
its first open (R7) or miss a burst (R11). Contact updates are sorted, so two partitions'
transactions lock shared contacts in one order (no deadlock).
SQLite has one writer anyway: there a deriver takes the oldest hits, and consuming them is
the first write of its transaction (taking the write lock only then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sendtrail.contacts.store import ContactRow
from sendtrail.db.keys import key_in
from sendtrail.db.types import UtcDateTime, utcnow
from sendtrail.tenancy.store import AccountSettingsRow, LoginRow, SessionRow
from sendtrail.tracking import metrics
from sendtrail.tracking.activity import move_activity, recount_activity
from sendtrail.tracking.context_cache import TtlCache
from sendtrail.tracking.core.classify import BURST_WINDOW, Signals
from sendtrail.tracking.core.derive import (
    BatchFacts,
    BurstReclassification,
    ContactDates,
    CopyKey,
    Decisions,
    EmailFacts,
    EmailKey,
    RecipientFacts,
    RecipientKey,
    clicked_copies,
    decide,
)
from sendtrail.tracking.core.model import EmailKind, Verdict
from sendtrail.tracking.core.purposes import ConsentState, TrackingPurpose
from sendtrail.tracking.core.raw_hit import RawHit
from sendtrail.tracking.pacing import Pacing
from sendtrail.tracking.rollups import RollupDelta, apply_rollup_deltas, rollup_delta
from sendtrail.tracking.store import (
    EmailRecipientRow,
    EngagementRow,
    RawHitRow,
    TrackedEmailRow,
)
from sendtrail.tracking.stream import EngagementEvent, EventSink

__all__ = ["PARTITIONS", "Deriver", "derive_hits", "partition_of", "raw_hits_waiting",
           "recount_first_open"]

log = logging.getLogger("sendtrail.deriver")

EMAILS = TrackedEmailRow.__table__  # type: ignore[attr-defined]
RECIPIENTS = EmailRecipientRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
RAW_HITS = RawHitRow.__table__  # type: ignore[attr-defined]
CONTACTS = ContactRow.__table__  # type: ignore[attr-defined]
SETTINGS = AccountSettingsRow.__table__  # type: ignore[attr-defined]
SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]
LOGINS = LoginRow.__table__  # type: ignore[attr-defined]

PARTITIONS = 16
_LOCK_SPACE = 0x5E4D  # the advisory lock namespace of raw-hit partitions ("SEnd")
# Two scalar subqueries: SQLite answers min() or max() from the index's end only when a
# SELECT asks for one of them.
_SEQ_SPAN = select(select(func.min(RAW_HITS.c.seq)).scalar_subquery(),
                   select(func.max(RAW_HITS.c.seq)).scalar_subquery())
# The partitions that have raw hits, one index probe each (a loose scan of
# ix_raw_hit_part_seq; neither database skips through an index by itself).
_PARTS_WAITING = text(
    "WITH RECURSIVE waiting(part) AS ("
    " SELECT min(part) FROM raw_hit"
    " UNION ALL SELECT (SELECT min(part) FROM raw_hit WHERE part > waiting.part)"
    " FROM waiting WHERE waiting.part IS NOT NULL)"
    " SELECT part FROM waiting WHERE part IS NOT NULL"
)
_LIVE_ROWS = text("SELECT pg_stat_get_live_tuples('raw_hit'::regclass)")
_DATES = ("last_sales_email_opened_at", "last_sales_email_clicked_at", "last_clicked_at")


async def raw_hits_waiting(conn: AsyncConnection) -> tuple[int, list[int]]:
    """About how many raw hits wait, and the partitions that have any.

    Counting the rows read all of them every round: under a backlog of 50,000 that was most
    of the deriver's time. The span of their sequence numbers is read from the index's ends
    and is exact on SQLite, where one deriver takes hits in sequence order. On PostgreSQL
    partitions are taken apart, so one that lags (or a hit a stalled deriver holds) would
    stretch the span far beyond the rows there are: there the table's live row count from
    the statistics collector (up to a second old) is the estimate, never above the span."""
    low, high = (await conn.execute(_SEQ_SPAN)).one()
    if low is None:
        return 0, []
    parts = [part for (part,) in await conn.execute(_PARTS_WAITING)]
    span = int(high) - int(low) + 1
    if conn.dialect.name != "postgresql":
        return span, parts
    live = await conn.scalar(_LIVE_ROWS)
    return min(span, max(int(live or 0), len(parts))), parts


def partition_of(account_id: uuid.UUID, email_id: uuid.UUID) -> int:
    """The raw-hit partition of an email: all its hits are derived in one order."""
    return (account_id.int + email_id.int) % PARTITIONS


# -- what the batch needs to know ---------------------------------------------------------


class FactsLoader:
    """Loads a batch's ``BatchFacts``. Emails and their account's settings are memoised for
    ``ttl`` seconds (a settings change reaches new hits within that time); recipients'
    legal bases and the senders' sessions are read fresh, so an erasure, a new legal basis
    or a sign-in count from the very next hit."""

    def __init__(self, *, ttl: float = 5.0) -> None:
        self.emails: TtlCache[EmailKey, EmailFacts | None] = TtlCache(ttl=ttl)

    async def load(self, conn: AsyncConnection, hits: Sequence[RawHit]) -> BatchFacts:
        email_keys = {(hit.claims.account_id, hit.claims.email_id) for hit in hits}
        cookie_keys = {(hit.claims.account_id, hit.sender_cookie_email)
                       for hit in hits if hit.sender_cookie_email is not None}

        async def load_emails(keys: set[EmailKey]) -> dict[EmailKey, EmailFacts | None]:
            return dict(await _emails(conn, keys))

        found = await self.emails.get_many(email_keys | cookie_keys, load_emails, None)
        emails = {key: email for key, email in found.items() if email is not None}
        recipients = await _recipients(conn, _recipient_keys(hits, emails))
        senders = {email.sender_id for email in emails.values()}
        sender_ips = await _sender_ips(conn, senders, max(hit.at for hit in hits))
        clicked, shared = clicked_copies(hits, emails)
        since = min(hit.at for hit in hits) - BURST_WINDOW
        clicks = await _recent_clicks(conn, clicked, shared, since)
        opened = await _opened_shared_copies(conn, shared)
        return BatchFacts(emails=emails, recipients=recipients, sender_ips=sender_ips,
                          recent_clicks=clicks, opened_copies=opened)


def _recipient_keys(hits: Sequence[RawHit], emails: dict[EmailKey, EmailFacts]) -> set[
    RecipientKey
]:
    keys: set[RecipientKey] = set()
    for hit in hits:
        claims = hit.claims
        email = emails.get((claims.account_id, claims.email_id))
        if email is None or claims.sender_copy:
            continue
        if claims.recipient is not None and 0 <= claims.recipient < email.recipient_count:
            keys.add((claims.account_id, claims.email_id, claims.recipient))
        elif claims.recipient is None and email.recipient_count == 1:
            keys.add((claims.account_id, claims.email_id, 0))
    return keys


async def _emails(conn: AsyncConnection, keys: set[EmailKey]) -> dict[EmailKey, EmailFacts]:
    rows = await conn.execute(
        select(EMAILS.c.account_id, EMAILS.c.id, EMAILS.c.sender_id, EMAILS.c.kind,
               EMAILS.c.recipient_count, EMAILS.c.link_count, SETTINGS.c.tracking_enabled,
               SETTINGS.c.privacy_mode, SETTINGS.c.self_open_suppression,
               SETTINGS.c.truncate_ips, SETTINGS.c.tracking_purpose, SETTINGS.c.exempt_purpose)
        .join(SETTINGS, SETTINGS.c.account_id == EMAILS.c.account_id)
        .where(key_in((EMAILS.c.account_id, EMAILS.c.id), keys))
    )
    return {
        (row.account_id, row.id): EmailFacts(
            row.sender_id, EmailKind(row.kind), row.recipient_count, row.link_count,
            row.tracking_enabled, row.privacy_mode, row.self_open_suppression,
            row.truncate_ips, TrackingPurpose(row.tracking_purpose),
            TrackingPurpose(row.exempt_purpose))
        for row in rows
    }


async def _recipients(conn: AsyncConnection, keys: set[RecipientKey]) -> dict[
    RecipientKey, RecipientFacts
]:
    """The batch's recipients with their contact's legal basis, tracking consent and their
    first open, in one joined query (absent: the contact was erased)."""
    if not keys:
        return {}
    r = RECIPIENTS.c
    rows = await conn.execute(
        select(r.account_id, r.email_id, r.idx, r.first_human_open_at, CONTACTS.c.id,
               CONTACTS.c.legal_basis, CONTACTS.c.tracking_consent)
        .join(CONTACTS, and_(CONTACTS.c.account_id == r.account_id,
                             CONTACTS.c.id == r.contact_id))
        .where(key_in((r.account_id, r.email_id, r.idx), keys))
    )
    return {
        (row.account_id, row.email_id, row.idx): RecipientFacts(
            row.id, row.legal_basis != "none", row.first_human_open_at,
            ConsentState(row.tracking_consent))
        for row in rows
    }


async def _sender_ips(
    conn: AsyncConnection, senders: set[uuid.UUID], now: datetime
) -> dict[uuid.UUID, frozenset[str]]:
    """Addresses the senders are signed in from right now (their own opens are SELF)."""
    if not senders:
        return {}
    rows = await conn.execute(
        select(LOGINS.c.user_id, SESSIONS.c.ip)
        .join(SESSIONS, SESSIONS.c.login_id == LOGINS.c.id)
        .where(LOGINS.c.user_id.in_(list(senders)), SESSIONS.c.expires_at > now,
               SESSIONS.c.ip.is_not(None))
    )
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    for row in rows:
        found[row.user_id].add(row.ip)
    return {sender: frozenset(ips) for sender, ips in found.items()}


def _copies_where(recipients: set[RecipientKey], shared: set[EmailKey],
                  *also: Any) -> Any:
    """The engagements of these message copies that also meet ``also`` (repeated in every
    OR'd term, where SQLite uses them to search the email index: see ``key_in``)."""
    e = ENGAGEMENTS.c
    # Only the terms that name something: a constant FALSE among OR'd terms makes SQLite
    # read the whole table instead of searching the index once per term.
    terms = []
    if recipients:
        terms.append(key_in((e.account_id, e.email_id, e.recipient_idx), recipients, *also))
    if shared:
        terms.append(key_in((e.account_id, e.email_id), shared, e.recipient_idx.is_(None),
                            *also))
    return or_(*terms) if terms else false()


async def _recent_clicks(
    conn: AsyncConnection, recipients: set[RecipientKey], shared: set[EmailKey],
    since: datetime,
) -> dict[CopyKey, list[tuple[int, datetime]]]:
    """Stored clicks of the clicked copies within the burst window (R11)."""
    clicks: dict[CopyKey, list[tuple[int, datetime]]] = defaultdict(list)
    if not recipients and not shared:
        return clicks
    e = ENGAGEMENTS.c
    rows = await conn.execute(
        select(e.account_id, e.email_id, e.recipient_idx, e.sender_copy, e.link_idx,
               e.occurred_at)
        # 'click' written into the SQL, not bound: PostgreSQL's generic plan of a prepared
        # statement cannot prove a bound value matches ix_engagement_copy_clicks' predicate.
        .where(_copies_where(recipients, shared, e.type == literal_column("'click'"),
                             e.occurred_at >= since))
    )
    for row in rows:
        clicks[(row.account_id, row.email_id, row.recipient_idx, row.sender_copy)].append(
            (row.link_idx, row.occurred_at))
    return clicks


async def _opened_shared_copies(conn: AsyncConnection, shared: set[EmailKey]) -> frozenset[
    CopyKey
]:
    """Recipient-less copies clicked in the batch that already have a human open (rare:
    shared pixels, 'Someone', the sender's copy; recipients keep ``first_human_open_at``)."""
    if not shared:
        return frozenset()
    e = ENGAGEMENTS.c
    rows = await conn.execute(
        select(e.account_id, e.email_id, e.recipient_idx, e.sender_copy).distinct()
        .where(_copies_where(set(), shared, e.type == "open", e.verdict == "human"))
    )
    return frozenset((row.account_id, row.email_id, row.recipient_idx, row.sender_copy)
                     for row in rows)


# -- writing the decisions ------------------------------------------------------------------


def _insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _later(column: Any, name: str) -> Any:
    """``column`` moved forward to the bound ``name``, never back (NULL leaves it alone)."""
    moment = bindparam(name, type_=UtcDateTime())
    return case(
        (and_(moment.is_not(None), or_(column.is_(None), column < moment)), moment),
        else_=column,
    )


_MOVE_CONTACT_DATES = (
    update(CONTACTS)
    .where(CONTACTS.c.account_id == bindparam("b_account"),
           CONTACTS.c.id == bindparam("b_contact"))
    .values({name: _later(CONTACTS.c[name], f"b_{name}") for name in _DATES})
)
_FIRST_OPEN = bindparam("b_first_open", type_=UtcDateTime())
_MOVE_FIRST_OPENS = (
    update(RECIPIENTS)
    .where(RECIPIENTS.c.account_id == bindparam("b_account"),
           RECIPIENTS.c.email_id == bindparam("b_email"), RECIPIENTS.c.idx == bindparam("b_idx"),
           or_(RECIPIENTS.c.first_human_open_at.is_(None),
               RECIPIENTS.c.first_human_open_at > _FIRST_OPEN))
    .values(first_human_open_at=_FIRST_OPEN)
)


async def _move_contact_dates(conn: AsyncConnection, dates: Sequence[ContactDates]) -> None:
    """One executemany UPDATE for every contact of the batch (R16)."""
    if dates:
        await conn.execute(_MOVE_CONTACT_DATES, [
            {"b_account": d.account_id, "b_contact": d.contact_id,
             **{f"b_{name}": getattr(d, name) for name in _DATES}}
            # One order for every transaction, so two partitions' derivers updating the same
            # contacts wait for each other instead of deadlocking.
            for d in sorted(dates, key=lambda d: (d.account_id, d.contact_id))
        ])


async def _move_first_opens(conn: AsyncConnection, opens: dict[RecipientKey, datetime]) -> None:
    if opens:
        await conn.execute(_MOVE_FIRST_OPENS, [
            {"b_account": a, "b_email": e, "b_idx": i, "b_first_open": at}
            for (a, e, i), at in opens.items()
        ])


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


async def _reclassify_stored_burst(
    conn: AsyncConnection, burst: BurstReclassification
) -> list[dict[str, Any]]:
    """Mark the copy's stored human clicks since the burst began (and the opens inferred
    from them) as the scanner's; return the rows as they were, for the rollups."""
    e = ENGAGEMENTS.c
    account_id, email_id, recipient, sender_copy = burst.copy
    where = (e.account_id == account_id, e.email_id == email_id, _same(e.recipient_idx, recipient),
             e.sender_copy == sender_copy, e.occurred_at >= burst.since, e.verdict == "human",
             or_(e.type == "click", e.inferred_from == "click"))
    before = [dict(row._mapping) for row in await conn.execute(
        select(e.id, e.account_id, e.email_id, e.sender_id, e.recipient_idx, e.link_idx,
               e.occurred_at, e.type, e.verdict, e.counts_in_reports, e.sender_copy,
               e.inferred, e.inferred_from, e.attribution, e.category).where(*where))]
    if before:
        await conn.execute(update(ENGAGEMENTS).where(*where).values(
            verdict="machine", category="click_burst", counts_in_reports=False,
            reasons=[burst.reason]))
        if recipient is not None and not sender_copy:
            await recount_first_open(conn, account_id, email_id, recipient)
        await recount_activity(conn, account_id, email_id,
                               None if sender_copy else recipient)
    return before


async def recount_first_open(
    conn: AsyncConnection, account_id: uuid.UUID, email_id: uuid.UUID, idx: int
) -> None:
    """A burst took back an inferred open: the recipient's first open is what remains."""
    e = ENGAGEMENTS.c
    first = (select(func.min(e.occurred_at))
             .where(e.account_id == account_id, e.email_id == email_id, e.recipient_idx == idx,
                    e.type == "open", e.verdict == "human", e.sender_copy == false())
             .scalar_subquery())
    await conn.execute(
        update(RECIPIENTS)
        .where(RECIPIENTS.c.account_id == account_id, RECIPIENTS.c.email_id == email_id,
               RECIPIENTS.c.idx == idx)
        .values(first_human_open_at=first))


_SET_LAST_OPEN = (
    update(CONTACTS)
    .where(CONTACTS.c.account_id == bindparam("b_account"),
           CONTACTS.c.id == bindparam("b_contact"))
    .values(last_open_on=bindparam("b_day", type_=Date()))
)


async def _keep_exempt(conn: AsyncConnection, decisions: Decisions) -> None:
    """What the exempt purposes keep (R28): counts in the rollups, last-open days."""
    await apply_rollup_deltas(conn, [
        RollupDelta(account_id=c.account_id, email_id=c.email_id, sender_id=c.sender_id,
                    link_idx=c.link_idx, occurred_at=c.occurred_at, type=c.type.value,
                    verdict=c.verdict.value, counts_in_reports=c.counts_in_reports,
                    sender_copy=False, inferred=False, change=+1)
        for c in decisions.aggregate_counts
    ])
    if decisions.last_opens:
        # Overwritten, not moved forward: the one date deliverability keeps is the last one
        # seen (a late-derived older hit is a day at most, in practice the same day).
        await conn.execute(_SET_LAST_OPEN, [
            {"b_account": account_id, "b_contact": contact_id, "b_day": day}
            for (account_id, contact_id), day in sorted(decisions.last_opens.items())
        ])


async def write_decisions(conn: AsyncConnection, decisions: Decisions) -> list[EngagementEvent]:
    """Store ``decisions`` in the caller's transaction; return the events for the sinks: the
    engagements a burst re-judged (``reclassified``), then the newly stored ones.

    The exempt purposes' counts are kept in the same transaction as the raw hits are
    consumed, so each counts exactly once like an engagement."""
    await _keep_exempt(conn, decisions)
    if not decisions.engagements:
        return []
    rows = [engagement.row() for engagement in decisions.engagements]
    # One cached statement for many rows; the event id makes a second derivation a no-op.
    inserted = await conn.execute(
        _insert(conn.dialect.name)(ENGAGEMENTS)
        .on_conflict_do_nothing(index_elements=["account_id", "id"])
        .returning(ENGAGEMENTS.c.id),
        rows,
    )
    new_ids = {row.id for row in inserted}
    new_rows = [row for row in rows if row["id"] in new_ids]
    deltas = [rollup_delta(row, +1) for row in new_rows]
    # Rows are locked in one order by every writer of engagements (see tracking/activity.py):
    # engagements, recipients, emails, contacts, rollups. A burst (rare) then recounts its
    # copy's recipient and email from what still counts, new rows included.
    await _move_first_opens(conn, dict(decisions.first_human_opens))
    await move_activity(conn, new_rows)
    reclassified: list[EngagementEvent] = []
    for burst in decisions.bursts:
        for before in await _reclassify_stored_burst(conn, burst):
            after = {**before, "verdict": "machine", "counts_in_reports": False}
            deltas += [rollup_delta(before, -1), rollup_delta(after, +1)]
            reclassified.append(EngagementEvent(
                account_id=before["account_id"], engagement_id=before["id"],
                email_id=before["email_id"], sender_id=before["sender_id"],
                type=before["type"], verdict="machine", attribution=before["attribution"],
                occurred_at=before["occurred_at"], notify=True, reclassified=True))
    await _move_contact_dates(conn, decisions.contact_dates)
    await apply_rollup_deltas(conn, deltas)
    return reclassified + [
        EngagementEvent(
            account_id=e.account_id, engagement_id=e.id, email_id=e.email_id,
            sender_id=e.sender_id, type=e.type.value, verdict=e.verdict.value,
            attribution=e.attribution.value, occurred_at=e.occurred_at,
            # Whether the account tracks is read fresh by each consumer (the batch memo
            # may be seconds old): only the verdict is settled here.
            notify=e.verdict is Verdict.HUMAN,
        )
        for e in decisions.engagements
        if e.id in new_ids
    ]


async def derive_hits(
    conn: AsyncConnection, hits: Sequence[RawHit], signals: Signals,
    facts: FactsLoader | None = None,
) -> list[EngagementEvent]:
    """Derive ``hits`` inside the caller's transaction; return what was newly stored."""
    if not hits:
        return []
    loaded = await (facts or FactsLoader(ttl=0)).load(conn, hits)
    return await write_decisions(conn, decide(hits, loaded, signals))


# -- the loop ------------------------------------------------------------------------------


class Deriver:
    """Derives raw hits as they arrive: woken by this process's commits, and polling for
    the hits other processes and nodes acknowledge (or a spool replay stored)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        signals: Signals,
        sinks: Sequence[EventSink] = (),
        batch: int = 512,
        poll_seconds: float = 0.2,
        context_ttl: float = 5.0,
        lanes: int = 3,
        busy_batch: int = 64,
        catch_up: int = 50_000,
        busy_share: float = 0.1,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._signals = signals
        self._sinks = tuple(sinks)
        self._batch = batch
        self._poll = poll_seconds
        self._lanes = lanes
        self._busy: Callable[[], bool] = lambda: False
        self._busy_batch = min(busy_batch, batch)
        self._catch_up = catch_up
        self._pacing = Pacing(busy_share)
        self._waiting = 0
        self._facts = FactsLoader(ttl=context_ttl)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._next_part = 0
        self._clock = clock

    def wake(self) -> None:
        self._wake.set()

    def give_way_to(self, busy: Callable[[], bool]) -> None:
        """While ``busy()`` (this process's hot path taking hits), derive gently."""
        self._busy = busy

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever(), name="deriver")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        # What this process acknowledged last is derived now rather than by the next start.
        with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
            async with asyncio.timeout(10):
                await self.derive_pending()

    async def derive_pending(self) -> int:
        """Derive until no raw hit is waiting (that this process may take); return how many."""
        total = 0
        while True:
            derived = await self.derive_once()
            total += derived
            if not derived:
                return total

    async def derive_once(self, batch: int | None = None) -> int:
        """Derive one batch (of ``batch`` hits at most) per partition that has hits; return
        how many hits."""
        batch = batch or self._batch
        async with self._lock:
            async with self._engine.connect() as conn:
                self._waiting, waiting = await raw_hits_waiting(conn)
            metrics.RAW_HITS_PENDING.set(self._waiting)
            if not waiting:
                return 0
            if not self._postgres:
                return await self._derive_batch(None, batch)
            derived = 0
            # Start where the last round stopped, so no partition waits behind the others.
            start = self._next_part
            self._next_part = (self._next_part + 1) % PARTITIONS
            parts = sorted(waiting, key=lambda p: (p - start) % PARTITIONS)
            # Partitions share nothing that could deadlock (contacts are updated in one
            # order), so a few derive at once: their round trips and the database's work
            # overlap.
            lanes = asyncio.Semaphore(self._lanes)

            async def in_a_lane(part: int) -> int:
                async with lanes:
                    return await self._derive_batch(part, batch)

            results = await asyncio.gather(*(in_a_lane(part) for part in parts),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
                derived += result
            return derived

    async def _derive_batch(self, part: int | None, batch: int) -> int:
        try:
            async with self._engine.begin() as conn:
                if part is not None and not await conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:s, :p)"),
                    {"s": _LOCK_SPACE, "p": part},
                ):
                    return 0  # another process derives this partition right now
                query = select(RAW_HITS.c.seq, RAW_HITS.c.hit).order_by(RAW_HITS.c.seq)
                if part is not None:
                    query = query.where(RAW_HITS.c.part == part)
                rows = (await conn.execute(query.limit(batch))).all()
                if not rows:
                    return 0
                hits = _parsed(rows)
                # Pure CPU: off the event loop, so requests are served in between.
                decisions = (await asyncio.to_thread(
                    decide, hits, await self._facts.load(conn, hits), self._signals)
                    if hits else None)
                # Consuming the raw hits is the first write. On SQLite that is when the write
                # lock is taken (the driver begins a transaction before the first write),
                # after the reading and deciding, so the hot path waits as little as can
                # be; fewer rows than read means another deriver took them meanwhile (two
                # processes on one SQLite file): leave them all to the next round.
                consumed = await conn.execute(delete(RAW_HITS).where(
                    RAW_HITS.c.seq.in_([row.seq for row in rows])))
                if consumed.rowcount != len(rows):
                    raise _TakenElsewhere
                events = await write_decisions(conn, decisions) if decisions else []
                if events:
                    for sink in self._sinks:
                        await sink.in_transaction(conn, events)
        except _TakenElsewhere:
            return 0
        metrics.DERIVED.inc(len(rows))
        now = self._clock()
        for hit in hits:
            metrics.DERIVER_LAG.observe(max(0.0, (now - hit.at).total_seconds()))
        for event in events:
            if not event.reclassified:  # counted when it was stored
                metrics.HITS.labels(kind=event.type, verdict=event.verdict).inc()
        self._committed(events)
        return len(rows)

    def _committed(self, events: Sequence[EngagementEvent]) -> None:
        for sink in self._sinks:
            try:
                sink.committed(events)
            except Exception:  # a live subscriber's trouble never fails stored hits
                log.exception("an engagement sink failed after commit")

    async def _run_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()
            started = time.monotonic()
            try:
                await self._derive_yielding()
            except (SQLAlchemyError, OSError, TimeoutError) as error:
                # The database is away: the raw hits wait there (or in the spool).
                log.warning("deriving raw hits failed (%s); will retry", type(error).__name__)
                await asyncio.sleep(min(5.0, self._poll * 10))
            except Exception:
                log.exception("deriving raw hits failed; will retry")
                await asyncio.sleep(min(5.0, self._poll * 10))
            metrics.DERIVE_SECONDS.observe(time.monotonic() - started)

    async def _derive_yielding(self) -> None:
        """Derive until nothing waits, giving way to the hot path while it is busy.

        Acknowledging a hit comes first (a mail client never waits for our bookkeeping):
        while hits keep arriving and fewer than ``catch_up`` wait, each round is small and
        is owed a rest nine times its length (``Pacing``), so derivation takes at most a
        tenth of this process (``busy_share``). The first stage
        alone costs what the baseline's does; with a third, as first built, acknowledgement
        ran at 0.75-0.86x the baseline (docs/performance.md). A burst (a campaign opened all
        at once) is answered at full speed and derived behind it; beyond ``catch_up``
        waiting hits derivation takes full rounds again, so under load that never ends the
        backlog stays bounded and the hot path slows instead (its queue pushes back).
        """
        while True:
            gentle = self._busy() and self._waiting < self._catch_up
            if gentle and (rest := self._pacing.rest_before_work(time.monotonic())):
                await asyncio.sleep(rest)
            started = time.monotonic()
            derived = await self.derive_once(self._busy_batch if gentle else self._batch)
            if gentle:
                self._pacing.worked(started, time.monotonic())
            else:
                self._pacing.forgive()
            if not derived:
                return


class _TakenElsewhere(Exception):
    """Another deriver consumed some of the batch's raw hits first: roll back, read again."""


def _parsed(rows: Sequence[Any]) -> list[RawHit]:
    """The raw hits of ``rows``. One this version cannot read (written by a newer or broken
    node) is logged and consumed: kept, it would block its partition forever."""
    hits = []
    for row in rows:
        try:
            hits.append(RawHit.from_json(row.hit))
        except (ValueError, KeyError, TypeError):
            log.error("raw hit %s cannot be read and is dropped: %.200s", row.seq, row.hit)
    return hits
