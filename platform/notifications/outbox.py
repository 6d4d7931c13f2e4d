"""The webhook outbox: messages written in the transaction that stores the engagements.

``WebhookOutbox`` is an ``EventSink`` of the ingestion writer. For a batch of stored
engagements it finds the active endpoints of the batch's accounts (one query) and, when an
endpoint wants one of the events, loads what the payloads say (one query) and inserts one
``webhook_message`` per (event, endpoint) (one statement). An engagement and its messages
therefore commit or roll back together. A message's id (the ``webhook-id``) is derived from
the endpoint and the engagement, so storing the same engagement twice queues nothing twice.

Sent: HUMAN engagements, and MACHINE/SELF ones to endpoints that include non-human traffic
(R10); nothing while tracking is off for the account (R18). Activity not attributed to one
recipient is by "Someone" (R15-R17).

A click (and an open inferred from one, R7) is due only ``BURST_WINDOW`` after it
happened: a link scanner's first click is stored HUMAN and reclassified MACHINE when the
rest of its burst arrives, and the dispatcher re-reads the verdict just before sending
(``suppressed`` when it changed). Each message names its engagement (``engagement_id``),
so erasing the engagement forgets the message (``webhooks.forget_engagements``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from sendtrail.db.keys import key_in
from sendtrail.db.types import utcnow
from sendtrail.notifications.store import WebhookEndpointRow, WebhookMessageRow
from sendtrail.tenancy.store import AccountSettingsRow, UserRow
from sendtrail.tracking.core.classify import BURST_WINDOW
from sendtrail.tracking.store import (
    EmailRecipientRow,
    EngagementRow,
    TrackedEmailRow,
    TrackedLinkRow,
)
from sendtrail.tracking.stream import EngagementEvent

__all__ = [
    "ENGAGEMENT_EVENT_TYPES",
    "EVENT_TYPES",
    "RECLASSIFIED_EVENT_TYPE",
    "TEST_EVENT_TYPE",
    "WebhookOutbox",
    "message_id_for",
    "new_message_id",
]

ENGAGEMENT_EVENT_TYPES = {
    "open": "engagement.opened",
    "click": "engagement.clicked",
    "reply": "engagement.replied",
}
RECLASSIFIED_EVENT_TYPE = "engagement.reclassified"
"""An engagement's verdict changed after it was stored (a scanner's burst re-judged a click
a person seemed to make, R11, R30): sent at once, so automations can undo what it did."""
EVENT_TYPES = (*ENGAGEMENT_EVENT_TYPES.values(), RECLASSIFIED_EVENT_TYPE)
"""What an endpoint can subscribe to."""
TEST_EVENT_TYPE = "webhook.test"

ENDPOINTS = WebhookEndpointRow.__table__  # type: ignore[attr-defined]
MESSAGES = WebhookMessageRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
EMAILS = TrackedEmailRow.__table__  # type: ignore[attr-defined]
RECIPIENTS = EmailRecipientRow.__table__  # type: ignore[attr-defined]
LINKS = TrackedLinkRow.__table__  # type: ignore[attr-defined]
USERS = UserRow.__table__  # type: ignore[attr-defined]
SETTINGS = AccountSettingsRow.__table__  # type: ignore[attr-defined]


def message_id_for(endpoint_id: uuid.UUID, engagement_id: uuid.UUID) -> str:
    """The ``webhook-id`` of one engagement for one endpoint (stable: no double queueing)."""
    return "msg_" + uuid.uuid5(endpoint_id, engagement_id.hex).hex


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class WebhookOutbox:
    """The ingestion sink that queues webhook messages (``on_queued`` wakes a dispatcher)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self._on_queued = on_queued
        self._queued = False

    async def in_transaction(
        self, conn: AsyncConnection, events: Sequence[EngagementEvent]
    ) -> None:
        self._queued = False
        accounts = list({event.account_id for event in events})
        endpoints = (await conn.execute(
            select(ENDPOINTS.c.account_id, ENDPOINTS.c.id, ENDPOINTS.c.event_types,
                   ENDPOINTS.c.include_non_human)
            .where(ENDPOINTS.c.account_id.in_(accounts), ENDPOINTS.c.active.is_(True))
        )).all()
        if not endpoints:
            return
        wanted: list[tuple[EngagementEvent, Any]] = [
            (event, endpoint)
            for event in events
            for endpoint in endpoints
            if endpoint.account_id == event.account_id and _wants(endpoint, event)
        ]
        if not wanted:
            return
        details = await _details(conn, {event for event, _ in wanted})
        now = self._clock()
        rows = []
        for event, endpoint in wanted:
            detail = details.get((event.account_id, event.engagement_id))
            if detail is None or not detail.tracking_enabled:
                continue  # R18: tracking off for the account, nobody hears of it
            rows.append({
                "account_id": event.account_id,
                "id": (_reclassified_message_id(endpoint.id, event.engagement_id)
                       if event.reclassified
                       else message_id_for(endpoint.id, event.engagement_id)),
                "endpoint_id": endpoint.id,
                "engagement_id": event.engagement_id,
                "event_type": _event_type(event),
                "payload": _payload(event, detail),
                "created_at": now,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now if event.reclassified else _due(event, detail, now),
            })
        if not rows:
            return
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(
            insert(MESSAGES).on_conflict_do_nothing(index_elements=["account_id", "id"]), rows
        )
        self._queued = True

    def committed(self, events: Sequence[EngagementEvent]) -> None:
        if self._queued and self._on_queued is not None:
            self._on_queued()
        self._queued = False


