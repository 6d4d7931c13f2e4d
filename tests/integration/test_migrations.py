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


def test_engagements_stored_before_0019_get_their_network(database_url: str) -> None:
    """Migration 0019 works out each existing engagement's network (R8's hints compare
    networks in SQL since), with the same function new hits go through."""
    import uuid  # noqa: PLC0415
    from datetime import UTC, datetime  # noqa: PLC0415

    from sqlalchemy import MetaData, Table  # noqa: PLC0415
    from support import run, seed_tenant  # noqa: PLC0415

    account_id = uuid.UUID(run(seed_tenant(database_url, "Before 0019", seats={})).account_id)
    config = alembic_config(database_url)
    command.downgrade(config, "0018")
    engine = create_sync_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"

    def key(value: uuid.UUID) -> object:
        return value.hex if sqlite else value  # how each backend's uuid column was created

    addresses = {"203.0.113.9": "203.0.113.0/24", "2001:db8:1:2::5": "2001:db8:1::/48",
                 "": None, None: None}
    ids = {address: uuid.uuid4() for address in addresses}
    with engine.begin() as conn:
        engagement = Table("engagement", MetaData(), autoload_with=conn)
        conn.execute(engagement.insert(), [{
            "account_id": key(account_id), "id": key(ids[address]),
            "email_id": key(uuid.uuid4()), "sender_id": key(uuid.uuid4()), "type": "open",
            "occurred_at": datetime.now(UTC).replace(tzinfo=None), "verdict": "human",
            "category": "human", "reasons": [], "ruleset": "test", "attribution": "recipient",
            "counts_in_reports": True, "inferred": False, "sender_copy": False, "ip": address,
        } for address in addresses])
    command.upgrade(config, "head")
    with engine.connect() as conn:
        engagement = Table("engagement", MetaData(), autoload_with=conn)
        found = {row.id: row.network for row in conn.execute(
            engagement.select().where(engagement.c.account_id == key(account_id)))}
    engine.dispose()
    assert {address: found[key(ids[address])] for address in addresses} == addresses
