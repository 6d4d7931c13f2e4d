"""Sustained load: does derivation keep up, and do live notifications stay live?

One configuration = a backend and a worker count. A scratch database, ``sendtrail migrate``
and ``demo``; ``sendtrail serve`` (``--workers N`` when N > 1) and the bare-ASGI baseline
(``baseline_app.py``, the same number of uvicorn workers) on 127.0.0.1. Over GraphQL: 20
load emails from a second seller (PER_RECIPIENT, 25 recipients, one tracked link) and a
probe email from the admin to one recipient per probe. Then:

1. **Baseline**: wrk for ``seconds`` on the load emails' pixel and click URLs; the rows it
   stored per second is the bar (it acknowledges after COMMIT, so stored = acknowledged).
2. **Sendtrail**, the same wrk load, while the bench process (a) holds a real GraphQL
   subscription (``engagementNotifications`` over graphql-transport-ws, the admin's token)
   and (b) opens one probe recipient's pixel every ``seconds / probes`` seconds with a
   browser user agent: the notification latency is the time from sending that request to
   the notification naming that recipient. Every second it counts the engagement rows
   (and the ``raw_hit`` backlog, if the table exists) and scrapes ``/metrics``.

Reported: derived engagements/s (engagement rows added during the load, from the database,
so every worker counts; clicks add their inferred opens), how long the backlog took to
drain after the load, the deriver lag p50/p99 from the ``sendtrail_deriver_lag_seconds``
histogram (the scraped process's view; absent until the two-stage ingestion exists) and
the notification latency p50/p99. Run alone:
``PYTHONSAFEPATH=1 .venv/bin/python bench/sustained_bench.py --seconds 10``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline_app
from harness import BIN, CHROME, ROOT, Run, database, free_port, lua_script, server, wrk

from sendtrail.db.engine import create_sync_engine

__all__ = ["Sustained", "run", "table"]

METRICS_TOKEN = "sustained-bench-metrics-token"  # noqa: S105 -- a scratch server's
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  messages { recipients html } } }"""
SUBSCRIBE = "subscription { engagementNotifications { id who emailId } }"
LOAD_EMAILS, LOAD_RECIPIENTS = 20, 25
LAG = "sendtrail_deriver_lag_seconds"


