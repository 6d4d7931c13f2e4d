"""The read benchmark's account, step 1: a few thousand real engagements (``read_data``
grows them to a million).

**Real seed** (``seed``): the real app in-process (``create_app`` with a clock the
generator moves, httpx over ASGI, no sockets) on a freshly migrated database with the
demo account. ``prepareEmail`` prepares ``seed_emails`` emails (PER_RECIPIENT, 50
recipients each from a pool of contacts, 3 tracked links, SALES and MARKETING, from the
admin and a second seller), spread over the last 90 days; then their pixel and click URLs
are loaded the way people and machines load them, in time order with the clock set to each
hit's time: browsers opening once or a few times, Apple Mail Privacy Protection preloading
from Apple's relay, clicks without an open (inferred opens, R7) and link scanners clicking
every link within a second (the burst rule). The product's own classifier, attribution
and contact updates decide every stored engagement.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import Table, func, inspect, select, text
from sqlmodel import SQLModel

from sendtrail.app import create_app
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.demo import ensure_demo
from sendtrail.migrations import register_all_tables, upgrade
from sendtrail.settings import Settings

__all__ = ["DAYS", "HOST", "RECIPIENTS", "Account", "Clock", "address", "asgi", "bench_settings",
           "seed", "table"]

HOST = "http://bench.test"
RECIPIENTS = 50
DAYS = 90
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16) Microsoft Outlook 16.0.17928; Pro)",
)
APPLE_MPP = ("Mozilla/5.0", "172.224.226.7")  # Apple's privacy relay (signals/networks.csv)
SCANNER_IP = "203.0.113.66"
_PIXEL = re.compile(r"/o/[A-Za-z0-9_-]+\.gif")
_LINK = re.compile(r"/c/[A-Za-z0-9_-]+")


@dataclass
class Clock:
    """The app's only time source: the seed moves it to each hit's time."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Account:
    """What the measurement needs to know about the generated account."""

    account_id: uuid.UUID
    token: str
    engagements: int = 0
    emails: int = 0
    seeded: int = 0
    """Engagements of the seed emails, made through the app."""
    mix: str = ""
    rollups: int | None = None
    """Engagements counted by ``engagement_rollup`` (None: no such table)."""
    seconds: dict[str, float] = field(default_factory=dict)


def bench_settings(url: str, data_dir: Path) -> Settings:
    return Settings.from_env({
        "SENDTRAIL_DATABASE_URL": url, "SENDTRAIL_DATA_DIR": str(data_dir),
        "SENDTRAIL_PUBLIC_URL": HOST, "SENDTRAIL_TRACKING_BASE_URL": HOST,
        "SENDTRAIL_SMTP_PORT": "0", "SENDTRAIL_TRUSTED_PROXIES": "127.0.0.1/32",
    })


def asgi(app: Litestar, **options: Any) -> httpx.ASGITransport:
    """httpx's in-process transport (litestar's precise ASGI types are not httpx's)."""
    return httpx.ASGITransport(app=app, **options)  # type: ignore[arg-type]


def table(name: str) -> Table:
    register_all_tables()
    return SQLModel.metadata.tables[name]


def address(number: int) -> str:
    return f"person{number}@company{number % 997}.example.test"


def _hits(rng: random.Random, sent: datetime, pixels: list[str],
          links: list[list[str]]) -> Iterator[tuple[datetime, str, str, str]]:
    """(time, path, user agent, client IP) of one email's hits, recipient by recipient."""
    for idx, pixel in enumerate(pixels):
        ua, ip = rng.choice(BROWSERS), f"198.51.100.{idx % 250 + 1}"
        roll = rng.random()
        later = sent + timedelta(minutes=rng.expovariate(1 / 240))
        if roll < 0.3:
            continue
        if roll < 0.45:  # Apple MPP preloads at delivery; the person may read later
            yield sent + timedelta(seconds=rng.uniform(5, 120)), pixel, *APPLE_MPP
            if rng.random() < 0.5:
                yield later, pixel, ua, ip
            continue
        if roll < 0.52 and links[idx]:  # a link scanner clicks every link at once
            for number, link in enumerate(links[idx]):
                yield sent + timedelta(seconds=3 + number * 0.2), link, ua, SCANNER_IP
            continue
        if roll < 0.62 and links[idx]:  # images blocked: the click implies the open (R7)
            yield later, rng.choice(links[idx]), ua, ip
            continue
        for number in range(rng.choice((1, 1, 2, 3, 5))):
            yield later + timedelta(hours=number * rng.uniform(1, 30)), pixel, ua, ip
        if rng.random() < 0.4 and links[idx]:
            yield later + timedelta(minutes=rng.uniform(1, 10)), rng.choice(links[idx]), ua, ip


