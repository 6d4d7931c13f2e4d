"""Query and mutation fields of tracking: thin calls into ``sendtrail.tracking``."""

from __future__ import annotations

import uuid

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.types import Info

from sendtrail.domains.service import tracking_base_url_for
from sendtrail.errors import Forbidden, NotFound
from sendtrail.graphql.context import ctx
from sendtrail.graphql.tracking_inputs import (
    ActivityFilterInput,
    EmailFilterInput,
    EmailOrderEnum,
    EngagementFilterInput,
    PrepareEmailInput,
    aware,
    decode_attachments,
    engagement_filter,
)
from sendtrail.graphql.tracking_types import Email, EmailConnection, EngagementConnection
from sendtrail.i18n import N_, _
from sendtrail.records import listing, logbook, outbound
from sendtrail.tenancy.users import parse_id
from sendtrail.tenancy.values import Principal
from sendtrail.tracking import diagnosis, emails, engagements, not_tracked
from sendtrail.tracking.core.message_ids import copy_message_id
from sendtrail.tracking.core.prepare import PreparedMessage as PreparedMessageValue
from sendtrail.tracking.core.prepare import Recipient
from sendtrail.tracking.emails import EmailOrder

__all__ = ["TrackingMutation", "TrackingQuery"]

LOGGED_ONLY = N_("This email was logged, not sent with tracking through Sendtrail, so it has "
                 "no opens or clicks to explain.")
LOGGED_COPY = N_("This is the logged copy of a tracked email; what follows is about the email "
                 "as it was sent.")


@strawberry.type
class PreparedMessage:
    recipients: list[str] = strawberry.field(description="Who this copy is delivered to.")
    message_id: str
    html: str | None
    text: str | None


@strawberry.type
class PreparedEmail:
    email: Email
    open_tracking: bool = strawberry.field(description="A pixel was added (R5).")
    click_tracking: bool = strawberry.field(description="Eligible links were rewritten (R11).")
    not_tracked_reasons: list[str]
    removed_tracking: list[str] = strawberry.field(
        description="Pixels and tracked links of earlier emails found in this one (R8)."
    )
    messages: list[PreparedMessage]
    sender_copy: PreparedMessage = strawberry.field(
        description="For the sender's Sent folder: its hits are the sender's own (R9)."
    )


@strawberry.type
class EmailDiagnosis:
    email_id: strawberry.ID
    findings: list[str] = strawberry.field(description="Plain sentences (R25).")


def _message(value: PreparedMessageValue, message_id: str) -> PreparedMessage:
    return PreparedMessage(recipients=list(value.recipients), message_id=message_id,
                           html=value.html, text=value.text)


async def _engaged_email_id(session: AsyncSession, principal: Principal,
                            account_id: uuid.UUID, email_id: uuid.UUID) -> uuid.UUID:
    """The tracked email whose engagements ``email_id`` stands for: the emails list shows a
    tracked email's logged copy under the copy's id, and an email only logged has none (its
    id filters to an empty feed); another account's id is NOT_FOUND, like everywhere."""
    try:
        return (await emails.get_email(session, principal, account_id, email_id)).id
    except NotFound:
        logged = await logbook.get_logged_email(session, principal, account_id, email_id)
        if logged is None:
            raise
        return logged.tracked_email_id or logged.id


