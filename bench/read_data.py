"""The read benchmark's account: a million engagements, grown from a few thousand real ones.

1. **Real seed** (``seed``): the real app in-process (``create_app`` with a clock the
   generator moves, httpx over ASGI, no sockets) on a freshly migrated database with the
   demo account. ``prepareEmail`` prepares ``seed_emails`` emails (PER_RECIPIENT, 50
   recipients each from a pool of contacts, 3 tracked links, SALES and MARKETING, from the
   admin and a second seller), spread over the last 90 days; then their pixel and click URLs
   are loaded the way people and machines load them, in time order with the clock set to each
   hit's time: browsers opening once or a few times, Apple Mail Privacy Protection preloading
   from Apple's relay, clicks without an open (inferred opens, R7) and link scanners clicking
   every link within a second (the burst rule). The product's own classifier, attribution
   and contact updates decide every stored engagement.
2. **Bulk** (``grow``): SQLAlchemy Core executemany on one connection, nothing through HTTP.
   The remaining emails are copies of the seed emails (new ids, subjects, senders and send
   times over 90 days, recipients from the contact pool), and each gets a skewed number of
   engagements (a log-normal weight per email) made of whole real per-recipient sequences
   (opens, clicks, inferred opens, machine preloads with their verdicts, categories,
   reasons and user agents) shifted to its send time and recipients. Every column of the
   stored rows is copied, so columns added later come along. Then derived per-recipient
   columns the schema may have (``email_recipient.first_human_open_at``) are recomputed,
   PostgreSQL is ``VACUUM ANALYZE``d (as autovacuum would be; SQLite gets only what the app
   does itself), and if an ``engagement_rollup`` table exists, migration 0011 is run again
   (downgrade to 0010, upgrade to head) so the rollups are rebuilt by its own backfill.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from litestar import Litestar
from sqlalchemy import Engine, Table, func, inspect, select, text, update
from sqlmodel import SQLModel

from sendtrail.app import create_app
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.demo import ensure_demo
from sendtrail.migrations import alembic_config, register_all_tables, upgrade
from sendtrail.settings import Settings

__all__ = ["Account", "Clock", "asgi", "bench_settings", "grow", "seed"]

HOST = "http://bench.test"
RECIPIENTS = 50
DAYS = 90
CHUNK = 10_000
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


def _table(name: str) -> Table:
    register_all_tables()
    return SQLModel.metadata.tables[name]


def _address(number: int) -> str:
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
            recipients = [{"address": _address((first + i * 37) % contacts)}
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
    """Wait until the stored engagements stop growing (a deriver may run behind the hits)."""
    engine = create_sync_engine(url)
    engagements = _table("engagement")
    last = -1
    try:
        while True:
            with engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(engagements)).scalar_one()
                account = conn.execute(select(_table("account").c.id)).scalar_one()
            if count == last:
                return uuid.UUID(str(account))
            last = count
            time.sleep(1.0)
    finally:
        engine.dispose()


@dataclass
class _Seed:
    """The seed emails with their recipients, links and per-copy engagement sequences."""

    emails: list[dict[str, Any]]
    recipients: dict[uuid.UUID, list[dict[str, Any]]]
    links: dict[uuid.UUID, list[dict[str, Any]]]
    sequences: list[tuple[datetime, list[dict[str, Any]]]]
    engagements: int
    """Every engagement already stored (the seed's and the demo story's)."""


def _load_seed(conn: Any, tables: dict[str, Table], aid: uuid.UUID) -> _Seed:
    def rows(name: str) -> list[dict[str, Any]]:
        table = tables[name]
        return [dict(r._mapping) for r in conn.execute(
            select(table).where(table.c.account_id == aid))]

    emails = [e for e in rows("tracked_email") if e["subject"].startswith("Seed ")]
    sent_of = {e["id"]: e["sent_at"] for e in emails}
    recipients: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in rows("email_recipient"):
        recipients[r["email_id"]].append(r)
    links: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in rows("tracked_link"):
        links[r["email_id"]].append(r)
    per_copy: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    stored = rows("engagement")
    for e in stored:
        if e["email_id"] in sent_of:
            per_copy[(e["email_id"], e["recipient_idx"], e["sender_copy"])].append(e)
    if not per_copy:
        raise RuntimeError("the seed stored no engagements: nothing to grow from")
    return _Seed(emails, recipients, links,
                 [(sent_of[key[0]], sorted(seq, key=lambda e: e["occurred_at"]))
                  for key, seq in per_copy.items()], len(stored))


def _copy_email(seed: _Seed, number: int, want: int, *, contacts: list[tuple[uuid.UUID, str]],
                now: datetime, rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) of one more email: a copy of a seed email with ``want`` engagements."""
    template = seed.emails[number % len(seed.emails)]
    sent = now - timedelta(days=DAYS) + timedelta(seconds=rng.uniform(0, DAYS * 86400))
    email_id = uuid.uuid4()
    email = {**template, "id": email_id, "sent_at": sent,
             "subject": f"Bench {number}: {template['subject'].split(': ', 1)[1]}",
             "message_id": f"<bench-{email_id}@bench.test>"}
    yield "tracked_email", email
    first = rng.randrange(len(contacts))
    contact_of: dict[int, uuid.UUID] = {}
    for r in seed.recipients[template["id"]]:
        contact_id, address = contacts[(first + r["idx"] * 37) % len(contacts)]
        contact_of[r["idx"]] = contact_id
        yield "email_recipient", {**r, "email_id": email_id, "address": address, "name": None,
                                  "contact_id": contact_id}
    for r in seed.links[template["id"]]:
        yield "tracked_link", {**r, "email_id": email_id}
    for attempt in range(100 * RECIPIENTS):  # bounded: sequences may all lie in the future
        if want <= 0:
            return
        seed_sent, sequence = rng.choice(seed.sequences)
        idx = attempt % RECIPIENTS
        for e in sequence[:want]:
            at = sent + (e["occurred_at"] - seed_sent)
            if at > now:
                continue
            want -= 1
            yield "engagement", {
                **e, "id": uuid.uuid4(), "email_id": email_id, "sender_id": email["sender_id"],
                "occurred_at": at, "recipient_idx": idx if e["recipient_idx"] is not None
                else None, "contact_id": contact_of.get(idx) if e["contact_id"] else None}


