"""Derive a corpus sequence the way the deriver does, hit by hit, and say what each hit
became: its verdict and reason when it was derived (provisional: what a live notification
says at once), once its settle window had passed (``SETTLE_WINDOW``: what webhooks wait
for, R30) and after the whole sequence (final: a later burst re-judges earlier clicks, R11).

Each hit is its own batch, as when hits arrive further apart than a deriver round; the
facts a batch reads are those earlier batches stored (the copy's recent clicks, whether
it has a human open), which is what ``tracking/deriver.py`` loads from the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sendtrail.tracking.core.classify import BURST_WINDOW, SETTLE_WINDOW, Signals
from sendtrail.tracking.core.derive import (
    BatchFacts,
    EmailFacts,
    EngagementDecision,
    RecipientFacts,
    as_burst,
    decide,
)
from sendtrail.tracking.core.model import EmailKind, HitKind, TokenClaims, Verdict
from sendtrail.tracking.core.raw_hit import RawHit

from .corpus import HitSequence

__all__ = ["Judged", "Stages", "replay"]

_SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ACCOUNT, _EMAIL, _SENDER, _CONTACT = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


@dataclass(frozen=True)
class Judged:
    verdict: Verdict
    reason: str
    """The classifier's category (``click_burst`` once a burst re-judged it)."""


@dataclass(frozen=True)
class Stages:
    provisional: Judged
    settled: Judged
    final: Judged


def replay(sequence: HitSequence, signals: Signals) -> list[Stages]:
    """What each hit of ``sequence`` was judged, at each stage, in the sequence's order."""
    email = EmailFacts(
        sender_id=_SENDER, kind=EmailKind.SALES, recipient_count=1,
        link_count=sequence.links, tracking_enabled=True, privacy_mode=False,
        self_open_suppression=True, truncate_ips=False,
    )
    stored: dict[uuid.UUID, EngagementDecision] = {}
    provisional: list[Judged] = []
    snapshots: list[tuple[datetime, dict[uuid.UUID, Judged]]] = []
    ids = [uuid.UUID(int=1000 + index) for index in range(len(sequence.hits))]
    for event_id, hit in sorted(zip(ids, sequence.hits, strict=True),
                                key=lambda pair: pair[1].after):
        at = _SENT + hit.after
        raw = RawHit(
            event_id=event_id,
            claims=TokenClaims(
                kind=hit.kind, account_id=_ACCOUNT, email_id=_EMAIL,
                recipient=None if hit.sender else 0, sender_copy=hit.sender,
                sent_at=int(_SENT.timestamp()), link=hit.link,
                url=None if hit.link is None else f"https://example.test/{hit.link}",
            ),
            method=hit.method, at=at, ip=hit.ip, user_agent=hit.user_agent,
            headers=RawHit.classifying({name.lower().encode("ascii"): value.encode("latin-1")
                                        for name, value in hit.headers.items()}),
        )
        decisions = decide([raw], _facts(email, stored.values(), at, hit.sender), signals)
        for row in decisions.engagements:
            stored[row.id] = row
        for burst in decisions.bursts:  # earlier batches' rows, re-judged as the deriver does
            stored = {key: as_burst(row, burst) for key, row in stored.items()}
        provisional.append(_judged(stored.get(event_id)))
        snapshots.append((at, {key: _judged(row) for key, row in stored.items()}))
    order = sorted(range(len(sequence.hits)), key=lambda index: sequence.hits[index].after)
    by_position = dict(zip(order, provisional, strict=True))

    def settled(index: int) -> Judged:
        until = _SENT + sequence.hits[index].after + SETTLE_WINDOW
        seen = [judged for at, judged in snapshots if at <= until]
        return seen[-1][ids[index]]

    return [Stages(by_position[index], settled(index), _judged(stored.get(ids[index])))
            for index in range(len(sequence.hits))]


def _facts(email: EmailFacts, stored: Iterable[EngagementDecision], at: datetime,
           sender: bool) -> BatchFacts:
    rows = list(stored)
    opens = [row.occurred_at for row in rows if row.type is HitKind.OPEN
             and row.verdict is Verdict.HUMAN and row.recipient_idx == 0]
    copy = (_ACCOUNT, _EMAIL, None if sender else 0, sender)
    clicks = [(row.link_idx or 0, row.occurred_at) for row in rows
              if row.type is HitKind.CLICK and row.copy == copy
              and abs(row.occurred_at - at) <= BURST_WINDOW]
    return BatchFacts(
        emails={(_ACCOUNT, _EMAIL): email},
        recipients={(_ACCOUNT, _EMAIL, 0): RecipientFacts(
            contact_id=_CONTACT, has_legal_basis=True,
            first_human_open_at=min(opens) if opens else None)},
        sender_ips={}, recent_clicks={copy: clicks},
        opened_copies=frozenset(
            row.copy for row in rows if row.type is HitKind.OPEN
            and row.verdict is Verdict.HUMAN and row.recipient_idx is None),
    )


def _judged(row: EngagementDecision | None) -> Judged:
    if row is None:  # the purpose kept nothing individual: never the case in the corpus
        raise AssertionError("a corpus hit stored no engagement")
    return Judged(row.verdict, row.category)

