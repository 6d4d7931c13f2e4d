"""Domain values of tenancy: seats, roles, account settings, principals (no I/O)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sendtrail.tracking.core.purposes import TrackingPurpose

__all__ = [
    "PAID_SEATS",
    "AccountSettingsValue",
    "Principal",
    "Role",
    "Scope",
    "Seat",
    "held_scopes",
]


class Seat(enum.StrEnum):
    FREE = "free"
    SALES_STARTER = "sales_starter"
    SALES_PROFESSIONAL = "sales_professional"
    SALES_ENTERPRISE = "sales_enterprise"

    @property
    def is_paid(self) -> bool:
        return self is not Seat.FREE

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").title()


PAID_SEATS: tuple[Seat, ...] = tuple(seat for seat in Seat if seat.is_paid)


class Role(enum.StrEnum):
    ADMIN = "admin"
    USER = "user"


class EmailDefault(enum.StrEnum):
    """A user's own default for tracking or logging new emails (R2)."""

    ACCOUNT = "account"
    """Follow the account-wide default an admin sets."""
    ON = "on"
    OFF = "off"

    @classmethod
    def of(cls, value: bool | None) -> EmailDefault:
        return cls.ACCOUNT if value is None else cls.ON if value else cls.OFF

    @property
    def stored(self) -> bool | None:
        return None if self is EmailDefault.ACCOUNT else self is EmailDefault.ON


class Scope(enum.StrEnum):
    """What an API token may do, on top of what its user's role allows."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    SEND = "send"
    """Submit mail to the SMTP relay as the token's user (R26); grants nothing else."""

    @property
    def includes(self) -> frozenset[Scope]:
        """The scopes this one grants: admin includes write, write includes read and send."""
        return _INCLUDES[self]


_INCLUDES: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    # Whoever may call sendEmail may also submit to the relay: no escalation in between.
    Scope.WRITE: frozenset({Scope.READ, Scope.WRITE, Scope.SEND}),
    Scope.ADMIN: frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN, Scope.SEND}),
    Scope.SEND: frozenset({Scope.SEND}),
}

ALL_SCOPES = frozenset(Scope)


def held_scopes(scopes: Iterable[Scope]) -> frozenset[Scope]:
    """Every scope that ``scopes`` grant, the included ones too (``{admin}`` holds all)."""
    return frozenset().union(*(scope.includes for scope in scopes))


@dataclass(frozen=True)
class AccountSettingsValue:
    """The account-wide switches of ``AccountSettingsInput`` (docs/product.md), with defaults."""

    tracking_enabled: bool = True
    privacy_mode: bool = False
    self_open_suppression: bool = True
    marketing_tracking: bool = True
    marketing_link_tracking: bool = True
    default_track: bool = True
    default_log: bool = True
    truncate_ips: bool = False
    """Store hit addresses cut to their network (/24, /48), never the full address."""
    hit_detail_retention_days: int | None = None
    """Delete engagements (and so their addresses and user agents) this many days after they
    happened, their hourly counts kept (``tracking/retention.py``; None: keep)."""
    tracking_purpose: TrackingPurpose = TrackingPurpose.INDIVIDUAL
    """What tracking is for (R28)."""
    exempt_purpose: TrackingPurpose = TrackingPurpose.AGGREGATE
    """Where a contact without consent falls back to: one of ``EXEMPT_PURPOSES``."""
    withdrawal_link: bool = False
    """Tracked emails carry a link to withdraw tracking consent (R29)."""
    withdrawal_link_text: str | None = None
    """The account's own wording of that link (None: the default, in the reader's language)."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request: an account user, or platform support staff.

    ``account_id`` is the account being acted on: the user's own account, or for support
    staff the account they chose to inspect (``None`` until they choose one).
    """

    login_id: uuid.UUID
    email: str
    account_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    role: Role | None = None
    is_staff: bool = False
    scopes: frozenset[Scope] = field(default_factory=lambda: ALL_SCOPES)
    via_token: bool = False
    expires_at: datetime | None = None
    """When the credential stops working: an API token's expiry (``None``: never, or a
    web session, whose expiry slides while it is used)."""

    @property
    def held_scopes(self) -> frozenset[Scope]:
        return held_scopes(self.scopes)

    @property
    def subject(self) -> str:
        """The casbin subject of this principal."""
        return f"staff:{self.login_id}" if self.is_staff else f"user:{self.user_id}"

    @property
    def actor_label(self) -> str:
        """How this principal appears in audit entries."""
        kind = "support" if self.is_staff else "user"
        token = " (API token)" if self.via_token else ""
        return f"{kind}:{self.email}{token}"
