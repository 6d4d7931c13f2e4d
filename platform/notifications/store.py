"""Persistence of webhooks: endpoints, the outbox of messages, and each delivery attempt.

A message row is the outbox: it is inserted in the transaction that stores the engagement
it reports, so an event is either stored and queued for delivery, or neither. Its id is the
``webhook-id`` every attempt carries, which lets receivers deduplicate retries and replays.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import json_field, utc_field, utcnow

__all__ = ["WebhookAttemptRow", "WebhookEndpointRow", "WebhookMessageRow"]




class WebhookEndpointRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "webhook_endpoint"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] = json_field(default_factory=list)
    include_non_human: bool = False
    """Also deliver MACHINE and SELF engagements (marked as such); off by default."""
    secrets: list[dict[str, Any]] = json_field(default_factory=list)
    """``[{"secret": "whsec_...", "expires_at": iso | None}]``, newest first."""
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by: uuid.UUID | None = None


class WebhookMessageRow(SQLModel, TenantOwned, table=True):
    """One event for one endpoint: the outbox row and its delivery state."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        Index("ix_webhook_message_due", "status", "next_attempt_at"),
        # An endpoint's deliveries page by (created_at, id) (notifications/webhooks.py).
        Index("ix_webhook_message_endpoint", "account_id", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_message_engagement", "account_id", "engagement_id"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: str = Field(primary_key=True, max_length=40)
    """The ``webhook-id``: ``msg_`` + a random id, the same for every attempt."""
    endpoint_id: uuid.UUID
    engagement_id: uuid.UUID | None = None
    """The engagement reported (None for test messages): erasing it forgets the message."""
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = json_field(default_factory=dict)
    created_at: datetime = utc_field(default_factory=utcnow)
    status: str = Field(default="pending", max_length=16)
    """pending, delivered, failed (gave up after the schedule), disabled (endpoint off),
    suppressed (not sent: the engagement was reclassified, e.g. a click burst, or erased)."""
    attempts: int = 0
    next_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    """A dispatcher owns the message until then; a killed one's lease simply expires."""
    delivered_at: datetime | None = utc_field(default=None, nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)


class WebhookAttemptRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_message", "account_id", "message_id", "at"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    message_id: str = Field(max_length=40)
    endpoint_id: uuid.UUID
    at: datetime = utc_field(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    """Why it failed, in words: timeout, refused address, redirect not followed, ..."""
    duration_ms: int = 0
    next_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    """When the next try was scheduled after this one (None: delivered or gave up)."""
