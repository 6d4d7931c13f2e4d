"""Durable ingestion with the database down: hits go to the spool before ``submit`` returns,
and a replay moves them into the database exactly once, whatever a crash left behind."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from support import gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.settings import Settings
from sendtrail.tracking.core.model import TokenClaims
from sendtrail.tracking.core.tokens import TokenKeys, verify
from sendtrail.tracking.deriver import Deriver
from sendtrail.tracking.hits import RawHit
from sendtrail.tracking.ingest import Ingestor
from sendtrail.tracking.signals import load_signals
from sendtrail.tracking.stream import EngagementStream, LocalFanout

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
N = 40


@pytest.fixture
def claims(settings: Settings) -> TokenClaims:
    """The open-pixel claims of a real tracked email (hits for unknown emails are dropped)."""
    tenant = run(seed_tenant(settings.database.url, "Spool"))
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        body = gql(client, PREPARE, {"i": {
            "subject": "Spool", "html": "<p>hi</p>", "deliveryMode": "PER_RECIPIENT",
            "recipients": [{"address": "x@client.test"}],
        }}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    match = re.search(r"/o/([^\"/]+)\.gif", body["data"]["prepareEmail"]["messages"][0]["html"])
    assert match, body
    return verify(match.group(1), TokenKeys.derive(settings.secrets.keys))


def _unreachable(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-dir' / 'gone.db'}"
    return "postgresql://postgres@127.0.0.1:1/nope"  # nothing listens on port 1


def _ingestor(url: str, spool_dir: Path) -> tuple[Ingestor, Database]:
    """An ingestor that derives what it stores (or replays) before it returns."""
    database = Database(url)
    deriver = Deriver(database.engine, signals=load_signals(),
                      sinks=[LocalFanout(EngagementStream())])
    return Ingestor(database.engine, spool_dir=spool_dir, deriver=deriver, run_deriver=False,
                    answer_after_derivation=True, transaction_timeout=3.0), database


def _hits(claims: TokenClaims, prefix: str, count: int) -> list[RawHit]:
    return [
        RawHit(event_id=uuid.uuid4(), claims=claims, method="GET", at=datetime.now(UTC),
               ip="203.0.113.7", user_agent=f"{prefix}-{n}")
        for n in range(count)
    ]


def _stored(database_url: str, prefix: str) -> Counter[str]:
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_agent FROM engagement WHERE user_agent LIKE :p"),
                                {"p": f"{prefix}-%"})
            return Counter(row.user_agent for row in rows)
    finally:
        engine.dispose()


async def _spool_while_down(url: str, spool_dir: Path, hits: list[RawHit]) -> None:
    """Submit ``hits`` through an ingestor whose database is unreachable."""
    ingestor, database = _ingestor(url, spool_dir)
    await ingestor.start()
    try:
        async with asyncio.timeout(30):  # every submit returns: spooled, not lost
            await asyncio.gather(*(ingestor.submit(hit) for hit in hits))
    finally:
        await ingestor.stop()
        await database.dispose()


async def _replay(database_url: str, spool_dir: Path) -> int:
    ingestor, database = _ingestor(database_url, spool_dir)
    try:
        return await ingestor.replay_spool()
    finally:
        await database.dispose()


async def test_hits_spooled_while_down_are_replayed_exactly_once(
    database_url: str, claims: TokenClaims, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "ingest-spool"
    hits = _hits(claims, "down", N)
    await _spool_while_down(_unreachable(database_url, tmp_path), spool_dir, hits)

    spool = spool_dir / "hits.spool"
    content = spool.read_bytes()
    spooled = [RawHit.from_json(line) for line in content.decode().splitlines()]
    assert sorted(h.user_agent for h in spooled) == sorted(h.user_agent for h in hits)
    assert {h.event_id for h in spooled} == {h.event_id for h in hits}
    assert _stored(database_url, "down") == Counter()

    assert await _replay(database_url, spool_dir) == N
    assert _stored(database_url, "down") == Counter({h.user_agent: 1 for h in hits})
    assert list(spool_dir.iterdir()) == []  # replayed files are removed

    # A crash between the commit and the removal of the spool leaves the same lines behind
    # (as the current spool or as a file already set aside for replay): nothing twice.
    spool.write_bytes(content)
    (spool_dir / "hits.spool.1").write_bytes(content)
    assert await _replay(database_url, spool_dir) == 2 * N
    assert _stored(database_url, "down") == Counter({h.user_agent: 1 for h in hits})
    assert list(spool_dir.iterdir()) == []


async def test_a_truncated_last_line_is_skipped_without_blocking_the_rest(
    database_url: str, claims: TokenClaims, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "ingest-spool"
    spool_dir.mkdir()
    older, torn, newer = _hits(claims, "older", 5), _hits(claims, "torn", 1)[0], \
        _hits(claims, "newer", 5)
    # An older file set aside for replay whose last write was cut short by a crash...
    lines = "".join(h.to_json() + "\n" for h in older) + torn.to_json()[:57]
    (spool_dir / "hits.spool.100").write_text(lines)
    # ...and the current spool written after the restart.
    (spool_dir / "hits.spool").write_text("".join(h.to_json() + "\n" for h in newer))

    assert await _replay(database_url, spool_dir) == 10
    assert _stored(database_url, "older") == Counter({h.user_agent: 1 for h in older})
    assert _stored(database_url, "newer") == Counter({h.user_agent: 1 for h in newer})
    assert _stored(database_url, "torn") == Counter()
    assert list(spool_dir.iterdir()) == []


async def test_hits_spooled_after_a_torn_write_survive(
    database_url: str, claims: TokenClaims, tmp_path: Path
) -> None:
    """A crash cut a spool write short while the database was down; the restarted server
    (database still down) spools and acknowledges new hits: those must not be lost."""
    spool_dir = tmp_path / "ingest-spool"
    spool_dir.mkdir()
    before, torn = _hits(claims, "before", 3), _hits(claims, "torn", 1)[0]
    (spool_dir / "hits.spool").write_text(
        "".join(h.to_json() + "\n" for h in before) + torn.to_json()[:57]
    )
    after = _hits(claims, "after", 3)
    await _spool_while_down(_unreachable(database_url, tmp_path), spool_dir, after)

    await _replay(database_url, spool_dir)
    assert _stored(database_url, "before") == Counter({h.user_agent: 1 for h in before})
    assert _stored(database_url, "torn") == Counter()
    # Every acknowledged hit is stored: none glued onto the torn line and skipped with it.
    assert _stored(database_url, "after") == Counter({h.user_agent: 1 for h in after})
