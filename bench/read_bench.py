"""Reads at a million events: the API's read requests on a generated account, one at a time.

The account is made by ``read_data`` (a real seed through the app, grown with bulk SQL) on
SQLite and on a dedicated PostgreSQL database (``bench_reads``, recreated per run). Then a
fresh app runs in-process (``create_app``, httpx over ASGI: no sockets, no server process)
and each request below is sent one at a time, with the web admin's own query text read
from ``web-admin/src`` where the admin makes it. Reported per request: p50 and p95 over
the repeats (after one warm-up) and the SQL statements it ran, counted with a
``before_cursor_execute`` listener that only counts statements run on behalf of the
request being measured (a context variable; background tasks are not counted).

Run alone: ``PYTHONSAFEPATH=1 .venv/bin/python bench/read_bench.py --read-engagements 20000``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import database
from read_data import grow
from read_seed import HOST, Account, asgi, bench_settings, seed

from sendtrail.app import create_app
from sendtrail.db.engine import create_sync_engine

__all__ = ["Measured", "measure_backend", "table"]

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ROOT / "web-admin" / "src" / "features"
PG_DATABASE = "bench_reads"
TARGET_MS, FIRST_PAGE_MS, REPORT_MS = 50.0, 30.0, 100.0
ENGAGEMENTS = """query Engagements($first: Int!, $filter: EngagementFilterInput) {
  engagements(first: $first, filter: $filter) {
    edges { node { id type occurredAt verdict category reasons countsInReports inferred
      attribution recipient { id address } email { id subject } link { index url } } }
    pageInfo { hasNextPage endCursor } } }"""
_STATEMENTS: contextvars.ContextVar[list[int]] = contextvars.ContextVar("statements")


@dataclass
class Measured:
    name: str
    target_ms: float
    samples_ms: list[float]
    statements: int
    error: str | None = None

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def met(self) -> bool:
        return self.error is None and self.p95 <= self.target_ms


def _count(*_: Any) -> None:
    counter = _STATEMENTS.get(None)
    if counter is not None:
        counter[0] += 1


def web_admin_query(path: str, name: str) -> str:
    """The text of the web admin's ``query <name>`` in ``web-admin/src/features/<path>``."""
    source = (FEATURES / path).read_text()
    for block in re.findall(r"graphql\(\s*`(.*?)`", source, re.DOTALL):
        if re.match(rf"\s*query {name}\b", block):
            return str(block)
    raise LookupError(f"no query {name} in {path}")


def _requests(ids: dict[str, str]) -> list[tuple[str, float, str, dict[str, Any]]]:
    """(name, target ms, query, variables) of every measured request."""
    since = (datetime.now(UTC) - timedelta(days=90)).isoformat()
    email_page = web_admin_query("emails/EmailPage.tsx", "EmailPage")
    report = web_admin_query("overview/EngagementReportView.tsx", "EngagementReport")

    def quarter(scope: str) -> dict[str, Any]:
        return {"report": {"scope": scope, "interval": "DAY", "since": since,
                           "timeZone": "UTC", "top": 5}}

    return [
        ("engagements(first: 50)", FIRST_PAGE_MS, ENGAGEMENTS, {"first": 50}),
        ("engagements(first: 50), email filter", TARGET_MS, ENGAGEMENTS,
         {"first": 50, "filter": {"emailId": ids["median_email"]}}),
        ("engagements(first: 50), contact filter", TARGET_MS, ENGAGEMENTS,
         {"first": 50, "filter": {"contactId": ids["contact"]}}),
        ("engagements(first: 50), verdict MACHINE", TARGET_MS, ENGAGEMENTS,
         {"first": 50, "filter": {"verdicts": ["MACHINE"]}}),
        ("EmailPage, median email", TARGET_MS, email_page,
         {"id": ids["median_email"], "first": 100}),
        ("EmailPage, largest email", TARGET_MS, email_page,
         {"id": ids["top_email"], "first": 100}),
        ("Emails (list, 25)", TARGET_MS,
         web_admin_query("emails/EmailsPage.tsx", "Emails"), {"first": 25}),
        ("Activity (feed, 30)", TARGET_MS,
         web_admin_query("activity/ActivityFeed.tsx", "Activity"), {"first": 30}),
        ("engagementReport 90 days, MINE", REPORT_MS, report, quarter("MINE")),
        ("engagementReport 90 days, ACCOUNT", REPORT_MS, report, quarter("ACCOUNT")),
        ("Contacts search", TARGET_MS, web_admin_query("contacts/ContactsPage.tsx", "Contacts"),
         {"first": 25, "search": "person12"}),
        ("ContactTimeline (20)", TARGET_MS,
         web_admin_query("contacts/Timeline.tsx", "ContactTimeline"),
         {"id": ids["contact"], "first": 20}),
    ]


