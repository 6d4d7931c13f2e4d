"""Persistence model of contacts."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import UtcDateTime, utcnow

__all__ = ["ContactRow"]


class ContactRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("account_id", "address"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    address: str = Field(max_length=320)
    """Normalised (lower-case) email address."""
    name: str | None = Field(default=None, max_length=200)
    legal_basis: str = Field(default="none", max_length=32)
    legal_basis_changed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    legal_basis_changed_by: str | None = Field(default=None, max_length=400)
    tracking_consent: str = Field(default="unknown", max_length=16)
    """Consent to individual tracking (R29), apart from the legal basis; history in
    ``tracking_consent_change``."""
    last_sales_email_opened_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_sales_email_clicked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_clicked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_open_on: date | None = None
    """The deliverability purpose's one fact (R28): the day of the last open, overwritten."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
