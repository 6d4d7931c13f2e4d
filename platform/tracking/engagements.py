"""Reading engagements: filtered lists, per-recipient statistics with R8 hints."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, case, distinct, func
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from sendtrail.db.pagination import Page, keyset_page, within
from sendtrail.db.timeslots import seconds_between
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.hints import PREVIEW_WINDOW, OpensSummary, hints_for
from sendtrail.tracking.core.model import Attribution, EngagementType, Verdict
from sendtrail.tracking.store import EngagementRow

__all__ = [
    "ENGAGEMENT_KEYS",
    "EngagementFilter",
    "LinkClicks",
    "RecipientStats",
    "engagements_matching",
    "engagements_of_email",
    "link_clicks_of",
    "list_engagements",
    "recipient_stats_of",
]


@dataclass(frozen=True)
class EngagementFilter:
    email_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    sender_id: uuid.UUID | None = None
    type: EngagementType | None = None
    verdicts: tuple[Verdict, ...] = (Verdict.HUMAN,)
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class RecipientStats:
    open_count: int = 0
    click_count: int = 0
    first_opened_at: datetime | None = None
    last_opened_at: datetime | None = None
    hints: tuple[str, ...] = ()


async def list_engagements(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    filter: EngagementFilter,
    first: int | None,
    after: str | None,
) -> Page[EngagementRow]:
    """Newest first; only HUMAN activity unless other verdicts are asked for (R10)."""
    authorizer().require(actor, account_id, AuthzObject.ENGAGEMENTS, AuthzAction.READ)
    return await keyset_page(session, engagements_matching(account_id, filter),
                             keys=ENGAGEMENT_KEYS, descending=True, first=first, after=after)


ENGAGEMENT_KEYS: list[InstrumentedAttribute[Any]] = [
    EngagementRow.occurred_at, EngagementRow.id]  # type: ignore[list-item]
"""The order of engagement lists (newest first), the keys of their cursors."""


def engagements_matching(account_id: uuid.UUID,
                         filter: EngagementFilter) -> SelectOfScalar[EngagementRow]:
    """The account's engagements that ``filter`` lets through, unordered."""
    statement = select(EngagementRow).where(
        EngagementRow.account_id == account_id,
        col(EngagementRow.verdict).in_([verdict.value for verdict in filter.verdicts]),
    )
    for column, value in (
        (EngagementRow.email_id, filter.email_id),
        (EngagementRow.contact_id, filter.contact_id),
        (EngagementRow.sender_id, filter.sender_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if filter.type is not None:
        statement = statement.where(EngagementRow.type == filter.type.value)
    return within(statement, EngagementRow.occurred_at, filter.since, filter.until)


async def recipient_stats_of(
    session: AsyncSession, account_id: uuid.UUID, email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, dict[int, RecipientStats]]:
    """Human, attributed opens and clicks per recipient index of each email (what reports
    count, R17), in two statements however many emails and engagements there are.

    The database works out what the R8 hints need as well: per recipient, how many
    networks the opens came from and whether two opens in a row (in time order) came
    within a minute from the same network. So an email's thousands of opens never come
    back to Python (issue 14: that was 60 ms of a large email's page).
    """
    if not email_ids:
        return {}
    counted = (
        col(EngagementRow.account_id) == account_id,
        col(EngagementRow.email_id).in_(email_ids),
        col(EngagementRow.counts_in_reports).is_(True),
        col(EngagementRow.recipient_idx).is_not(None),
    )
    email, index = col(EngagementRow.email_id), col(EngagementRow.recipient_idx)
    clicked = await session.exec(
        select(email, index, func.count())
        .where(*counted, col(EngagementRow.type) == EngagementType.CLICK.value)
        .group_by(email, index)
    )
    # recipient_idx is never NULL here (``counted``), whatever the column's type says.
    clicks = {(email_id, cast(int, idx)): int(count) for email_id, idx, count in clicked.all()}
    stats: dict[uuid.UUID, dict[int, RecipientStats]] = defaultdict(dict)
    summaries = await session.exec(_opens_summary(counted))
    for email_id, idx, count, first, last, quick, networks, inferred in summaries.all():
        opens = OpensSummary(count=int(count), quick_repeat=bool(quick),
                             networks=int(networks), inferred=bool(inferred))
        stats[email_id][idx] = RecipientStats(
            open_count=opens.count, click_count=clicks.pop((email_id, idx), 0),
            first_opened_at=first, last_opened_at=last, hints=hints_for(opens))
    for (email_id, idx), count in clicks.items():
        stats[email_id][idx] = RecipientStats(click_count=count)
    return stats


def _opens_summary(counted: tuple[ColumnElement[bool], ...]) -> Any:
    """Per recipient with counted opens: email id, recipient index, how many opens, the
    first and the last, whether one came quickly after another from the same network (0/1),
    how many networks, whether one was inferred (0/1)."""
    at, network = col(EngagementRow.occurred_at), col(EngagementRow.network)
    recipient = (col(EngagementRow.email_id), col(EngagementRow.recipient_idx))
    # Time alone (no id to break ties): the id is not in the counted index, and fetching it
    # for every open doubled the statement's time. Opens at the same instant are 0 s apart
    # whichever comes first.
    in_time_order = at
    # sqlmodel's select() is typed for at most four columns; its Select takes any number.
    opens = Select(
        col(EngagementRow.email_id).label("email_id"),
        col(EngagementRow.recipient_idx).label("idx"), at.label("at"),
        network.label("network"), col(EngagementRow.inferred).label("inferred"),
        func.lag(network).over(partition_by=recipient, order_by=in_time_order)
        .label("previous_network"),
        func.lag(at).over(partition_by=recipient, order_by=in_time_order).label("previous_at"),
    ).where(*counted, col(EngagementRow.type) == EngagementType.OPEN.value).subquery()
    quick = case((and_(
        opens.c.network.is_not(None), opens.c.network == opens.c.previous_network,
        seconds_between(opens.c.at, opens.c.previous_at) <= PREVIEW_WINDOW.total_seconds(),
    ), 1), else_=0)
    return Select(
        opens.c.email_id, opens.c.idx, func.count(), func.min(opens.c.at), func.max(opens.c.at),
        func.max(quick), func.count(distinct(opens.c.network)),
        func.max(case((opens.c.inferred.is_(True), 1), else_=0)),
    ).group_by(opens.c.email_id, opens.c.idx)


@dataclass(frozen=True)
class LinkClicks:
    """A link's human clicks: those counted in reports, and those by 'Someone' (R15-R17),
    which are people too but cannot be tied to a recipient, so no report counts them."""

    counted: int = 0
    by_someone: int = 0


async def link_clicks_of(
    session: AsyncSession, account_id: uuid.UUID, email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, dict[int, LinkClicks]]:
    """Human clicks per link index of each email, counted (R17) and by 'Someone'."""
    found: dict[uuid.UUID, dict[int, LinkClicks]] = defaultdict(dict)
    if not email_ids:
        return found
    email, link = col(EngagementRow.email_id), col(EngagementRow.link_idx)
    counted = func.sum(case((col(EngagementRow.counts_in_reports).is_(True), 1), else_=0))
    by_someone = func.sum(case(
        (col(EngagementRow.attribution) == Attribution.SOMEONE.value, 1), else_=0))
    rows = await session.exec(
        select(email, link, counted, by_someone)
        .where(
            EngagementRow.account_id == account_id, email.in_(email_ids),
            EngagementRow.type == EngagementType.CLICK.value,
            EngagementRow.verdict == Verdict.HUMAN.value,
            link.is_not(None),
        )
        .group_by(email, link)
    )
    for email_id, index, in_reports, anonymous in rows.all():
        if index is not None:
            found[email_id][int(index)] = LinkClicks(int(in_reports or 0), int(anonymous or 0))
    return found


async def engagements_of_email(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID
) -> list[EngagementRow]:
    """Every hit of the email, all verdicts (for the diagnosis)."""
    rows = await session.exec(select(EngagementRow).where(
        EngagementRow.account_id == account_id, EngagementRow.email_id == email_id
    ))
    return list(rows.all())