@strawberry.type
class TrackingQuery:
    @strawberry.field(description="The account's tracked emails and the emails only logged "
                      "(BCC, forwarding, logEmail), newest first.")
    async def emails(
        self, info: Info, first: int | None = None, after: str | None = None,
        filter: EmailFilterInput | None = None,
        order_by: EmailOrderEnum = EmailOrder.SENT,  # type: ignore[valid-type]
    ) -> EmailConnection:
        context = ctx(info)
        principal = await context.actor(info)
        given = filter or EmailFilterInput()
        wanted = emails.EmailFilter(
            sender_id=parse_id(given.sender_id, "user") if given.sender_id else None,
            kind=given.kind, since=aware(given.since, "since"), until=aware(given.until, "until"),
            search=given.search, activity=given.activity,
        )
        async with context.db() as session:
            page = await listing.list_account_emails(
                session, principal, await context.account_id(info), filter=wanted,
                first=first, after=after, order=order_by)
        return EmailConnection.from_page(page, public_url=context.settings.http.public_url)

    @strawberry.field(description="One tracked email; NOT_FOUND if it is not the account's.")
    async def email(self, info: Info, id: strawberry.ID) -> Email:
        context = ctx(info)
        principal = await context.actor(info)
        email_id = parse_id(id, "email")
        account_id = await context.account_id(info)
        async with context.db() as session:
            try:
                row = await emails.get_email(session, principal, account_id, email_id)
            except NotFound:
                logged = await logbook.get_logged_email(session, principal, account_id, email_id)
                if logged is None:
                    raise
                return Email.from_logged(logged, public_url=context.settings.http.public_url)
        return Email.from_row(row)

    @strawberry.field(description="Opens, clicks and replies, newest first (HUMAN by default).")
    async def engagements(
        self, info: Info, first: int | None = None, after: str | None = None,
        filter: EngagementFilterInput | None = None,
    ) -> EngagementConnection:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            page = await engagements.list_engagements(
                session, principal, await context.account_id(info),
                filter=engagement_filter(filter), first=first, after=after,
            )
        return await EngagementConnection.of(info, page)

    @strawberry.field(description="The viewer's activity feed: human opens, clicks and "
                      "replies on emails they sent, newest first (R4).")
    async def activity_feed(
        self, info: Info, first: int | None = None, after: str | None = None,
        filter: ActivityFilterInput | None = None,
    ) -> EngagementConnection:
        context = ctx(info)
        principal = await context.actor(info)
        if principal.user_id is None:
            raise Forbidden(_("Support staff have no activity feed of their own."))
        given = filter or ActivityFilterInput()
        account_id = await context.account_id(info)
        async with context.db() as session:
            email_id = None
            if given.email_id is not None:
                email_id = await _engaged_email_id(session, principal, account_id,
                                                   parse_id(given.email_id, "email"))
            page = await engagements.list_engagements(
                session, principal, account_id,
                filter=engagements.EngagementFilter(sender_id=principal.user_id,
                                                    email_id=email_id, type=given.type),
                first=first, after=after,
            )
        return await EngagementConnection.of(info, page)

    @strawberry.field(description="Why opens and clicks were or were not recorded (R25).")
    async def diagnose_email(self, info: Info, id: strawberry.ID) -> EmailDiagnosis:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        email_id = parse_id(id, "email")
        async with context.db() as session:
            try:
                findings = await diagnosis.diagnose_email(session, principal, account_id,
                                                          email_id)
            except NotFound:  # a logged email has no hits of its own; its tracked one may
                logged = await logbook.get_logged_email(session, principal, account_id,
                                                        email_id)
                if logged is None:
                    raise
                if logged.tracked_email_id is None:
                    return EmailDiagnosis(email_id=id, findings=[_(LOGGED_ONLY)])
                findings = [_(LOGGED_COPY), *await diagnosis.diagnose_email(
                    session, principal, account_id, logged.tracked_email_id)]
        return EmailDiagnosis(email_id=id, findings=findings)


@strawberry.type
class TrackingMutation:
    @strawberry.mutation(description="Prepare an email for sending: pixel, tracked links (R5-R15).")
    async def prepare_email(self, info: Info, input: PrepareEmailInput) -> PreparedEmail:
        context = ctx(info)
        principal = await context.actor(info)
        wanted = emails.EmailInput(
            kind=input.kind, subject=input.subject, html=input.html, text=input.text,
            recipients=tuple(Recipient(address=r.address, name=r.name, field=r.field)
                             for r in input.recipients),
            delivery_mode=input.delivery_mode, track=input.track,
            sender_id=parse_id(input.sender_id, "user") if input.sender_id else None,
        )
        account_id = await context.account_id(info)
        attachments = decode_attachments(input.attachments)
        async with context.db() as session:
            base_url = await tracking_base_url_for(
                session, account_id, email_kind=wanted.kind.value,
                default=context.settings.tracking.base_url, now=context.now())
            row, prepared = await emails.prepare_email(
                session, principal, account_id, wanted,
                keys=context.token_keys, tracking_base_url=base_url,
                now=context.now(), commit=False,
            )
            await outbound.log_prepared(
                session, principal, account_id, row, wanted, log=input.log,
                attachments=attachments, blobs=context.records.blobs, now=context.now(),
                limits=context.records.limits,
            )
        return PreparedEmail(
            email=Email.from_row(row), open_tracking=prepared.open_tracking,
            click_tracking=prepared.click_tracking,
            not_tracked_reasons=[not_tracked.explain(why) for why in prepared.not_tracked_reasons],
            removed_tracking=[not_tracked.explain(what) for what in prepared.removed_tracking],
            messages=[_message(m, copy_message_id(row.message_id, m.recipient_index))
                      for m in prepared.messages],
            sender_copy=_message(prepared.sender_copy, row.message_id),
        )
