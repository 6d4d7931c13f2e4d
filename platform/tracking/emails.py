"""Use cases of tracked emails: prepare (and store) one, list them, read one."""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, exists, func
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from sendtrail.contacts.service import ensure_contacts
from sendtrail.db.grouping import rows_by_parent
from sendtrail.db.keys import key_in
from sendtrail.db.pagination import within
from sendtrail.db.search import ESCAPE, contains_pattern
from sendtrail.errors import InvalidInput, NotFound
from sendtrail.i18n import _
from sendtrail.tenancy.accounts import tracking_policy_for
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.users import get_user, normalize_email
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.message_ids import email_message_id
from sendtrail.tracking.core.model import DeliveryMode, EmailKind
from sendtrail.tracking.core.prepare import Draft, PreparedEmail, Recipient, prepare
from sendtrail.tracking.core.tokens import TokenKeys
from sendtrail.tracking.store import EmailRecipientRow, TrackedEmailRow, TrackedLinkRow

__all__ = [
    "LISTED_EMAIL_KEYS",
    "EmailActivity",
    "EmailFilter",
    "EmailInput",
    "EmailOrder",
    "RecipientActivity",
    "RecipientTally",
    "emails_by_id",
    "get_email",
    "links_of_emails",
    "listed_emails",
    "prepare_email",
    "recipient_activity",
    "recipient_tallies_of",
    "recipients_by_index",
    "recipients_of",
    "recipients_of_emails",
]

MAX_HTML_BYTES = 2 * 1024 * 1024
MAX_RECIPIENTS = 1000
MAX_SUBJECT = 998


@dataclass(frozen=True)
class EmailInput:
    kind: EmailKind
    subject: str
    html: str | None
    text: str | None
    recipients: tuple[Recipient, ...]
    delivery_mode: DeliveryMode
    track: bool | None
    sender_id: uuid.UUID | None = None


class EmailActivity(enum.StrEnum):
    """What happened to an email, as the emails list filters it (issue 15, item 6)."""

    NOT_OPENED = "not_opened"
    OPENED = "opened"
    OPENED_NOT_REPLIED = "opened_not_replied"
    REPLIED = "replied"


class EmailOrder(enum.StrEnum):
    SENT = "sent"
    """Newest sent first."""
    LAST_ACTIVITY = "last_activity"
    """Latest counted open, click or reply first (the send time until there is one)."""


class RecipientActivity(enum.StrEnum):
    """How far a recipient went: the furthest of opened, clicked, replied."""

    NOT_OPENED = "not_opened"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"


def recipient_activity(row: EmailRecipientRow) -> RecipientActivity:
    if row.replied_at is not None:
        return RecipientActivity.REPLIED
    if row.first_human_click_at is not None:
        return RecipientActivity.CLICKED
    if row.first_human_open_at is not None:
        return RecipientActivity.OPENED
    return RecipientActivity.NOT_OPENED


@dataclass(frozen=True)
class EmailFilter:
    sender_id: uuid.UUID | None = None
    kind: EmailKind | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    """Part of the subject or of a recipient's address, any case."""
    activity: EmailActivity | None = None


def _validate(email: EmailInput) -> tuple[Recipient, ...]:
    subject = email.subject.strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise InvalidInput(_("Give the email a subject of 1 to {limit} characters.").format(
            limit=MAX_SUBJECT))
    if not email.recipients:
        raise InvalidInput(_("Give the email at least one recipient."))
    if len(email.recipients) > MAX_RECIPIENTS:
        raise InvalidInput(_("An email can have at most {limit} recipients.").format(
            limit=MAX_RECIPIENTS))
    if email.html is not None and len(email.html.encode()) > MAX_HTML_BYTES:
        raise InvalidInput(_("The HTML body is larger than 2 MB; link large content instead."))
    return tuple(
        Recipient(address=normalize_email(r.address), name=r.name[:200] if r.name else None,
                  field=r.field)
        for r in email.recipients
    )


