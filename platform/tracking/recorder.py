"""Turn a batch of raw hits into stored engagements, in one transaction (group commit).

For the batch: load what classification and attribution need in a few bulk queries
(emails and account settings, recipients and their contacts' legal basis, the senders'
recent session addresses, recent clicks and existing human opens), run the pure core on
each hit, insert engagements with ``ON CONFLICT DO NOTHING`` on the event id (so a
replayed spool stores each hit exactly once), add inferred opens (R7) and move contact
properties forward (R16). SQLAlchemy Core only: no ORM objects on this path.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, false, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from sendtrail.contacts.store import ContactRow
from sendtrail.tenancy.store import AccountSettingsRow, LoginRow, SessionRow
from sendtrail.tracking.context_cache import EmailKey, TtlCache
from sendtrail.tracking.core.attribute import attribute, resolve_recipient
from sendtrail.tracking.core.classify import BURST_WINDOW, Hit, Signals, classify
from sendtrail.tracking.core.hints import network_of
from sendtrail.tracking.core.model import Attribution, EmailKind, HitKind, Verdict
from sendtrail.tracking.hits import RawHit
from sendtrail.tracking.rollups import apply_rollup_deltas, rollup_delta
from sendtrail.tracking.store import EmailRecipientRow, EngagementRow, TrackedEmailRow
from sendtrail.tracking.stream import EngagementEvent

__all__ = ["record_hits"]

EMAILS = TrackedEmailRow.__table__  # type: ignore[attr-defined]
RECIPIENTS = EmailRecipientRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
CONTACTS = ContactRow.__table__  # type: ignore[attr-defined]
SETTINGS = AccountSettingsRow.__table__  # type: ignore[attr-defined]
SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]
LOGINS = LoginRow.__table__  # type: ignore[attr-defined]
INFERRED_LEAD = timedelta(milliseconds=1)
INFERRED_OPEN_REASON = (
    "No open had been recorded for this recipient, so the click implies one: the email "
    "was read with images blocked (R7)."
)
TRACKING_OFF_REASON = (
    "Tracking is now turned off for this account, so this hit notifies no one (R18)."
)


@dataclass(frozen=True)
class _Email:
    sender_id: uuid.UUID
    kind: EmailKind
    recipient_count: int
    link_count: int
    tracking_enabled: bool
    privacy_mode: bool
    self_open_suppression: bool
    truncate_ips: bool


async def _emails(conn: AsyncConnection, keys: set[tuple[uuid.UUID, uuid.UUID]]) -> dict[
    tuple[uuid.UUID, uuid.UUID], _Email
]:
    rows = await conn.execute(
        select(
            EMAILS.c.account_id, EMAILS.c.id, EMAILS.c.sender_id, EMAILS.c.kind,
            EMAILS.c.recipient_count, EMAILS.c.link_count, SETTINGS.c.tracking_enabled,
            SETTINGS.c.privacy_mode, SETTINGS.c.self_open_suppression, SETTINGS.c.truncate_ips,
        )
        .join(SETTINGS, SETTINGS.c.account_id == EMAILS.c.account_id)
        .where(tuple_(EMAILS.c.account_id, EMAILS.c.id).in_(list(keys)))
    )
    return {
        (row.account_id, row.id): _Email(
            row.sender_id, EmailKind(row.kind), row.recipient_count, row.link_count,
            row.tracking_enabled, row.privacy_mode, row.self_open_suppression,
            row.truncate_ips,
        )
        for row in rows
    }


async def _legal_bases(
    conn: AsyncConnection, keys: set[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID, int], tuple[uuid.UUID, bool]]:
    """(account, email, recipient index) → (contact id, has a legal basis)."""
    rows = await conn.execute(
        select(RECIPIENTS.c.account_id, RECIPIENTS.c.email_id, RECIPIENTS.c.idx,
               CONTACTS.c.id, CONTACTS.c.legal_basis)
        .join(CONTACTS, and_(CONTACTS.c.account_id == RECIPIENTS.c.account_id,
                             CONTACTS.c.id == RECIPIENTS.c.contact_id))
        .where(tuple_(RECIPIENTS.c.account_id, RECIPIENTS.c.email_id).in_(list(keys)))
    )
    return {
        (row.account_id, row.email_id, row.idx): (row.id, row.legal_basis != "none")
        for row in rows
    }


async def _sender_ips(
    conn: AsyncConnection, senders: set[uuid.UUID], now: datetime
) -> dict[uuid.UUID, frozenset[str]]:
    """Addresses the senders are signed in from right now (their own opens are SELF)."""
    rows = await conn.execute(
        select(LOGINS.c.user_id, SESSIONS.c.ip)
        .join(SESSIONS, SESSIONS.c.login_id == LOGINS.c.id)
        .where(LOGINS.c.user_id.in_(list(senders)), SESSIONS.c.expires_at > now,
               SESSIONS.c.ip.is_not(None))
    )
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    for row in rows:
        found[row.user_id].add(row.ip)
    return {sender: frozenset(ips) for sender, ips in found.items()}


def _copies_clicked(
    hits: Sequence[RawHit], emails: dict[EmailKey, _Email]
) -> tuple[list[tuple[uuid.UUID, uuid.UUID, int]], list[EmailKey]]:
    """The message copies clicked in this batch: (account, email, recipient) triples, and
    the emails whose shared (recipient-less) copy was clicked."""
    triples: set[tuple[uuid.UUID, uuid.UUID, int]] = set()
    shared: set[EmailKey] = set()
    for hit in hits:
        claims = hit.claims
        email = emails.get((claims.account_id, claims.email_id))
        if claims.kind is not HitKind.CLICK or email is None:
            continue
        recipient = None if claims.sender_copy else resolve_recipient(
            claims.recipient, email.recipient_count
        )
        if recipient is None:
            shared.add((claims.account_id, claims.email_id))
        else:
            triples.add((claims.account_id, claims.email_id, recipient))
    return list(triples), list(shared)


async def _history(
    conn: AsyncConnection, hits: Sequence[RawHit], emails: dict[EmailKey, _Email],
    since: datetime,
) -> tuple[dict[Any, list[tuple[int, datetime]]], set[Any]]:
    """For the copies clicked in this batch: their recent clicks (bursts) and whether they
    already have a human open (inferred opens). Opens-only batches need neither."""
    clicks: dict[Any, list[tuple[int, datetime]]] = defaultdict(list)
    opened: set[Any] = set()
    triples, shared = _copies_clicked(hits, emails)
    if not triples and not shared:
        return clicks, opened
    e = ENGAGEMENTS.c
    same_copy = or_(
        tuple_(e.account_id, e.email_id, e.recipient_idx).in_(triples) if triples else false(),
        and_(tuple_(e.account_id, e.email_id).in_(shared), e.recipient_idx.is_(None))
        if shared else false(),
    )
    copy = (e.account_id, e.email_id, e.recipient_idx, e.sender_copy)
    recent = await conn.execute(
        select(*copy, e.link_idx, e.occurred_at)
        .where(same_copy, e.type == "click", e.occurred_at >= since)
    )
    for row in recent:
        clicks[tuple(row[:4])].append((row.link_idx, row.occurred_at))
    human_opens = await conn.execute(
        select(*copy).distinct().where(same_copy, e.type == "open", e.verdict == "human")
    )
    opened.update(tuple(row) for row in human_opens)
    return clicks, opened


def _stored_ip(ip: str, *, truncate: bool) -> str:
    """The address as the account wants it kept: whole, or only its network."""
    if not truncate:
        return ip[:64]
    network = network_of(ip)
    return network.split("/")[0] if network else ""


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _reclassify_burst(
    rows: list[dict[str, Any]], key: tuple[Any, ...], since: datetime, reason: str
) -> None:
    """A burst shows that the clicks before it (and the opens inferred from them) were
    the scanner too: mark the ones of this batch (stored ones are updated in SQL)."""
    for row in rows:
        if (
            (row["account_id"], row["email_id"], row["recipient_idx"], row["sender_copy"]) == key
            and row["occurred_at"] >= since and row["verdict"] == "human"
            and (row["type"] == "click" or row["inferred_from"] == "click")
        ):
            row.update(verdict="machine", category="click_burst", counts_in_reports=False,
                       reasons=[reason])


def _insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


@dataclass
class _Batch:
    """What one batch knows and has decided so far (loaded once, updated per hit)."""

    signals: Signals
    emails: dict[tuple[uuid.UUID, uuid.UUID], _Email]
    bases: dict[tuple[uuid.UUID, uuid.UUID, int], tuple[uuid.UUID, bool]]
    sender_ips: dict[uuid.UUID, frozenset[str]]
    clicks: dict[Any, list[tuple[int, datetime]]]
    opened: set[Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    contact_updates: dict[tuple[uuid.UUID, uuid.UUID], dict[str, datetime]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    bursts: list[tuple[tuple[Any, ...], datetime, str]] = field(default_factory=list)

    def add(self, raw: RawHit) -> None:
        claims = raw.claims
        email = self.emails.get((claims.account_id, claims.email_id))
        if email is None:
            return  # a valid token whose email is gone (erased): nothing to attach it to
        recipient = None if claims.sender_copy else resolve_recipient(
            claims.recipient, email.recipient_count
        )
        # One message copy: its stored rows carry the resolved recipient index.
        copy_key = (claims.account_id, claims.email_id, recipient, claims.sender_copy)
        verdict = classify(
            Hit(
                kind=claims.kind, method=raw.method, at=raw.at, ip=raw.ip,
                user_agent=raw.user_agent, claims=claims,
                sender_cookie=self._cookie_is_senders(raw, email),
                sender_recent_ips=self.sender_ips.get(email.sender_id, frozenset()),
                recent_clicks=tuple(self.clicks[copy_key]),
                link_count=email.link_count,
            ),
            self.signals,
            self_open_suppression=email.self_open_suppression,
        )
        contact = (
            self.bases.get((claims.account_id, claims.email_id, recipient))
            if recipient is not None else None
        )
        if recipient is not None and contact is None:
            return  # the recipient was erased: the hit is answered but never recorded
        result = attribute(
            kind=claims.kind, email_kind=email.kind, verdict=verdict.verdict,
            recipient=recipient, privacy_mode=email.privacy_mode,
            has_legal_basis=contact[1] if contact else False,
        )
        # The sender's own copy is nobody's recipient; its reasons come from classification.
        reasons = [*verdict.reasons, *([] if claims.sender_copy else result.reasons)]
        if not email.tracking_enabled:
            reasons.append(TRACKING_OFF_REASON)
        base = {
            "account_id": claims.account_id, "email_id": claims.email_id,
            "sender_id": email.sender_id, "recipient_idx": result.recipient,
            "contact_id": contact[0] if contact and result.recipient is not None else None,
            "occurred_at": raw.at, "verdict": verdict.verdict.value,
            "category": verdict.category, "ruleset": verdict.ruleset,
            "attribution": result.attribution.value,
            "counts_in_reports": result.counts_in_reports, "sender_copy": claims.sender_copy,
            "ip": _stored_ip(raw.ip, truncate=email.truncate_ips),
            "user_agent": raw.user_agent[:1000],
        }
        self.rows.append({**base, "id": raw.event_id, "type": claims.kind.value,
                          "reasons": reasons, "inferred": False, "inferred_from": None,
                          "link_idx": claims.link})
        if claims.kind is HitKind.CLICK:
            self.clicks[copy_key].append((claims.link or 0, raw.at))
            if verdict.category == "click_burst":
                self.bursts.append((copy_key, raw.at - BURST_WINDOW, verdict.reasons[0]))
        human = verdict.verdict is Verdict.HUMAN
        open_key = (claims.account_id, claims.email_id, result.recipient, claims.sender_copy)
        inferred = human and claims.kind is HitKind.CLICK and open_key not in self.opened
        if human:
            self.opened.add(open_key)
        if inferred:  # R7: a click implies an open
            self.rows.append({**base, "id": uuid.uuid5(raw.event_id, "inferred-open"),
                              # just before the click it is inferred from, so lists read in order
                              "occurred_at": raw.at - INFERRED_LEAD,
                              "type": "open", "reasons": [INFERRED_OPEN_REASON, *result.reasons],
                              "inferred": True, "inferred_from": "click", "link_idx": None,
                              "category": "inferred"})
        if result.contact_update.any and contact and email.tracking_enabled:
            update_ = result.contact_update
            fields = self.contact_updates[(claims.account_id, contact[0])]
            for name, wanted in (
                ("last_sales_email_opened_at", update_.last_sales_email_opened
                 or (inferred and email.kind is EmailKind.SALES)),
                ("last_sales_email_clicked_at", update_.last_sales_email_clicked),
                ("last_clicked_at", update_.last_clicked),
            ):
                if wanted:
                    fields[name] = max(fields.get(name, raw.at), raw.at)

    def _cookie_is_senders(self, raw: RawHit, email: _Email) -> bool:
        if raw.sender_cookie_email is None:
            return False
        cookie_email = self.emails.get((raw.claims.account_id, raw.sender_cookie_email))
        return cookie_email is not None and cookie_email.sender_id == email.sender_id


class BatchContext:
    """Where a batch's context comes from. The email and its account's settings are
    memoised for ``ttl`` seconds (a settings change reaches new hits within that time);
    legal bases and the senders' sessions are read fresh, so an erasure, a new legal
    basis or a sign-in count from the very next hit."""

    def __init__(self, *, ttl: float = 5.0) -> None:
        self.emails: TtlCache[EmailKey, _Email | None] = TtlCache(ttl=ttl)

    async def load(
        self, conn: AsyncConnection, hits: Sequence[RawHit]
    ) -> tuple[dict[EmailKey, _Email], dict[Any, tuple[uuid.UUID, bool]],
               dict[uuid.UUID, frozenset[str]]]:
        email_keys = {(hit.claims.account_id, hit.claims.email_id) for hit in hits}
        cookie_keys = {
            (hit.claims.account_id, hit.sender_cookie_email)
            for hit in hits if hit.sender_cookie_email is not None
        }
        async def load_emails(keys: set[EmailKey]) -> dict[EmailKey, _Email | None]:
            return dict(await _emails(conn, keys))

        found = await self.emails.get_many(email_keys | cookie_keys, load_emails, None)
        emails = {key: email for key, email in found.items() if email is not None}
        senders = {email.sender_id for email in emails.values()}
        latest = max(hit.at for hit in hits)
        bases = await _legal_bases(conn, email_keys)
        ips = await _sender_ips(conn, senders, latest) if senders else {}
        return emails, bases, ips


async def record_hits(
    conn: AsyncConnection, hits: Sequence[RawHit], signals: Signals,
    context: BatchContext | None = None,
) -> list[EngagementEvent]:
    """Store ``hits`` (inside the caller's transaction); return what was newly stored."""
    emails, bases, sender_ips = await (context or BatchContext(ttl=0)).load(conn, hits)
    clicks, opened = await _history(conn, hits, emails, min(hit.at for hit in hits) - BURST_WINDOW)
    batch = _Batch(
        signals=signals, emails=emails, bases=bases, sender_ips=sender_ips,
        clicks=clicks, opened=opened,
    )
    for raw in hits:
        batch.add(raw)
    if not batch.rows:
        return []
    for key, since, reason in batch.bursts:
        _reclassify_burst(batch.rows, key, since, reason)
    # One cached statement run for many rows (no per-batch SQL compilation).
    inserted = await conn.execute(
        _insert(conn.dialect.name)(ENGAGEMENTS)
        .on_conflict_do_nothing(index_elements=["account_id", "id"])
        .returning(ENGAGEMENTS.c.id),
        batch.rows,
    )
    new_ids = {row.id for row in inserted}
    await _update_contacts(conn, batch.contact_updates)
    # Rollups (issue 14), in this transaction: +1 for each newly stored row; a stored row a
    # burst reclassifies leaves its old key (-1) for its new one (+1).
    deltas = [rollup_delta(row, 1) for row in batch.rows if row["id"] in new_ids]
    for key, since, reason in batch.bursts:
        for old in await _reclassify_stored_burst(conn, key, since, reason):
            deltas.append(rollup_delta(old, -1))
            deltas.append(rollup_delta({**old, **_BURST_VERDICT}, 1))
    await apply_rollup_deltas(conn, deltas)
    return [
        EngagementEvent(
            account_id=row["account_id"], engagement_id=row["id"], email_id=row["email_id"],
            sender_id=row["sender_id"], type=row["type"], verdict=row["verdict"],
            attribution=row["attribution"], occurred_at=row["occurred_at"],
            # Whether the account tracks is read fresh by each consumer (the batch memo
            # may be seconds old): only the verdict is settled here.
            notify=row["verdict"] == "human",
        )
        for row in batch.rows
        if row["id"] in new_ids
    ]


async def _update_contacts(
    conn: AsyncConnection, updates: dict[tuple[uuid.UUID, uuid.UUID], dict[str, datetime]]
) -> None:
    """Move contact dates forward only (a replayed or late hit never moves them back)."""
    for (account_id, contact_id), fields in updates.items():
        await conn.execute(
            update(CONTACTS)
            .where(CONTACTS.c.account_id == account_id, CONTACTS.c.id == contact_id)
            .values({
                name: case(
                    (or_(CONTACTS.c[name].is_(None), CONTACTS.c[name] < moment), moment),
                    else_=CONTACTS.c[name],
                )
                for name, moment in fields.items()
            })
        )


_BURST_VERDICT = {"verdict": "machine", "counts_in_reports": False}


async def _reclassify_stored_burst(
    conn: AsyncConnection, key: tuple[Any, ...], since: datetime, reason: str
) -> list[dict[str, Any]]:
    """Mark the copy's stored human clicks since ``since`` (and the opens inferred from
    them) as the burst's; return the rows changed, as they were before (for the rollups)."""
    e = ENGAGEMENTS.c
    changed = await conn.execute(
        update(ENGAGEMENTS)
        .where(ENGAGEMENTS.c.account_id == key[0], ENGAGEMENTS.c.email_id == key[1],
               _same(ENGAGEMENTS.c.recipient_idx, key[2]),
               ENGAGEMENTS.c.sender_copy == key[3], ENGAGEMENTS.c.occurred_at >= since,
               ENGAGEMENTS.c.verdict == "human",
               or_(ENGAGEMENTS.c.type == "click", ENGAGEMENTS.c.inferred_from == "click"))
        .values(category="click_burst", reasons=[reason], **_BURST_VERDICT)
        .returning(e.account_id, e.email_id, e.sender_id, e.link_idx, e.occurred_at, e.type,
                   e.sender_copy, e.inferred, e.attribution)
    )
    # They were HUMAN (the WHERE says so), and a human row counts in reports exactly when
    # it is attributed to a recipient (core/attribute.py, R17).
    return [{**row._asdict(), "verdict": "human",
             "counts_in_reports": row.attribution == Attribution.RECIPIENT.value}
            for row in changed]
