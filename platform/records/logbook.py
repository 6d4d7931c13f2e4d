"""Logging emails (R1, R23): a copy with its attachments on the participants' records, and
replies matched to tracked emails (R7, R24)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.service import ensure_contacts, normalise_address
from sendtrail.db.grouping import rows_by_parent
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.records.blobs import BlobStore
from sendtrail.records.mime import Address, MessageLimits, ParsedAttachment, ParsedMessage
from sendtrail.records.replies import record_reply
from sendtrail.records.store import AttachmentRow, LoggedEmailRow, LoggedRecipientRow
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.store import UserRow
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.stream import EngagementEvent, EventSink

__all__ = ["LogInput", "log_email", "log_input_from_message"]


@dataclass(frozen=True)
class LogInput:
    subject: str
    sender: Address
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    sent_at: datetime | None = None
    text: str | None = None
    html: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[ParsedAttachment, ...] = field(default_factory=tuple)
    source: str = "api"
    tracked_email_id: uuid.UUID | None = None
    skipped: tuple[str, ...] = ()
    """Addresses of a raw message left out because the API would refuse them."""


def log_input_from_message(
    message: ParsedMessage, *, source: str, ignore: frozenset[str] = frozenset()
) -> LogInput:
    """What to log of a parsed message; ``ignore`` drops addresses (the logging address)."""
    if message.sender is None:
        raise InvalidInput(_("The message has no valid From address, so it cannot be "
                             "logged{note}.").format(note=_skipped_note(message.skipped)))

    def keep(addresses: tuple[Address, ...]) -> tuple[Address, ...]:
        return tuple(a for a in addresses if a.address not in ignore)

    return LogInput(
        subject=message.subject, sender=message.sender, to=keep(message.to),
        cc=keep(message.cc), bcc=keep(message.bcc), sent_at=message.date, text=message.text,
        html=message.html, message_id=message.message_id, in_reply_to=message.in_reply_to,
        references=message.references, attachments=message.attachments, source=source,
        skipped=message.skipped,
    )


def _skipped_note(skipped: tuple[str, ...]) -> str:
    if not skipped:
        return ""
    return " " + _("(not valid addresses: {addresses})").format(addresses=", ".join(skipped))


async def _account_users(session: AsyncSession, account_id: uuid.UUID) -> dict[str, UserRow]:
    rows = await session.exec(select(UserRow).where(UserRow.account_id == account_id))
    return {row.email: row for row in rows.all()}


async def log_email(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    entry: LogInput,
    *,
    blobs: BlobStore,
    now: datetime,
    limits: MessageLimits | None = None,
    sinks: Sequence[EventSink] = (),
) -> LoggedEmailRow:
    """Store a copy on the record of every participant who is not a user of the account.

    A reply to a tracked email also becomes engagements, passed to ``sinks`` like the
    ingestion writer's (webhook outbox, live fan-out) inside and after the transaction.
    """
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.WRITE)
    limits = limits or MessageLimits()
    if len(entry.attachments) > limits.max_attachments:
        raise InvalidInput(_("An email can be logged with at most {count} "
                             "attachments.").format(count=limits.max_attachments))
    total = sum(len(a.data) for a in entry.attachments)
    if total > limits.max_bytes:
        raise InvalidInput(_("The attachments add up to more than {size} MB.").format(
            size=limits.max_bytes // (1024 * 1024)))
    users = await _account_users(session, account_id)
    participants = [("from", entry.sender)] + [
        (name, address) for name, group in (("to", entry.to), ("cc", entry.cc),
                                            ("bcc", entry.bcc)) for address in group
    ]
    seen: set[str] = set()
    external: list[tuple[str, Address]] = []
    for role, address in participants:
        normalised = normalise_address(address.address)
        if normalised in seen or normalised in users:
            continue
        seen.add(normalised)
        external.append((role, Address(normalised, address.name)))
    if not external:
        raise InvalidInput(_("Nobody outside the account took part in this email, so there is "
                             "no contact record to log it on{note}.").format(
                                 note=_skipped_note(entry.skipped)))
    contacts = await ensure_contacts(session, account_id, ((a.address, a.name)
                                                          for _, a in external))
    sender_user = users.get(normalise_address(entry.sender.address))
    row = LoggedEmailRow(
        account_id=account_id, tracked_email_id=entry.tracked_email_id,
        sender_id=sender_user.id if sender_user else actor.user_id,
        sender_address=normalise_address(entry.sender.address)[:320],
        sender_name=(entry.sender.name or None) and entry.sender.name[:200],
        subject=entry.subject[:998], sent_at=entry.sent_at or now, logged_at=now,
        last_activity_at=entry.sent_at or now,
        text=entry.text, html=entry.html,
        message_id=entry.message_id[:998] if entry.message_id else None,
        in_reply_to=entry.in_reply_to[:998] if entry.in_reply_to else None,
        references=[ref[:998] for ref in entry.references[:100]], source=entry.source,
    )
    session.add(row)
    for index, (role, address) in enumerate(external):
        session.add(LoggedRecipientRow(
            account_id=account_id, logged_email_id=row.id, idx=index, address=address.address,
            name=address.name and address.name[:200], field=role,
            contact_id=contacts[address.address].id,
        ))
    for attachment in entry.attachments:
        # Writing (and fsync'ing) megabytes is blocking I/O: keep it off the event loop.
        digest = await asyncio.to_thread(blobs.put, account_id, attachment.data)
        session.add(AttachmentRow(
            account_id=account_id, logged_email_id=row.id, filename=attachment.filename,
            content_type=attachment.content_type, size=len(attachment.data), sha256=digest,
        ))
    events: list[EngagementEvent] = []
    if entry.in_reply_to or entry.references:
        events = await record_reply(session, account_id, row, now=now)
    if events:  # webhooks and live notifications hear of replies like of pixel hits
        await session.flush()
        connection = await session.connection()
        for sink in sinks:
            await sink.in_transaction(connection, events)
    await session.commit()
    if events:
        for sink in sinks:
            sink.committed(events)
    return row


async def attachments_of_logged(
    session: AsyncSession, account_id: uuid.UUID, logged_email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[AttachmentRow]]:
    """Each logged email's attachments by file name, for many emails in one statement."""
    return await rows_by_parent(session, AttachmentRow, account_id, parent="logged_email_id",
                                parent_ids=logged_email_ids, order="filename")


async def recipients_of_logged(
    session: AsyncSession, account_id: uuid.UUID, logged_email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[LoggedRecipientRow]]:
    """Each logged email's participants in their order, for many emails in one statement."""
    return await rows_by_parent(session, LoggedRecipientRow, account_id,
                                parent="logged_email_id", parent_ids=logged_email_ids,
                                order="idx")


async def get_logged_email(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, logged_email_id: uuid.UUID
) -> LoggedEmailRow | None:
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    return (await session.exec(select(LoggedEmailRow).where(
        LoggedEmailRow.account_id == account_id, LoggedEmailRow.id == logged_email_id
    ))).one_or_none()


async def get_attachment(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, attachment_id: uuid.UUID
) -> AttachmentRow | None:
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    return (await session.exec(select(AttachmentRow).where(
        AttachmentRow.account_id == account_id, AttachmentRow.id == attachment_id
    ))).one_or_none()