async def prepare_email(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    email: EmailInput,
    *,
    keys: TokenKeys,
    tracking_base_url: str,
    now: datetime,
    commit: bool = True,
) -> tuple[TrackedEmailRow, PreparedEmail]:
    """Prepare a tracked email for sending (R5 to R15) and store what tracking needs."""
    authz = authorizer()
    authz.require(actor, account_id, AuthzObject.EMAILS, AuthzAction.WRITE)
    sender_id = email.sender_id or actor.user_id
    if sender_id is None:
        raise InvalidInput(_("Say who sends the email (senderId)."))
    if sender_id != actor.user_id:
        authz.require(actor, account_id, AuthzObject.EMAILS_OF_OTHERS, AuthzAction.WRITE)
    sender = await get_user(session, actor, account_id, sender_id)
    if not sender.active:
        raise InvalidInput(_("{email} is deactivated and cannot send tracked email.").format(
            email=sender.email))
    recipients = _validate(email)
    policy = await tracking_policy_for(
        session, account_id, sender_id, tracking_base_url=tracking_base_url
    )
    email_id = uuid.uuid4()
    prepared = prepare(
        Draft(kind=email.kind, subject=email.subject.strip(), html=email.html, text=email.text,
              recipients=recipients, delivery_mode=email.delivery_mode, track=email.track),
        policy,
        keys=keys,
        account_id=account_id,
        email_id=email_id,
        sent_at=int(now.timestamp()),
    )
    contacts = await ensure_contacts(
        session, account_id, ((r.address, r.name) for r in recipients)
    )
    host = urlsplit(tracking_base_url).hostname or "sendtrail.invalid"
    row = TrackedEmailRow(
        account_id=account_id, id=email_id, kind=email.kind.value, sender_id=sender_id,
        subject=email.subject.strip(), sent_at=now, last_activity_at=now,
        delivery_mode=email.delivery_mode.value,
        message_id=email_message_id(email_id, host), open_tracking=prepared.open_tracking,
        click_tracking=prepared.click_tracking, html=email.html is not None,
        recipient_count=len(recipients), link_count=len(prepared.links),
        tracking_base_url=policy.tracking_base_url,
        not_tracked_reasons=list(prepared.not_tracked_reasons),
        skipped_links=[list(pair) for pair in prepared.skipped_links],
        removed_tracking=list(prepared.removed_tracking),
    )
    session.add(row)
    for index, recipient in enumerate(recipients):
        session.add(EmailRecipientRow(
            account_id=account_id, email_id=email_id, idx=index, address=recipient.address,
            name=recipient.name, field=recipient.field.value,
            contact_id=contacts[recipient.address].id,
        ))
    for link in prepared.links:
        session.add(TrackedLinkRow(account_id=account_id, email_id=email_id, idx=link.index,
                                   url=link.url))
    if commit:
        await session.commit()
    else:  # the caller adds more to this transaction (a logged copy) and commits
        await session.flush()
    return row, prepared


async def get_email(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, email_id: uuid.UUID
) -> TrackedEmailRow:
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    row = (await session.exec(select(TrackedEmailRow).where(
        TrackedEmailRow.account_id == account_id, TrackedEmailRow.id == email_id
    ))).one_or_none()
    if row is None:
        raise NotFound(_("No email with id {id}.").format(id=email_id))
    return row


LISTED_EMAIL_KEYS: dict[EmailOrder, list[InstrumentedAttribute[Any]]] = {
    EmailOrder.SENT: [TrackedEmailRow.sent_at, TrackedEmailRow.id],  # type: ignore[list-item]
    EmailOrder.LAST_ACTIVITY: [
        TrackedEmailRow.last_activity_at, TrackedEmailRow.id],  # type: ignore[list-item]
}
"""The orders of the emails list (newest first), the keys of their cursors."""


