"""Engines and sessions for SQLite (embedded, WAL) and PostgreSQL, from one settings URL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.errors import InvalidInput

__all__ = ["Database", "async_url", "sync_url"]


def _driver_url(url: str, *, sqlite_driver: str, pg_driver: str) -> str:
    try:
        parsed = make_url(url)
    except Exception:
        raise InvalidInput(f"SENDTRAIL_DATABASE_URL is not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername=f"sqlite+{sqlite_driver}" if sqlite_driver else "sqlite")\
            .render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername=f"postgresql+{pg_driver}").render_as_string(
            hide_password=False
        )
    raise InvalidInput(
        f"SENDTRAIL_DATABASE_URL must be sqlite:///... or postgresql://..., not {backend!r}"
    )


def async_url(url: str) -> str:
    """The URL with the asyncio driver of its backend (aiosqlite / psycopg 3)."""
    return _driver_url(url, sqlite_driver="aiosqlite", pg_driver="psycopg")


def sync_url(url: str) -> str:
    """The URL with the blocking driver of its backend (sqlite3 / psycopg 3)."""
    return _driver_url(url, sqlite_driver="", pg_driver="psycopg")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; busy_timeout makes writers queue, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """The application's async engine and session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(async_url(url), pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, account_id: uuid.UUID | None) -> AsyncSession:
        """A session whose ORM reads of tenant-owned tables are confined to ``account_id``.

        ``account_id=None`` gives a session that refuses every tenant-owned read unless the
        statement is wrapped in ``unscoped()`` — fail closed, never open.
        """
        session = self._sessions()
        session.info["account_id"] = account_id
        return session

    async def dispose(self) -> None:
        await self.engine.dispose()
