"""Reading the audit log: filtered, newest first, a support visit as one entry.

Entries are stored one per change and one per support read (``audit.py``); a visit of
support staff writes one per page they open. Here consecutive searches and reads by the
same staff member, each less than ``VISIT_GAP`` after the one before, are grouped at read
time into one entry (no migration, and the stored log stays one row per read, as an
auditor expects). Pages are keyset pages of entries: an entry's cursor is its oldest row's,
so a visit is never split across pages (longer ones than ``MAX_VISIT_READS`` are split
into several entries, which bounds a page's work).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from sendtrail.db.pagination import Page, keyset_page, page_size, within
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.tenancy.audit_wording import ACTION_KINDS, VISIT_ACTIONS, AuditKind
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.store import AuditEntryRow, UserRow
from sendtrail.tenancy.values import Principal

__all__ = ["MAX_VISIT_READS", "VISIT_GAP", "AuditFilter", "AuditLogEntry", "list_audit_actors",
           "list_audit_log", "user_names"]

VISIT_GAP = timedelta(minutes=30)
MAX_VISIT_READS = 200
SCAN_BATCH = 100
TOKEN_SUFFIX = " (API token)"  # noqa: S105 - a label's suffix, not a secret
KEYS: list[Any] = [AuditEntryRow.at, AuditEntryRow.id]


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    """An actor as ``auditActors`` lists them (``user:ada@…``); their API tokens' entries
    are theirs too."""
    kind: AuditKind | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditLogEntry:
    rows: tuple[AuditEntryRow, ...]
    """Newest first; more than one only for a support visit."""

    @property
    def head(self) -> AuditEntryRow:
        return self.rows[0]

    @property
    def is_visit(self) -> bool:
        return self.head.action in VISIT_ACTIONS and self.head.actor.startswith("support:")


def _filtered(account_id: uuid.UUID, wanted: AuditFilter) -> SelectOfScalar[AuditEntryRow]:
    if wanted.since and wanted.until and wanted.since >= wanted.until:
        raise InvalidInput(_("'since' must be before 'until'."))
    statement = select(AuditEntryRow).where(AuditEntryRow.account_id == account_id)
    if wanted.actor and "\x00" in wanted.actor:  # PostgreSQL refuses NUL in text
        raise InvalidInput(_("'actor' cannot contain NUL characters; pass a label from "
                             "auditActors."))
    if wanted.actor:
        bare = wanted.actor.removesuffix(TOKEN_SUFFIX)
        statement = statement.where(or_(col(AuditEntryRow.actor) == bare,
                                        col(AuditEntryRow.actor) == bare + TOKEN_SUFFIX))
    if wanted.kind is AuditKind.OTHER:
        statement = statement.where(col(AuditEntryRow.action).not_in(list(ACTION_KINDS)))
    elif wanted.kind is not None:
        codes = [code for code, wording in ACTION_KINDS.items() if wording.kind is wanted.kind]
        statement = statement.where(col(AuditEntryRow.action).in_(codes))
    return within(statement, AuditEntryRow.at, wanted.since, wanted.until)


def _continues(visit: list[AuditEntryRow], row: AuditEntryRow) -> bool:
    """Whether ``row`` (older than all of ``visit``) belongs to the same support visit."""
    head, oldest = visit[0], visit[-1]
    return (head.action in VISIT_ACTIONS and row.action in VISIT_ACTIONS
            and head.actor.startswith("support:") and row.actor == head.actor
            and oldest.at - row.at < VISIT_GAP and len(visit) < MAX_VISIT_READS)


async def list_audit_log(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    wanted: AuditFilter,
    first: int | None,
    after: str | None,
) -> Page[AuditLogEntry]:
    """Newest first, support visits grouped. Admins and support staff only."""
    authorizer().require(actor, account_id, AuthzObject.AUDIT_LOG, AuthzAction.READ)
    size = page_size(first)
    statement = _filtered(account_id, wanted)
    entries: list[tuple[AuditLogEntry, str]] = []
    current: list[AuditEntryRow] = []
    current_cursor = ""
    cursor = after
    while True:
        batch = await keyset_page(session, statement, keys=KEYS, descending=True,
                                  first=SCAN_BATCH, after=cursor)
        for row, row_cursor in batch.items:
            if current and _continues(current, row):
                current.append(row)
                current_cursor = row_cursor
                continue
            if current:
                entries.append((AuditLogEntry(tuple(current)), current_cursor))
            if len(entries) == size:  # a further entry starts here
                return Page(items=entries, has_next_page=True)
            current, current_cursor = [row], row_cursor
        if not batch.has_next_page:
            break
        cursor = batch.end_cursor
    if current:
        entries.append((AuditLogEntry(tuple(current)), current_cursor))
    return Page(items=entries, has_next_page=False)


async def list_audit_actors(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> list[str]:
    """Everyone with an entry in the account's log, for its filter (API tokens folded into
    their owner). One DISTINCT over the account's entries: an audit log grows by admin
    changes and support reads, thousands of rows, not millions."""
    authorizer().require(actor, account_id, AuthzObject.AUDIT_LOG, AuthzAction.READ)
    labels = (await session.exec(
        select(AuditEntryRow.actor).where(AuditEntryRow.account_id == account_id).distinct()
    )).all()
    return sorted({label.removesuffix(TOKEN_SUFFIX) for label in labels})


async def user_names(
    session: AsyncSession, account_id: uuid.UUID, addresses: set[str], ids: set[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The account's users named by address or id, in one query: (address → name,
    id → address). Names missing, the address stands for the user."""
    user_ids = [parsed for parsed in (_uuid(text) for text in ids) if parsed is not None]
    if not addresses and not user_ids:
        return {}, {}
    rows = (await session.exec(select(UserRow).where(
        UserRow.account_id == account_id,
        or_(col(UserRow.email).in_(sorted(addresses)), col(UserRow.id).in_(user_ids)),
    ))).all()
    return ({row.email.lower(): row.name or row.email for row in rows},
            {str(row.id): row.email for row in rows})


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