@dataclass
class Sustained:
    backend: str
    workers: int
    seconds: float
    load: Run
    baseline: Run
    baseline_stored_per_s: float
    derived_per_s: float
    drain_s: float | None
    """After the load stopped, until no engagement was added (None: not within a minute)."""
    backlog_max: int | None
    stored: int
    """Engagement rows added from the start of the load until the backlog drained."""
    lag_metric: bool
    """Whether ``/metrics`` has the deriver lag (not before the two-stage ingestion)."""
    lag_p50: float | None = None
    lag_p99: float | None = None
    notify_ms: list[float] = field(default_factory=list)
    probes: int = 0

    @property
    def ratio(self) -> float:
        return self.derived_per_s / self.baseline_stored_per_s

    def notify(self, q: float) -> float | None:
        ordered = sorted(self.notify_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else None


def histogram(metrics: str, name: str) -> dict[float, float]:
    """Cumulative bucket counts of a Prometheus histogram, summed over its label sets."""
    buckets: dict[float, float] = {}
    for labels, value in re.findall(rf"^{name}_bucket\{{(.*?)\}} (\S+)$", metrics, re.MULTILINE):
        le = re.search(r'le="([^"]+)"', labels)
        if le:
            bound = float(le.group(1))
            buckets[bound] = buckets.get(bound, 0.0) + float(value)
    return buckets


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float | None:
    """``histogram_quantile`` of the observations between two scrapes (linear in a bucket)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank, lower, below = q * counts[-1], 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return None


def _gql(base: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{base}/graphql", timeout=60, json={
        "query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"}).json()
    if answer.get("errors"):
        sys.exit(f"GraphQL failed: {answer['errors']}")
    return dict(answer["data"])


def _emails(base: str, token: str, probes: int) -> tuple[list[str], dict[str, str]]:
    """The load's pixel and click paths (a second seller's emails) and {probe address: pixel}."""
    users = _gql(base, token, "{ viewer { id } users(first: 50) { edges { node { id seat } } } }",
                 {})
    others = [e["node"]["id"] for e in users["users"]["edges"]
              if e["node"]["seat"] != "FREE" and e["node"]["id"] != users["viewer"]["id"]]
    paths: list[str] = []
    for number in range(LOAD_EMAILS):
        html = (f'<p>Issue {number}: <a href="https://shop.example.com/spring?i={number}">'
                "our spring range</a>.</p>")
        data = _gql(base, token, PREPARE, {"i": {
            "subject": f"Load {number}", "html": html, "kind": "MARKETING",
            "deliveryMode": "PER_RECIPIENT", "senderId": others[0] if others else None,
            "recipients": [{"address": f"r{number}-{i}@client.example"}
                           for i in range(LOAD_RECIPIENTS)]}})
        for message in data["prepareEmail"]["messages"]:
            paths += re.findall(r"(/o/[A-Za-z0-9_-]+\.gif)", message["html"])
            paths += re.findall(r'href="[^"]*(/c/[A-Za-z0-9_-]+)"', message["html"])
    data = _gql(base, token, PREPARE, {"i": {
        "subject": "Probe", "html": "<p>Probe</p>", "kind": "SALES",
        "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": f"probe{i}@probe.example"} for i in range(probes)]}})
    pixels = {m["recipients"][0]: re.findall(r"(/o/[A-Za-z0-9_-]+\.gif)", m["html"])[0]
              for m in data["prepareEmail"]["messages"]}
    return paths, pixels


def _count(url: str, table: str) -> int | None:
    engine = create_sync_engine(url)
    try:
        if table not in inspect(engine).get_table_names():
            return None
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
    finally:
        engine.dispose()


def _engagements(url: str) -> int:
    return _count(url, "engagement") or 0


async def _subscribe(base: str, token: str, heard: dict[str, float],
                     ready: asyncio.Event) -> None:
    socket_url = base.replace("http://", "ws://") + "/graphql"
    async with connect(socket_url, subprotocols=[Subprotocol("graphql-transport-ws")],
                       open_timeout=20) as socket:
        await socket.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {token}"}}))
        if json.loads(await socket.recv())["type"] != "connection_ack":
            sys.exit("the subscription was not acknowledged")
        await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE}}))
        ready.set()
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "next":
                who = message["payload"]["data"]["engagementNotifications"]["who"]
                heard.setdefault(who, time.monotonic())
            elif message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif message["type"] in {"error", "complete"}:
                sys.exit(f"the subscription ended: {message}")


async def _probe(base: str, pixels: dict[str, str], seconds: float,
                 sent: dict[str, float]) -> None:
    interval = seconds / max(1, len(pixels))
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for who, pixel in pixels.items():
            sent[who] = time.monotonic()
            await client.get(pixel, headers={"User-Agent": CHROME})
            await asyncio.sleep(max(0.0, sent[who] + interval - time.monotonic()))


async def _scrape(base: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{base}/metrics",
                                  headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        return answer.text if answer.status_code == 200 else ""


async def _loaded(base: str, url: str, token: str, *, script: Path, pixels: dict[str, str],
                  args: argparse.Namespace) -> tuple[Run, dict[str, Any]]:
    """The load on sendtrail, with the subscription, the probes and the sampling."""
    heard: dict[str, float] = {}
    sent: dict[str, float] = {}
    ready = asyncio.Event()
    listener = asyncio.create_task(_subscribe(base, token, heard, ready))
    await asyncio.wait_for(ready.wait(), 30)
    before = await _scrape(base)
    rows0 = await asyncio.to_thread(_engagements, url)
    backlog: list[int] = []

    async def sample() -> None:
        while True:
            pending = await asyncio.to_thread(_count, url, "raw_hit")
            if pending is not None:
                backlog.append(pending)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    probes = asyncio.create_task(_probe(base, pixels, args.seconds, sent))
    load = await asyncio.to_thread(wrk, base, script, args.seconds, args.connections)
    rows1 = await asyncio.to_thread(_engagements, url)
    stopped, drain, rows = time.monotonic(), None, rows1
    while time.monotonic() - stopped < 60:
        await asyncio.sleep(1.0)
        last = rows
        rows = await asyncio.to_thread(_engagements, url)
        pending = await asyncio.to_thread(_count, url, "raw_hit")
        if rows == last and not pending:
            drain = max(0.0, time.monotonic() - stopped - 1.0)
            break
    await probes
    deadline = time.monotonic() + 5
    while set(sent) - set(heard) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    after = await _scrape(base)
    for task in (sampler, listener):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return load, {
        "derived_per_s": (rows1 - rows0) / args.seconds, "drain_s": drain,
        "stored": rows - rows0,
        "backlog_max": max(backlog) if backlog else None,
        "lag_metric": f"{LAG}_bucket" in after,
        "lag_p50": quantile(histogram(before, LAG), histogram(after, LAG), 0.5),
        "lag_p99": quantile(histogram(before, LAG), histogram(after, LAG), 0.99),
        "notify_ms": [(heard[w] - sent[w]) * 1000 for w in sent if w in heard],
        "probes": len(sent),
    }


def run(backend: str, workers: int, args: argparse.Namespace) -> Sustained:
    work = Path(tempfile.mkdtemp(prefix=f"sendtrail-sustained-{backend}-"))
    ours_port, base_port = free_port(), free_port()
    ours, base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{base_port}"
    try:
        with database(backend, work, "bench_sustained") as url:
            env = {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": url,
                   "SENDTRAIL_DATA_DIR": str(work), "SENDTRAIL_SMTP_PORT": "0",
                   "SENDTRAIL_PUBLIC_URL": ours, "SENDTRAIL_TRACKING_BASE_URL": ours,
                   "SENDTRAIL_METRICS_TOKEN": METRICS_TOKEN}
            subprocess.run([BIN / "sendtrail", "migrate"], env=env, check=True,  # noqa: S603
                           capture_output=True)
            demo = subprocess.run([BIN / "sendtrail", "demo"], env=env, check=True,  # noqa: S603
                                  capture_output=True, text=True).stdout
            token = re.search(r"^token: (\S+)$", demo, re.MULTILINE).group(1)  # type: ignore[union-attr]
            engine = create_sync_engine(url)
            baseline_app.METADATA.create_all(engine)  # before N workers race to create it
            engine.dispose()
            extra = ["--workers", str(workers)] if workers > 1 else []
            ours_cmd = [str(BIN / "sendtrail"), "serve", "--host", "127.0.0.1",
                        "--port", str(ours_port), *extra]
            base_cmd = [str(BIN / "uvicorn"), "--app-dir", str(ROOT / "bench"),
                        "baseline_app:app", "--host", "127.0.0.1", "--port", str(base_port),
                        "--workers", str(workers), "--no-access-log"]
            with server(ours_cmd, env, work / "ours.log", f"{ours}/healthz"), \
                    server(base_cmd, env, work / "baseline.log", f"{base}/o/x.gif"):
                paths, pixels = _emails(ours, token, args.probes)
                script = lua_script(paths, work / "load.lua")
                time.sleep(3)  # hits within 2 s of preparing count as machines (TOO_SOON)
                for target in (ours, base):
                    wrk(target, script, args.warmup, args.connections)
                stored0 = _count(url, "bench_hit") or 0
                baseline = wrk(base, script, args.seconds, args.connections)
                stored = ((_count(url, "bench_hit") or 0) - stored0) / args.seconds
                load, found = asyncio.run(_loaded(ours, url, token, script=script, pixels=pixels,
                                                   args=args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Sustained(backend, workers, args.seconds, load, baseline, stored, **found)


def verdict(s: Sustained) -> str:
    missed = []
    if s.ratio < 0.7:
        missed.append(f"{s.ratio:.2f}x")
    if s.lag_metric and (s.lag_p99 is None or s.lag_p99 > 1.0):
        missed.append("lag p99 " + ("unknown" if s.lag_p99 is None else f"{s.lag_p99:.2f} s"))
    p99 = s.notify(0.99)
    if p99 is None or p99 > 1000 or len(s.notify_ms) < s.probes:
        missed.append(f"notification p99 {p99:,.0f} ms" if p99 is not None else
                      "no notification")
        if len(s.notify_ms) < s.probes:
            missed.append(f"{s.probes - len(s.notify_ms)} of {s.probes} probes unheard")
    if missed:
        return "**not met**: " + ", ".join(missed)
    return "met" if s.lag_metric else "met (lag: no metric, see below)"


def table(results: list[Sustained]) -> list[str]:
    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f}"

    def secs(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    lines = [
        "| backend | workers | load req/s (p99 ms) | baseline stored hits/s | derived "
        "engagements/s | ratio | engagements per request | backlog drained after load, s "
        "(max raw hits) | deriver lag "
        "p50 / p99 s | notification p50 / p99 ms (heard) | target (≥ 0.7x, lag p99 ≤ 1 s, "
        "notification p99 ≤ 1 s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in results:
        lines.append(
            f"| {s.backend} | {s.workers} | {s.load.rps:,.0f} ({s.load.p99_ms:,.0f}) "
            f"| {s.baseline_stored_per_s:,.0f} | {s.derived_per_s:,.0f} | {s.ratio:.2f}x "
            f"| {s.stored / max(1, s.load.requests + s.probes):.2f} "
            f"| {'> 60' if s.drain_s is None else f'{s.drain_s:.0f}'}"
            f"{'' if s.backlog_max is None else f' ({s.backlog_max:,})'} "
            f"| {secs(s.lag_p50)} / {secs(s.lag_p99)} "
            f"| {ms(s.notify(0.5))} / {ms(s.notify(0.99))} ({len(s.notify_ms)}/{s.probes}) "
            f"| {verdict(s)} |")
    if not all(s.lag_metric for s in results):
        lines += ["", "No `sendtrail_deriver_lag_seconds` on `/metrics` (n/a above): this "
                  "version derives engagements before it answers a hit (one stage), so there "
                  "is no deriver lag to measure; derived engagements/s are counted from the "
                  "engagement rows added during the load, and the backlog column says how "
                  "long rows kept arriving after it."]
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sustained-seconds", dest="seconds", type=int, default=60)
    parser.add_argument("--sustained-workers", default="1,2",
                        help="worker counts on PostgreSQL (SQLite always runs one)")
    parser.add_argument("--probes", type=int, default=120,
                        help="probe opens spread over the load (notification latency)")


def configurations(backends: list[str], workers: str) -> list[tuple[str, int]]:
    counts = [int(n) for n in workers.split(",")]
    return [(b, n) for b in backends for n in (counts if b == "postgresql" else [1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    results = [run(b, n, args) for b, n in configurations(args.backends.split(","),
                                                           args.sustained_workers)]
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
