"""Everything a batch of raw hits becomes, decided in one pure function (``decide``).

The deriver (``tracking/deriver.py``) loads what the batch needs to know (``BatchFacts``),
calls ``decide``, and writes the ``Decisions``: engagements, first opens, contact dates,
stored bursts to reclassify. Classification (R9 to R14), attribution (R15 to R17), inferred opens
(R7) and contact properties (R16) meet here and nowhere else, so a hit's path reads top to
bottom and every rule is testable without a database.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sendtrail.tracking.core.attribute import attribute, resolve_recipient
from sendtrail.tracking.core.classify import BURST_WINDOW, Hit, Signals, classify
from sendtrail.tracking.core.hints import network_of
from sendtrail.tracking.core.model import Attribution, EmailKind, HitKind, Verdict
from sendtrail.tracking.core.purposes import (
    ConsentState,
    PurposeChoice,
    TrackingPurpose,
    purpose_for,
)
from sendtrail.tracking.core.raw_hit import RawHit

__all__ = [
    "INFERRED_OPEN_REASON",
    "TRACKING_OFF_REASON",
    "AggregateCount",
    "BatchFacts",
    "BurstReclassification",
    "ContactDates",
    "CopyKey",
    "Decisions",
    "EmailFacts",
    "EmailKey",
    "EngagementDecision",
    "RecipientFacts",
    "RecipientKey",
    "as_burst",
    "clicked_copies",
    "decide",
    "stored_ip",
]

EmailKey = tuple[uuid.UUID, uuid.UUID]
"""(account, email)."""
RecipientKey = tuple[uuid.UUID, uuid.UUID, int]
"""(account, email, recipient index)."""
CopyKey = tuple[uuid.UUID, uuid.UUID, int | None, bool]
"""One message copy: (account, email, recipient index or None, the sender's copy)."""

INFERRED_LEAD = timedelta(milliseconds=1)
INFERRED_OPEN_REASON = (
    "No open had been recorded for this recipient, so the click implies one: the email "
    "was read with images blocked."
)
TRACKING_OFF_REASON = (
    "Tracking is now turned off for this account, so this hit notifies no one."
)


@dataclass(frozen=True, slots=True)
class EmailFacts:
    """The email a hit belongs to, with its account's settings as they are now."""

    sender_id: uuid.UUID
    kind: EmailKind
    recipient_count: int
    link_count: int
    tracking_enabled: bool
    privacy_mode: bool
    self_open_suppression: bool
    truncate_ips: bool
    purpose: TrackingPurpose = TrackingPurpose.INDIVIDUAL
    """What the account tracks for (R28)."""
    exempt_purpose: TrackingPurpose = TrackingPurpose.AGGREGATE
    """Where a contact without consent falls back to."""


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    contact_id: uuid.UUID
    has_legal_basis: bool
    first_human_open_at: datetime | None
    consent: ConsentState = ConsentState.UNKNOWN
    """Tracking consent (R29), read fresh for every batch: a withdrawal counts at once."""


@dataclass(frozen=True)
class BatchFacts:
    """What the database knows that the batch's decisions depend on."""

    emails: Mapping[EmailKey, EmailFacts]
    recipients: Mapping[RecipientKey, RecipientFacts]
    """Recipients of the batch's emails whose contact still exists (absent: erased)."""
    sender_ips: Mapping[uuid.UUID, frozenset[str]]
    """Addresses each sender is signed in from right now (their own opens are SELF)."""
    recent_clicks: Mapping[CopyKey, Sequence[tuple[int, datetime]]] = field(
        default_factory=dict)
    """Stored clicks of the batch's clicked copies within the burst window: (link, time)."""
    opened_copies: frozenset[CopyKey] = frozenset()
    """Copies without a recipient (shared, 'Someone', the sender's) that have a human open;
    recipients' copies say it with ``RecipientFacts.first_human_open_at``."""


@dataclass(frozen=True, slots=True)
class EngagementDecision:
    """One engagement to store (the raw hit's, or the open a click implies)."""

    id: uuid.UUID
    account_id: uuid.UUID
    email_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_idx: int | None
    contact_id: uuid.UUID | None
    type: HitKind
    occurred_at: datetime
    verdict: Verdict
    category: str
    ruleset: str
    attribution: Attribution
    counts_in_reports: bool
    reasons: tuple[str, ...]
    inferred: bool
    inferred_from: str | None
    link_idx: int | None
    sender_copy: bool
    ip: str
    user_agent: str

    @property
    def copy(self) -> CopyKey:
        return (self.account_id, self.email_id, self.recipient_idx, self.sender_copy)

    def row(self) -> dict[str, Any]:
        """The engagement table's row (enums as their stored strings)."""
        return {
            "id": self.id, "account_id": self.account_id, "email_id": self.email_id,
            "sender_id": self.sender_id, "recipient_idx": self.recipient_idx,
            "contact_id": self.contact_id, "type": self.type.value,
            "occurred_at": self.occurred_at, "verdict": self.verdict.value,
            "category": self.category, "ruleset": self.ruleset,
            "attribution": self.attribution.value, "counts_in_reports": self.counts_in_reports,
            "reasons": list(self.reasons), "inferred": self.inferred,
            "inferred_from": self.inferred_from, "link_idx": self.link_idx,
            "sender_copy": self.sender_copy, "ip": self.ip, "network": network_of(self.ip),
            "user_agent": self.user_agent,
        }


@dataclass(frozen=True, slots=True)
class ContactDates:
    """Contact dates to move forward, never back (R16); None leaves a date alone."""

    account_id: uuid.UUID
    contact_id: uuid.UUID
    last_sales_email_opened_at: datetime | None = None
    last_sales_email_clicked_at: datetime | None = None
    last_clicked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BurstReclassification:
    """A click burst (R11) on ``copy``: its human clicks since ``since``, and the opens
    inferred from them, were the scanner too."""

    copy: CopyKey
    since: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class AggregateCount:
    """One hit counted for the aggregate purpose (R28): what the hourly rollups key on,
    and nothing about who made it."""

    account_id: uuid.UUID
    email_id: uuid.UUID
    sender_id: uuid.UUID
    link_idx: int | None
    occurred_at: datetime
    type: HitKind
    verdict: Verdict

    @property
    def counts_in_reports(self) -> bool:
        return self.verdict is Verdict.HUMAN


@dataclass(frozen=True)
class Decisions:
    engagements: tuple[EngagementDecision, ...]
    contact_dates: tuple[ContactDates, ...]
    first_human_opens: Mapping[RecipientKey, datetime]
    """Recipients whose first human open (seen or inferred) is in this batch: when."""
    bursts: tuple[BurstReclassification, ...]
    """To apply to engagements stored by earlier batches (this batch's are already marked)."""
    aggregate_counts: tuple[AggregateCount, ...] = ()
    """Hits kept only as counts (the aggregate purpose, R28)."""
    last_opens: Mapping[tuple[uuid.UUID, uuid.UUID], date] = field(default_factory=dict)
    """(account, contact): the day of the last open, for the deliverability purpose."""


def stored_ip(ip: str, *, truncate: bool) -> str:
    """The address as the account wants it kept: whole, or only its network."""
    if not truncate:
        return ip[:64]
    network = network_of(ip)
    return network.split("/")[0] if network else ""


def clicked_copies(
    hits: Sequence[RawHit], emails: Mapping[EmailKey, EmailFacts]
) -> tuple[set[RecipientKey], set[EmailKey]]:
    """The message copies clicked in ``hits``: recipients' copies, and the emails whose
    recipient-less copy (shared or the sender's) was clicked — whose history a click needs.

    In privacy mode a recipient's click may turn out anonymous ('Someone', R16), and their
    earlier opens were stored without a recipient: the email's recipient-less history is
    needed too, or a click after an anonymous open would infer a second one (R7; issue 15,
    defect 1: "two 'Someone opened' rows for one open and one click")."""
    recipients: set[RecipientKey] = set()
    shared: set[EmailKey] = set()
    for hit in hits:
        claims = hit.claims
        email = emails.get((claims.account_id, claims.email_id))
        if claims.kind is not HitKind.CLICK or email is None:
            continue
        recipient = None if claims.sender_copy else resolve_recipient(
            claims.recipient, email.recipient_count)
        if recipient is None or email.privacy_mode:
            shared.add((claims.account_id, claims.email_id))
        if recipient is not None:
            recipients.add((claims.account_id, claims.email_id, recipient))
    return recipients, shared


def decide(hits: Sequence[RawHit], facts: BatchFacts, signals: Signals) -> Decisions:
    """What ``hits`` (in arrival order) become, given ``facts``."""
    batch = _Batch(facts, signals)
    for hit in hits:
        batch.add(hit)
    engagements = batch.engagements
    for burst in batch.bursts:
        engagements = [as_burst(row, burst) for row in engagements]
    first_opens: dict[RecipientKey, datetime] = {}
    for row in engagements:
        if (row.type is HitKind.OPEN and row.verdict is Verdict.HUMAN
                and row.recipient_idx is not None and not row.sender_copy):
            key = (row.account_id, row.email_id, row.recipient_idx)
            first_opens[key] = min(first_opens.get(key, row.occurred_at), row.occurred_at)
    # Only what moves a recipient's first open back (most opens are not the first).
    for key, at in list(first_opens.items()):
        known = facts.recipients.get(key)
        if known is not None and known.first_human_open_at is not None and (
                known.first_human_open_at <= at):
            del first_opens[key]
    return Decisions(
        engagements=tuple(engagements),
        contact_dates=tuple(
            ContactDates(account_id, contact_id, **dates)
            for (account_id, contact_id), dates in batch.contact_dates.items()
        ),
        first_human_opens=first_opens,
        bursts=tuple(batch.bursts),
        aggregate_counts=tuple(batch.aggregate),
        last_opens=batch.last_opens,
    )


def as_burst(row: EngagementDecision, burst: BurstReclassification) -> EngagementDecision:
    """``row`` re-judged in the light of a later burst on its copy (R11)."""
    if (row.copy == burst.copy and row.occurred_at >= burst.since
            and row.verdict is Verdict.HUMAN
            and (row.type is HitKind.CLICK or row.inferred_from == "click")):
        return replace(row, verdict=Verdict.MACHINE, category="click_burst",
                       counts_in_reports=False, reasons=(burst.reason,))
    return row


class _Batch:
    """The batch's decisions so far; later hits see what earlier ones decided."""

    def __init__(self, facts: BatchFacts, signals: Signals) -> None:
        self.facts = facts
        self.signals = signals
        self.clicks: dict[CopyKey, list[tuple[int, datetime]]] = defaultdict(list)
        for key, clicks in facts.recent_clicks.items():
            self.clicks[key].extend(clicks)
        self.opened: set[CopyKey] = set(facts.opened_copies)
        self.engagements: list[EngagementDecision] = []
        self.contact_dates: dict[tuple[uuid.UUID, uuid.UUID], dict[str, datetime]] = (
            defaultdict(dict))
        self.bursts: list[BurstReclassification] = []
        self.aggregate: list[AggregateCount] = []
        self.last_opens: dict[tuple[uuid.UUID, uuid.UUID], date] = {}

    def add(self, raw: RawHit) -> None:
        claims = raw.claims
        email = self.facts.emails.get((claims.account_id, claims.email_id))
        if email is None:
            return  # a valid token whose email is gone (erased): nothing to attach it to
        recipient = None if claims.sender_copy else resolve_recipient(
            claims.recipient, email.recipient_count)
        contact = (self.facts.recipients.get((claims.account_id, claims.email_id, recipient))
                   if recipient is not None else None)
        if recipient is not None and contact is None:
            return  # the recipient was erased: the hit is answered but never recorded
        copy_key: CopyKey = (claims.account_id, claims.email_id, recipient, claims.sender_copy)
        verdict = classify(
            Hit(kind=claims.kind, method=raw.method, at=raw.at, ip=raw.ip,
                user_agent=raw.user_agent, claims=claims,
                sender_cookie=self._cookie_is_senders(raw, email),
                sender_recent_ips=self.facts.sender_ips.get(email.sender_id, frozenset()),
                recent_clicks=tuple(self.clicks[copy_key]), link_count=email.link_count,
                headers=dict(raw.headers)),
            self.signals,
            self_open_suppression=email.self_open_suppression,
        )
        consent = contact.consent if contact else ConsentState.UNKNOWN
        choice = purpose_for(
            account=email.purpose, exempt=email.exempt_purpose,
            privacy_mode=email.privacy_mode, recipient_known=recipient is not None,
            consent=consent, has_legal_basis=contact.has_legal_basis if contact else False,
        )
        if choice.purpose is not TrackingPurpose.INDIVIDUAL:
            self._keep_for(choice, raw, email, contact, verdict.verdict)
            return
        result = attribute(
            kind=claims.kind, email_kind=email.kind, verdict=verdict.verdict,
            recipient=recipient, privacy_mode=email.privacy_mode,
            # Consent to individual tracking (R29) lets privacy mode name the contact too.
            has_legal_basis=contact is not None and (
                contact.has_legal_basis or consent is ConsentState.GRANTED),
        )
        # The sender's own copy is nobody's recipient; its reasons come from classification.
        reasons = [*verdict.reasons, *([] if claims.sender_copy else result.reasons)]
        if choice.reason:
            reasons.append(choice.reason)
        if not email.tracking_enabled:
            reasons.append(TRACKING_OFF_REASON)
        engagement = EngagementDecision(
            id=raw.event_id, account_id=claims.account_id, email_id=claims.email_id,
            sender_id=email.sender_id, recipient_idx=result.recipient,
            contact_id=contact.contact_id if contact and result.recipient is not None else None,
            type=claims.kind, occurred_at=raw.at, verdict=verdict.verdict,
            category=verdict.category, ruleset=verdict.ruleset,
            attribution=result.attribution, counts_in_reports=result.counts_in_reports,
            reasons=tuple(reasons), inferred=False, inferred_from=None, link_idx=claims.link,
            sender_copy=claims.sender_copy,
            ip=stored_ip(raw.ip, truncate=email.truncate_ips), user_agent=raw.user_agent[:1000],
        )
        self.engagements.append(engagement)
        if claims.kind is HitKind.CLICK:
            self.clicks[copy_key].append((claims.link or 0, raw.at))
            if verdict.category == "click_burst":
                self.bursts.append(BurstReclassification(
                    copy_key, raw.at - BURST_WINDOW, verdict.reasons[0]))
        human = verdict.verdict is Verdict.HUMAN
        open_key: CopyKey = (claims.account_id, claims.email_id, result.recipient,
                             claims.sender_copy)
        inferred = (human and claims.kind is HitKind.CLICK
                    and not self._has_opened(open_key, contact))
        if human:
            self.opened.add(open_key)
        if inferred:  # R7: a click implies an open
            self.engagements.append(replace(
                engagement, id=uuid.uuid5(raw.event_id, "inferred-open"),
                # just before the click it is inferred from, so lists read in order
                occurred_at=raw.at - INFERRED_LEAD, type=HitKind.OPEN,
                reasons=(INFERRED_OPEN_REASON, *result.reasons), inferred=True,
                inferred_from="click", link_idx=None, category="inferred"))
        if result.contact_update.any and contact and email.tracking_enabled:
            wanted = result.contact_update
            dates = self.contact_dates[(claims.account_id, contact.contact_id)]
            for name, moves in (
                ("last_sales_email_opened_at", wanted.last_sales_email_opened
                 or (inferred and email.kind is EmailKind.SALES)),
                ("last_sales_email_clicked_at", wanted.last_sales_email_clicked),
                ("last_clicked_at", wanted.last_clicked),
            ):
                if moves:
                    dates[name] = max(dates.get(name, raw.at), raw.at)

    def _keep_for(self, choice: PurposeChoice, raw: RawHit, email: EmailFacts,
                  contact: RecipientFacts | None, verdict: Verdict) -> None:
        """Keep what an exempt purpose allows of ``raw`` (R28), and nothing else: no
        engagement, no contact or recipient date, no notification."""
        claims = raw.claims
        if choice.purpose is TrackingPurpose.AGGREGATE:
            self.aggregate.append(AggregateCount(
                account_id=claims.account_id, email_id=claims.email_id,
                sender_id=email.sender_id, link_idx=claims.link, occurred_at=raw.at,
                type=claims.kind, verdict=verdict))
        elif (choice.purpose is TrackingPurpose.DELIVERABILITY and contact is not None
              and verdict is Verdict.HUMAN):
            # A person's open or click (a click implies an open, R7): the day, overwritten.
            key = (claims.account_id, contact.contact_id)
            day = raw.at.date()
            self.last_opens[key] = max(self.last_opens.get(key, day), day)

    def _has_opened(self, key: CopyKey, contact: RecipientFacts | None) -> bool:
        if key in self.opened:
            return True
        # A recipient's copy: its first human open is kept on the recipient.
        return (key[2] is not None and not key[3] and contact is not None
                and contact.first_human_open_at is not None)

    def _cookie_is_senders(self, raw: RawHit, email: EmailFacts) -> bool:
        if raw.sender_cookie_email is None:
            return False
        cookie_email = self.facts.emails.get((raw.claims.account_id, raw.sender_cookie_email))
        return cookie_email is not None and cookie_email.sender_id == email.sender_id
