"""The account's emails as one list: tracked emails and emails only logged (R1, R23).

An email logged by BCC, by forwarding or with ``logEmail`` has no tracked email behind it;
a tracked email that was also logged (``prepareEmail`` logs by default, R2) is listed once,
as the tracked email. Both tables are read from their own (account, sent, id) index and the
two pages merged, so the list costs one page per table whatever the account holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from sendtrail.db.pagination import Page, merged_keyset_page, within
from sendtrail.db.search import ESCAPE, contains_pattern
from sendtrail.records.store import LoggedEmailRow, LoggedRecipientRow
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.model import EmailKind
from sendtrail.tracking.emails import LISTED_EMAIL_KEYS, EmailFilter, EmailOrder, listed_emails
from sendtrail.tracking.store import TrackedEmailRow

__all__ = ["ListedEmail", "account_email_sources", "list_account_emails"]

ListedEmail = TrackedEmailRow | LoggedEmailRow
_LOGGED_KEYS: dict[EmailOrder, list[InstrumentedAttribute[Any]]] = {
    EmailOrder.SENT: [LoggedEmailRow.sent_at, LoggedEmailRow.id],  # type: ignore[list-item]
    EmailOrder.LAST_ACTIVITY: [
        LoggedEmailRow.last_activity_at, LoggedEmailRow.id],  # type: ignore[list-item]
}


async def list_account_emails(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    filter: EmailFilter,
    first: int | None,
    after: str | None,
    order: EmailOrder = EmailOrder.SENT,
) -> Page[ListedEmail]:
    """Tracked and logged emails, newest first (sent, or by last activity)."""
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    return await merged_keyset_page(session, account_email_sources(account_id, filter, order),
                                    descending=True, first=first, after=after)


def account_email_sources(
    account_id: uuid.UUID, filter: EmailFilter, order: EmailOrder = EmailOrder.SENT,
) -> list[tuple[SelectOfScalar[Any], Sequence[InstrumentedAttribute[Any]]]]:
    """The two tables of the list, each with the keys of its order (newest first)."""
    sources: list[tuple[SelectOfScalar[Any], Sequence[InstrumentedAttribute[Any]]]] = [
        (listed_emails(account_id, filter), LISTED_EMAIL_KEYS[order])]
    # A logged email is a sales email (R23), and nothing of it is opened or replied to.
    if filter.kind in (None, EmailKind.SALES) and filter.activity is None:
        sources.append((_only_logged(account_id, filter), _LOGGED_KEYS[order]))
    return sources


def _only_logged(account_id: uuid.UUID, filter: EmailFilter) -> SelectOfScalar[LoggedEmailRow]:
    statement = select(LoggedEmailRow).where(
        LoggedEmailRow.account_id == account_id,
        col(LoggedEmailRow.tracked_email_id).is_(None),
    )
    if filter.sender_id is not None:
        statement = statement.where(LoggedEmailRow.sender_id == filter.sender_id)
    needle = contains_pattern(filter.search or "")
    if needle is not None:
        # Who took part: the From (a contact, when the email is a reply) and every recipient.
        someone_matching = exists().where(
            col(LoggedRecipientRow.account_id) == account_id,
            col(LoggedRecipientRow.logged_email_id) == col(LoggedEmailRow.id),
            col(LoggedRecipientRow.address).like(needle, escape=ESCAPE),
        )
        statement = statement.where(
            func.lower(LoggedEmailRow.subject).like(needle, escape=ESCAPE)
            | col(LoggedEmailRow.sender_address).like(needle, escape=ESCAPE)
            | someone_matching
        )
    return within(statement, LoggedEmailRow.sent_at, filter.since, filter.until)
