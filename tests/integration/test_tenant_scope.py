"""The fail-closed tenant guard on ORM sessions (second layer of tenant isolation)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import delete, update
from sqlmodel import select
from support import Tenant, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.db.tenant import unscoped
from sendtrail.errors import TenantScopeMissing
from sendtrail.tenancy.store import UserRow

# Marked at collection, not only by conftest's later hook: otherwise anyio's
# pytest_collection_finish rebuilds each item with just `anyio_backend` and drops the
# `database_url` parametrisation ("The requested fixture has no parameter defined").
pytestmark = pytest.mark.anyio


@asynccontextmanager
async def _database(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


async def _two_tenants(url: str) -> tuple[Tenant, Tenant]:
    return await seed_tenant(url, "Alpha Scope"), await seed_tenant(url, "Bravo Scope")


def _ids(*values: str) -> set[uuid.UUID]:
    return {uuid.UUID(value) for value in values}


async def test_scope_guard_fails_closed_without_an_account(database_url: str) -> None:
    await _two_tenants(database_url)
    async with _database(database_url) as database, database.session(account_id=None) as session:
        with pytest.raises(TenantScopeMissing):
            await session.exec(select(UserRow))


async def test_unscoped_statement_reads_across_accounts(database_url: str) -> None:
    a, b = await _two_tenants(database_url)
    async with _database(database_url) as database, database.session(account_id=None) as session:
        rows = (await session.exec(unscoped(select(UserRow)))).all()
    assert {row.id for row in rows} == _ids(a.admin_id, a.user_id, b.admin_id, b.user_id)


async def test_select_without_where_returns_only_the_sessions_account(database_url: str) -> None:
    a, b = await _two_tenants(database_url)
    async with _database(database_url) as database, \
            database.session(account_id=uuid.UUID(a.account_id)) as session:
        rows = (await session.exec(select(UserRow))).all()
        assert {row.id for row in rows} == _ids(a.admin_id, a.user_id)
        by_id = select(UserRow).where(UserRow.id == uuid.UUID(b.user_id))
        assert (await session.exec(by_id)).first() is None
        by_account = select(UserRow).where(UserRow.account_id == uuid.UUID(b.account_id))
        assert (await session.exec(by_account)).first() is None


async def test_orm_update_and_delete_leave_other_accounts_rows_alone(database_url: str) -> None:
    a, b = await _two_tenants(database_url)
    async with _database(database_url) as database:
        async with database.session(account_id=uuid.UUID(a.account_id)) as session:
            await session.exec(update(UserRow).values(name="Renamed"))
            await session.exec(
                update(UserRow)
                .where(UserRow.id == uuid.UUID(b.admin_id))
                .values(active=False)
            )
            await session.exec(
                delete(UserRow).where(UserRow.id == uuid.UUID(b.user_id))
            )
            await session.commit()
        async with database.session(account_id=None) as session:
            rows = (await session.exec(unscoped(select(UserRow)))).all()
    by_id = {str(row.id): row for row in rows}
    assert set(by_id) == {a.admin_id, a.user_id, b.admin_id, b.user_id}
    assert {by_id[a.admin_id].name, by_id[a.user_id].name} == {"Renamed"}
    assert by_id[b.admin_id].name != "Renamed"
    assert by_id[b.admin_id].active is True
    assert by_id[b.user_id].name == "Uma User"


async def test_adding_a_row_of_another_account_is_refused_on_flush(database_url: str) -> None:
    a, b = await _two_tenants(database_url)
    async with _database(database_url) as database:
        async with database.session(account_id=uuid.UUID(a.account_id)) as session:
            session.add(UserRow(account_id=uuid.UUID(b.account_id), email="intruder@bravo.test",
                                role="USER", seat="FREE"))
            with pytest.raises(TenantScopeMissing):
                await session.flush()
            await session.rollback()
        async with database.session(account_id=None) as session:
            emails = (await session.exec(unscoped(select(UserRow.email)))).all()
    assert "intruder@bravo.test" not in emails


async def test_changing_a_row_of_another_account_is_refused_on_flush(database_url: str) -> None:
    a, b = await _two_tenants(database_url)
    async with _database(database_url) as database:
        async with database.session(account_id=uuid.UUID(a.account_id)) as session:
            # Loaded deliberately across tenants (unscoped), then written: still refused.
            statement = unscoped(select(UserRow).where(UserRow.id == uuid.UUID(b.user_id)))
            row = (await session.exec(statement)).one()
            row.name = "Hijacked"
            with pytest.raises(TenantScopeMissing):
                await session.flush()
            await session.rollback()
        async with database.session(account_id=uuid.UUID(b.account_id)) as session:
            again = (await session.exec(select(UserRow).where(
                UserRow.id == uuid.UUID(b.user_id)))).one()
    assert again.name == "Uma User"