def _wants(endpoint: Any, event: EngagementEvent) -> bool:
    if event.reclassified:
        return RECLASSIFIED_EVENT_TYPE in endpoint.event_types
    return (ENGAGEMENT_EVENT_TYPES.get(event.type) in endpoint.event_types
            and (event.verdict == "human" or endpoint.include_non_human))


def _event_type(event: EngagementEvent) -> str:
    return RECLASSIFIED_EVENT_TYPE if event.reclassified else ENGAGEMENT_EVENT_TYPES[event.type]


def _reclassified_message_id(endpoint_id: uuid.UUID, engagement_id: uuid.UUID) -> str:
    """Stable too, and apart from the engagement's own message (a burst re-judges once)."""
    return "msg_" + uuid.uuid5(endpoint_id, f"{engagement_id.hex}:reclassified").hex


def _due(event: EngagementEvent, detail: Any, now: datetime) -> datetime:
    """When the message may first be sent."""
    if event.type == "click" or detail.inferred_from == "click":
        # Until a scanner's burst would have shown itself (the verdict is read again then).
        return event.occurred_at + BURST_WINDOW
    return min(now, event.occurred_at)  # due since it happened, whichever clock is behind


async def _details(conn: AsyncConnection, events: set[EngagementEvent]) -> dict[Any, Any]:
    """What the payloads of these engagements say, by (account, engagement id)."""
    e = ENGAGEMENTS.c
    rows = await conn.execute(
        select(
            e.account_id, e.id, e.link_idx, e.inferred_from, e.category, EMAILS.c.subject,
            EMAILS.c.message_id,
            EMAILS.c.kind, USERS.c.email.label("sender_email"), RECIPIENTS.c.address,
            LINKS.c.url, SETTINGS.c.tracking_enabled,
        )
        .select_from(ENGAGEMENTS)
        .join(EMAILS, and_(EMAILS.c.account_id == e.account_id, EMAILS.c.id == e.email_id))
        .join(SETTINGS, SETTINGS.c.account_id == e.account_id)
        .outerjoin(USERS, and_(USERS.c.account_id == e.account_id, USERS.c.id == e.sender_id))
        .outerjoin(RECIPIENTS, and_(RECIPIENTS.c.account_id == e.account_id,
                                    RECIPIENTS.c.email_id == e.email_id,
                                    RECIPIENTS.c.idx == e.recipient_idx))
        .outerjoin(LINKS, and_(LINKS.c.account_id == e.account_id,
                               LINKS.c.email_id == e.email_id, LINKS.c.idx == e.link_idx))
        .where(key_in((e.account_id, e.id),
                      [(event.account_id, event.engagement_id) for event in events]))
    )
    return {(row.account_id, row.id): row for row in rows}


def _payload(event: EngagementEvent, detail: Any) -> dict[str, Any]:
    someone = event.attribution == "someone"
    recipient = None if someone else detail.address
    reclassified = {"engagementType": event.type, "previousVerdict": event.previous_verdict,
                    "category": detail.category} if event.reclassified else {}
    return {
        "type": _event_type(event),
        "timestamp": _iso(event.occurred_at),
        "data": {
            "engagementId": str(event.engagement_id),
            "emailId": str(event.email_id),
            "emailKind": detail.kind,
            "emailSubject": detail.subject,
            "messageId": detail.message_id,
            "senderId": str(event.sender_id),
            "senderEmail": detail.sender_email,
            "recipient": recipient,
            "who": recipient or "Someone",
            "attribution": event.attribution,
            "verdict": event.verdict,
            "occurredAt": _iso(event.occurred_at),
            "linkUrl": detail.url if event.type == "click" else None,
            **reclassified,
        },
    }
