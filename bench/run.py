"""``make bench``: every benchmark of docs/performance.md, each rewriting its own block there.

- **paired** (block ``results``): pixel/click throughput and latency of ``sendtrail serve``
  against a bare ASGI baseline (``baseline_app.py``) in the same run, on SQLite and
  PostgreSQL (``--workers 1,2`` adds multi-process runs on PostgreSQL), plus prepare
  (``prepare_bench.py``) and relay (``relay_bench.py``) throughput. For each backend: a
  scratch data dir (and a scratch PostgreSQL database), ``sendtrail migrate`` and ``demo``,
  real emails prepared over GraphQL (MARKETING, PER_RECIPIENT, one tracked link), then both
  servers on 127.0.0.1. Each round runs wrk (64 connections, random pixel/click URLs of
  those emails, a browser user agent) against ours and the baseline back to back, with the
  hit tables emptied before every run. Reported: medians over the rounds; the ratio is the
  median of the per-round ratios.
- **sustained** (block ``sustained``, ``sustained_bench.py``): 60 s of load; derived
  engagements/s, backlog, deriver lag and live-notification latency.
- **reads** (block ``reads``, ``read_bench.py``): the read API on a generated account with a
  million engagements.

Choose with ``--parts``; sizes with ``--read-engagements``, ``--sustained-seconds``, ....
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline_app
import prepare_bench
import read_bench
import read_seed
import relay_bench
import sustained_bench
from harness import (
    BIN,
    ROOT,
    Run,
    busy_cpu,
    cpu_seconds,
    database,
    ensure_wrk,
    free_port,
    lua_script,
    machine,
    server,
    wrk,
)

from sendtrail.db.engine import create_sync_engine

DOC = ROOT / "docs" / "performance.md"
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  openTracking clickTracking messages { html } } }"""
EMAILS, RECIPIENTS = 20, 25
BACKGROUND: list[float] = []  # CPU busy with other work, sampled before each backend
ACK_TARGET = 1.0  # issue 14: acknowledgement at least the baseline's throughput
LOAD_URLS = 2 * sustained_bench.LOAD_RECIPIENTS  # a pixel and a link per recipient


def prepare_emails(base_url: str, token: str) -> tuple[list[str], list[str]]:
    """Pixel and click paths of real emails, prepared through the public API."""
    pixels: list[str] = []
    clicks: list[str] = []
    for number in range(EMAILS):
        html = (f'<html><body><p>Issue {number}: see <a href="https://shop.example.com/spring'
                f'?issue={number}&amp;utm_source=news">our spring range</a>.</p></body></html>')
        recipients = [{"address": f"r{number}-{i}@client.example"} for i in range(RECIPIENTS)]
        answer = httpx.post(f"{base_url}/graphql", timeout=30, headers={
            "Authorization": f"Bearer {token}"}, json={"query": PREPARE, "variables": {"i": {
                "subject": f"Issue {number}", "html": html, "kind": "MARKETING",
                "deliveryMode": "PER_RECIPIENT", "recipients": recipients}}}).json()
        if answer.get("errors"):
            sys.exit(f"prepareEmail failed: {answer['errors']}")
        for message in answer["data"]["prepareEmail"]["messages"]:
            pixels += re.findall(r"(/o/[A-Za-z0-9_-]+\.gif)", message["html"])
            clicks += re.findall(r'href="[^"]*(/c/[A-Za-z0-9_-]+)"', message["html"])
    if not len(pixels) == len(clicks) == EMAILS * RECIPIENTS:
        sys.exit(f"expected {EMAILS * RECIPIENTS} pixels and links: {len(pixels)}, {len(clicks)}")
    return pixels, clicks


