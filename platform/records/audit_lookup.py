"""The names behind the ids an audit log page mentions: users, contacts, emails (tracked
or logged), attachments, each kind looked up in one query for the whole page.

Here rather than in ``tenancy``: contacts and emails live in layers above it. Only the
inspected account's rows are read, so an id of another account resolves to nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.store import ContactRow
from sendtrail.records.store import AttachmentRow, LoggedEmailRow
from sendtrail.tenancy.audit_log import user_names
from sendtrail.tenancy.audit_wording import Names, ReadRefs
from sendtrail.tracking.store import TrackedEmailRow

__all__ = ["audit_names"]


def _ids(texts: Iterable[str]) -> list[uuid.UUID]:
    parsed = []
    for text in texts:
        try:
            parsed.append(uuid.UUID(text))
        except ValueError:
            continue
    return sorted(parsed)


async def audit_names(session: AsyncSession, account_id: uuid.UUID, refs: ReadRefs) -> Names:
    users, user_ids = await user_names(session, account_id, refs.user_addresses, refs.user_ids)
    contacts: dict[str, str] = {}
    if wanted := _ids(refs.contact_ids):
        contacts = {str(row_id): address for row_id, address in (await session.exec(
            select(ContactRow.id, ContactRow.address).where(
                ContactRow.account_id == account_id, col(ContactRow.id).in_(wanted)))).all()}
    emails: dict[str, str] = {}
    if wanted := _ids(refs.email_ids):
        for table in (TrackedEmailRow, LoggedEmailRow):
            emails.update({str(row_id): subject for row_id, subject in (await session.exec(
                select(table.id, table.subject).where(
                    table.account_id == account_id,
                    col(table.id).in_(wanted)))).all()})
    attachments: dict[str, str] = {}
    if wanted := _ids(refs.attachment_ids):
        attachments = {str(row_id): name for row_id, name in (await session.exec(
            select(AttachmentRow.id, AttachmentRow.filename).where(
                AttachmentRow.account_id == account_id,
                col(AttachmentRow.id).in_(wanted)))).all()}
    return Names(users=users, user_ids=user_ids, contacts=contacts, emails=emails,
                 attachments=attachments)