def grow(url: str, account: Account, *, emails: int, engagements: int, contacts: int,
         rng: random.Random) -> Account:
    """Copy the seed up to ``emails`` emails and ``engagements`` engagements (bulk SQL)."""
    started = time.monotonic()
    tables = {name: _table(name) for name in (
        "tracked_email", "email_recipient", "tracked_link", "engagement", "contact")}
    engine = create_sync_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        seed = _load_seed(conn, tables, account.account_id)
        account.seeded = sum(len(seq) for _, seq in seed.sequences)
        pool = _contact_pool(conn, tables["contact"], account.account_id, contacts, now)
        new_emails = max(0, emails - len(seed.emails))
        weights = [rng.lognormvariate(0, 0.9) for _ in range(new_emails)]
        budget, total = max(0, engagements - seed.engagements), sum(weights) or 1.0
        shares = [round(budget * w / total) for w in weights]
        if shares:
            shares[-1] += budget - sum(shares)
        pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for number, want in enumerate(shares):
            for name, row in _copy_email(seed, number, want, contacts=pool, now=now,
                                               rng=rng):
                pending[name].append(row)
            if len(pending["engagement"]) >= CHUNK or number == len(shares) - 1:
                for name, rows in pending.items():
                    if rows:
                        conn.execute(tables[name].insert(), rows)
                pending.clear()
        _recompute_derived(conn, tables)
    _after_bulk(engine, url)
    with engine.connect() as conn:
        account.engagements = conn.execute(select(func.count()).select_from(
            tables["engagement"])).scalar_one()
        account.emails = conn.execute(select(func.count()).select_from(
            tables["tracked_email"])).scalar_one()
        account.mix = _mix(conn, tables["engagement"])
        account.rollups = _rolled_up(engine, conn)
        if account.rollups not in (None, account.engagements):
            raise RuntimeError(f"engagement_rollup counts {account.rollups} engagements of "
                               f"{account.engagements} after its backfill")
    engine.dispose()
    account.seconds["bulk"] = time.monotonic() - started
    return account


