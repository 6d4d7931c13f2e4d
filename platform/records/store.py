"""Persistence models of records: logged emails, their recipients and attachments,
legal-basis history and erasure tombstones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import UtcDateTime, utcnow

__all__ = [
    "AttachmentRow",
    "ContactTombstoneRow",
    "LegalBasisChangeRow",
    "LoggedEmailRow",
    "LoggedRecipientRow",
    "TrackingConsentChangeRow",
]


class LoggedEmailRow(SQLModel, TenantOwned, table=True):
    """A copy of an email kept on its recipients' records (R1, R23)."""

    __tablename__ = "logged_email"
    __table_args__ = (
        Index("ix_logged_email_account_sent", "account_id", "sent_at", "id"),
        # The emails list reads the emails that were only logged, newest first; most
        # logged copies of a busy account belong to tracked emails (R2) and are skipped.
        Index("ix_logged_email_only_logged", "account_id", "sent_at", "id",
              sqlite_where=text("tracked_email_id IS NULL"),
              postgresql_where=text("tracked_email_id IS NULL")),
        Index("ix_logged_email_only_logged_activity", "account_id", "last_activity_at", "id",
              sqlite_where=text("tracked_email_id IS NULL"),
              postgresql_where=text("tracked_email_id IS NULL")),
        Index("ix_logged_email_account_message", "account_id", "message_id"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tracked_email_id: uuid.UUID | None = None
    """The tracked email this is a copy of (``prepareEmail(log: true)``)."""
    sender_id: uuid.UUID | None = None
    """The account user who sent (or forwarded) it."""
    sender_address: str = Field(max_length=320)
    sender_name: str | None = Field(default=None, max_length=200)
    subject: str = Field(default="", max_length=998)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    logged_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_activity_at: datetime = Field(sa_type=UtcDateTime)
    """Its send time: an email only logged has no opens or clicks. The emails list sorts
    it by this among tracked emails sorted by their last activity (issue 15, item 6)."""
    text: str | None = None
    html: str | None = None
    message_id: str | None = Field(default=None, max_length=998)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(max_length=16)
    """``api``, ``bcc`` or ``forward``."""


class LoggedRecipientRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "logged_recipient"
    __table_args__ = (Index("ix_logged_recipient_contact", "account_id", "contact_id"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    logged_email_id: uuid.UUID = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    address: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    field: str = Field(max_length=8)
    contact_id: uuid.UUID


class AttachmentRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_account_sha", "account_id", "sha256"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    logged_email_id: uuid.UUID
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)


class LegalBasisChangeRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "legal_basis_change"
    __table_args__ = (
        # A contact's timeline pages by (at, id) (records/timeline.py).
        Index("ix_legal_basis_change_contact", "account_id", "contact_id", "at", "id"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    contact_id: uuid.UUID
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=400)
    before: str = Field(max_length=32)
    after: str = Field(max_length=32)


class TrackingConsentChangeRow(SQLModel, TenantOwned, table=True):
    """One recorded change of a contact's tracking consent, with its proof (R29)."""

    __tablename__ = "tracking_consent_change"
    __table_args__ = (
        Index("ix_tracking_consent_change_contact", "account_id", "contact_id", "at", "id"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    contact_id: uuid.UUID
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    consent: str = Field(max_length=16)
    source: str = Field(max_length=16)
    wording: str | None = Field(default=None, max_length=2000)
    """The text shown to the person when they gave or withdrew it."""
    actor: str = Field(max_length=400)
    """Who recorded it (``user:ada@… (API token)``, as audit entries name people)."""


class ContactTombstoneRow(SQLModel, TenantOwned, table=True):
    """What erasure leaves: a keyed hash of the address, so later hits are not recorded."""

    __tablename__ = "contact_tombstone"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    address_hash: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
