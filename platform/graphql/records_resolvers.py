"""Query and mutation fields of records: contacts, logging, legal basis, export, erasure."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types import Info

from sendtrail.contacts.service import list_contacts
from sendtrail.errors import InvalidInput
from sendtrail.graphql.context import ctx
from sendtrail.graphql.tracking_inputs import (
    AttachmentInput,
    LegalBasisEnum,
    RecipientInput,
    aware,
    decode_attachments,
    decode_base64,
)
from sendtrail.graphql.tracking_types import Contact, ContactConnection, Email
from sendtrail.i18n import _
from sendtrail.notifications import webhooks
from sendtrail.records import logbook, privacy
from sendtrail.records.logbook import LogInput, log_input_from_message
from sendtrail.records.mime import Address, parse_message
from sendtrail.tenancy.users import normalize_email, parse_id

__all__ = ["RecordsMutation", "RecordsQuery"]


@strawberry.input
class LogEmailInput:
    """Either the structured fields, or ``raw``: a whole RFC 822 message (multipart upload)."""

    raw: Upload | None = None
    raw_base64: str | None = strawberry.field(
        default=None, description="The RFC 822 message, base64 (when uploads are awkward)."
    )
    subject: str | None = None
    from_: RecipientInput | None = strawberry.field(default=None, name="from")
    recipients: list[RecipientInput] | None = None
    sent_at: datetime | None = None
    text: str | None = None
    html: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] | None = None
    attachments: list[AttachmentInput] | None = None


@strawberry.type
class ErasureReceipt:
    contact_id: strawberry.ID
    erased_at: datetime
    engagements: int
    logged_emails: int
    attachments: int


async def _entry(given: LogEmailInput, viewer_email: str) -> LogInput:
    if given.raw is not None or given.raw_base64 is not None:
        upload: Any = given.raw
        raw = await upload.read() if upload is not None else b""
        if given.raw_base64 is not None:
            raw = decode_base64(given.raw_base64, "rawBase64")
        message = await asyncio.to_thread(parse_message, raw)  # CPU-heavy: off the loop
        return log_input_from_message(message, source="api")
    if not given.recipients:
        raise InvalidInput(_("Give the recipients of the email (or the raw message)."))
    sender = given.from_ or RecipientInput(address=viewer_email)
    groups: dict[str, list[Address]] = {"to": [], "cc": [], "bcc": []}
    for recipient in given.recipients:
        groups[str(recipient.field)].append(
            Address(normalize_email(recipient.address), recipient.name))
    return LogInput(
        subject=(given.subject or "").strip(),
        sender=Address(normalize_email(sender.address), sender.name),
        to=tuple(groups["to"]), cc=tuple(groups["cc"]), bcc=tuple(groups["bcc"]),
        sent_at=aware(given.sent_at, "sentAt"), text=given.text, html=given.html,
        message_id=given.message_id,
        in_reply_to=given.in_reply_to, references=tuple(given.references or ()),
        attachments=decode_attachments(given.attachments),
        source="api",
    )


@strawberry.type
class RecordsQuery:
    @strawberry.field(description="Contacts by address; search matches address or name.")
    async def contacts(
        self, info: Info, first: int | None = None, after: str | None = None,
        search: str | None = None,
    ) -> ContactConnection:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            page = await list_contacts(session, principal, await context.account_id(info),
                                       search=search, first=first, after=after)
        return ContactConnection.from_page(page)

    @strawberry.field
    async def contact(self, info: Info, id: strawberry.ID) -> Contact:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await privacy.get_contact(session, principal, await context.account_id(info),
                                            parse_id(id, "contact"))
        return Contact.from_row(row)

    @strawberry.field(description="Everything held about a contact, as JSON (data export).")
    async def contact_export(self, info: Info, id: strawberry.ID) -> JSON:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            data = await privacy.export_contact(
                session, principal, await context.account_id(info), parse_id(id, "contact"))
        return JSON(data)


@strawberry.type
class RecordsMutation:
    @strawberry.mutation(description="Log an email on its participants' records (R23).")
    async def log_email(self, info: Info, input: LogEmailInput) -> Email:
        context = ctx(info)
        principal = await context.actor(info)
        entry = await _entry(input, principal.email)
        async with context.db() as session:
            row = await logbook.log_email(
                session, principal, await context.account_id(info), entry,
                blobs=context.records.blobs, now=context.now(), limits=context.records.limits,
                sinks=context.records.sinks,
            )
        return Email.from_logged(row, public_url=context.settings.http.public_url)

    @strawberry.mutation(description="Record the legal basis for processing a contact (R16).")
    async def set_contact_legal_basis(
        self, info: Info, contact_id: strawberry.ID, basis: LegalBasisEnum  # type: ignore[valid-type]
    ) -> Contact:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await privacy.set_legal_basis(
                session, principal, await context.account_id(info),
                contact_id=parse_id(contact_id, "contact"), basis=basis, now=context.now(),
            )
        return Contact.from_row(row)

    @strawberry.mutation(description="Erase a contact and everything only they appear on.")
    async def erase_contact(self, info: Info, contact_id: strawberry.ID) -> ErasureReceipt:
        context = ctx(info)
        principal = await context.actor(info)
        now = context.now()
        account_id = await context.account_id(info)
        async with context.db() as session:
            counts = await privacy.erase_contact(
                session, principal, account_id,
                contact_id=parse_id(contact_id, "contact"), blobs=context.records.blobs,
                tombstone_key=context.records.tombstone_keys[0], now=now,
                # In the erasure's transaction (called before it commits): the webhook
                # messages about the erased events, queued or sent, and their attempts.
                on_engagements_erased=lambda session, ids: webhooks.forget_engagements(
                    session, account_id, ids),
            )
        return ErasureReceipt(contact_id=contact_id, erased_at=now,
                              engagements=counts["engagements"],
                              logged_emails=counts["loggedEmails"],
                              attachments=counts["attachments"])
