"""Issue 12, defect 9: with the database locked *and* the spool unwritable, hits are still
answered (API.md: the pixel and the redirect never fail), but none is acknowledged as
stored: each is counted in ``sendtrail_hits_dropped_total``, the drop is logged once per
interval (not once per hit) and ``/readyz`` answers 503 with the reason until the fault
clears. Afterwards stored + dropped = sent: nothing acknowledged as stored was lost.

The faults are real: another connection holds the database's write lock (SQLite: an
EXCLUSIVE transaction; PostgreSQL: ACCESS EXCLUSIVE on the raw-hit table the hot path
writes to), and the spool
directory is replaced by a regular file, which refuses writes even to root (tests may run
as root, where ``chmod 0500`` stops nothing).
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from support import give_admin_a_paid_seat, gql, link_paths, pixel_path, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.db.engine import create_sync_engine
from sendtrail.settings import MetricsSettings, Settings

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0"
PIXELS, CLICKS = 30, 10


@contextmanager
def database_locked(database_url: str) -> Iterator[None]:
    """Another connection holds the write lock that storing a hit needs."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    server = make_url(database_url)
    with psycopg.connect(host=server.host, port=server.port or 5432, user=server.username,
                         password=server.password, dbname=server.database) as holder:
        holder.execute("LOCK TABLE raw_hit IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            holder.rollback()


@contextmanager
def spool_unwritable(spool_dir: Path) -> Iterator[None]:
    """The spool directory is a regular file: no one, not even root, can append under it."""
    shutil.rmtree(spool_dir)
    spool_dir.write_text("in the way\n")
    try:
        yield
    finally:
        spool_dir.unlink()
        spool_dir.mkdir()


METRICS_TOKEN = "double-fault-metrics-token"


def _dropped_total(client: TestClient[Any]) -> float:
    scrape = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    match = re.search(r"^sendtrail_hits_dropped_total (\S+)$", scrape.text,
                      re.MULTILINE)
    assert match, "the dropped-hits counter is missing from /metrics"
    return float(match.group(1))


def _stored(database_url: str, email_id: str) -> int:
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM engagement WHERE email_id = :e"),
                                 {"e": email_id.replace("-", "") if database_url.startswith(
                                     "sqlite") else email_id}).scalar_one()
            return int(count)
    finally:
        engine.dispose()


def _send(client: TestClient[Any], pixel: str, link: str, pixels: int, clicks: int) -> None:
    for _ in range(pixels):
        response = client.get(pixel, headers={"User-Agent": FIREFOX})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/gif"
    for _ in range(clicks):
        response = client.get(link, headers={"User-Agent": FIREFOX}, follow_redirects=False)
        assert response.status_code == 302, response.text
        assert response.headers["location"] == "https://shop.test/pricing"


def _wait_ready(client: TestClient[Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_hits_neither_stored_nor_spooled_are_answered_counted_and_fail_readiness(
    settings: Settings, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = run(seed_tenant(database_url, "Fault"))
    # The test client is no loopback peer: it scrapes /metrics as a monitor would, with
    # the token (issue 12, defect 7).
    settings = replace(settings, metrics=MetricsSettings(token=METRICS_TOKEN))
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        give_admin_a_paid_seat(client, database_url, tenant)  # clicks are tracked (R3)
        body = gql(client, PREPARE, {"i": {
            "subject": "Fault", "deliveryMode": "PER_RECIPIENT",
            "html": '<p>Hi <a href="https://shop.test/pricing">pricing</a></p>',
            "recipients": [{"address": "ann@client.test"}],
        }}, token=tenant.admin_token)
        assert body.get("errors") is None, body
        email_id = body["data"]["prepareEmail"]["email"]["id"]
        html = body["data"]["prepareEmail"]["messages"][0]["html"]
        pixel, (link,) = pixel_path(html), link_paths(html)
        assert client.get("/readyz").status_code == 200
        dropped_before = _dropped_total(client)

        caplog.set_level(logging.WARNING)
        with database_locked(database_url), spool_unwritable(settings.data_dir / "spool"):
            _send(client, pixel, link, PIXELS, CLICKS)  # still answered, every one
            dropped = _dropped_total(client) - dropped_before
            ready = client.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["status"] == "unavailable"
            assert "spool" in ready.json()["tracking"]
            assert "database" in ready.json()["tracking"]
        assert dropped == PIXELS + CLICKS  # nothing could be stored during the fault
        # Loud once per interval, not once per hit.
        drops = [r for r in caplog.records if r.getMessage().startswith("DROPPED")]
        assert len(drops) == 1, [r.getMessage() for r in caplog.records]
        assert not [r for r in caplog.records if r.name == "sendtrail.tracking"]

        recovered = _wait_ready(client)  # the fault cleared: hits go somewhere again
        assert recovered.status_code == 200, recovered.text
        _send(client, pixel, link, 3, 2)
        assert _dropped_total(client) - dropped_before == dropped
    sent = PIXELS + CLICKS + 5
    assert _stored(database_url, email_id) + dropped == sent
    assert _stored(database_url, email_id) == 5