def _ids(url: str) -> dict[str, str]:
    """The median and the largest email by engagements, and a median contact."""
    engine = create_sync_engine(url)
    with engine.connect() as conn:
        def ranked(column: str) -> list[str]:
            rows = conn.execute(text(
                f"SELECT {column}, count(*) AS n FROM engagement "  # noqa: S608
                f"WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY n")).all()
            return [str(r[0]) for r in rows]

        emails, contacts = ranked("email_id"), ranked("contact_id")
    engine.dispose()
    return {"median_email": emails[len(emails) // 2], "top_email": emails[-1],
            "contact": contacts[len(contacts) // 2]}


async def _measure(url: str, data_dir: Path, account: Account, *, repeats: int,
                   budget_s: float) -> list[Measured]:
    ids = _ids(url)
    # freeze_gc as `sendtrail serve` builds it: the process serves this one app.
    app = create_app(bench_settings(url, data_dir), freeze_gc=True)
    auth = {"Authorization": f"Bearer {account.token}"}
    results: list[Measured] = []
    async with app.lifespan(), httpx.AsyncClient(
            transport=asgi(app), base_url=HOST, timeout=600) as client:
        for name, target, query, variables in _requests(ids):
            samples: list[float] = []
            statements, error = 0, None
            started = time.monotonic()
            for number in range(repeats + 1):  # the first is a warm-up
                counter = [0]
                token = _STATEMENTS.set(counter)
                began = time.perf_counter()
                try:
                    answer = (await client.post("/graphql", headers=auth, json={
                        "query": query, "variables": variables})).json()
                finally:
                    _STATEMENTS.reset(token)
                elapsed = (time.perf_counter() - began) * 1000
                if answer.get("errors"):
                    error = str(answer["errors"])[:300]
                    break
                if number:
                    samples.append(elapsed)
                statements = max(statements, counter[0])
                if number >= 3 and time.monotonic() - started > budget_s:
                    break
            results.append(Measured(name, target, samples or [float("nan")], statements, error))
            last = results[-1]
            print(f"    {name:42} p50 {last.p50:9.1f} ms  p95 {last.p95:9.1f} ms  "
                  f"{statements:4} statements  {len(samples)} runs"
                  + (f"  ERROR {error}" if error else ""), flush=True)
    return results


def measure_backend(backend: str, args: argparse.Namespace) -> tuple[Account, list[Measured]]:
    """Generate the account on ``backend`` and measure every request on it."""
    event.listen(Engine, "before_cursor_execute", _count)
    work = Path(tempfile.mkdtemp(prefix=f"sendtrail-reads-{backend}-"))
    rng = random.Random(14)  # noqa: S311 -- made-up data, the same in every run
    emails = args.read_emails
    contacts = max(100, emails * 50 // 10)  # each contact gets ~10 emails
    seed_emails = max(2, min(args.read_seed_emails, emails))
    try:
        with database(backend, work, PG_DATABASE) as url:
            account = asyncio.run(seed(url, work, emails=seed_emails, contacts=contacts,
                                       rng=rng))
            account = grow(url, account, emails=emails, engagements=args.read_engagements,
                           contacts=contacts, rng=rng)
            print(f"  {backend}: {account.engagements:,} engagements, {account.emails:,} "
                  f"emails (seed {account.seconds['seed']:.0f} s, bulk "
                  f"{account.seconds['bulk']:.0f} s); {account.seeded:,} made through the app; "
                  f"{account.mix}"
                  + ("" if account.rollups is None else
                     f"; engagement_rollup rebuilt ({account.rollups:,} counted)"), flush=True)
            results = asyncio.run(_measure(url, work, account, repeats=args.read_repeats,
                                           budget_s=args.read_budget))
    finally:
        event.remove(Engine, "before_cursor_execute", _count)
        shutil.rmtree(work, ignore_errors=True)
    return account, results


def table(results: dict[str, tuple[Account, list[Measured]]]) -> list[str]:
    """Markdown lines: one row per backend and request."""
    lines = ["| backend | request | p50 ms | p95 ms | SQL statements | target p95 | |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for backend, (_, measured) in results.items():
        for m in measured:
            verdict = "met" if m.met else (f"**error**: {m.error}" if m.error else "**not met**")
            lines.append(f"| {backend} | {m.name} | {m.p50:,.1f} | {m.p95:,.1f} "
                         f"| {m.statements} | {m.target_ms:g} ms | {verdict} |")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-engagements", type=int, default=1_000_000)
    parser.add_argument("--read-emails", type=int, default=2_000)
    parser.add_argument("--read-seed-emails", type=int, default=40,
                        help="emails prepared and hit through the real app")
    parser.add_argument("--read-repeats", type=int, default=20)
    parser.add_argument("--read-budget", type=float, default=30.0,
                        help="seconds per request before stopping its repeats (at least 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results = {b: measure_backend(b, args) for b in args.backends.split(",")}
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
