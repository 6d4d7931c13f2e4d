"""A contact's timeline (R3, R4, R23): logged emails, marketing emails sent to them, their
human engagements and legal-basis changes, newest first, keyset-paginated across sources."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.pagination import Page, page_size
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.records.privacy import get_contact
from sendtrail.records.store import LegalBasisChangeRow, LoggedEmailRow, LoggedRecipientRow
from sendtrail.tenancy.accounts import get_settings
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.store import EmailRecipientRow, EngagementRow, TrackedEmailRow

__all__ = ["TimelineEntry", "contact_timeline"]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    id: uuid.UUID
    item: LoggedEmailRow | TrackedEmailRow | EngagementRow | LegalBasisChangeRow


def _encode(at: datetime, item_id: uuid.UUID) -> str:
    raw = json.dumps({"t": at.isoformat(), "i": str(item_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(data["t"]), uuid.UUID(data["i"])
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidInput(_("The 'after' cursor is not one this API gave out.")) from None


async def contact_timeline(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, contact_id: uuid.UUID,
    *, first: int | None, after: str | None,
) -> Page[TimelineEntry]:
    contact = await get_contact(session, actor, account_id, contact_id)
    size = page_size(first)
    bound = _decode(after) if after else None
    settings = await get_settings(session, account_id)

    def before(at_column: Any, id_column: Any) -> Any:
        return tuple_(at_column, id_column) < tuple_(*bound) if bound else True

    entries: list[TimelineEntry] = []
    logged = await session.exec(
        select(LoggedEmailRow).join(LoggedRecipientRow, (
            (col(LoggedRecipientRow.account_id) == col(LoggedEmailRow.account_id))
            & (col(LoggedRecipientRow.logged_email_id) == col(LoggedEmailRow.id))
        )).where(LoggedEmailRow.account_id == account_id,
                 LoggedRecipientRow.contact_id == contact.id,
                 # a marketing email is listed as itself (R3), not as its logged copy
                 or_(col(LoggedEmailRow.tracked_email_id).is_(None),
                     col(LoggedEmailRow.tracked_email_id).not_in(
                         select(TrackedEmailRow.id).where(
                             TrackedEmailRow.account_id == account_id,
                             TrackedEmailRow.kind == "marketing"))),
                 before(LoggedEmailRow.sent_at, LoggedEmailRow.id))
        .order_by(col(LoggedEmailRow.sent_at).desc(), col(LoggedEmailRow.id).desc())
        .limit(size + 1)
    )
    entries += [TimelineEntry(row.sent_at, row.id, row) for row in logged.all()]
    marketing = await session.exec(
        select(TrackedEmailRow).join(EmailRecipientRow, (
            (col(EmailRecipientRow.account_id) == col(TrackedEmailRow.account_id))
            & (col(EmailRecipientRow.email_id) == col(TrackedEmailRow.id))
        )).where(TrackedEmailRow.account_id == account_id,
                 EmailRecipientRow.contact_id == contact.id,
                 TrackedEmailRow.kind == "marketing",
                 before(TrackedEmailRow.sent_at, TrackedEmailRow.id))
        .order_by(col(TrackedEmailRow.sent_at).desc(), col(TrackedEmailRow.id).desc())
        .limit(size + 1)
    )
    entries += [TimelineEntry(row.sent_at, row.id, row) for row in marketing.all()]
    engagement_query = select(EngagementRow).where(
        EngagementRow.account_id == account_id, EngagementRow.contact_id == contact.id,
        EngagementRow.verdict == "human",
        before(EngagementRow.occurred_at, EngagementRow.id),
    )
    if not settings.marketing_tracking:  # R3: marketing activity shows only when tracked
        engagement_query = engagement_query.join(TrackedEmailRow, (
            (col(TrackedEmailRow.account_id) == col(EngagementRow.account_id))
            & (col(TrackedEmailRow.id) == col(EngagementRow.email_id))
        )).where(TrackedEmailRow.kind != "marketing")
    engagements = await session.exec(
        engagement_query.order_by(col(EngagementRow.occurred_at).desc(),
                                  col(EngagementRow.id).desc()).limit(size + 1)
    )
    entries += [TimelineEntry(row.occurred_at, row.id, row) for row in engagements.all()]
    changes = await session.exec(
        select(LegalBasisChangeRow).where(
            LegalBasisChangeRow.account_id == account_id,
            LegalBasisChangeRow.contact_id == contact.id,
            before(LegalBasisChangeRow.at, LegalBasisChangeRow.id),
        ).order_by(col(LegalBasisChangeRow.at).desc(), col(LegalBasisChangeRow.id).desc())
        .limit(size + 1)
    )
    entries += [TimelineEntry(row.at, row.id, row) for row in changes.all()]
    entries.sort(key=lambda entry: (entry.at, entry.id), reverse=True)
    page = entries[:size]
    return Page(items=[(entry, _encode(entry.at, entry.id)) for entry in page],
                has_next_page=len(entries) > size)
