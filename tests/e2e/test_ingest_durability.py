"""Every acknowledged pixel hit is stored exactly once: with the database gone under load
(PostgreSQL), and with the server SIGKILLed under load (SQLite and PostgreSQL; real
`sendtrail serve` processes)."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e.hitload import (
    Load,
    assert_exactly_once,
    await_stored,
    demo_token,
    pixel_url,
    raw_waiting,
    serve_env,
    stored,
)
from e2e.processes import Server, _free_port
from sqlalchemy.engine import make_url


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


def test_every_hit_is_acknowledged_and_stored_once_across_a_database_outage(
    postgres_url: str, tmp_path: Path, stopped: list[Server]
) -> None:
    direct = make_url(postgres_url)
    proxy = Proxy((direct.host or "127.0.0.1", direct.port or 5432))
    try:
        token = demo_token(serve_env(postgres_url, tmp_path))
        proxied = direct.set(port=proxy.port).render_as_string(hide_password=False)
        server = Server(serve_env(proxied, tmp_path))
        stopped.append(server)
        server.start()
        load = Load(pixel_url(server, token))
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

        found = await_stored(postgres_url, load, seconds=20)
        assert_exactly_once(found, load.acknowledged(), tmp_path / "spool")
        assert set(found) == load.acknowledged()  # every request here was acknowledged
        spooled = re.search(r"^sendtrail_spooled_hits_total (\S+)$",
                            httpx.get(f"{server.base_url}/metrics").text, re.MULTILINE)
        assert spooled, "sendtrail_spooled_hits_total is missing from /metrics"
        assert float(spooled.group(1)) > 0, "the outage must have used the spool"
        assert not list((tmp_path / "spool").glob("hits.spool*")), "the spool was replayed"
    finally:
        proxy.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_acknowledged_hit_is_stored_once_across_repeated_sigkills(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, stopped: list[Server]
) -> None:
    """The server is killed mid-load four times: its hot path and its deriver die together,
    with raw hits committed and not yet derived, batches half-derived, spools half-written.
    (A deriver killed alone: test_derivation_sigkill.py.)"""
    url = (f"sqlite:///{tmp_path / 'sendtrail.db'}" if backend == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    env = serve_env(url, tmp_path)
    token = demo_token(env)
    server = Server(env)
    stopped.append(server)
    server.start()
    load = Load(pixel_url(server, token))
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
    await_stored(url, load, seconds=30)  # the last server replays and derives what is left
    server.kill(signal.SIGTERM)

    assert all(count > 0 for count in acknowledged_per_life), acknowledged_per_life
    assert_exactly_once(stored(url, load.prefix), load.acknowledged(), tmp_path / "spool")
    assert raw_waiting(url, load.prefix) == 0, "raw hits are consumed as they are derived"
    answered = [r for r in load.results if r[3] is not None]
    assert all(r[3] == 200 and r[4] == "image/gif" for r in answered)