def _after_bulk(engine: Engine, url: str) -> None:
    """What a database would have done by itself, and what the schema derives by migration."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    if "engagement_rollup" in inspect(engine).get_table_names():
        config = alembic_config(url)
        command.downgrade(config, "0010")
        command.upgrade(config, "head")


def _rolled_up(engine: Engine, conn: Any) -> int | None:
    if "engagement_rollup" not in inspect(engine).get_table_names():
        return None
    return int(conn.execute(text("SELECT coalesce(sum(n), 0) FROM engagement_rollup"))
               .scalar_one())


def _mix(conn: Any, engagements: Table) -> str:
    """The stored engagements by type and verdict, and the inferred opens, in words."""
    rows = conn.execute(select(engagements.c.type, engagements.c.verdict,
                               engagements.c.inferred, func.count())
                        .group_by(engagements.c.type, engagements.c.verdict,
                                  engagements.c.inferred)).all()
    total = sum(r[3] for r in rows) or 1
    plural = {"open": "opens", "click": "clicks", "reply": "replies"}
    share: dict[str, int] = defaultdict(int)
    for kind, verdict, inferred, count in rows:
        share[f"{verdict} {plural.get(kind, kind)}" + (" (inferred)" if inferred else "")] += count
    return ", ".join(f"{count / total:.0%} {name}" if count * 100 >= total else f"<1% {name}"
                     for name, count in sorted(share.items(), key=lambda kv: -kv[1]))


def _contact_pool(conn: Any, contacts: Table, aid: uuid.UUID, size: int,
                  now: datetime) -> list[tuple[uuid.UUID, str]]:
    """Ids and addresses of ``size`` contacts, inserting those the seed did not create."""
    known = {r.address: r.id for r in conn.execute(
        select(contacts.c.address, contacts.c.id).where(contacts.c.account_id == aid))}
    template = dict(conn.execute(select(contacts).where(
        contacts.c.account_id == aid).limit(1)).one()._mapping)
    pool: list[tuple[uuid.UUID, str]] = []
    new: list[dict[str, Any]] = []
    for number in range(size):
        address = _address(number)
        if address not in known:
            known[address] = uuid.uuid4()
            new.append({**template, "id": known[address], "address": address, "name": None,
                        "legal_basis": "none", "legal_basis_changed_at": None,
                        "legal_basis_changed_by": None, "last_sales_email_opened_at": None,
                        "last_sales_email_clicked_at": None, "last_clicked_at": None,
                        "created_at": now - timedelta(days=DAYS)})
        pool.append((known[address], address))
    for start in range(0, len(new), CHUNK):
        conn.execute(contacts.insert(), new[start:start + CHUNK])
    return pool


def _recompute_derived(conn: Any, tables: dict[str, Table]) -> None:
    """Per-recipient columns derived from engagements, where the schema has them."""
    recipients, engagements = tables["email_recipient"], tables["engagement"]
    if "first_human_open_at" in recipients.c:
        first_open = (
            select(func.min(engagements.c.occurred_at))
            .where(engagements.c.account_id == recipients.c.account_id,
                   engagements.c.email_id == recipients.c.email_id,
                   engagements.c.recipient_idx == recipients.c.idx,
                   engagements.c.type == "open", engagements.c.verdict == "human")
            .scalar_subquery()
        )
        conn.execute(update(recipients).values(first_human_open_at=first_open))
