"""The engagement report behind the Overview: opens and clicks over time, human versus
machine, and the emails and links with the most human activity.

Human counts are what every report counts: HUMAN hits attributed to a recipient (R17 —
"Someone" activity appears in no report). Machine hits are shown beside them so that the
split is visible (R10); the sender's own hits are in neither (R9).

The counts come from the rollups (``tracking/rollups.py``): the time series from the hourly
series rollups, the top emails and links from the daily rollups for whole UTC days and the
hourly ones for the hours around them, with only what whole UTC hours cannot answer read
from the engagements (see ``_Plan``); the results are those of a scan of every engagement.
Who opened is personal and not rolled up: the top emails' ``recipients_opened`` is counted
from their own engagements.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Subquery, case, func, literal_column, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.timeslots import epoch_slot
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.model import EngagementType, Verdict
from sendtrail.tracking.core.series import (
    SLOT_SECONDS,
    Bucket,
    Counts,
    Interval,
    RangeTooLong,
    SlotCount,
    buckets,
    fold,
)
from sendtrail.tracking.rollups import HOURS_PER_DAY, ROLLUP_SECONDS, hour_of
from sendtrail.tracking.store import (
    EngagementDayRollupRow,
    EngagementRollupRow,
    EngagementRow,
    EngagementSeriesRollupRow,
    TrackedEmailRow,
    TrackedLinkRow,
)

__all__ = [
    "DEFAULT_RANGE",
    "EngagementReport",
    "ReportRequest",
    "ReportScope",
    "SessionOpener",
    "TopEmail",
    "TopLink",
    "engagement_report",
]

T = TypeVar("T")

DEFAULT_RANGE = {
    Interval.HOUR: timedelta(hours=24),
    Interval.DAY: timedelta(days=30),
    Interval.WEEK: timedelta(weeks=12),
}
MAX_TOP = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(seconds=ROLLUP_SECONDS)
SLOTS_PER_HOUR = ROLLUP_SECONDS // SLOT_SECONDS


class ReportScope(enum.StrEnum):
    MINE = "mine"
    """Emails the viewer sent."""
    ACCOUNT = "account"
    """Every email of the account (admins and support staff)."""


@dataclass(frozen=True)
class ReportRequest:
    scope: ReportScope
    interval: Interval
    zone: ZoneInfo
    """The calendar the buckets follow."""
    until: datetime
    since: datetime | None = None
    top: int = 5


@dataclass(frozen=True)
class TopEmail:
    email: TrackedEmailRow
    opens: int
    clicks: int
    recipients_opened: int


@dataclass(frozen=True)
class TopLink:
    url: str
    clicks: int
    emails: int


@dataclass(frozen=True)
class EngagementReport:
    since: datetime
    """Where the first bucket begins (the requested start, floored to the interval)."""
    until: datetime
    buckets: list[Bucket]
    totals: Counts
    top_emails: list[TopEmail]
    top_links: list[TopLink]


def _authorize(actor: Principal, account_id: uuid.UUID, scope: ReportScope) -> uuid.UUID | None:
    """The sender whose emails are counted, or ``None`` for the whole account."""
    authz = authorizer()
    authz.require(actor, account_id, AuthzObject.ENGAGEMENTS, AuthzAction.READ)
    if scope is ReportScope.ACCOUNT:
        authz.require(actor, account_id, AuthzObject.ACCOUNT_REPORTS, AuthzAction.READ)
        return None
    if actor.user_id is None:
        raise InvalidInput(_("Support staff send no emails: ask for the account's report "
                             "(scope ACCOUNT)."))
    return actor.user_id


def _validate(request: ReportRequest) -> list[Bucket]:
    since = request.since or request.until - DEFAULT_RANGE[request.interval]
    if since >= request.until:
        raise InvalidInput(_("The report's start must be before its end."))
    if not 1 <= request.top <= MAX_TOP:
        raise InvalidInput(_("Ask for 1 to {limit} top emails and links.").format(
            limit=MAX_TOP))
    try:
        return buckets(since, request.until, request.interval, request.zone)
    except RangeTooLong as error:
        raise InvalidInput(str(error)) from error


@dataclass(frozen=True)
class _Plan:
    """Where each part of a report's range is read from.

    Whole UTC hours come from the hourly rollups. What an hour cannot answer is read from
    the engagements in 15-minute slots: the partial hours at either end of the range (a
    report may end at "now"), and, for the time series only, each hour that a bucket
    boundary cuts. Boundaries fall inside an hour only in zones whose offset is not a
    whole number of hours (Asia/Kolkata +5:30, Asia/Kathmandu +5:45, Australia/Adelaide,
    America/St_Johns, …): there a day or week report scans one hour per bucket and an hour
    report scans its whole range (at most 192 hours, ``MAX_BUCKETS``), and every result is
    exactly the one a scan of all engagements gives. Rollups at 15 minutes would need no
    scan at all but hold four times the rows and more than the hourly counts privacy's
    aggregate purpose allows (R28)."""

    hours: tuple[int, int]
    """Rollup hours [first, end), possibly empty."""
    edges: list[tuple[datetime, datetime]]
    """The partial hours at the ends of the range."""
    cut: list[int]
    """Hours within ``hours`` that a bucket boundary cuts (the series reads them apart)."""

    def rollup_pieces(self) -> list[tuple[type[EngagementRollupRow | EngagementDayRollupRow],
                                          tuple[int, int]]]:
        """Where the whole hours are counted from for the top emails and links: whole UTC
        days from the daily rollups, the hours before and after them from the hourly
        ones (each piece a [first, end) range of that table's unit)."""
        first, end = self.hours
        days = (-(-first // HOURS_PER_DAY), end // HOURS_PER_DAY)
        if days[0] >= days[1]:
            return [(EngagementRollupRow, self.hours)] if first < end else []
        pieces: list[tuple[type[EngagementRollupRow | EngagementDayRollupRow],
                           tuple[int, int]]] = [(EngagementDayRollupRow, days)]
        for low, high in ((first, days[0] * HOURS_PER_DAY), (days[1] * HOURS_PER_DAY, end)):
            if low < high:
                pieces.append((EngagementRollupRow, (low, high)))
        return pieces

    def series_ranges(self) -> list[tuple[datetime, datetime]]:
        """The time ranges the series reads from engagements, adjacent ones merged."""
        ranges = sorted([*self.edges, *((_start(h), _start(h + 1)) for h in self.cut)])
        merged: list[tuple[datetime, datetime]] = []
        for low, high in ranges:
            if merged and merged[-1][1] >= low:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return merged


def _start(hour: int) -> datetime:
    return EPOCH + hour * HOUR


def _plan(empty: list[Bucket], until: datetime) -> _Plan:
    since = empty[0].start
    first = hour_of(since) + (0 if _start(hour_of(since)) == since else 1)
    end = hour_of(until)
    if first >= end:
        return _Plan(hours=(first, first), edges=[(since, until)], cut=[])
    edges = [(low, high) for low, high in ((since, _start(first)), (_start(end), until))
             if low < high]
    cut = sorted({hour_of(bucket.start) for bucket in empty[1:]
                  if _start(hour_of(bucket.start)) != bucket.start})
    return _Plan(hours=(first, end), edges=edges, cut=[h for h in cut if first <= h < end])


def _within(account_id: uuid.UUID, low: datetime, high: datetime) -> ColumnElement[bool]:
    e = EngagementRow
    return ((col(e.account_id) == account_id) & (col(e.occurred_at) >= low)
            & (col(e.occurred_at) < high))


def _union(parts: Sequence[Select[*tuple[Any, ...]]]) -> Subquery:
    # One SELECT per time range, not an OR of ranges: the tenant scope adds the account at
    # the top of each statement, and SQLite then walks all of the account's engagements
    # rather than searching the account-and-time index once per range.
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


@dataclass(frozen=True)
class _Filters:
    """The report's conditions on engagements and on rollups: counted rows, or counted and
    MACHINE ones for the series."""

    account_id: uuid.UUID
    sender_id: uuid.UUID | None

    def engagements(self, *, any_verdict: bool = False) -> list[ColumnElement[bool]]:
        """Conditions besides the account and time, which ``_within`` sets (with
        ``any_verdict`` the caller sorts the rows out)."""
        e = EngagementRow
        found: list[ColumnElement[bool]] = [
            col(e.type).in_([EngagementType.OPEN.value, EngagementType.CLICK.value])
        ]
        if not any_verdict:
            found.append(col(e.counts_in_reports).is_(True))
        if self.sender_id is not None:
            found.append(col(e.sender_id) == self.sender_id)
        return found

    def rollups(self, table: type[EngagementRollupRow | EngagementDayRollupRow
                                  | EngagementSeriesRollupRow],
                span: tuple[int, int], *, machine_too: bool = False) -> list[ColumnElement[bool]]:
        """Conditions on one of the rollup tables, ``span`` in its unit (hours or days)."""
        slot = col(table.day if table is EngagementDayRollupRow else table.hour)  # type: ignore[union-attr]
        counted: ColumnElement[bool] = col(table.counts_in_reports).is_(True)
        found = [col(table.account_id) == self.account_id, slot >= span[0], slot < span[1],
                 col(table.type).in_([EngagementType.OPEN.value, EngagementType.CLICK.value]),
                 counted | (col(table.verdict) == Verdict.MACHINE.value)  # type: ignore[union-attr]
                 if machine_too else counted,
                 col(table.n) > 0]  # a key whose rows were all reclassified away is left at 0
        if self.sender_id is not None:
            found.append(col(table.sender_id) == self.sender_id)
        return found


SessionOpener = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""Opens another session on the same account, on a connection of its own."""


async def engagement_report(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, request: ReportRequest,
    *, side_sessions: SessionOpener | None = None,
) -> EngagementReport:
    """The report. Its three parts (the series, the top emails, the top links) read
    independently: with ``side_sessions`` each runs on a connection of its own at the same
    time (a 90-day report of a million engagements waited 50 ms for them one after the
    other on SQLite, issue 14); without, one after the other in ``session``."""
    sender_id = _authorize(actor, account_id, request.scope)
    empty = _validate(request)
    since, until = empty[0].start, request.until
    plan = _plan(empty, until)
    filters = _Filters(account_id, sender_id)

    async def series_part(part: AsyncSession) -> list[Bucket]:
        return fold(empty, await _slots(part, filters, plan))

    async def emails_part(part: AsyncSession) -> list[TopEmail]:
        return await _top_emails(part, filters, plan, (since, until), request.top)

    async def links_part(part: AsyncSession) -> list[TopLink]:
        return await _top_links(part, filters, plan, request.top)

    if side_sessions is None:
        series, top_emails, top_links = (
            await series_part(session), await emails_part(session), await links_part(session))
    else:
        async def aside(part: Callable[[AsyncSession], Awaitable[T]]) -> T:
            async with side_sessions() as own:
                return await part(own)

        series, top_emails, top_links = await asyncio.gather(
            aside(series_part), aside(emails_part), aside(links_part))
    totals = Counts()
    for bucket in series:
        totals = totals.plus(bucket.counts)
    return EngagementReport(since=since, until=until, buckets=series, totals=totals,
                            top_emails=top_emails, top_links=top_links)


async def _slots(session: AsyncSession, filters: _Filters, plan: _Plan) -> list[SlotCount]:
    found: list[SlotCount] = []
    if plan.hours[0] < plan.hours[1]:
        r = EngagementSeriesRollupRow
        conditions = filters.rollups(r, plan.hours, machine_too=True)
        if plan.cut:
            conditions.append(col(r.hour).not_in(plan.cut))
        rows = await session.exec(
            select(col(r.hour), col(r.type), col(r.counts_in_reports), func.sum(col(r.n)))
            .where(*conditions)
            .group_by(col(r.hour), col(r.type), col(r.counts_in_reports))
        )
        # An uncut hour lies in one bucket: its first slot stands for all of it.
        found += [SlotCount(slot=int(hour) * SLOTS_PER_HOUR,
                            click=kind == EngagementType.CLICK.value,
                            human=bool(human), count=int(count))
                  for hour, kind, human, count in rows.all()]
    ranges = plan.series_ranges()
    if ranges:
        e = EngagementRow
        slot = epoch_slot(col(e.occurred_at), SLOT_SECONDS)
        # Counted or MACHINE is sorted out here, not with an OR in the WHERE.
        by = (slot, col(e.type), col(e.counts_in_reports), col(e.verdict))
        each = _union([
            sa_select(*by, func.count().label("n"))
            .where(*filters.engagements(any_verdict=True), _within(filters.account_id, *during))
            .group_by(*by)
            for during in ranges
        ])
        rows = await session.exec(select(*each.c))
        found += [SlotCount(slot=int(index), click=kind == EngagementType.CLICK.value,
                            human=bool(human), count=int(count))
                  for index, kind, human, verdict, count in rows.all()
                  if human or verdict == Verdict.MACHINE.value]
    return found


RollupColumns = Callable[[type[EngagementRollupRow | EngagementDayRollupRow]], list[Any]]
"""The columns a rollup part selects, from the hourly or the daily table."""


def _sources(
    filters: _Filters, plan: _Plan, rollup_columns: RollupColumns,
    engagement_columns: list[Any], kind: str | None = None,
) -> Subquery:
    """Counted activity over the whole range: rollup days and hours and the partial hours
    together (of engagements of ``kind`` only, when given)."""
    e = EngagementRow
    parts: list[Select[Any]] = []
    for table, span in plan.rollup_pieces():
        wanted = filters.rollups(table, span)
        if kind is not None:
            wanted.append(col(table.type) == kind)
        parts.append(sa_select(*rollup_columns(table)).where(*wanted))
    parts += [
        sa_select(*engagement_columns)
        .where(*filters.engagements(), _within(filters.account_id, *during),
               *([col(e.type) == kind] if kind is not None else []))
        for during in plan.edges
    ]
    return _union(parts)


async def _top_emails(
    session: AsyncSession, filters: _Filters, plan: _Plan,
    during: tuple[datetime, datetime], top: int,
) -> list[TopEmail]:
    e = EngagementRow
    e_open = col(e.type) == EngagementType.OPEN.value
    e_click = col(e.type) == EngagementType.CLICK.value

    def counted(r: type[EngagementRollupRow | EngagementDayRollupRow]) -> list[Any]:
        # Rollup rows carry counts; engagement rows count one each.
        return [col(r.email_id).label("email_id"),
                case((col(r.type) == EngagementType.OPEN.value, col(r.n)),
                     else_=0).label("opens"),
                case((col(r.type) == EngagementType.CLICK.value, col(r.n)),
                     else_=0).label("clicks")]

    activity = _sources(
        filters, plan, counted,
        [col(e.email_id).label("email_id"), case((e_open, 1), else_=0).label("opens"),
         case((e_click, 1), else_=0).label("clicks")],
    )
    opens, clicks = func.sum(activity.c.opens), func.sum(activity.c.clicks)
    ranked = (
        sa_select(activity.c.email_id, opens.label("opens"), clicks.label("clicks"))
        .group_by(activity.c.email_id)
        .subquery()
    )
    rows = (await session.exec(
        select(TrackedEmailRow, ranked.c.opens, ranked.c.clicks)
        .join(ranked, (col(TrackedEmailRow.id) == ranked.c.email_id)
              & (col(TrackedEmailRow.account_id) == filters.account_id))
        .order_by((ranked.c.opens + ranked.c.clicks).desc(), col(TrackedEmailRow.sent_at).desc(),
                  col(TrackedEmailRow.id))
        .limit(top)
    )).all()
    opened_by = await _recipients_opened(session, filters, during,
                                         [email.id for email, _, _ in rows])
    return [TopEmail(email=email, opens=int(opened), clicks=int(clicked),
                     recipients_opened=opened_by.get(email.id, 0))
            for email, opened, clicked in rows]


async def _recipients_opened(
    session: AsyncSession, filters: _Filters, during: tuple[datetime, datetime],
    email_ids: list[uuid.UUID],
) -> dict[uuid.UUID, int]:
    """Who opened is personal, so it is not in the rollups: it is counted from the
    engagements of the few top emails (the email index, ``ix_engagement_account_email``)."""
    if not email_ids:
        return {}
    e = EngagementRow
    rows = await session.exec(
        select(col(e.email_id), func.count(func.distinct(col(e.recipient_idx))))
        .where(*filters.engagements(), col(e.email_id).in_(email_ids),
               col(e.type) == EngagementType.OPEN.value, _within(filters.account_id, *during))
        .group_by(col(e.email_id))
    )
    return {email_id: int(count) for email_id, count in rows.all()}


async def _top_links(
    session: AsyncSession, filters: _Filters, plan: _Plan, top: int
) -> list[TopLink]:
    e = EngagementRow
    activity = _sources(
        filters, plan,
        lambda r: [col(r.email_id).label("email_id"), col(r.link_idx).label("link_idx"),
                   col(r.n).label("clicks")],
        [col(e.email_id).label("email_id"), col(e.link_idx).label("link_idx"),
         literal_column("1").label("clicks")],
        kind=EngagementType.CLICK.value,
    )
    # The same destination in many emails is one link to the person reading the report.
    link = TrackedLinkRow
    clicks = func.sum(activity.c.clicks)
    emails = func.count(func.distinct(activity.c.email_id))
    rows = await session.exec(
        select(col(link.url), clicks, emails)
        .select_from(activity)
        .join(link, (col(link.account_id) == filters.account_id)
              & (col(link.email_id) == activity.c.email_id)
              & (col(link.idx) == activity.c.link_idx))
        .group_by(col(link.url))
        .order_by(clicks.desc(), col(link.url))
        .limit(top)
    )
    return [TopLink(url=url, clicks=int(count), emails=int(spread))
            for url, count, spread in rows.all()]
