"""What happened to each email and recipient, kept as engagements are stored, so that the
emails list shows, filters and sorts by who opened, clicked and replied without reading
engagements (issue 15, item 6; migration 0015).

Only counted engagements move these dates (``counts_in_reports``: what reports count, so
machines, the sender's own copy and uncounted hits never do). First dates only move back
and the last activity only forward, so writing the same engagements twice, or two
transactions in either order, leave the same dates. Every writer of engagements (the
deriver, a logged reply) calls ``move_activity`` after the recipients' first opens and
before contacts and rollups: one order of row locks for all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sendtrail.db.types import UtcDateTime
from sendtrail.tracking.store import EmailRecipientRow, EngagementRow, TrackedEmailRow

__all__ = ["Activity", "activity_of", "move_activity", "recount_activity"]

EMAILS = TrackedEmailRow.__table__  # type: ignore[attr-defined]
RECIPIENTS = EmailRecipientRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]

EmailKey = tuple[uuid.UUID, uuid.UUID]
RecipientKey = tuple[uuid.UUID, uuid.UUID, int]


@dataclass
class _EmailDates:
    opened_at: datetime | None = None
    replied_at: datetime | None = None
    last_activity_at: datetime | None = None


@dataclass
class _RecipientDates:
    first_human_click_at: datetime | None = None
    replied_at: datetime | None = None


@dataclass
class Activity:
    """The dates a set of stored engagements moves, per email and per recipient."""

    emails: dict[EmailKey, _EmailDates] = field(default_factory=dict)
    recipients: dict[RecipientKey, _RecipientDates] = field(default_factory=dict)


def _min(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


def _max(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new > current else current


def activity_of(rows: Iterable[Mapping[str, Any]]) -> Activity:
    """The dates that the engagement rows ``rows`` (as stored) move."""
    found = Activity()
    for row in rows:
        if not row["counts_in_reports"]:
            continue
        at, kind = row["occurred_at"], row["type"]
        email = found.emails.setdefault((row["account_id"], row["email_id"]), _EmailDates())
        email.last_activity_at = _max(email.last_activity_at, at)
        if kind == "open":
            email.opened_at = _min(email.opened_at, at)
        elif kind == "reply":
            email.replied_at = _min(email.replied_at, at)
        if row["recipient_idx"] is None or row["sender_copy"] or kind == "open":
            continue  # a recipient's first open is the deriver's (first_human_open_at)
        recipient = found.recipients.setdefault(
            (row["account_id"], row["email_id"], row["recipient_idx"]), _RecipientDates())
        if kind == "click":
            recipient.first_human_click_at = _min(recipient.first_human_click_at, at)
        elif kind == "reply":
            recipient.replied_at = _min(recipient.replied_at, at)
    return found


def _moved(column: Any, name: str, *, earlier: bool) -> Any:
    """``column`` moved to the bound ``name`` if that is earlier (or later); NULL leaves it."""
    moment = bindparam(name, type_=UtcDateTime())
    beyond = column > moment if earlier else column < moment
    return case((and_(moment.is_not(None), or_(column.is_(None), beyond)), moment),
                else_=column)


_MOVE_RECIPIENTS = (
    update(RECIPIENTS)
    .where(RECIPIENTS.c.account_id == bindparam("b_account"),
           RECIPIENTS.c.email_id == bindparam("b_email"), RECIPIENTS.c.idx == bindparam("b_idx"))
    .values(first_human_click_at=_moved(RECIPIENTS.c.first_human_click_at, "b_click",
                                        earlier=True),
            replied_at=_moved(RECIPIENTS.c.replied_at, "b_reply", earlier=True))
)
_MOVE_EMAILS = (
    update(EMAILS)
    .where(EMAILS.c.account_id == bindparam("b_account"), EMAILS.c.id == bindparam("b_email"))
    .values(opened_at=_moved(EMAILS.c.opened_at, "b_open", earlier=True),
            replied_at=_moved(EMAILS.c.replied_at, "b_reply", earlier=True),
            last_activity_at=_moved(EMAILS.c.last_activity_at, "b_active", earlier=False))
)


async def move_activity(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Move the dates of the emails and recipients that newly stored ``rows`` name: one
    executemany per table, recipients first, each in key order (so that concurrent
    writers lock rows in the same order)."""
    found = activity_of(rows)
    if found.recipients:
        await conn.execute(_MOVE_RECIPIENTS, [
            {"b_account": a, "b_email": e, "b_idx": i, "b_click": d.first_human_click_at,
             "b_reply": d.replied_at}
            for (a, e, i), d in sorted(found.recipients.items(), key=lambda item: item[0])
        ])
    if found.emails:
        await conn.execute(_MOVE_EMAILS, [
            {"b_account": a, "b_email": e, "b_open": d.opened_at, "b_reply": d.replied_at,
             "b_active": d.last_activity_at}
            for (a, e), d in sorted(found.emails.items(), key=lambda item: item[0])
        ])


async def recount_activity(conn: AsyncConnection, account_id: uuid.UUID, email_id: uuid.UUID,
                           recipient_idx: int | None) -> None:
    """Dates worked out again from what still counts, after stored engagements stopped
    counting (a burst judged a scanner's clicks, R11): rare, and read from the counted
    engagements' index."""
    e = ENGAGEMENTS.c
    counted = (e.account_id == account_id, e.email_id == email_id,
               e.counts_in_reports.is_(True))

    def first(kind: str, *also: Any) -> Any:
        return (select(func.min(e.occurred_at)).where(*counted, e.type == kind, *also)
                .scalar_subquery())

    if recipient_idx is not None:
        await conn.execute(update(RECIPIENTS).where(
            RECIPIENTS.c.account_id == account_id, RECIPIENTS.c.email_id == email_id,
            RECIPIENTS.c.idx == recipient_idx,
        ).values(first_human_click_at=first("click", e.recipient_idx == recipient_idx,
                                            e.sender_copy.is_(False))))
    latest = select(func.max(e.occurred_at)).where(*counted).scalar_subquery()
    await conn.execute(update(EMAILS).where(
        EMAILS.c.account_id == account_id, EMAILS.c.id == email_id,
    ).values(opened_at=first("open"),
             last_activity_at=func.coalesce(latest, EMAILS.c.sent_at)))