def empty_hit_tables(url: str) -> tuple[int, int]:
    """Delete the rows the last runs stored; return (engagement rows, bench_hit rows).

    Waits (up to two minutes) for the deriver to consume the acknowledged raw hits first, so
    that every run's engagements are counted with it and none spill into the next."""
    engine = create_sync_engine(url)
    deadline = time.monotonic() + 120
    while "raw_hit" in inspect(engine).get_table_names() and time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT count(*) FROM raw_hit")).scalar_one():
                break
        time.sleep(0.5)
    with engine.begin() as conn:
        counts = tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                       for t in ("engagement", "bench_hit"))
        conn.execute(text("DELETE FROM engagement"))
        conn.execute(text("DELETE FROM bench_hit"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return counts


def bench_backend(backend: str, args: argparse.Namespace,
                  workers: int = 1) -> dict[tuple[str, str], list[Run]]:
    """Rounds of (endpoint, server) runs on one backend: {(endpoint, server): [Run]}.

    With ``workers`` > 1, both servers run that many processes (``sendtrail serve
    --workers N``, uvicorn ``--workers N``)."""
    results: dict[tuple[str, str], list[Run]] = {}
    work = Path(tempfile.mkdtemp(prefix=f"sendtrail-bench-{backend}-"))
    ours_port, base_port = free_port(), free_port()
    urls = {"ours": f"http://127.0.0.1:{ours_port}", "baseline": f"http://127.0.0.1:{base_port}"}
    try:
        with database(backend, work) as url:
            env = {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": url,
                   "SENDTRAIL_DATA_DIR": str(work), "SENDTRAIL_SMTP_PORT": "0",
                   "SENDTRAIL_PUBLIC_URL": urls["ours"],
                   "SENDTRAIL_TRACKING_BASE_URL": urls["ours"]}
            subprocess.run([BIN / "sendtrail", "migrate"], env=env, check=True,  # noqa: S603
                           capture_output=True)
            demo = subprocess.run([BIN / "sendtrail", "demo"], env=env, check=True,  # noqa: S603
                                  capture_output=True, text=True).stdout
            token = re.search(r"^token: (\S+)$", demo, re.MULTILINE).group(1)  # type: ignore[union-attr]
            engine = create_sync_engine(url)
            baseline_app.METADATA.create_all(engine)  # before N workers race to create it
            engine.dispose()
            ours = [str(BIN / "sendtrail"), "serve", "--host", "127.0.0.1",
                    "--port", str(ours_port), *(["--workers", str(workers)] if workers > 1
                                               else [])]
            baseline = [str(BIN / "uvicorn"), "--app-dir", str(ROOT / "bench"), "baseline_app:app",
                        "--host", "127.0.0.1", "--port", str(base_port), "--workers", str(workers),
                        "--no-access-log"]
            with server(ours, env, work / "ours.log", f"{urls['ours']}/healthz") as ours_pid, \
                    server(baseline, env, work / "baseline.log",
                           f"{urls['baseline']}/o/x.gif") as base_pid:
                pids = {"ours": ours_pid, "baseline": base_pid}
                pixels, clicks = prepare_emails(urls["ours"], token)
                scripts = {"pixel": lua_script(pixels, work / "pixel.lua"),
                           "click": lua_script(clicks, work / "click.lua")}
                for base in urls.values():  # warm up both servers (imports, pools, caches)
                    wrk(base, scripts["pixel"], args.warmup, args.connections)
                    wrk(base, scripts["click"], args.warmup, args.connections)
                empty_hit_tables(url)
                BACKGROUND.append(busy_cpu())
                for number in range(args.rounds):
                    for endpoint, script in scripts.items():
                        order = ["ours", "baseline"] if number % 2 == 0 else ["baseline", "ours"]
                        for name in order:
                            cpu = cpu_seconds(pids[name])
                            run = wrk(urls[name], script, args.duration, args.connections)
                            run.cpu_us = (cpu_seconds(pids[name]) - cpu) / run.requests * 1e6
                            stored = empty_hit_tables(url)[0 if name == "ours" else 1]
                            results.setdefault((endpoint, name), []).append(run)
                            print(f"  {backend:10} round {number + 1} {endpoint:5} {name:8} "
                                  f"{run.rps:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
                                  f"p99 {run.p99_ms:6.2f} ms  {run.cpu_us:5.0f} CPU µs/req  "
                                  f"errors {run.errors}  "
                                  f"rows stored {stored} for {run.requests} requests", flush=True)
            # Workers may each keep their own spool directory.
            spooled = [p for p in (work / "spool").glob("**/hits.spool*") if p.stat().st_size]
            if spooled:
                print(f"  WARNING: ours spooled hits (database unavailable?): {spooled}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def summarise(results: dict[str, dict[tuple[str, str], list[Run]]],
              prepared: dict[str, float], info: dict[str, str],
              args: argparse.Namespace, relay: dict[str, Any] | None = None) -> str:
    lines = [
        *header(info),
        f"- Load: wrk `-t2 -c{args.connections}`, {args.rounds} paired rounds of "
        f"{args.duration:g} s per endpoint and server (after a {args.warmup:g} s warm-up), "
        "random URLs among 500 real pixel (or click) URLs of 20 prepared emails, Chrome "
        "user agent. Medians over rounds; ratio = median of the per-round ours/baseline "
        "ratios. Server CPU µs/req: CPU time of the server's processes (all threads, not "
        "the database server) per request, which depends far less on other load.",
        "",
        "| backend | endpoint | sendtrail req/s | p50 ms | p99 ms | baseline req/s "
        "| p50 ms | p99 ms | ratio | target (≥ 1.0x, p99 ≤ 50 ms) "
        "| server CPU µs/req, sendtrail / baseline |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for backend, runs in results.items():
        for endpoint in ("pixel", "click"):
            ours, base = runs[(endpoint, "ours")], runs[(endpoint, "baseline")]
            ratio = statistics.median(o.rps / b.rps for o, b in zip(ours, base, strict=True))
            p99 = statistics.median(r.p99_ms for r in ours)
            met = "met" if ratio >= ACK_TARGET and p99 <= 50 else (
                "**not met**: " + ", ".join(
                    ([f"{ratio:.2f}x"] if ratio < ACK_TARGET else []) +
                    ([f"p99 {p99:.0f} ms"] if p99 > 50 else [])))
            errors = sum(r.errors for r in ours + base)
            lines.append(
                f"| {backend} | {endpoint} | {statistics.median(r.rps for r in ours):,.0f} "
                f"| {statistics.median(r.p50_ms for r in ours):.1f} | {p99:.1f} "
                f"| {statistics.median(r.rps for r in base):,.0f} "
                f"| {statistics.median(r.p50_ms for r in base):.1f} "
                f"| {statistics.median(r.p99_ms for r in base):.1f} | {ratio:.2f}x | {met}"
                + (f" ({errors} errors)" if errors else "")
                + f" | {statistics.median(r.cpu_us for r in ours):,.0f} / "
                f"{statistics.median(r.cpu_us for r in base):,.0f} |")
    target = "met" if prepared["messages_per_s"] >= 2000 else "**not met**"
    lines += [
        "",
        f"Prepare ({prepared['html_bytes'] / 1024:.0f} KB HTML, {prepared['links']} links, "
        f"PER_RECIPIENT, {prepared['recipients']:,} recipients, every tracking option on; "
        f"median of 3): **{prepared['messages_per_s']:,.0f} messages/s** "
        f"({prepared['seconds']:.2f} s per email; target ≥ 2,000: {target}); per CPU "
        f"second of the process: {prepared['messages_per_cpu_s']:,.0f} messages (the "
        "figure that does not depend on what else the machine is running).",
        f"Token sign: pixel {prepared['sign_pixel_us']:.1f} µs, click "
        f"{prepared['sign_click_us']:.1f} µs; verify: pixel {prepared['verify_pixel_us']:.1f} µs, "
        f"click {prepared['verify_click_us']:.1f} µs.",
    ]
    if relay is not None:
        lines += [
            "",
            f"Relay (SQLite; {relay['html_bytes'] / 1024:.0f} KB HTML to 2 To, 1 Cc and 1 Bcc, "
            f"{relay['messages']} messages over {relay['clients']} SMTP connections, from the "
            "first submission until the upstream accepted every copy): "
            f"**{relay['delivered_per_s']:,.1f} messages/s** ({relay['submitted_per_s']:,.1f}/s "
            "acknowledged by the relay); baseline, the same messages straight to the upstream: "
            f"{relay['baseline_per_s']:,.1f} messages/s; ratio {relay['ratio']:.2f}x.",
        ]
    return "\n".join(lines)


def header(info: dict[str, str]) -> list[str]:
    """The first lines of every generated block: when, what, on which machine."""
    return [
        f"Measured by `make bench` on {info['date']}, commit {info['commit']}.",
        "",
        f"- Machine: {info['cpu']}, {info['ram']} RAM; wrk, the servers and the database "
        "share these cores.",
        f"- Software: {info['software']}.",
        f"- Other load on the machine (CPU busy while the benchmark idled, sampled at the start "
        f"and before each backend): {', '.join(f'{b:.0%}' for b in BACKGROUND)}.",
    ]


def summarise_sustained(results: list[sustained_bench.Sustained], info: dict[str, str],
                        args: argparse.Namespace) -> str:
    return "\n".join([
        *header(info),
        f"- Load: wrk `-t2 -c{args.connections}` for {args.seconds} s (after a "
        f"{args.warmup} s warm-up) on the {sustained_bench.LOAD_EMAILS * LOAD_URLS:,} real pixel "
        f"and click URLs of {sustained_bench.LOAD_EMAILS} emails (a second seller's, so they "
        "notify no one listening), Chrome user agent; the baseline gets the same load first. "
        f"Meanwhile {args.probes} probe opens of the admin's email, evenly spread, and one "
        "graphql-transport-ws subscription as the admin. One run per row (no rounds).",
        "",
        *sustained_bench.table(results),
    ])


def summarise_reads(results: dict[str, tuple[read_seed.Account, list[read_bench.Measured]]],
                    info: dict[str, str], args: argparse.Namespace) -> str:
    lines = [*header(info), f"- Requests: one at a time, {args.read_repeats} repeats each "
             "after one warm-up (fewer, at least 3, when a request takes more than "
             f"{args.read_budget:g} s in all), in-process (no HTTP server, no sockets)."]
    for backend, (account, _) in results.items():
        lines.append(
            f"- Data on {backend}: {account.engagements:,} engagements, {account.emails:,} "
            f"emails to 50 recipients each over 90 days ({account.seeded:,} engagements made "
            f"through the app, the rest copied from them; {account.mix}); generated in "
            f"{account.seconds['seed'] + account.seconds['bulk']:.0f} s.")
    return "\n".join([*lines, "", *read_bench.table(results)])


def write_doc(section: str, name: str = "results") -> None:
    """Replace one generated block of docs/performance.md, keeping the written analysis."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{section}\n{end}"
    if DOC.exists() and start in DOC.read_text():
        before, rest = DOC.read_text().split(start, 1)
        DOC.write_text(before + block + rest.split(end, 1)[1])
    else:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        existing = DOC.read_text() if DOC.exists() else "# Performance\n"
        DOC.write_text(f"{existing.rstrip()}\n\n{block}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="paired,sustained,reads",
                        help="paired (pixel/click against the baseline, prepare, relay), "
                        "sustained, reads; each rewrites only its own block of the doc")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2",
                        help="paired runs: worker counts on PostgreSQL, e.g. 1,2")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    sustained_bench.add_arguments(parser)
    read_bench.add_arguments(parser)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    backends = args.backends.split(",")
    ensure_wrk()
    started = time.monotonic()
    failed = []
    for name, part in (("paired", paired), ("sustained", sustained), ("reads", reads)):
        if name not in parts:
            continue
        BACKGROUND.clear()
        BACKGROUND.append(busy_cpu())
        try:
            section = part(args, backends)
        except (Exception, SystemExit):  # the other parts still run and keep their results
            traceback.print_exc()
            failed.append(name)
            continue
        print("\n" + section, flush=True)
        if not args.no_doc:
            write_doc(section, "results" if name == "paired" else name)
            print(f"\nwrote its block of {DOC.relative_to(ROOT)} "
                  f"({time.monotonic() - started:.0f} s so far)", flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)} (their blocks were left as they were)")


def paired(args: argparse.Namespace, backends: list[str]) -> str:
    print("prepare: 60 KB HTML, 40 links, PER_RECIPIENT, 10,000 recipients", flush=True)
    prepared = prepare_bench.run()
    print(f"  {prepared['messages_per_s']:,.0f} messages/s", flush=True)
    print("relay: 60 KB HTML to 4 recipients, SQLite", flush=True)
    relay = relay_bench.run()
    print(f"  {relay['delivered_per_s']:,.1f} messages/s (baseline "
          f"{relay['baseline_per_s']:,.1f})", flush=True)
    results = {}
    for backend, workers in sustained_bench.configurations(backends, args.workers):
        label = backend if workers == 1 else f"{backend}, {workers} workers"
        print(f"{label}: wrk -c{args.connections}, {args.rounds} rounds", flush=True)
        results[label] = bench_backend(backend, args, workers)
    return summarise(results, prepared, machine(), args, relay)


def sustained(args: argparse.Namespace, backends: list[str]) -> str:
    runs = []
    for backend, workers in sustained_bench.configurations(backends, args.sustained_workers):
        print(f"sustained: {backend}, {workers} worker(s), {args.seconds} s", flush=True)
        BACKGROUND.append(busy_cpu())
        runs.append(sustained_bench.run(backend, workers, args))
        print("\n".join(sustained_bench.table(runs[-1:])[2:3]), flush=True)
    return summarise_sustained(runs, machine(), args)


def reads(args: argparse.Namespace, backends: list[str]) -> str:
    results = {}
    for backend in backends:
        print(f"reads: {backend}, {args.read_engagements:,} engagements", flush=True)
        BACKGROUND.append(busy_cpu())
        results[backend] = read_bench.measure_backend(backend, args)
    return summarise_reads(results, machine(), args)


if __name__ == "__main__":
    main()
