"""Alembic migrations: the same schema on SQLite (WAL) and PostgreSQL, idempotent, reversible."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import sendtrail.contacts.store
import sendtrail.tenancy.store
import sendtrail.tracking.store  # noqa: F401  (these put their tables on the metadata)
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.db.tenant import TenantOwned
from sendtrail.migrations import alembic_config, upgrade
from sendtrail.settings import Settings


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_sync_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration: add one under versions/"


def test_migrate_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    engine = create_sync_engine(database_url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert version is not None


def test_downgrade_to_nothing_and_back(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = create_sync_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"account", "app_user", "login", "api_token", "audit_entry"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


# Authentication finds the tenant from the credential, so its lookup key is global; the
# webhook dispatcher, the delivery worker and the domain worker scan across tenants for due
# work; a hostname
# belongs to one account only.
GLOBAL_LOOKUPS = {
    ("api_token", ("token_hash",)),
    ("invitation", ("token_hash",)),  # an invitation link names no account either
    ("webhook_message", ("status", "next_attempt_at")),
    ("delivery", ("status", "next_attempt_at")),
    ("tracking_domain", ("hostname",)),
    ("tracking_domain", ("next_check_at",)),
}


def test_tenant_owned_tables_lead_their_keys_with_account_id(database_url: str) -> None:
    engine = create_sync_engine(database_url)
    inspector = inspect(engine)
    tenant_tables = sorted(
        mapper.class_.__tablename__
        for mapper in SQLModel._sa_registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )
    assert {"app_user", "audit_entry", "engagement", "contact"} <= set(tenant_tables)
    for table in tenant_tables:
        primary_key = inspector.get_pk_constraint(table)["constrained_columns"]
        assert primary_key[0] == "account_id", table
        keys = [*inspector.get_indexes(table), *inspector.get_unique_constraints(table)]
        for key in keys:
            columns = tuple(key["column_names"])
            if (table, columns) not in GLOBAL_LOOKUPS:
                assert columns[0] == "account_id", (table, key)
    engine.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade(url)
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await database.dispose()
    assert mode == "wal"
    assert keys == 1


def test_default_database_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"SENDTRAIL_DATA_DIR": str(tmp_path / "data")})
    assert settings.database.url == f"sqlite:///{tmp_path / 'data' / 'sendtrail.db'}"
    upgrade(settings.database.url)
    assert (tmp_path / "data" / "sendtrail.db").exists()
    assert (tmp_path / "data" / "secret_keys").stat().st_mode & 0o077 == 0
