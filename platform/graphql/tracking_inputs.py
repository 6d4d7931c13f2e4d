"""GraphQL enums and inputs of tracking (docs/architecture.md), translated to domain values."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import strawberry

from sendtrail.contacts.values import LegalBasis
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.records.mime import ParsedAttachment, clean_filename, safe_media_type
from sendtrail.tenancy.users import parse_id
from sendtrail.tracking.core.model import (
    Attribution,
    DeliveryMode,
    EmailKind,
    EngagementType,
    RecipientField,
    Verdict,
)
from sendtrail.tracking.emails import EmailActivity, EmailOrder, RecipientActivity
from sendtrail.tracking.engagements import EngagementFilter

__all__ = [
    "ActivityFilterInput",
    "AttachmentInput",
    "AttributionEnum",
    "DeliveryModeEnum",
    "EmailActivityEnum",
    "EmailFilterInput",
    "EmailKindEnum",
    "EmailOrderEnum",
    "EngagementFilterInput",
    "EngagementTypeEnum",
    "LegalBasisEnum",
    "PrepareEmailInput",
    "RecipientActivityEnum",
    "RecipientFieldEnum",
    "RecipientInput",
    "VerdictEnum",
    "aware",
    "engagement_filter",
]

EmailKindEnum = strawberry.enum(EmailKind, name="EmailKind")
DeliveryModeEnum = strawberry.enum(DeliveryMode, name="DeliveryMode")
RecipientFieldEnum = strawberry.enum(RecipientField, name="RecipientField")
EmailActivityEnum = strawberry.enum(EmailActivity, name="EmailActivity")
EmailOrderEnum = strawberry.enum(EmailOrder, name="EmailOrder")
RecipientActivityEnum = strawberry.enum(RecipientActivity, name="RecipientActivity")
EngagementTypeEnum = strawberry.enum(EngagementType, name="EngagementType")
AttributionEnum = strawberry.enum(Attribution, name="Attribution")
VerdictEnum = strawberry.enum(Verdict, name="Verdict")
LegalBasisEnum = strawberry.enum(LegalBasis, name="LegalBasis")


@strawberry.input
class RecipientInput:
    address: str
    name: str | None = None
    field: RecipientFieldEnum = RecipientField.TO  # type: ignore[valid-type]


@strawberry.input
class AttachmentInput:
    filename: str
    content_base64: str
    content_type: str = "application/octet-stream"


def decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("{what} is not valid base64.").format(what=what)) from None


def decode_attachments(given: list[AttachmentInput] | None) -> tuple[ParsedAttachment, ...]:
    return tuple(
        ParsedAttachment(filename=clean_filename(a.filename, f"attachment-{n}"),
                         content_type=safe_media_type(a.content_type),
                         data=decode_base64(a.content_base64,
                                            _("Attachment {name!r}").format(name=a.filename)))
        for n, a in enumerate(given or [], 1)
    )


@strawberry.input
class PrepareEmailInput:
    subject: str
    recipients: list[RecipientInput]
    kind: EmailKindEnum = EmailKind.SALES  # type: ignore[valid-type]
    sender_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the viewer; admins may name another user."
    )
    html: str | None = strawberry.field(
        default=None, description="Absent: a plain-text email, which cannot be tracked (R6)."
    )
    text: str | None = None
    track: bool | None = strawberry.field(
        default=None, description="Default: the sender's preference, else the account's (R2)."
    )
    delivery_mode: DeliveryModeEnum = DeliveryMode.SINGLE_MESSAGE  # type: ignore[valid-type]
    log: bool | None = strawberry.field(
        default=None, description="Also log a copy on the recipients' records (R1, R2)."
    )
    attachments: list[AttachmentInput] | None = strawberry.field(
        default=None, description="Kept with the logged copy (only when logging)."
    )


@strawberry.input
class EmailFilterInput:
    sender_id: strawberry.ID | None = None
    kind: EmailKindEnum | None = None  # type: ignore[valid-type]
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the subject or of a recipient's address, any case."
    )
    activity: EmailActivityEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only emails opened, not opened, replied to, or opened and "
        "not replied to (counted opens and replies; emails only logged are never opened).")


@strawberry.input(description="What the activity feed keeps: one kind of activity, one email.")
class ActivityFilterInput:
    type: EngagementTypeEnum | None = None  # type: ignore[valid-type]
    email_id: strawberry.ID | None = strawberry.field(
        default=None, description="A tracked email, or its logged copy; NOT_FOUND if it is "
        "not one of the account's emails.")


@strawberry.input
class EngagementFilterInput:
    email_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    sender_id: strawberry.ID | None = None
    type: EngagementTypeEnum | None = None  # type: ignore[valid-type]
    verdicts: list[VerdictEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Default [HUMAN]: machine and self hits are kept apart (R10)."
    )
    since: datetime | None = None
    until: datetime | None = None


def aware(value: datetime | None, what: str) -> datetime | None:
    """Refuse a date-time without a timezone (it would be a guess which moment it is)."""
    if value is not None and value.tzinfo is None:
        raise InvalidInput(
            _("Give {what} with a timezone, e.g. 2030-01-31T00:00:00Z.").format(what=what)
        )
    return value


def _id(value: strawberry.ID | None, what: str) -> uuid.UUID | None:
    return parse_id(value, what) if value is not None else None


def engagement_filter(
    given: EngagementFilterInput | None, *, email_id: uuid.UUID | None = None
) -> EngagementFilter:
    given = given or EngagementFilterInput()
    return EngagementFilter(
        email_id=email_id or _id(given.email_id, "email"),
        contact_id=_id(given.contact_id, "contact"),
        sender_id=_id(given.sender_id, "user"),
        type=given.type,
        verdicts=tuple(given.verdicts) if given.verdicts else (Verdict.HUMAN,),
        since=aware(given.since, "since"),
        until=aware(given.until, "until"),
    )