def listed_emails(account_id: uuid.UUID, filter: EmailFilter) -> SelectOfScalar[TrackedEmailRow]:
    """The account's tracked emails that ``filter`` lets through, unordered."""
    statement = select(TrackedEmailRow).where(TrackedEmailRow.account_id == account_id)
    if filter.sender_id is not None:
        statement = statement.where(TrackedEmailRow.sender_id == filter.sender_id)
    if filter.kind is not None:
        statement = statement.where(TrackedEmailRow.kind == filter.kind.value)
    needle = contains_pattern(filter.search or "")
    if needle is not None:
        to_someone_matching = exists().where(
            col(EmailRecipientRow.account_id) == account_id,
            col(EmailRecipientRow.email_id) == col(TrackedEmailRow.id),
            col(EmailRecipientRow.address).like(needle, escape=ESCAPE),
        )
        statement = statement.where(
            func.lower(TrackedEmailRow.subject).like(needle, escape=ESCAPE) | to_someone_matching
        )
    opened, replied = col(TrackedEmailRow.opened_at), col(TrackedEmailRow.replied_at)
    statement = statement.where(*{
        None: (),
        EmailActivity.NOT_OPENED: (opened.is_(None),),
        EmailActivity.OPENED: (opened.is_not(None),),
        EmailActivity.OPENED_NOT_REPLIED: (opened.is_not(None), replied.is_(None)),
        EmailActivity.REPLIED: (replied.is_not(None),),
    }[filter.activity])
    return within(statement, TrackedEmailRow.sent_at, filter.since, filter.until)


async def emails_by_id(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID,
    email_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, TrackedEmailRow]:
    """The account's emails among ``email_ids``, in one statement; unknown ids are left out."""
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    if not email_ids:
        return {}
    rows = await session.exec(select(TrackedEmailRow).where(
        TrackedEmailRow.account_id == account_id, col(TrackedEmailRow.id).in_(email_ids)
    ))
    return {row.id: row for row in rows.all()}


async def recipients_of(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID
) -> list[EmailRecipientRow]:
    return (await recipients_of_emails(session, account_id, [email_id])).get(email_id, [])


async def recipients_of_emails(
    session: AsyncSession, account_id: uuid.UUID, email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[EmailRecipientRow]]:
    """Each email's recipients in their order, for many emails in one statement."""
    return await rows_by_parent(session, EmailRecipientRow, account_id, parent="email_id",
                                parent_ids=email_ids, order="idx")


@dataclass(frozen=True)
class RecipientTally:
    """How many recipients an email has, and how many went how far (``recipient_activity``:
    a recipient who clicked or replied opened too, one who replied counts as clicked)."""

    recipients: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0


async def recipient_tallies_of(
    session: AsyncSession, account_id: uuid.UUID, email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, RecipientTally]:
    """Each email's ``RecipientTally``, counted by the database in one statement (an emails
    list of 25 emails to 50 people each no longer reads 1,250 recipient rows)."""
    if not email_ids:
        return {}
    r = EmailRecipientRow
    replied = col(r.replied_at).is_not(None)
    clicked = replied | col(r.first_human_click_at).is_not(None)
    opened = clicked | col(r.first_human_open_at).is_not(None)
    # sqlmodel's select() is typed for at most four columns; its Select takes any number.
    tallies: Select[uuid.UUID, int, int, int, int] = Select(
        col(r.email_id), func.count(), func.count(case((opened, 1))),
        func.count(case((clicked, 1))), func.count(case((replied, 1))))
    rows = await session.exec(
        tallies.where(col(r.account_id) == account_id, col(r.email_id).in_(email_ids))
        .group_by(col(r.email_id)))
    return {email_id: RecipientTally(int(total), int(seen), int(went), int(answered))
            for email_id, total, seen, went, answered in rows.all()}


async def recipients_by_index(
    session: AsyncSession, account_id: uuid.UUID, keys: Collection[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], EmailRecipientRow]:
    """The recipients named by (email id, index) pairs, in one statement (an activity page
    names one or two recipients of each of many emails, not all fifty)."""
    if not keys:
        return {}
    rows = await session.exec(select(EmailRecipientRow).where(
        EmailRecipientRow.account_id == account_id,
        key_in((col(EmailRecipientRow.email_id), col(EmailRecipientRow.idx)), keys),
    ))
    return {(row.email_id, row.idx): row for row in rows.all()}


async def links_of_emails(
    session: AsyncSession, account_id: uuid.UUID, email_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, dict[int, str]]:
    """Each email's tracked links (index → destination), for many emails in one statement."""
    found: dict[uuid.UUID, dict[int, str]] = defaultdict(dict)
    if email_ids:
        rows = await session.exec(select(TrackedLinkRow).where(
            TrackedLinkRow.account_id == account_id,
            col(TrackedLinkRow.email_id).in_(email_ids),
        ))
        for row in rows.all():
            found[row.email_id][row.idx] = row.url
    return found
