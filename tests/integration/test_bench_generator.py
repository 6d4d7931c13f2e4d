"""The read benchmark's account generator (bench/read_seed.py, bench/read_data.py) still makes
what docs/performance.md says it makes, on both backends: a tiny account here, a million
engagements in `make bench`. It breaks when the tracking path or the schema moves on
without it, so this finds out before a long benchmark run does."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from sendtrail.db.engine import create_sync_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from read_data import grow
from read_seed import seed

pytestmark = pytest.mark.storage


async def test_generated_account_has_the_asked_sizes_real_verdicts_and_consistent_rows(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(14)  # noqa: S311 -- made-up data
    account = await seed(database_url, tmp_path, emails=2, contacts=300, rng=rng)
    account = grow(database_url, account, emails=12, engagements=1_500, contacts=300, rng=rng)

    assert account.engagements == 1_500
    assert account.seeded > 0
    engine = create_sync_engine(database_url)
    with engine.connect() as conn:
        def one(sql: str) -> object:
            return conn.execute(text(sql)).scalar_one()

        assert one("SELECT count(*) FROM tracked_email WHERE subject LIKE 'Bench %'") == 10
        assert one("SELECT count(DISTINCT verdict) FROM engagement") >= 2  # humans and machines
        assert one("SELECT count(*) FROM engagement WHERE inferred") > 0  # R7
        # Every engagement of a recipient names that recipient's contact.
        assert one(
            "SELECT count(*) FROM engagement e JOIN email_recipient r ON r.account_id = "
            "e.account_id AND r.email_id = e.email_id AND r.idx = e.recipient_idx "
            "WHERE e.contact_id IS NOT NULL AND e.contact_id <> r.contact_id") == 0
        if "first_human_open_at" in {c["name"] for c in inspect(conn).get_columns(
                "email_recipient")}:  # kept by the deriver: the copies must have it too
            assert one(
                "SELECT count(*) FROM email_recipient r WHERE r.first_human_open_at IS NULL "
                "AND EXISTS (SELECT 1 FROM engagement e WHERE e.account_id = r.account_id "
                "AND e.email_id = r.email_id AND e.recipient_idx = r.idx AND e.type = 'open' "
                "AND e.verdict = 'human' AND NOT e.sender_copy)") == 0
        latest = conn.execute(text("SELECT max(occurred_at) FROM engagement")).scalar_one()
    engine.dispose()
    if isinstance(latest, str):  # SQLite through text(): no type to convert it with
        latest = datetime.fromisoformat(latest)
    assert latest.replace(tzinfo=latest.tzinfo or UTC) <= datetime.now(UTC)
    assert account.rollups in (None, account.engagements)
