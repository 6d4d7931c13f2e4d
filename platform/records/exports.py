"""CSV exports of the emails list and of opens, clicks and replies, with the lists' filters
(issue 15, item 10).

Rows are read a batch at a time, each batch in a session of its own, and written out as
they come: an export of a million engagements never sits in memory, and a slow download
holds no transaction open. An account's admins export the account; everyone else exports
their own emails only (as the web admin's "Mine" filter). Cells that a spreadsheet would
read as a formula are written as text (CSV injection: a subject or a user agent comes from
outside).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.pagination import keyset_batches
from sendtrail.errors import Forbidden
from sendtrail.i18n import _
from sendtrail.records.listing import ListedEmail, account_email_sources
from sendtrail.records.logbook import recipients_of_logged
from sendtrail.records.store import LoggedEmailRow
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.users import users_by_id
from sendtrail.tenancy.values import Principal, Role
from sendtrail.tracking.emails import (
    EmailFilter,
    emails_by_id,
    links_of_emails,
    recipients_by_index,
    recipients_of_emails,
)
from sendtrail.tracking.engagements import (
    ENGAGEMENT_KEYS,
    EngagementFilter,
    engagements_matching,
)
from sendtrail.tracking.store import EngagementRow

__all__ = ["EMAIL_COLUMNS", "ENGAGEMENT_COLUMNS", "csv_line", "email_csv", "engagement_csv",
           "own_sender"]

OpenSession = Callable[[], AbstractAsyncContextManager[AsyncSession]]

EMAIL_COLUMNS = ("sent_at", "subject", "kind", "sender", "tracked", "logged", "recipients",
                 "recipients_who_opened", "email_id")
ENGAGEMENT_COLUMNS = ("occurred_at", "type", "verdict", "inferred", "recipient", "email_subject",
                      "link", "reasons", "email_id", "engagement_id")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BATCH = 500


def csv_line(values: Iterable[Any]) -> str:
    """One CSV record (RFC 4180, CRLF), formulas neutralised."""
    out = io.StringIO()
    csv.writer(out).writerow([_cell(value) for value in values])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # A leading apostrophe makes spreadsheets show the text rather than run it (OWASP).
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def own_sender(actor: Principal, sender_id: uuid.UUID | None) -> uuid.UUID | None:
    """The sender an export is limited to: anyone's for admins and support staff, only
    their own for everyone else."""
    if actor.is_staff or actor.role is Role.ADMIN:
        return sender_id
    if sender_id is not None and sender_id != actor.user_id:
        raise Forbidden(_("You can export your own emails only; an admin exports everyone's."))
    return actor.user_id


async def email_csv(open_session: OpenSession, actor: Principal, account_id: uuid.UUID,
                    filter: EmailFilter) -> AsyncIterator[str]:
    """The emails list (tracked, and only logged) as CSV, newest first."""
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    filter = replace(filter, sender_id=own_sender(actor, filter.sender_id))
    yield csv_line(EMAIL_COLUMNS)
    async for batch in keyset_batches(open_session, account_email_sources(account_id, filter),
                                      descending=True, batch=_BATCH):
        async with open_session() as session:
            lines = await _email_lines(session, actor, account_id, batch)
        yield "".join(lines)


async def _email_lines(session: AsyncSession, actor: Principal, account_id: uuid.UUID,
                       batch: Sequence[ListedEmail]) -> list[str]:
    logged_ids = [row.id for row in batch if isinstance(row, LoggedEmailRow)]
    tracked_ids = [row.id for row in batch if not isinstance(row, LoggedEmailRow)]
    senders = await users_by_id(session, actor, account_id,
                                {row.sender_id for row in batch if row.sender_id})
    tracked = await recipients_of_emails(session, account_id, tracked_ids)
    logged = await recipients_of_logged(session, account_id, logged_ids)
    lines = []
    for row in batch:
        sender = senders.get(row.sender_id) if row.sender_id else None
        if isinstance(row, LoggedEmailRow):
            people = [r.address for r in logged.get(row.id, []) if r.field != "from"]
            kind, was_tracked, was_logged, opened = "SALES", False, True, None
        else:
            recipients = tracked.get(row.id, [])
            people = [r.address for r in recipients]
            kind, was_tracked, was_logged = (row.kind.upper(),
                                              row.open_tracking or row.click_tracking, row.logged)
            opened = sum(1 for r in recipients if r.first_human_open_at is not None)
        lines.append(csv_line((
            row.sent_at, row.subject, kind, sender.email if sender else None, was_tracked,
            was_logged, "; ".join(people), opened, row.id)))
    return lines


async def engagement_csv(open_session: OpenSession, actor: Principal, account_id: uuid.UUID,
                         filter: EngagementFilter) -> AsyncIterator[str]:
    """Opens, clicks and replies as CSV, newest first (HUMAN only unless asked, R10)."""
    authorizer().require(actor, account_id, AuthzObject.ENGAGEMENTS, AuthzAction.READ)
    filter = replace(filter, sender_id=own_sender(actor, filter.sender_id))
    yield csv_line(ENGAGEMENT_COLUMNS)
    sources = [(engagements_matching(account_id, filter), ENGAGEMENT_KEYS)]
    async for batch in keyset_batches(open_session, sources, descending=True, batch=_BATCH):
        async with open_session() as session:
            lines = await _engagement_lines(session, actor, account_id, batch)
        yield "".join(lines)


async def _engagement_lines(session: AsyncSession, actor: Principal, account_id: uuid.UUID,
                            batch: Sequence[EngagementRow]) -> list[str]:
    email_ids = {row.email_id for row in batch}
    emails = await emails_by_id(session, actor, account_id, email_ids)
    links = await links_of_emails(session, account_id, email_ids)
    recipients = await recipients_by_index(session, account_id, {
        (row.email_id, row.recipient_idx) for row in batch if row.recipient_idx is not None})
    lines = []
    for row in batch:
        email = emails.get(row.email_id)
        recipient = (recipients.get((row.email_id, row.recipient_idx))
                     if row.recipient_idx is not None else None)
        who = ("the sender's own copy" if row.sender_copy  # R9
               else recipient.address if recipient else "Someone")  # R15
        link = links.get(row.email_id, {}).get(row.link_idx) if row.link_idx is not None \
            else None
        lines.append(csv_line((
            row.occurred_at, row.type.upper(), row.verdict.upper(), row.inferred, who,
            email.subject if email else None, link, " ".join(row.reasons), row.email_id,
            row.id)))
    return lines
