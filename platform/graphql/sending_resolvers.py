"""``sendEmail`` and ``composeCheck``: thin calls into ``sendtrail.sending.service``."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from sendtrail.graphql.context import ctx, socket_ctx
from sendtrail.graphql.sending_types import ComposeCheck, Delivery
from sendtrail.graphql.tracking_types import Email
from sendtrail.i18n import N_, _
from sendtrail.records.mime import clean_filename, safe_media_type
from sendtrail.sending import service
from sendtrail.sending.core.message import Attachment
from sendtrail.sending.worker import DELIVERY_FAILED
from sendtrail.tenancy.users import parse_id
from sendtrail.tracking import emails

__all__ = ["DeliveryNotification", "SendingMutation", "SendingQuery", "SendingSubscription"]

log = logging.getLogger(__name__)

UNDELIVERED = N_("\u201c{subject}\u201d could not be delivered to {recipient}: {reason}")
"""A delivery notification's sentence; ``reason`` is the mail server's own answer."""
REFUSED = N_("refused")


@strawberry.input(description="An email to send through the account's mail server (R26).")
class SendEmailInput:
    to: list[str]
    cc: list[str] | None = None
    bcc: list[str] | None = None
    subject: str
    html: str | None = None
    text: str | None = None
    attachments: list[Upload] | None = strawberry.field(
        default=None, description="Files, as a GraphQL multipart request."
    )
    track: bool | None = strawberry.field(default=None, description="Default: your setting (R2).")
    log: bool | None = strawberry.field(default=None, description="Default: your setting (R2).")
    in_reply_to: strawberry.ID | None = strawberry.field(
        default=None, description="An Email (tracked or logged) this one answers."
    )


@strawberry.input
class ComposeCheckInput:
    to: list[str]
    cc: list[str] | None = None
    bcc: list[str] | None = None
    track: bool | None = None
    log: bool | None = None


@strawberry.type
class SendEmailResult:
    email: Email
    deliveries: list[Delivery]


def send_context(info: Info) -> service.SendContext:
    context = ctx(info)
    settings = context.settings
    return service.SendContext(
        keys=context.token_keys, default_tracking_base_url=settings.tracking.base_url,
        blobs=context.records.blobs, limits=context.records.limits,
        sends_per_hour=settings.sending.sends_per_hour,
        max_recipients=settings.sending.max_recipients, sinks=context.records.sinks,
        on_queued=context.wake_delivery,
    )


async def _attachments(given: list[Upload] | None) -> tuple[Attachment, ...]:
    files: list[Attachment] = []
    for number, upload in enumerate(given or [], 1):
        file: Any = upload
        files.append(Attachment(
            filename=clean_filename(getattr(file, "filename", None), f"attachment-{number}"),
            content_type=safe_media_type(getattr(file, "content_type", None)),
            data=await file.read(),
        ))
    return tuple(files)


@strawberry.type
class SendingQuery:
    @strawberry.field(description="Before sending: what will apply to this email, in words "
                      "(tracking off, opens only, \"Someone\" in privacy mode, logging).")
    async def compose_check(self, info: Info, input: ComposeCheckInput) -> ComposeCheck:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            found = await service.compose_check(
                session, principal, await context.account_id(info),
                recipients=[*input.to, *(input.cc or []), *(input.bcc or [])],
                track=input.track, log=input.log,
                default_tracking_base_url=context.settings.tracking.base_url,
            )
        return ComposeCheck(can_send=found.can_send, track=found.track, log=found.log,
                            notes=list(found.notes))


@strawberry.type
class SendingMutation:
    @strawberry.mutation(description="Send a tracked and/or logged email, one copy per "
                         "recipient, through the account's mail server (R26, R27).")
    async def send_email(self, info: Info, input: SendEmailInput) -> SendEmailResult:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        wanted = service.ComposeInput(
            to=tuple(input.to), cc=tuple(input.cc or ()), bcc=tuple(input.bcc or ()),
            subject=input.subject, html=input.html, text=input.text,
            attachments=await _attachments(input.attachments), track=input.track,
            log=input.log,
            in_reply_to=parse_id(input.in_reply_to, "email") if input.in_reply_to else None,
        )
        host = urlsplit(context.settings.http.public_url).hostname or "sendtrail.invalid"
        async with context.db() as session:
            sent = await service.send_email(
                session, principal, account_id, wanted, context=send_context(info),
                now=context.now(), message_host=host,
            )
            row = await emails.get_email(session, principal, account_id, sent.email_id)
            rows = await service.deliveries_of(session, account_id, sent.email_id)
        return SendEmailResult(
            email=Email.from_row(row),
            deliveries=[Delivery.from_row(r) for r in rows if r.kind == "recipient"],
        )


@strawberry.type(description="One of the viewer's emails could not be delivered to a "
                 "recipient, for good (R27).")
class DeliveryNotification:
    email_id: strawberry.ID
    email_subject: str
    recipient: str
    reason: str = strawberry.field(description="The upstream mail server's answer.")
    occurred_at: datetime
    message: str = strawberry.field(description="A sentence to show, e.g. in a desktop "
                                    "notification.")


@strawberry.type
class SendingSubscription:
    @strawberry.subscription(description="The viewer's sent emails, live: a recipient's copy "
                             "failed for good, with the mail server's answer (R27).")
    async def delivery_notifications(
        self, info: Info
    ) -> AsyncGenerator[DeliveryNotification, None]:
        socket = socket_ctx(info)
        subscriber = socket.subscriber
        if subscriber.account_id is None or subscriber.user_id is None:
            return
        account_id = subscriber.account_id
        async for event in socket.stream.subscribe(account_id, subscriber.user_id):
            if event.type != DELIVERY_FAILED:
                continue
            try:
                async with socket.database.session(account_id=account_id) as session:
                    found = await service.failed_delivery(session, account_id, event.email_id,
                                                          event.engagement_id)
            except Exception:  # a database hiccup costs one notification, not the stream
                log.exception("could not prepare a delivery notification")
                continue
            if found is None:
                continue
            if socket.still_authorized is not None and not await socket.still_authorized():
                if socket.close is not None:
                    await socket.close(4403, "Forbidden")
                return
            subject, row = found
            reason = row.last_error or REFUSED
            yield DeliveryNotification(
                email_id=strawberry.ID(str(event.email_id)), email_subject=subject,
                recipient=row.recipient, reason=reason, occurred_at=event.occurred_at,
                # In the subscriber's language: the socket's request chose it.
                message=_(UNDELIVERED).format(subject=subject, recipient=row.recipient,
                                              reason=row.last_error or _(REFUSED)),
            )