async def seed(url: str, data_dir: Path, *, emails: int, contacts: int,
               rng: random.Random) -> Account:
    """Migrate, make the demo account and ``emails`` real emails with their real hits."""
    started = time.monotonic()
    upgrade(url)
    settings = bench_settings(url, data_dir)
    database = Database(url)
    lines = await ensure_demo(database, settings)
    await database.dispose()
    token = next(line.split(": ", 1)[1] for line in lines if line.startswith("token: "))
    clock = Clock()
    now = clock.now
    app = create_app(settings, clock=clock)
    auth = {"Authorization": f"Bearer {token}"}
    plan: list[tuple[datetime, str, str, str]] = []
    async with app.lifespan(), httpx.AsyncClient(
            transport=asgi(app, client=("127.0.0.1", 50000)),
            base_url=HOST, timeout=60) as client:
        senders = await _senders(client, auth)
        for number in range(emails):
            sent = now - timedelta(days=DAYS - 1) + timedelta(
                days=(DAYS - 2) * number / max(1, emails))
            clock.now = sent
            first = rng.randrange(contacts)
            recipients = [{"address": address((first + i * 37) % contacts)}
                          for i in range(RECIPIENTS)]
            html = "".join(
                f'<p>Item {i}: <a href="https://shop.example.com/p/{number}/{i}">see it</a></p>'
                for i in range(3))
            answer = (await client.post("/graphql", headers=auth, json={
                "query": PREPARE, "variables": {"i": {
                    "subject": f"Seed {number}: spring update", "html": html,
                    "kind": "MARKETING" if number % 3 else "SALES",
                    "senderId": senders[number % len(senders)],
                    "deliveryMode": "PER_RECIPIENT", "recipients": recipients}}})).json()
            if answer.get("errors"):
                raise RuntimeError(f"prepareEmail failed: {answer['errors']}")
            messages = answer["data"]["prepareEmail"]["messages"]
            pixels = [_PIXEL.findall(m["html"])[0] for m in messages]
            links = [_LINK.findall(m["html"]) for m in messages]
            plan += [hit for hit in _hits(rng, sent, pixels, links) if hit[0] < now]
        plan.sort()
        for at, path, ua, ip in plan:
            clock.now = at
            await client.get(path, headers={"User-Agent": ua, "X-Forwarded-For": ip})
        clock.now = datetime.now(UTC)
        account_id = await _settled(url)
    return Account(account_id=account_id, token=token,
                   seconds={"seed": time.monotonic() - started})


async def _senders(client: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    """The admin and one paid seller (a free seat's emails are not tracked)."""
    answer = (await client.post("/graphql", headers=auth, json={
        "query": "{ users(first: 50) { edges { node { id seat } } } }"})).json()
    users = [edge["node"] for edge in answer["data"]["users"]["edges"]]
    paid = [u["id"] for u in users if u["seat"] != "FREE"]
    if not paid:
        raise RuntimeError(f"no user on a paid seat: {answer}")
    return paid[:2]


async def _settled(url: str) -> uuid.UUID:
    """Wait until every hit is derived: no raw hit left (if the schema has them) and the
    stored engagements stopped growing. The app keeps running meanwhile (its deriver may be
    behind the hits), so this waits on the event loop."""
    last = -1
    while True:
        count, pending, account = await asyncio.to_thread(_progress, url)
        if count == last and not pending:
            return account
        last = count
        await asyncio.sleep(1.0)


def _progress(url: str) -> tuple[int, int, uuid.UUID]:
    """(stored engagements, raw hits pending, the account's id)."""
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(table("engagement")))
            pending = (conn.execute(text("SELECT count(*) FROM raw_hit")).scalar_one()
                       if "raw_hit" in inspect(conn).get_table_names() else 0)
            account = conn.execute(select(table("account").c.id)).scalar_one()
            return int(count.scalar_one()), int(pending), uuid.UUID(str(account))
    finally:
        engine.dispose()
