"""Reading engagements: filtered lists, per-recipient statistics with R8 hints."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, func
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from sendtrail.db.pagination import Page, keyset_page, within
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.hints import OpenSeen, multiple_open_hints
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

    Clicks are counted by the database. Opens come back as plain tuples (never ORM rows),
    one email and recipient after the other, because the R8 hints look at each open's time
    and network; the hints are then worked out once per recipient.
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
    # sqlmodel's select() is typed for at most four columns; its Select takes any number.
    five: Select[uuid.UUID, int, datetime, str | None, bool] = Select(
        email, index, col(EngagementRow.occurred_at), col(EngagementRow.ip),
        col(EngagementRow.inferred),
    )
    opened = await session.exec(
        five.where(*counted, col(EngagementRow.type) == EngagementType.OPEN.value)
        .order_by(email, index, col(EngagementRow.occurred_at))
    )
    opens: dict[tuple[uuid.UUID, int], list[OpenSeen]] = defaultdict(list)
    for email_id, idx, at, ip, inferred in opened.all():
        opens[(email_id, idx)].append(OpenSeen(at, ip, inferred))
    stats: dict[uuid.UUID, dict[int, RecipientStats]] = defaultdict(dict)
    for key in opens.keys() | clicks.keys():
        seen = opens.get(key, [])  # already in time order
        stats[key[0]][key[1]] = RecipientStats(
            open_count=len(seen),
            click_count=clicks.get(key, 0),
            first_opened_at=seen[0].at if seen else None,
            last_opened_at=seen[-1].at if seen else None,
            hints=multiple_open_hints(seen),
        )
    return stats


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
