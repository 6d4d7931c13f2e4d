"""Every acknowledged pixel hit is stored exactly once: with the database gone under load,
and with the server SIGKILLed under load (real `sendtrail serve` processes, PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from e2e.processes import SENDTRAIL, Server, _free_port
from sqlalchemy.engine import make_url

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) { messages { html } } }"""


class Proxy:
    """A TCP forwarder on a loopback port; ``down()`` plays a database that went away."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.port = upstream, _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self.up()

    def _call(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def up(self) -> None:
        self._call(self._listen())

    def down(self) -> None:
        """Stop listening (connects are refused) and reset every live connection."""
        self._call(self._shut())

    def close(self) -> None:
        self.down()
        self._call(_cancel_other_tasks())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, upstream_writer.transport}
        if self._server is None:  # went down while connecting
            for transport in pair:
                transport.abort()
            return
        self._transports |= pair
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer),
                             return_exceptions=True)
        self._transports -= pair


async def _cancel_other_tasks() -> None:
    tasks = asyncio.all_tasks() - {asyncio.current_task()}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.transport.abort()


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


def _stored(database_url: str, prefix: str) -> Counter[str]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT user_agent, count(*) FROM engagement "
                            "WHERE user_agent LIKE %s GROUP BY user_agent", (f"{prefix}-%",))
        return Counter({agent: count for agent, count in rows})


def _await_stored(database_url: str, load: Load, seconds: float) -> Counter[str]:
    """Wait until every acknowledged hit is in the database; return what is stored."""
    deadline, wanted = time.monotonic() + seconds, load.acknowledged()
    while True:
        stored = _stored(database_url, load.prefix)
        if wanted <= set(stored) or time.monotonic() > deadline:
            return stored
        time.sleep(0.5)


def _spool_report(spool_dir: Path, agents: set[str]) -> str:
    """Where the spool stands, and how many of ``agents`` it still holds."""
    files = sorted(spool_dir.glob("hits.spool*"))
    text = "".join(path.read_text(errors="replace") for path in files)
    held = sum(f'"ua":"{agent}"' in text for agent in agents)
    return f"spool files {[p.name for p in files]} hold {held} of them"


def _assert_exactly_once(stored: Counter[str], acknowledged: set[str], spool_dir: Path) -> None:
    missing = acknowledged - set(stored)
    twice = {agent: count for agent, count in stored.items() if count != 1}
    assert not missing, (f"{len(missing)} acknowledged hits never stored, e.g. "
                         f"{sorted(missing)[:3]}; {_spool_report(spool_dir, missing)}")
    assert not twice, f"hits stored more than once: {dict(list(twice.items())[:5])}"


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "SENDTRAIL_DATABASE_URL": database_url, "PYTHONSAFEPATH": "1",
            "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SMTP_PORT": "0"}


def _demo_token(env: dict[str, str]) -> str:
    subprocess.run([SENDTRAIL, "migrate"], env=env, check=True, capture_output=True)
    demo = subprocess.run([SENDTRAIL, "demo"], env=env, check=True, capture_output=True,
                          text=True)
    (token,) = [line.split(": ", 1)[1] for line in demo.stdout.splitlines()
                if line.startswith("token: ")]
    return token


def _pixel_url(server: Server, token: str) -> str:
    answer = httpx.post(f"{server.base_url}/graphql", timeout=30, headers={
        "Authorization": f"Bearer {token}"}, json={"query": PREPARE, "variables": {"i": {
            "subject": "Load", "html": "<p>hi</p>", "deliveryMode": "PER_RECIPIENT",
            "recipients": [{"address": "x@client.test"}]}}})
    html = answer.json()["data"]["prepareEmail"]["messages"][0]["html"]
    match = re.search(r'src="https?://[^/"]+(/o/[^"]+\.gif)"', html)
    assert match, html
    return server.base_url + match.group(1)



def test_every_hit_is_acknowledged_and_stored_once_across_a_database_outage(
    postgres_url: str, tmp_path: Path, stopped: list[Server]
) -> None:
    direct = make_url(postgres_url)
    proxy = Proxy((direct.host or "127.0.0.1", direct.port or 5432))
    try:
        token = _demo_token(_env(postgres_url, tmp_path))
        proxied = direct.set(port=proxy.port).render_as_string(hide_password=False)
        server = Server(_env(proxied, tmp_path))
        stopped.append(server)
        server.start()
        load = Load(_pixel_url(server, token))
        load.start(workers=32)
        time.sleep(2)
        down_at = time.monotonic()
        proxy.down()
        time.sleep(4)
        up_at = time.monotonic()
        proxy.up()
        time.sleep(1.5)
        load.stop()

        results = load.results
        during = [r for r in results if down_at <= r[1] < up_at]
        assert len(during) >= 32, "the load must go on while the database is down"
        failed = [r for r in results if r[3] != 200 or r[4] != "image/gif"]
        assert not failed, f"{len(failed)} of {len(results)} not answered: {failed[:5]}"
        slowest = max(seconds for _, _, seconds, _, _ in results)
        assert slowest < 8, f"a pixel took {slowest:.1f} s"

        stored = _await_stored(postgres_url, load, seconds=20)
        _assert_exactly_once(stored, load.acknowledged(), tmp_path / "spool")
        assert set(stored) == load.acknowledged()  # every request here was acknowledged
        spooled = re.search(r"^sendtrail_spooled_hits_total (\S+)$",
                            httpx.get(f"{server.base_url}/metrics").text, re.MULTILINE)
        assert spooled, "sendtrail_spooled_hits_total is missing from /metrics"
        assert float(spooled.group(1)) > 0, "the outage must have used the spool"
        assert not list((tmp_path / "spool").glob("hits.spool*")), "the spool was replayed"
    finally:
        proxy.close()


def test_every_acknowledged_hit_is_stored_once_across_repeated_sigkills(
    postgres_url: str, tmp_path: Path, stopped: list[Server]
) -> None:
    env = _env(postgres_url, tmp_path)
    token = _demo_token(env)
    server = Server(env)
    stopped.append(server)
    server.start()
    load = Load(_pixel_url(server, token))
    load.start(workers=8)
    acknowledged_per_life = []
    for _ in range(4):
        before = len(load.acknowledged())
        time.sleep(1.5)
        acknowledged_per_life.append(len(load.acknowledged()) - before)
        server.kill(signal.SIGKILL)
        server.start()  # same port and data dir: replays any spool at start-up
    time.sleep(1)
    load.stop()
    _await_stored(postgres_url, load, seconds=20)  # the last server replays what is spooled
    server.kill(signal.SIGTERM)

    assert all(count > 0 for count in acknowledged_per_life), acknowledged_per_life
    _assert_exactly_once(_stored(postgres_url, load.prefix), load.acknowledged(),
                         tmp_path / "spool")
    answered = [r for r in load.results if r[3] is not None]
    assert all(r[3] == 200 and r[4] == "image/gif" for r in answered)
