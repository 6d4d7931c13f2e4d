"""Tables of sending: outbound settings, per-user upstream logins, DKIM keys, submissions
and their deliveries.

Passwords and private keys are stored encrypted by ``secretbox`` (never returned). A
submission row holds the message as submitted (minus ``X-Sendtrail-*`` headers) once; each
delivery holds only what differs for its copy (the recipient and the rewritten HTML), so a
25 MB message to 50 recipients is stored once, not 50 times.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import utc_field, utcnow

__all__ = [
    "DKIM_KEY_CONTEXT",
    "PASSWORD_CONTEXT",
    "DeliveryRow",
    "DkimKeyRow",
    "OutboundLoginRow",
    "OutboundMailRow",
    "OutgoingMessageRow",
]

PASSWORD_CONTEXT = b"sendtrail.sending.password"
"""``secretbox`` context of every upstream SMTP and IMAP password."""
DKIM_KEY_CONTEXT = b"sendtrail.sending.dkim-key"
"""``secretbox`` context of DKIM private keys."""


class OutboundMailRow(SQLModel, TenantOwned, table=True):
    """The account's upstream SMTP server and optional Sent folder (one row per account)."""

    __tablename__ = "outbound_mail"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    host: str = Field(max_length=253)
    port: int
    security: str = Field(max_length=16)
    """``SmtpSecurity`` value."""
    username: str | None = Field(default=None, max_length=320)
    password_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    imap_host: str | None = Field(default=None, max_length=253)
    imap_port: int | None = None
    imap_security: str | None = Field(default=None, max_length=16)
    imap_username: str | None = Field(default=None, max_length=320)
    imap_password_encrypted: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True)
    )
    sent_folder: str | None = Field(default=None, max_length=200)
    """A mailbox name; ``None`` finds the SPECIAL-USE ``\\Sent`` mailbox."""
    upstream_files_sent: bool = False
    """The upstream files sent mail itself (Gmail, Microsoft 365): never APPEND."""
    per_user_logins: bool = False
    """Each user sends with their own upstream login (``OutboundLoginRow``)."""
    updated_at: datetime = utc_field(default_factory=utcnow)
    updated_by: uuid.UUID | None = None


class OutboundLoginRow(SQLModel, TenantOwned, table=True):
    """A user's own upstream login (a rep sending through their own mailbox)."""

    __tablename__ = "outbound_login"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    user_id: uuid.UUID = Field(primary_key=True)
    username: str = Field(max_length=320)
    password_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    """Also used for the user's Sent folder when the account's IMAP login is per user."""
    updated_at: datetime = utc_field(default_factory=utcnow)


class DkimKeyRow(SQLModel, TenantOwned, table=True):
    """A DKIM private key for one sending domain of the account."""

    __tablename__ = "dkim_key"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    domain: str = Field(primary_key=True, max_length=253)
    selector: str = Field(max_length=63)
    private_key_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    public_key_record: str = Field(sa_column=Column(Text, nullable=False))
    """The TXT record to publish at ``<selector>._domainkey.<domain>``."""
    created_at: datetime = utc_field(default_factory=utcnow)


class OutgoingMessageRow(SQLModel, TenantOwned, table=True):
    """One submission: the message as the sender's client (or the compose window) wrote it."""

    __tablename__ = "outgoing_message"
    __table_args__ = (Index("ix_outgoing_message_email", "account_id", "email_id"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email_id: uuid.UUID
    """The tracked email (``TrackedEmailRow.id``) it became."""
    sender_id: uuid.UUID
    envelope_from: str = Field(max_length=320)
    source: str = Field(max_length=16)
    """``relay`` or ``compose``."""
    trackability: str = Field(max_length=16)
    """``Trackability`` value."""
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The submitted bytes without ``X-Sendtrail-*`` headers (Bcc still in, for Sent)."""
    created_at: datetime = utc_field(default_factory=utcnow)


class DeliveryRow(SQLModel, TenantOwned, table=True):
    """One copy to deliver: a recipient's, the Sent folder's, or a bounce notice."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_email", "account_id", "email_id"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    message_id: uuid.UUID = Field(primary_key=True)
    """``OutgoingMessageRow.id``."""
    idx: int = Field(primary_key=True)
    """The recipient's index in the tracked email; the Sent folder and bounces follow."""
    email_id: uuid.UUID
    kind: str = Field(max_length=16)
    """``DeliveryKind`` value."""
    recipient: str = Field(max_length=320)
    """The envelope recipient (the sender's own address for Sent folder and bounces)."""
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """This copy's rewritten HTML body; ``None`` sends the submitted body untouched."""
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """A whole message of its own (bounce notices), instead of the submission's bytes."""
    status: str = Field(default="queued", max_length=16)
    """``DeliveryStatus`` value."""
    attempts: int = 0
    next_attempt_at: datetime = utc_field(default_factory=utcnow)
    lease_id: uuid.UUID | None = None
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=1000)
    sent_at: datetime | None = utc_field(default=None, nullable=True)
    created_at: datetime = utc_field(default_factory=utcnow)
