"""The engagement report behind the Overview: opens and clicks over time, human versus
machine, and the emails and links with the most human activity.

Human counts are what every report counts: HUMAN hits attributed to a recipient (R17 —
"Someone" activity appears in no report). Machine hits are shown beside them so that the
split is visible (R10); the sender's own hits are in neither (R9).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.timeslots import epoch_slot
from sendtrail.errors import InvalidInput
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
from sendtrail.tracking.store import EngagementRow, TrackedEmailRow, TrackedLinkRow

__all__ = [
    "DEFAULT_RANGE",
    "EngagementReport",
    "ReportRequest",
    "ReportScope",
    "TopEmail",
    "TopLink",
    "engagement_report",
]

DEFAULT_RANGE = {
    Interval.HOUR: timedelta(hours=24),
    Interval.DAY: timedelta(days=30),
    Interval.WEEK: timedelta(weeks=12),
}
MAX_TOP = 20


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
        raise InvalidInput("Support staff send no emails: ask for the account's report "
                           "(scope ACCOUNT).")
    return actor.user_id


def _validate(request: ReportRequest) -> list[Bucket]:
    since = request.since or request.until - DEFAULT_RANGE[request.interval]
    if since >= request.until:
        raise InvalidInput("The report's start must be before its end.")
    if not 1 <= request.top <= MAX_TOP:
        raise InvalidInput(f"Ask for 1 to {MAX_TOP} top emails and links.")
    try:
        return buckets(since, request.until, request.interval, request.zone)
    except RangeTooLong as error:
        raise InvalidInput(str(error)) from error


async def engagement_report(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, request: ReportRequest
) -> EngagementReport:
    sender_id = _authorize(actor, account_id, request.scope)
    empty = _validate(request)
    since, until = empty[0].start, request.until

    counted = col(EngagementRow.counts_in_reports).is_(True)
    machine = col(EngagementRow.verdict) == Verdict.MACHINE.value
    conditions: list[ColumnElement[bool]] = [
        col(EngagementRow.account_id) == account_id,
        col(EngagementRow.occurred_at) >= since,
        col(EngagementRow.occurred_at) < until,
        col(EngagementRow.type).in_([EngagementType.OPEN.value, EngagementType.CLICK.value]),
    ]
    if sender_id is not None:
        conditions.append(col(EngagementRow.sender_id) == sender_id)

    slot = epoch_slot(col(EngagementRow.occurred_at), SLOT_SECONDS)
    rows = await session.exec(
        select(slot, col(EngagementRow.type), col(EngagementRow.counts_in_reports), func.count())
        .where(*conditions, counted | machine)
        .group_by(slot, col(EngagementRow.type), col(EngagementRow.counts_in_reports))
    )
    series = fold(empty, (
        SlotCount(slot=int(index), click=kind == EngagementType.CLICK.value, human=bool(human),
                  count=int(count))
        for index, kind, human, count in rows.all()
    ))
    totals = Counts()
    for bucket in series:
        totals = totals.plus(bucket.counts)
    return EngagementReport(
        since=since, until=until, buckets=series, totals=totals,
        top_emails=await _top_emails(session, account_id, [*conditions, counted], request.top),
        top_links=await _top_links(session, account_id, [*conditions, counted], request.top),
    )


async def _top_emails(
    session: AsyncSession, account_id: uuid.UUID, conditions: list[ColumnElement[bool]],
    top: int,
) -> list[TopEmail]:
    is_open = col(EngagementRow.type) == EngagementType.OPEN.value
    opens = func.count(case((is_open, 1)))
    clicks = func.count(case((col(EngagementRow.type) == EngagementType.CLICK.value, 1)))
    opened_by = func.count(func.distinct(case((is_open, col(EngagementRow.recipient_idx)))))
    ranked = (
        select(col(EngagementRow.email_id), opens.label("opens"), clicks.label("clicks"),
               opened_by.label("opened_by"))
        .where(*conditions)
        .group_by(col(EngagementRow.email_id))
        .subquery()
    )
    rows = await session.exec(
        select(TrackedEmailRow, ranked.c.opens, ranked.c.clicks, ranked.c.opened_by)
        .join(ranked, (col(TrackedEmailRow.id) == ranked.c.email_id)
              & (col(TrackedEmailRow.account_id) == account_id))
        .order_by((ranked.c.opens + ranked.c.clicks).desc(), col(TrackedEmailRow.sent_at).desc(),
                  col(TrackedEmailRow.id))
        .limit(top)
    )
    return [TopEmail(email=email, opens=int(opened), clicks=int(clicked),
                     recipients_opened=int(by))
            for email, opened, clicked, by in rows.all()]


async def _top_links(
    session: AsyncSession, account_id: uuid.UUID, conditions: list[ColumnElement[bool]],
    top: int,
) -> list[TopLink]:
    # The same destination in many emails is one link to the person reading the report.
    clicks = func.count()
    emails = func.count(func.distinct(col(EngagementRow.email_id)))
    rows = await session.exec(
        select(col(TrackedLinkRow.url), clicks, emails)
        .select_from(EngagementRow)
        .join(TrackedLinkRow, (col(TrackedLinkRow.account_id) == col(EngagementRow.account_id))
              & (col(TrackedLinkRow.email_id) == col(EngagementRow.email_id))
              & (col(TrackedLinkRow.idx) == col(EngagementRow.link_idx)))
        .where(*conditions, col(EngagementRow.type) == EngagementType.CLICK.value,
               col(TrackedLinkRow.account_id) == account_id)
        .group_by(col(TrackedLinkRow.url))
        .order_by(clicks.desc(), col(TrackedLinkRow.url))
        .limit(top)
    )
    return [TopLink(url=url, clicks=int(count), emails=int(spread))
            for url, count, spread in rows.all()]
