"""The baseline for ``make bench``: a bare ASGI app doing the minimum durable work.

Per request: verify the token with sendtrail's own ``verify`` and keys, queue one row for
an engagement-shaped table (``bench_hit``: the same columns and indexes as ``engagement``)
and answer once the row's transaction has committed. The writer commits whatever is
queued (up to 256 rows, one executemany INSERT: a cached statement, which SQLAlchemy
sends as multi-row VALUES on PostgreSQL) whenever it is free, like sendtrail's
ingestor, but without the context SELECTs, classification, RETURNING or contact updates.
Same settings (SENDTRAIL_DATABASE_URL, SENDTRAIL_DATA_DIR), same engine and drivers.

Run: ``uvicorn --app-dir bench baseline_app:app --host 127.0.0.1 --port N``.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
)

from sendtrail.db.engine import Database
from sendtrail.settings import Settings
from sendtrail.tracking.core.model import HitKind
from sendtrail.tracking.core.tokens import InvalidToken, TokenKeys, verify

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
MAX_BATCH = 256
METADATA = MetaData()
HITS = Table(
    "bench_hit", METADATA,
    Column("account_id", Uuid, primary_key=True), Column("id", Uuid, primary_key=True),
    Column("email_id", Uuid, nullable=False), Column("sender_id", Uuid, nullable=False),
    Column("recipient_idx", Integer), Column("contact_id", Uuid),
    Column("type", String(8), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("verdict", String(8), nullable=False), Column("category", String(40), nullable=False),
    Column("reasons", JSON, nullable=False), Column("ruleset", String(40), nullable=False),
    Column("attribution", String(16), nullable=False),
    Column("counts_in_reports", Boolean, nullable=False),
    Column("inferred", Boolean, nullable=False), Column("inferred_from", String(8)),
    Column("link_idx", Integer), Column("sender_copy", Boolean, nullable=False),
    Column("ip", String(64)), Column("user_agent", String(1000)),
    Index("ix_bench_hit_account_email", "account_id", "email_id", "occurred_at"),
    Index("ix_bench_hit_account_time", "account_id", "occurred_at", "id"),
    Index("ix_bench_hit_account_contact", "account_id", "contact_id", "occurred_at"),
)


class Baseline:
    def __init__(self) -> None:
        self.keys = TokenKeys.derive(["replaced at start-up by the configured keys" * 2])
        self.queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = (
            asyncio.Queue(10_000))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        path: str = scope["path"]
        kind = HitKind.OPEN if path.startswith("/o/") else HitKind.CLICK
        token = path[3:].removesuffix(".gif")
        try:
            claims = verify(token, self.keys)
        except InvalidToken:
            claims = None
        if claims is not None and claims.kind is kind:
            headers = dict(scope["headers"])
            future = asyncio.get_running_loop().create_future()
            await self.queue.put(({
                "account_id": claims.account_id, "id": uuid.uuid4(),
                "email_id": claims.email_id, "sender_id": claims.account_id,
                "recipient_idx": claims.recipient, "contact_id": None, "type": kind.value,
                "occurred_at": datetime.now(UTC), "verdict": "human", "category": "bench",
                "reasons": [], "ruleset": "bench", "attribution": "recipient",
                "counts_in_reports": True, "inferred": False, "inferred_from": None,
                "link_idx": claims.link, "sender_copy": claims.sender_copy,
                "ip": scope["client"][0], "user_agent": headers.get(b"user-agent", b"").decode(),
            }, future))
            await future
        if kind is HitKind.OPEN:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/gif"), (b"content-length", b"%d" % len(PIXEL_GIF)),
                (b"cache-control", b"no-store")]})
            await send({"type": "http.response.body", "body": PIXEL_GIF})
        elif claims is not None and claims.url:
            await send({"type": "http.response.start", "status": 302, "headers": [
                (b"location", claims.url.encode()), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    async def lifespan(self, receive: Any, send: Any) -> None:
        await receive()  # lifespan.startup
        settings = Settings.from_env()
        self.keys = TokenKeys.derive(settings.secrets.keys)
        database = Database(settings.database.url)
        async with database.engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        writer = asyncio.create_task(self.write_forever(database))
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        writer.cancel()
        await database.dispose()
        await send({"type": "lifespan.shutdown.complete"})

    async def write_forever(self, database: Database) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                async with database.engine.begin() as conn:
                    await conn.execute(insert(HITS), [row for row, _ in batch])
            except Exception as error:  # fail the callers, keep writing
                for _, future in batch:
                    future.set_exception(error)
            else:
                for _, future in batch:
                    future.set_result(None)


app = Baseline()
