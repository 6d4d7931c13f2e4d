"""Values of sending shared across its modules and the GraphQL layer."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "DeliveryKind",
    "DeliveryStatus",
    "DeliveryView",
    "ImapEndpoint",
    "SmtpEndpoint",
    "SmtpSecurity",
    "Trackability",
]


class SmtpSecurity(enum.StrEnum):
    """How a connection to an upstream server is protected (IMAP uses the same three)."""

    TLS = "tls"
    """TLS from the first byte (SMTPS 465, IMAPS 993)."""
    STARTTLS = "starttls"
    """Plain connection upgraded with STARTTLS before any login (submission 587, IMAP 143)."""
    NONE = "none"
    """No encryption: only for a loopback or private host with SENDTRAIL_OUTBOUND_ALLOW_PRIVATE."""


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    """Stored, not attempted yet."""
    SENT = "sent"
    """The upstream accepted it (250)."""
    RETRYING = "retrying"
    """A temporary failure (4xx, network, TLS); ``next_attempt_at`` says when."""
    FAILED = "failed"
    """A permanent failure (5xx) or too many temporary ones; ``last_error`` says why."""


class DeliveryKind(enum.StrEnum):
    RECIPIENT = "recipient"
    """One recipient's own copy, with its own tokens."""
    SENT_FOLDER = "sent_folder"
    """The sender's untracked copy, APPENDed to their Sent folder over IMAP (R27)."""
    BOUNCE = "bounce"
    """A short failure notice to the sender, through the same upstream (R27)."""


class Trackability(enum.StrEnum):
    """What the relay could do with a submitted message's body."""

    HTML = "html"
    """Has an HTML body that is rewritten per recipient."""
    PLAIN_TEXT = "plain_text"
    """No HTML part: sent untouched, not trackable (R6)."""
    SIGNED = "signed"
    """multipart/signed (S/MIME, PGP/MIME): any change would break the signature."""
    ENCRYPTED = "encrypted"
    """multipart/encrypted or application/pkcs7-mime: the body cannot be read."""


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to reach an upstream SMTP server, with the password decrypted."""

    host: str
    port: int
    security: SmtpSecurity
    username: str | None
    password: str | None


@dataclass(frozen=True)
class ImapEndpoint:
    """Where the sender's Sent folder is, with the password decrypted."""

    host: str
    port: int
    security: SmtpSecurity
    username: str
    password: str
    folder: str | None
    """A mailbox name, or ``None`` to find the one marked SPECIAL-USE ``\\Sent``."""


@dataclass(frozen=True)
class DeliveryView:
    """One recipient's delivery as a sender sees it."""

    message_id: uuid.UUID
    recipient: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
