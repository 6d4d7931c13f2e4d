"""Persistence models of the tracking engine: tracked emails, recipients, links, engagements.

Engagements are written with SQLAlchemy Core by the ingestion writer (the hot path never
builds ORM objects); their primary key ends with the event id assigned when the hit
arrived, which is what makes spool replay exactly-once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, SmallInteger, Text, text
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import UtcDateTime, json_field, utcnow

__all__ = [
    "NO_LINK",
    "EmailRecipientRow",
    "EngagementDayRollupRow",
    "EngagementRollupRow",
    "EngagementRow",
    "EngagementSeriesRollupRow",
    "RawHitRow",
    "TrackedEmailRow",
    "TrackedLinkRow",
]


class TrackedEmailRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "tracked_email"
    __table_args__ = (
        # One index per filter of ``emails`` (tracking/emails.py), each ending with the
        # page's keyset (sent_at, id) so that a filtered page is read in order and stops
        # after ``first`` rows (docs/architecture.md, "Reads").
        Index("ix_tracked_email_account_sent", "account_id", "sent_at", "id"),
        Index("ix_tracked_email_account_sender", "account_id", "sender_id", "sent_at", "id"),
        Index("ix_tracked_email_account_kind", "account_id", "kind", "sent_at", "id"),
        # The emails list sorted by last activity (issue 15, item 6).
        Index("ix_tracked_email_account_activity", "account_id", "last_activity_at", "id"),
        # A reply to mail sent through the relay names its client's Message-ID (R24, R26).
        Index("ix_tracked_email_message_id", "account_id", "message_id"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=16)
    sender_id: uuid.UUID
    subject: str = Field(max_length=998)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    """When the email was prepared for sending."""
    delivery_mode: str = Field(max_length=32)
    message_id: str = Field(max_length=998)
    open_tracking: bool
    click_tracking: bool
    logged: bool = False
    html: bool
    """Whether it had an HTML part (R6)."""
    recipient_count: int
    link_count: int
    tracking_base_url: str = Field(max_length=400)
    not_tracked_reasons: list[str] = json_field(default_factory=list)
    skipped_links: list[list[str]] = json_field(default_factory=list)
    removed_tracking: list[str] = json_field(default_factory=list)
    # What happened to the email, kept by the deriver and by logged replies from the counted
    # engagements (what reports count), so that the emails list can show, filter and sort
    # by it without reading engagements (issue 15, item 6).
    opened_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    """The first counted open, by a recipient or by Someone, seen or inferred (R7)."""
    replied_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    """The first logged reply (R24)."""
    last_activity_at: datetime = Field(sa_type=UtcDateTime)
    """The latest counted open, click or reply; the send time until there is one."""


class EmailRecipientRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "email_recipient"
    __table_args__ = (Index("ix_email_recipient_contact", "account_id", "contact_id"),)

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    email_id: uuid.UUID = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    address: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    field: str = Field(max_length=8)
    contact_id: uuid.UUID
    first_human_open_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    """The recipient's earliest human open, seen or inferred (R7): kept by the deriver so a
    click needs no scan of the opens to know whether it implies one."""
    first_human_click_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    """The recipient's first counted click (issue 15, item 6: who clicked, at a glance)."""
    replied_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    """When the recipient first replied, as logged (R24)."""


class TrackedLinkRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "tracked_link"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    email_id: uuid.UUID = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    url: str


class EngagementRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "engagement"
    __table_args__ = (
        # One index per filter of ``engagements`` and the activity feed
        # (tracking/engagements.py), each ending with the keyset (occurred_at, id): a page
        # of one email, contact, sender or verdict is a short walk of its own index. Every
        # page filters on the verdict (HUMAN unless asked), so migration 0010 creates the
        # verdict index before the others: see there, and db/statistics.py.
        Index("ix_engagement_account_time", "account_id", "occurred_at", "id"),
        Index("ix_engagement_account_verdict", "account_id", "verdict", "occurred_at", "id"),
        Index("ix_engagement_account_sender", "account_id", "sender_id", "occurred_at", "id"),
        Index("ix_engagement_account_email", "account_id", "email_id", "occurred_at", "id"),
        Index("ix_engagement_account_contact", "account_id", "contact_id", "occurred_at", "id"),
        # What an email's page and a report's top emails count per recipient and link (R8,
        # R17): only counted rows, with every column those statements read, so that they are
        # answered from the index alone (migration 0013). The condition is spelled as the
        # queries spell ``counts_in_reports IS true`` on each backend, which is how SQLite
        # knows the index applies.
        Index("ix_engagement_counted_email", "account_id", "email_id", "type", "occurred_at",
              "recipient_idx", "link_idx", "inferred", "network",
              sqlite_where=text("counts_in_reports IS 1"),
              postgresql_where=text("counts_in_reports IS true")),
        # The clicks of the copies a deriver batch clicks, within the burst window (R11):
        # one search per copy, not a walk through every recent engagement of its email.
        Index("ix_engagement_copy_clicks", "account_id", "email_id", "recipient_idx",
              "occurred_at", "sender_copy", "link_idx",
              sqlite_where=text("type = 'click'"), postgresql_where=text("type = 'click'")),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(primary_key=True)
    """The event id, assigned when the hit arrived (replays are idempotent)."""
    email_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_idx: int | None = None
    contact_id: uuid.UUID | None = None
    type: str = Field(max_length=8)
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    verdict: str = Field(max_length=8)
    category: str = Field(max_length=40)
    reasons: list[str] = json_field(default_factory=list)
    ruleset: str = Field(max_length=40)
    attribution: str = Field(max_length=16)
    counts_in_reports: bool
    inferred: bool = False
    inferred_from: str | None = Field(default=None, max_length=8)
    link_idx: int | None = None
    sender_copy: bool = False
    ip: str | None = Field(default=None, max_length=64)
    network: str | None = Field(default=None, max_length=64)
    """The /24 or /48 ``ip`` belongs to (``core.hints.network_of``): what R8's hints compare."""
    user_agent: str | None = Field(default=None, max_length=1000)


class RawHitRow(SQLModel, table=True):
    """A hit acknowledged by the hot path and not yet derived (issue 14's first stage).

    Rows live seconds: the deriver deletes them in the transaction that stores their
    engagements. ``part`` spreads emails over partitions, each derived by one process at a
    time (an advisory lock on PostgreSQL), so a copy's hits are judged in order, once. The
    hit itself is its spool line (``RawHit.to_json``): one text column, the cheapest insert.
    """

    __tablename__ = "raw_hit"
    __table_args__ = (Index("ix_raw_hit_part_seq", "part", "seq"),)

    seq: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    part: int = Field(sa_column=Column(SmallInteger(), nullable=False))
    account_id: uuid.UUID
    hit: str = Field(sa_column=Column(Text(), nullable=False))


NO_LINK = -1
"""``EngagementRollupRow.link_idx`` of engagements on no link (opens, replies): a key column
cannot be NULL."""


class EngagementRollupRow(SQLModel, TenantOwned, table=True):
    """How many engagements share one hour and one of everything reports count by.

    Maintained with the engagements, in their transaction (``tracking/rollups.py``); every
    engagement is counted in exactly one row. Names no recipient, contact, address or user
    agent, so it outlives the details that retention forgets."""

    __tablename__ = "engagement_rollup"
    __table_args__ = (
        Index("ix_engagement_rollup_sender", "account_id", "sender_id", "hour"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    hour: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    """Whole UTC hours since the epoch (``floor(epoch seconds / 3600)``)."""
    email_id: uuid.UUID = Field(primary_key=True)
    sender_id: uuid.UUID = Field(primary_key=True)
    link_idx: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    """The link clicked, or ``NO_LINK``."""
    type: str = Field(max_length=8, primary_key=True)
    verdict: str = Field(max_length=8, primary_key=True)
    counts_in_reports: bool = Field(primary_key=True)
    sender_copy: bool = Field(primary_key=True)
    inferred: bool = Field(primary_key=True)
    n: int


class EngagementDayRollupRow(SQLModel, TenantOwned, table=True):
    """The hourly rollups summed per UTC day, for what reports rank over weeks and months
    (top emails and links): an email's activity of a day is one row instead of up to 24.

    Kept in step with ``EngagementRollupRow`` from the same deltas (``tracking/rollups.py``)."""

    __tablename__ = "engagement_rollup_day"
    __table_args__ = (
        Index("ix_engagement_rollup_day_sender", "account_id", "sender_id", "day"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    day: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    """Whole UTC days since the epoch (``floor(hour / 24)``)."""
    email_id: uuid.UUID = Field(primary_key=True)
    sender_id: uuid.UUID = Field(primary_key=True)
    link_idx: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    type: str = Field(max_length=8, primary_key=True)
    counts_in_reports: bool = Field(primary_key=True)
    n: int


class EngagementSeriesRollupRow(SQLModel, TenantOwned, table=True):
    """The hourly rollups summed over emails and links: the report's time series (one row
    per hour, sender and kind of activity instead of one per email and link).

    Kept in step with ``EngagementRollupRow`` from the same deltas (``tracking/rollups.py``)."""

    __tablename__ = "engagement_rollup_series"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    hour: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    sender_id: uuid.UUID = Field(primary_key=True)
    type: str = Field(max_length=8, primary_key=True)
    verdict: str = Field(max_length=8, primary_key=True)
    counts_in_reports: bool = Field(primary_key=True)
    n: int
