"""``prepareEmail(log: true)``: keep a copy of a tracked email on its recipients' records."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.records.blobs import BlobStore
from sendtrail.records.logbook import LogInput, log_email
from sendtrail.records.mime import Address, MessageLimits, ParsedAttachment
from sendtrail.records.store import LoggedEmailRow
from sendtrail.tenancy.accounts import tracking_policy_for
from sendtrail.tenancy.store import UserRow
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.emails import EmailInput
from sendtrail.tracking.store import TrackedEmailRow

__all__ = ["log_prepared", "logged_copies_of"]


async def log_prepared(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    email: TrackedEmailRow,
    draft: EmailInput,
    *,
    log: bool | None,
    attachments: tuple[ParsedAttachment, ...],
    blobs: BlobStore,
    now: datetime,
    limits: MessageLimits,
) -> LoggedEmailRow | None:
    """Log the original (untracked) content when asked, or by the sender's default (R2).

    Runs in the caller's transaction and commits it, so the tracked email and its copy are
    stored together or not at all."""
    by_default = log is None
    if log is None:
        policy = await tracking_policy_for(
            session, account_id, email.sender_id, tracking_base_url=email.tracking_base_url
        )
        log = policy.default_log
    users = set((await session.exec(select(UserRow.email).where(
        UserRow.account_id == account_id))).all())
    if by_default and all(r.address in users for r in draft.recipients):
        log = False  # only colleagues: there is no contact record to log it on
    if not log:
        await session.commit()
        return None
    sender = (await session.exec(select(UserRow).where(
        UserRow.account_id == account_id, UserRow.id == email.sender_id
    ))).one()
    groups: dict[str, list[Address]] = {"to": [], "cc": [], "bcc": []}
    for recipient in draft.recipients:
        groups[recipient.field.value].append(Address(recipient.address, recipient.name))
    logged = await log_email(
        session, actor, account_id,
        LogInput(
            subject=email.subject, sender=Address(sender.email, sender.name),
            to=tuple(groups["to"]), cc=tuple(groups["cc"]), bcc=tuple(groups["bcc"]),
            sent_at=email.sent_at, text=draft.text, html=draft.html,
            message_id=email.message_id, attachments=attachments, source="api",
            tracked_email_id=email.id,
        ),
        blobs=blobs, now=now, limits=limits,
    )
    email.logged = True
    session.add(email)
    await session.commit()
    return logged


async def logged_copies_of(
    session: AsyncSession, account_id: uuid.UUID, tracked_email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, LoggedEmailRow]:
    """The logged copy of each of these tracked emails that has one (one statement)."""
    if not tracked_email_ids:
        return {}
    rows = await session.exec(select(LoggedEmailRow).where(
        LoggedEmailRow.account_id == account_id,
        col(LoggedEmailRow.tracked_email_id).in_(tracked_email_ids),
    ))
    found: dict[uuid.UUID, LoggedEmailRow] = {}
    for row in rows.all():
        if row.tracked_email_id is not None:
            found.setdefault(row.tracked_email_id, row)
    return found
