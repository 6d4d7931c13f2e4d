"""Alembic migrations for every table, run by ``sendtrail migrate`` (SQLite and PostgreSQL).

Lives outside ``db`` because it must see every domain's tables.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from sendtrail.db.engine import sync_url

__all__ = ["alembic_config", "register_all_tables", "upgrade"]


def register_all_tables() -> None:
    """Import every store module so ``SQLModel.metadata`` knows every table."""
    for module in ("contacts", "domains", "notifications", "records", "sending", "tenancy",
                   "tracking"):
        importlib.import_module(f"sendtrail.{module}.store")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("sendtrail.migrations")))
    # '%' is ConfigParser interpolation syntax; URLs with encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Create or upgrade the schema to the newest revision (idempotent)."""
    url = make_url(sync_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")
