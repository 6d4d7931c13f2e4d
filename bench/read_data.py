"""The read benchmark's account, step 2: a million engagements grown from the real seed
(``read_seed``).

**Bulk** (``grow``): SQLAlchemy Core executemany on one connection, nothing through HTTP.
The remaining emails are copies of the seed emails (new ids, subjects, senders and send
times over 90 days, recipients from the contact pool), and each gets a skewed number of
engagements (a log-normal weight per email) made of whole real per-recipient sequences
(opens, clicks, inferred opens, machine preloads with their verdicts, categories,
reasons and user agents) shifted to its send time and recipients. Every column of the
stored rows is copied, so columns added later come along. Then derived per-recipient
columns the schema may have (``email_recipient.first_human_open_at``) are recomputed,
PostgreSQL is ``VACUUM ANALYZE``d (as autovacuum would be; SQLite gets only what the app
does itself), and the rollups are recounted with ``tracking.rollups.rebuild_rollups``.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, func, inspect, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from read_seed import DAYS, RECIPIENTS, Account, address, table

from sendtrail.db.engine import create_sync_engine
from sendtrail.tracking.rollups import rebuild_rollups

__all__ = ["grow"]

CHUNK = 10_000


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
        rows_of = tables[name]
        return [dict(r._mapping) for r in conn.execute(
            select(rows_of).where(rows_of.c.account_id == aid))]

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
    tables = {name: table(name) for name in (
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
    _after_bulk(engine)
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


def _after_bulk(engine: Engine) -> None:
    """What the deriver keeps in step (the rollups, recounted with the product's own
    ``rebuild_rollups``) and what a database would have done by itself (statistics)."""
    with engine.begin() as conn:
        for (account_id,) in conn.execute(text("SELECT id FROM account")):
            for statement in rebuild_rollups(_uuid(account_id)):
                conn.execute(statement)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _rolled_up(engine: Engine, conn: Any) -> int | None:
    if "engagement_rollup" not in inspect(engine).get_table_names() or "n" not in {
            c["name"] for c in inspect(engine).get_columns("engagement_rollup")}:
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
        made_up = address(number)
        if made_up not in known:
            known[made_up] = uuid.uuid4()
            new.append({**template, "id": known[made_up], "address": made_up, "name": None,
                        "legal_basis": "none", "legal_basis_changed_at": None,
                        "legal_basis_changed_by": None, "last_sales_email_opened_at": None,
                        "last_sales_email_clicked_at": None, "last_clicked_at": None,
                        "created_at": now - timedelta(days=DAYS)})
        pool.append((known[made_up], made_up))
    for start in range(0, len(new), CHUNK):
        conn.execute(contacts.insert(), new[start:start + CHUNK])
    return pool


def _recompute_derived(conn: Any, tables: dict[str, Table]) -> None:
    """Per-recipient columns derived from engagements, where the schema has them (as their
    migrations backfill them: 0009's earliest human open, seen or inferred)."""
    recipients, engagements = tables["email_recipient"], tables["engagement"]
    if "first_human_open_at" in recipients.c:
        first_open = (
            select(func.min(engagements.c.occurred_at))
            .where(engagements.c.account_id == recipients.c.account_id,
                   engagements.c.email_id == recipients.c.email_id,
                   engagements.c.recipient_idx == recipients.c.idx,
                   engagements.c.type == "open", engagements.c.verdict == "human",
                   engagements.c.sender_copy.is_(False))
            .scalar_subquery()
        )
        conn.execute(update(recipients).values(first_human_open_at=first_open))
    if "last_activity_at" in tables["tracked_email"].c:
        _recompute_activity(conn, tables)


def _recompute_activity(conn: Any, tables: dict[str, Table]) -> None:
    """The emails list's activity columns (0015): each email's first counted open and reply
    and last counted activity, each recipient's first counted click and reply."""
    emails, recipients = tables["tracked_email"], tables["email_recipient"]
    e = tables["engagement"].c

    def counted(of: Table, kind: str | None, *, recipient: bool) -> Any:
        where = [e.account_id == of.c.account_id, e.counts_in_reports.is_(True),
                 e.email_id == (of.c.email_id if recipient else of.c.id)]
        if recipient:
            where += [e.recipient_idx == of.c.idx, e.sender_copy.is_(False)]
        return where + ([e.type == kind] if kind else [])

    def first(of: Table, kind: str, *, recipient: bool) -> Any:
        return select(func.min(e.occurred_at)).where(
            *counted(of, kind, recipient=recipient)).scalar_subquery()

    conn.execute(update(recipients).values(
        first_human_click_at=first(recipients, "click", recipient=True),
        replied_at=first(recipients, "reply", recipient=True)))
    latest = select(func.max(e.occurred_at)).where(
        *counted(emails, None, recipient=False)).scalar_subquery()
    conn.execute(update(emails).values(
        opened_at=first(emails, "open", recipient=False),
        replied_at=first(emails, "reply", recipient=False),
        last_activity_at=func.coalesce(latest, emails.c.sent_at)))
