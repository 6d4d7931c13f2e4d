"""STAND-IN for the lead's ``sending/service.py`` (issue 13 contract signature), so the relay
can be built and tested before the real one lands on main. Replaced at the merge: take main's.

It stores the submission (so the relay's hourly count holds) and nothing else: no copies,
no deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.errors import SendtrailError
from sendtrail.records.blobs import BlobStore
from sendtrail.records.mime import MessageLimits
from sendtrail.sending.store import OutgoingMessageRow
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.tokens import TokenKeys
from sendtrail.tracking.stream import EventSink

__all__ = ["OutboundNotConfigured", "SendContext", "Submission", "submit"]


class OutboundNotConfigured(SendtrailError):
    code = "OUTBOUND_NOT_CONFIGURED"
    http_status = 409


@dataclass(frozen=True)
class SendContext:
    keys: TokenKeys
    default_tracking_base_url: str
    blobs: BlobStore
    limits: MessageLimits
    sends_per_hour: int
    max_recipients: int
    sinks: Sequence[EventSink] = ()
    on_queued: Callable[[], None] | None = None


@dataclass(frozen=True)
class Submission:
    email_id: uuid.UUID
    outgoing_id: uuid.UUID
    deliveries: tuple[Any, ...] = ()
    not_tracked_reasons: tuple[str, ...] = field(default_factory=tuple)


async def submit(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, raw: bytes, *,
    envelope_from: str, envelope_recipients: Sequence[str],
    source: Literal["relay", "compose"], context: SendContext, now: datetime,
) -> Submission:
    row = OutgoingMessageRow(account_id=account_id, email_id=uuid.uuid4(),
                             sender_id=actor.user_id or uuid.uuid4(), envelope_from=envelope_from,
                             source=source, trackability="tracked", raw=raw, created_at=now)
    session.add(row)
    await session.commit()
    return Submission(email_id=row.email_id, outgoing_id=row.id)
