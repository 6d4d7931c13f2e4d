"""Persistence models of tenancy (SQLModel tables). Rows never leave the services.

Tenant-owned tables lead their primary key with ``account_id`` (ready for Citus
distribution and row-level security). Two lookups must find the tenant from a credential
and so are global: ``login.email`` and ``api_token.token_hash``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import utc_field, utcnow

__all__ = [
    "AccountRow",
    "AccountSettingsRow",
    "ApiTokenRow",
    "AuditEntryRow",
    "InvitationRow",
    "LoginAttemptRow",
    "LoginRow",
    "SeatPurchaseRow",
    "SessionRow",
    "UserRow",
]



class AccountRow(SQLModel, table=True):
    """The tenant itself."""

    __tablename__ = "account"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=63, unique=True)
    region: str = Field(default="na1", max_length=16)
    logging_secret: str = Field(max_length=64, unique=True)
    business_units: bool = False
    """The business-units add-on: marketing link domains per business unit (R21)."""
    created_at: datetime = utc_field(default_factory=utcnow)


class AccountSettingsRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "account_settings"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    tracking_enabled: bool = True
    privacy_mode: bool = False
    self_open_suppression: bool = True
    marketing_tracking: bool = True
    marketing_link_tracking: bool = True
    default_track: bool = True
    default_log: bool = True
    truncate_ips: bool = False
    hit_detail_retention_days: int | None = None
    tracking_purpose: str = Field(default="individual", max_length=16)
    """What tracking is for (R28): ``tracking.core.purposes.TrackingPurpose``."""
    exempt_purpose: str = Field(default="aggregate", max_length=16)
    """The purpose a contact without consent falls back to (aggregate, deliverability, off)."""
    withdrawal_link: bool = False
    """Every tracked email carries a link to withdraw tracking consent (R29)."""
    withdrawal_link_text: str | None = Field(default=None, max_length=200)
    """The account's own wording of that link (None: the default, in the reader's language)."""


class SeatPurchaseRow(SQLModel, TenantOwned, table=True):
    """How many seats of one paid type the account bought."""

    __tablename__ = "seat_purchase"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    seat: str = Field(primary_key=True, max_length=32)
    quantity: int = 0


class UserRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=16)
    seat: str = Field(max_length=32)
    active: bool = True
    default_track: bool | None = None
    default_log: bool | None = None
    notification_preference: str = Field(default="opens_and_clicks", max_length=32)
    """Which live notifications the user wants (notifications.rules.NotificationPreference)."""
    created_at: datetime = utc_field(default_factory=utcnow)


class LoginRow(SQLModel, table=True):
    """A credential: an account user's, or a platform support-staff member's.

    Global (not tenant-owned) because signing in must find the account from the email.
    """

    __tablename__ = "login"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str | None = None
    account_id: uuid.UUID | None = Field(default=None, foreign_key="account.id")
    user_id: uuid.UUID | None = None
    is_staff: bool = False
    created_at: datetime = utc_field(default_factory=utcnow)


class SessionRow(SQLModel, table=True):
    """A web-admin session; the cookie holds a secret whose SHA-256 is the key."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    login_id: uuid.UUID = Field(foreign_key="login.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    ip: str | None = Field(default=None, max_length=64)
    """Where the session signed in from: hits from there on the user's own emails are SELF."""


class InvitationRow(SQLModel, TenantOwned, table=True):
    """An emailed link for an invited user to set their password (issue 15, defect 3).

    Only the token's SHA-256 is stored, unique across accounts: the link carries no
    account, so accepting finds the tenant from it (like an API token). A user has at most
    one open invitation: a new one closes the previous as ``replaced``.
    """

    __tablename__ = "invitation"
    __table_args__ = (Index("ix_invitation_user", "account_id", "user_id", "created_at"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    token_hash: str = Field(max_length=64, unique=True)
    invited_by: str = Field(max_length=400)
    """Who invited, as the invitee reads it ("Ada Admin (ada@acme.test)")."""
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    sent_at: datetime | None = utc_field(default=None, nullable=True)
    """When the account's mail server accepted the email; ``None``: not emailed."""
    email_problem: str | None = Field(default=None, max_length=1000)
    """Why it was not emailed, in words (no outbound mail, the server refused)."""
    closed_at: datetime | None = utc_field(default=None, nullable=True)
    closed_reason: str | None = Field(default=None, max_length=16)
    """``accepted``, ``revoked`` or ``replaced``; ``None`` while open."""


class LoginAttemptRow(SQLModel, table=True):
    """Failed sign-ins, counted over a window for rate limiting across all nodes."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320)
    ip: str = Field(max_length=64)
    at: datetime = utc_field(default_factory=utcnow)


class ApiTokenRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "api_token"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True)
    display_prefix: str = Field(max_length=16)
    scopes: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime | None = utc_field(default=None)
    last_used_at: datetime | None = utc_field(default=None)
    revoked_at: datetime | None = utc_field(default=None)


class AuditEntryRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_account_at", "account_id", "at", "id"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = utc_field(default_factory=utcnow)
    actor: str = Field(max_length=400)
    action: str = Field(max_length=100)
    target: str | None = Field(default=None, max_length=400)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
