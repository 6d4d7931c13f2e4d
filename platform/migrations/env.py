"""Alembic environment: online migrations only, batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from sendtrail.db.engine import create_sync_engine
from sendtrail.migrations import register_all_tables

register_all_tables()
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic_config() sets sqlalchemy.url; call migrations through it")
    engine = create_sync_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
