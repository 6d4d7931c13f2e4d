"""Domain values of the tracking engine (pure: enums and frozen dataclasses)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

__all__ = [
    "Attribution",
    "DeliveryMode",
    "EmailKind",
    "EngagementType",
    "HitKind",
    "RecipientField",
    "TokenClaims",
    "Verdict",
]


class EmailKind(enum.StrEnum):
    SALES = "sales"
    MARKETING = "marketing"


class DeliveryMode(enum.StrEnum):
    SINGLE_MESSAGE = "single_message"
    """One message to every recipient: one shared pixel and link set (R15)."""
    PER_RECIPIENT = "per_recipient"
    """One message per recipient with its own tokens and identical visible headers."""


class RecipientField(enum.StrEnum):
    TO = "to"
    CC = "cc"
    BCC = "bcc"


class HitKind(enum.StrEnum):
    OPEN = "open"
    CLICK = "click"


class EngagementType(enum.StrEnum):
    OPEN = "open"
    CLICK = "click"
    REPLY = "reply"


class Attribution(enum.StrEnum):
    RECIPIENT = "recipient"
    SOMEONE = "someone"


class Verdict(enum.StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    SELF = "self"


@dataclass(frozen=True)
class TokenClaims:
    """What a signed tracking token says. Everything the hot path needs, nothing private.

    Click tokens carry their destination, so a redirect needs no database (it keeps
    working while the event store is down, on any node, right after a restart) and can
    never go anywhere but the link that was prepared.
    """

    kind: HitKind
    account_id: uuid.UUID
    email_id: uuid.UUID
    recipient: int | None
    """Index of the recipient in the email, or ``None`` for a shared pixel/link (R15)."""
    sender_copy: bool
    """The sender's own copy (Sent folder): every hit on it is SELF (R9, R14)."""
    sent_at: int
    """When the email was prepared, in Unix seconds (for 'too soon after sending' rules)."""
    link: int | None = None
    """Index of the link in the email (clicks only)."""
    url: str | None = None
    """The exact destination of the link (clicks only)."""
