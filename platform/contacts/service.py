"""Contacts: created on first sight of an address, read per account."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.addresses import normalize_email
from sendtrail.contacts.store import ContactRow
from sendtrail.db.pagination import Page, keyset_page
from sendtrail.db.search import ESCAPE, contains_pattern
from sendtrail.db.types import utcnow
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal

__all__ = ["contacts_by_id", "ensure_contacts", "list_contacts", "normalise_address"]


def normalise_address(address: str) -> str:
    return address.strip().lower()


async def ensure_contacts(
    session: AsyncSession,
    account_id: uuid.UUID,
    people: Iterable[tuple[str, str | None]],
) -> dict[str, ContactRow]:
    """The contacts for these (address, name) pairs, creating the missing ones.

    Concurrency-safe: an INSERT ... ON CONFLICT DO NOTHING, then one SELECT.
    An address the API would refuse is refused here too (``BAD_USER_INPUT``): whichever way
    it came in, no contact is ever created for it (issue 12, defect 10).
    """
    wanted: dict[str, str | None] = {}
    for address, name in people:
        wanted.setdefault(normalize_email(address), name[:200] if name else None)
    if not wanted:
        return {}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {"account_id": account_id, "id": uuid.uuid4(), "address": address, "name": name,
         "legal_basis": "none", "created_at": utcnow()}
        for address, name in wanted.items()
    ]
    statement = insert(ContactRow).values(rows).on_conflict_do_nothing(
        index_elements=["account_id", "address"]
    )
    await session.exec(statement)
    found = await session.exec(
        select(ContactRow).where(
            ContactRow.account_id == account_id, col(ContactRow.address).in_(list(wanted))
        )
    )
    return {row.address: row for row in found.all()}


async def contacts_by_id(
    session: AsyncSession, account_id: uuid.UUID, contact_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, ContactRow]:
    """The account's contacts among ``contact_ids`` (one statement), for the recipients and
    engagements of a page whose own read was authorized."""
    if not contact_ids:
        return {}
    rows = await session.exec(select(ContactRow).where(
        ContactRow.account_id == account_id, col(ContactRow.id).in_(contact_ids)
    ))
    return {row.id: row for row in rows.all()}


async def list_contacts(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    search: str | None,
    first: int | None,
    after: str | None,
) -> Page[ContactRow]:
    """Contacts by address; ``search`` matches the address or the name (case-insensitive)."""
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.READ)
    statement = select(ContactRow).where(ContactRow.account_id == account_id)
    needle = contains_pattern(search or "")
    if needle is not None:
        statement = statement.where(
            col(ContactRow.address).like(needle, escape=ESCAPE)
            | func.lower(ContactRow.name).like(needle, escape=ESCAPE)
        )
    return await keyset_page(
        session, statement,
        keys=[ContactRow.address, ContactRow.id],  # type: ignore[list-item]
        descending=False, first=first, after=after,
    )
