"""Load for end-to-end ingestion tests (import as `e2e.hitload`): threads sending pixel
requests with a unique User-Agent each, and the checks that every acknowledged hit is stored
exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from e2e.processes import SENDTRAIL, Server
from sqlalchemy import text

from sendtrail.db.engine import create_sync_engine

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) { messages { html } } }"""


@dataclass
class Load:
    """Worker threads sending pixel requests, each with a unique User-Agent."""

    url: str
    prefix: str = field(default_factory=lambda: f"load-{uuid.uuid4().hex[:10]}")
    results: list[tuple[str, float, float, int | None, str]] = field(default_factory=list)
    """(user agent, started, seconds, status or None on a socket error, content type)"""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, workers: int) -> None:
        self._threads = [threading.Thread(target=self._work, args=(n,), daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def acknowledged(self) -> set[str]:
        return {ua for ua, _, _, status, _ in self.results if status == 200}

    def _work(self, worker: int) -> None:
        timeout = httpx.Timeout(20, connect=2)
        with httpx.Client(timeout=timeout) as client:
            for n in range(1_000_000):
                if self._stop.is_set():
                    return
                agent, started = f"{self.prefix}-{worker}-{n}", time.monotonic()
                try:
                    answer = client.get(self.url, headers={"User-Agent": agent})
                except httpx.TransportError:
                    self.results.append((agent, started, time.monotonic() - started, None, ""))
                    time.sleep(0.05)
                    continue
                self.results.append((agent, started, time.monotonic() - started,
                                     answer.status_code, answer.headers.get("content-type", "")))
                time.sleep(0.005)


def stored(database_url: str, prefix: str) -> Counter[str]:
    """How many engagements each user agent starting with ``prefix`` has (either backend)."""
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_agent, count(*) FROM engagement "
                                     "WHERE user_agent LIKE :p GROUP BY user_agent"),
                                {"p": f"{prefix}-%"})
            return Counter({agent: count for agent, count in rows})
    finally:
        engine.dispose()


def raw_waiting(database_url: str, prefix: str) -> int:
    """Raw hits of ``prefix`` still waiting for a deriver."""
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM raw_hit WHERE hit LIKE :p"),
                                    {"p": f'%"ua":"{prefix}-%'}).scalar_one())
    finally:
        engine.dispose()


def await_stored(database_url: str, load: Load, seconds: float) -> Counter[str]:
    """Wait until every acknowledged hit is in the database; return what is stored."""
    deadline, wanted = time.monotonic() + seconds, load.acknowledged()
    while True:
        found = stored(database_url, load.prefix)
        if wanted <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def spool_report(spool_dir: Path, agents: set[str]) -> str:
    """Where the spool stands, and how many of ``agents`` it still holds."""
    files = sorted(spool_dir.glob("hits.spool*"))
    text = "".join(path.read_text(errors="replace") for path in files)
    held = sum(f'"ua":"{agent}"' in text for agent in agents)
    return f"spool files {[p.name for p in files]} hold {held} of them"


def assert_exactly_once(stored: Counter[str], acknowledged: set[str], spool_dir: Path) -> None:
    missing = acknowledged - set(stored)
    twice = {agent: count for agent, count in stored.items() if count != 1}
    assert not missing, (f"{len(missing)} acknowledged hits never stored, e.g. "
                         f"{sorted(missing)[:3]}; {spool_report(spool_dir, missing)}")
    assert not twice, f"hits stored more than once: {dict(list(twice.items())[:5])}"


def serve_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "SENDTRAIL_DATABASE_URL": database_url, "PYTHONSAFEPATH": "1",
            "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SMTP_PORT": "0"}


def demo_token(env: dict[str, str]) -> str:
    subprocess.run([SENDTRAIL, "migrate"], env=env, check=True, capture_output=True)
    demo = subprocess.run([SENDTRAIL, "demo"], env=env, check=True, capture_output=True,
                          text=True)
    (token,) = [line.split(": ", 1)[1] for line in demo.stdout.splitlines()
                if line.startswith("token: ")]
    return token


def pixel_url(server: Server, token: str) -> str:
    answer = httpx.post(f"{server.base_url}/graphql", timeout=30, headers={
        "Authorization": f"Bearer {token}"}, json={"query": PREPARE, "variables": {"i": {
            "subject": "Load", "html": "<p>hi</p>", "deliveryMode": "PER_RECIPIENT",
            "recipients": [{"address": "x@client.test"}]}}})
    html = answer.json()["data"]["prepareEmail"]["messages"][0]["html"]
    match = re.search(r'src="https?://[^/"]+(/o/[^"]+\.gif)"', html)
    assert match, html
    return server.base_url + match.group(1)
