"""Query and mutation fields of webhooks: endpoints, secrets, deliveries, replay, test."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from sendtrail.graphql.context import ctx
from sendtrail.graphql.webhook_types import (
    CreatedWebhookEndpoint,
    RotatedWebhookSecret,
    WebhookDelivery,
    WebhookEndpoint,
)
from sendtrail.notifications import webhooks
from sendtrail.secretbox import secret_box
from sendtrail.tenancy.users import parse_id

__all__ = ["WebhookMutation", "WebhookQuery"]

EVENT_TYPES_HELP = ("Any of engagement.opened, engagement.clicked, engagement.replied, "
                    "engagement.reclassified (a verdict changed after it was stored: R30).")


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https://... (http allowed); public addresses only.")
    event_types: list[str] = strawberry.field(description=EVENT_TYPES_HELP)
    description: str | None = None
    include_non_human: bool = False


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = strawberry.field(default=None, description=EVENT_TYPES_HELP)
    description: str | None = None
    include_non_human: bool | None = None
    active: bool | None = strawberry.field(
        default=None, description="false pauses the endpoint: messages already queued are "
        "held (DISABLED) and events while it is paused are not queued at all; true "
        "re-enables it and sends what it held.")


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="The account's webhook endpoints (admins).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            rows = await webhooks.list_endpoints(session, principal,
                                                 await context.account_id(info))
        return [WebhookEndpoint.from_row(row, now=context.now()) for row in rows]

    @strawberry.field(description="One webhook endpoint, with its deliveries.")
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await webhooks.get_endpoint(session, principal, await context.account_id(info),
                                              parse_id(id, "webhook endpoint"))
        return WebhookEndpoint.from_row(row, now=context.now())


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Add a webhook endpoint; its secret is shown only here.")
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> CreatedWebhookEndpoint:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row, secret = await webhooks.create_endpoint(
                session, principal, await context.account_id(info), url=input.url,
                event_types=input.event_types, description=input.description,
                include_non_human=input.include_non_human,
                allow_loopback=context.settings.notifications.webhook_allow_loopback,
                now=context.now(), box=secret_box(context.settings.secrets.keys),
            )
        return CreatedWebhookEndpoint(endpoint=WebhookEndpoint.from_row(row, now=context.now()),
                                      secret=secret)

    @strawberry.mutation(description="Change a webhook endpoint, or disable / re-enable it.")
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpoint:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await webhooks.update_endpoint(
                session, principal, await context.account_id(info),
                endpoint_id=parse_id(input.id, "webhook endpoint"), url=input.url,
                event_types=input.event_types, description=input.description,
                include_non_human=input.include_non_human, active=input.active,
                allow_loopback=context.settings.notifications.webhook_allow_loopback,
                now=context.now(),
            )
        return WebhookEndpoint.from_row(row, now=context.now())

    @strawberry.mutation(description="A new signing secret, shown only here; the old one "
                         "keeps signing (a second v1 signature) for keepOldForHours.")
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID, keep_old_for_hours: int = 24
    ) -> RotatedWebhookSecret:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row, secret = await webhooks.rotate_secret(
                session, principal, await context.account_id(info),
                endpoint_id=parse_id(id, "webhook endpoint"),
                keep_old_for_hours=keep_old_for_hours, now=context.now(),
                box=secret_box(context.settings.secrets.keys),
            )
        return RotatedWebhookSecret(endpoint=WebhookEndpoint.from_row(row, now=context.now()),
                                    secret=secret)

    @strawberry.mutation(description="Delete a webhook endpoint and its deliveries.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> bool:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            await webhooks.delete_endpoint(session, principal, await context.account_id(info),
                                           endpoint_id=parse_id(id, "webhook endpoint"))
        return True

    @strawberry.mutation(description="Send a delivery again now, with the same webhook-id.")
    async def replay_webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDelivery:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        async with context.db() as session:
            row = await webhooks.replay_delivery(session, principal, account_id,
                                                 message_id=str(id), now=context.now())
            attempts = await webhooks.attempts_of(session, principal, account_id, [row.id])
        return WebhookDelivery.from_row(row, attempts[row.id])

    @strawberry.mutation(description="Queue a webhook.test message to the endpoint.")
    async def send_test_webhook(self, info: Info, endpoint_id: strawberry.ID) -> WebhookDelivery:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await webhooks.send_test(session, principal, await context.account_id(info),
                                           endpoint_id=parse_id(endpoint_id, "webhook endpoint"),
                                           now=context.now())
        return WebhookDelivery.from_row(row, [])
