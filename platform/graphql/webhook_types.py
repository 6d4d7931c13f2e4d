"""GraphQL types of webhook endpoints and deliveries (secrets never appear here)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from sendtrail.db.pagination import Page
from sendtrail.graphql.context import ctx
from sendtrail.graphql.types import Edge, PageInfo
from sendtrail.notifications import webhooks
from sendtrail.notifications.dispatcher import signing_entries
from sendtrail.notifications.store import (
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from sendtrail.notifications.webhooks import DeliveryStatus

__all__ = [
    "CreatedWebhookEndpoint",
    "RotatedWebhookSecret",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryConnection",
    "WebhookDeliveryStatusEnum",
    "WebhookEndpoint",
]

WebhookDeliveryStatusEnum = strawberry.enum(
    DeliveryStatus, name="WebhookDeliveryStatus",
    description="PENDING: waiting for its next attempt (or being attempted). DELIVERED: "
    "the endpoint answered 2xx. FAILED: every attempt of the schedule failed (replay it). "
    "DISABLED: held while its endpoint is disabled, sent when it is enabled again. "
    "SUPPRESSED: not sent, and never will be: just before sending, its engagement was "
    "found reclassified as not HUMAN (e.g. a link scanner's click burst) for an endpoint "
    "that takes only human activity, or erased; lastError says which.")


@strawberry.type(description="One try to deliver a message: what the endpoint answered.")
class WebhookAttempt:
    at: datetime
    status_code: int | None = strawberry.field(description="Null when no answer came.")
    error: str | None = strawberry.field(description="Why it failed, in words.")
    duration_ms: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next try was scheduled after this one (null: no more).")

    @classmethod
    def from_row(cls, row: WebhookAttemptRow) -> WebhookAttempt:
        return cls(at=row.at, status_code=row.status_code, error=row.error,
                   duration_ms=row.duration_ms, next_attempt_at=row.next_attempt_at)


@strawberry.type(description="One event for one endpoint; its id is the webhook-id header.")
class WebhookDelivery:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    event_type: str
    status: WebhookDeliveryStatusEnum  # type: ignore[valid-type]
    created_at: datetime
    attempt_count: int = strawberry.field(
        description="Attempts in the current round (a replay starts a new round).")
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    payload: JSON = strawberry.field(description="The body sent (Standard Webhooks shape).")
    attempts: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @classmethod
    def from_row(cls, row: WebhookMessageRow, attempts: list[WebhookAttemptRow]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(row.id), endpoint_id=strawberry.ID(str(row.endpoint_id)),
            event_type=row.event_type, status=DeliveryStatus(row.status),
            created_at=row.created_at, attempt_count=row.attempts,
            next_attempt_at=row.next_attempt_at, delivered_at=row.delivered_at,
            last_status_code=row.last_status_code, last_error=row.last_error,
            payload=cast(JSON, row.payload),
            attempts=[WebhookAttempt.from_row(attempt) for attempt in attempts],
        )


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[Edge[WebhookDelivery]]
    page_info: PageInfo

    @classmethod
    def from_page(
        cls, page: Page[WebhookMessageRow], attempts: dict[str, list[WebhookAttemptRow]]
    ) -> WebhookDeliveryConnection:
        return cls(
            edges=[Edge(node=WebhookDelivery.from_row(row, attempts.get(row.id, [])),
                        cursor=cursor) for row, cursor in page.items],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type(description="Where an account's events are POSTed, signed (Standard Webhooks).")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str | None
    event_types: list[str]
    include_non_human: bool = strawberry.field(
        description="Also sends MACHINE and SELF engagements (R10), marked by their verdict.")
    active: bool
    disabled_reason: str | None
    created_at: datetime
    secret_rotated_at: datetime | None = strawberry.field(
        description="When the current signing secret was made.")
    signing_secret_count: int = strawberry.field(
        description="Secrets signing now: 2 while a rotated-out one has not expired.")
    old_secret_expires_at: datetime | None = strawberry.field(
        description="When the rotated-out secret stops signing.")
    account_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Messages sent or to send to this endpoint, newest first.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: WebhookDeliveryStatusEnum | None = None,  # type: ignore[valid-type]
    ) -> WebhookDeliveryConnection:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            page = await webhooks.list_deliveries(
                session, principal, self.account_id, endpoint_id=uuid.UUID(self.id),
                status=status, first=first, after=after,
            )
            attempts = await webhooks.attempts_of(
                session, principal, self.account_id, [row.id for row, _ in page.items])
        return WebhookDeliveryConnection.from_page(page, attempts)

    @classmethod
    def from_row(cls, row: WebhookEndpointRow, *, now: datetime) -> WebhookEndpoint:
        newest = row.secrets[0] if row.secrets else {}
        older = [datetime.fromisoformat(entry["expires_at"]) for entry in row.secrets[1:]
                 if entry.get("expires_at") and datetime.fromisoformat(entry["expires_at"]) > now]
        created = newest.get("created_at")
        return cls(
            id=strawberry.ID(str(row.id)), url=row.url, description=row.description,
            event_types=list(row.event_types), include_non_human=row.include_non_human,
            active=row.active, disabled_reason=row.disabled_reason, created_at=row.created_at,
            secret_rotated_at=datetime.fromisoformat(created) if created else None,
            signing_secret_count=len(signing_entries(row.secrets, now)),
            old_secret_expires_at=max(older) if older else None,
            account_id=row.account_id,
        )


@strawberry.type
class CreatedWebhookEndpoint:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(
        description="The signing secret (whsec_...): shown only in this reply.")


@strawberry.type
class RotatedWebhookSecret:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(
        description="The new signing secret (whsec_...): shown only in this reply.")
