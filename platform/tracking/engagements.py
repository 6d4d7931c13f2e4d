"""Reading engagements: filtered lists, per-recipient statistics with R8 hints."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.pagination import Page, keyset_page, within
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.hints import OpenSeen, multiple_open_hints
from sendtrail.tracking.core.model import EngagementType, Verdict
from sendtrail.tracking.store import EngagementRow

__all__ = [
    "EngagementFilter", "RecipientStats", "link_clicks", "list_engagements", "recipient_stats",
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
    statement = within(statement, EngagementRow.occurred_at, filter.since, filter.until)
    return await keyset_page(
        session, statement,
        keys=[EngagementRow.occurred_at, EngagementRow.id],  # type: ignore[list-item]
        descending=True, first=first, after=after,
    )


async def recipient_stats(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID
) -> dict[int, RecipientStats]:
    """Human, attributed opens and clicks per recipient index (what reports count, R17)."""
    rows = await session.exec(select(EngagementRow).where(
        EngagementRow.account_id == account_id,
        EngagementRow.email_id == email_id,
        col(EngagementRow.counts_in_reports).is_(True),
    ))
    opens: dict[int, list[OpenSeen]] = defaultdict(list)
    clicks: dict[int, int] = defaultdict(int)
    for row in rows.all():
        if row.recipient_idx is None:
            continue
        if row.type == EngagementType.OPEN.value:
            opens[row.recipient_idx].append(OpenSeen(row.occurred_at, row.ip, row.inferred))
        elif row.type == EngagementType.CLICK.value:
            clicks[row.recipient_idx] += 1
    stats = {}
    for index in set(opens) | set(clicks):
        seen = sorted(opens.get(index, []), key=lambda item: item.at)
        stats[index] = RecipientStats(
            open_count=len(seen),
            click_count=clicks.get(index, 0),
            first_opened_at=seen[0].at if seen else None,
            last_opened_at=seen[-1].at if seen else None,
            hints=multiple_open_hints(seen),
        )
    return stats


async def link_clicks(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID
) -> dict[int, int]:
    """Human clicks counted in reports (R17), per link index of the email."""
    clicks = func.count()
    rows = await session.exec(
        select(col(EngagementRow.link_idx), clicks)
        .where(
            EngagementRow.account_id == account_id, EngagementRow.email_id == email_id,
            EngagementRow.type == EngagementType.CLICK.value,
            col(EngagementRow.counts_in_reports).is_(True),
            col(EngagementRow.link_idx).is_not(None),
        )
        .group_by(col(EngagementRow.link_idx))
    )
    return {int(index): int(count) for index, count in rows.all() if index is not None}


async def engagements_of_email(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID
) -> list[EngagementRow]:
    """Every hit of the email, all verdicts (for the diagnosis)."""
    rows = await session.exec(select(EngagementRow).where(
        EngagementRow.account_id == account_id, EngagementRow.email_id == email_id
    ))
    return list(rows.all())
