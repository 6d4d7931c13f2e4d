"""A logged reply to a tracked email becomes a REPLY engagement, and an inferred open when
no human open exists yet (R7, R24)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.store import ContactRow
from sendtrail.i18n import N_
from sendtrail.records.store import LoggedEmailRow
from sendtrail.tenancy.accounts import get_settings
from sendtrail.tracking.activity import move_activity
from sendtrail.tracking.core.attribute import attribute
from sendtrail.tracking.core.message_ids import parse_message_id
from sendtrail.tracking.core.model import EmailKind, HitKind, Verdict
from sendtrail.tracking.core.purposes import ConsentState, TrackingPurpose, purpose_for
from sendtrail.tracking.rollups import RollupDelta, apply_rollup_deltas, rollup_delta
from sendtrail.tracking.store import EmailRecipientRow, EngagementRow, TrackedEmailRow
from sendtrail.tracking.stream import EngagementEvent

__all__ = ["record_reply"]
# Stored in English like every classification reason; translated where shown (``_()``).
REPLY_REASON = N_("A reply from the recipient was logged.")
INFERRED_REASON = N_(
    "No open had been recorded for this recipient, so the reply implies one: the email "
    "was read with images blocked."
)


async def record_reply(
    session: AsyncSession, account_id: uuid.UUID, logged: LoggedEmailRow, *, now: datetime
) -> list[EngagementEvent]:
    """If ``logged`` replies to one of the account's tracked emails, record the reply.

    Returns the engagements added (the reply, and the open it implies if none was seen),
    for the caller to announce once they are stored.
    """
    email = await _replied_email(session, account_id, logged)
    if email is None:
        return []
    email_id = email.id
    recipients = (await session.exec(select(EmailRecipientRow).where(
        EmailRecipientRow.account_id == account_id, EmailRecipientRow.email_id == email_id,
    ))).all()
    recipient = next((r for r in recipients if r.address == logged.sender_address), None)
    if recipient is None:
        return []  # not from a recipient: a forward's reader is nobody we can name
    at = min(logged.sent_at or now, now)  # a Date header in the future moves nothing
    contact = await session.get(ContactRow, (account_id, recipient.contact_id))
    settings = await get_settings(session, account_id)
    consent = ConsentState(contact.tracking_consent) if contact else ConsentState.UNKNOWN
    has_basis = contact is not None and contact.legal_basis != "none"
    choice = purpose_for(
        account=settings.tracking_purpose, exempt=settings.exempt_purpose,
        privacy_mode=settings.privacy_mode, recipient_known=True, consent=consent,
        has_legal_basis=has_basis)
    if choice.purpose is not TrackingPurpose.INDIVIDUAL:
        # R28: the reply stays logged (that is logging, R4); as tracking it is kept only as
        # the exempt purpose allows, like an open.
        await _keep_for(session, choice.purpose, email, contact, at)
        return []
    result = attribute(
        kind=HitKind.OPEN, email_kind=EmailKind(email.kind), verdict=Verdict.HUMAN,
        recipient=recipient.idx, privacy_mode=settings.privacy_mode,
        has_legal_basis=has_basis or consent is ConsentState.GRANTED,
    )
    anonymous = result.recipient is None
    base: dict[str, Any] = dict(
        account_id=account_id, email_id=email_id, sender_id=email.sender_id,
        recipient_idx=result.recipient,
        contact_id=None if anonymous else recipient.contact_id, verdict="human",
        category="reply", ruleset="reply", attribution=result.attribution.value,
        counts_in_reports=result.counts_in_reports, sender_copy=False,
    )
    reply = EngagementRow(
        **base, id=uuid.uuid5(logged.id, "reply"), type="reply", occurred_at=at,
        reasons=[REPLY_REASON, *result.reasons],
    )
    session.add(reply)
    added = [reply]
    opened = (await session.exec(select(EngagementRow.id).where(
        EngagementRow.account_id == account_id, EngagementRow.email_id == email_id,
        EngagementRow.recipient_idx == recipient.idx, EngagementRow.type == "open",
        EngagementRow.verdict == "human", col(EngagementRow.occurred_at) <= at,
    ))).first()
    inferred: EngagementRow | None = None
    if opened is None:
        inferred = EngagementRow(
            **base, id=uuid.uuid5(logged.id, "inferred-open"), type="open",
            occurred_at=at - timedelta(milliseconds=1),
            reasons=[INFERRED_REASON, *result.reasons], inferred=True, inferred_from="reply",
        )
        session.add(inferred)
        added.append(inferred)
    # Rows are written in the deriver's order — engagements, the recipient, the contact,
    # then the rollups — so that the two, locking the same rows on PostgreSQL, never wait
    # for each other in a circle (left to the ORM, the rollups went first, at the flush).
    await session.flush()
    if inferred is not None and not anonymous and (
        recipient.first_human_open_at is None
        or recipient.first_human_open_at > inferred.occurred_at
    ):
        # The deriver reads this, not the opens, to know a later click implies no open.
        recipient.first_human_open_at = inferred.occurred_at
        session.add(recipient)
        await session.flush()
    rows = [row.model_dump() for row in added]
    connection = await session.connection()
    await move_activity(connection, rows)  # who replied, for the emails list
    if inferred is not None and contact is not None \
            and result.contact_update.last_sales_email_opened and (
                contact.last_sales_email_opened_at is None
                or contact.last_sales_email_opened_at < at):
        # R16: an inferred open moves the date forward like any counted open
        contact.last_sales_email_opened_at = at
        session.add(contact)
        await session.flush()
    # The rollups count every stored engagement, in the same transaction (issue 14).
    await apply_rollup_deltas(connection, [rollup_delta(row, 1) for row in rows])
    return [_event(row) for row in added]


async def _keep_for(session: AsyncSession, purpose: TrackingPurpose, email: TrackedEmailRow,
                    contact: ContactRow | None, at: datetime) -> None:
    if purpose is TrackingPurpose.AGGREGATE:
        await apply_rollup_deltas(await session.connection(), [RollupDelta(
            account_id=email.account_id, email_id=email.id, sender_id=email.sender_id,
            link_idx=None, occurred_at=at, type="reply", verdict="human",
            counts_in_reports=True, sender_copy=False, inferred=False, change=+1)])
    elif purpose is TrackingPurpose.DELIVERABILITY and contact is not None:
        contact.last_open_on = at.date()  # a reply implies the email was read (R7)
        session.add(contact)
        await session.flush()


async def _replied_email(
    session: AsyncSession, account_id: uuid.UUID, logged: LoggedEmailRow
) -> TrackedEmailRow | None:
    """The tracked email ``logged`` answers: by our Message-ID's shape, or else (mail sent
    through the relay keeps its client's Message-ID, R26) by the stored Message-ID."""
    candidates = [c for c in [logged.in_reply_to, *reversed(logged.references)] if c]
    for candidate in candidates:
        found = parse_message_id(candidate)
        statement = select(TrackedEmailRow).where(TrackedEmailRow.account_id == account_id)
        if found is not None:
            statement = statement.where(TrackedEmailRow.id == found.email_id,
                                        TrackedEmailRow.message_id == found.base)
        else:
            statement = statement.where(TrackedEmailRow.message_id == candidate[:998])
        email = (await session.exec(statement)).first()
        if email is not None:
            return email
    return None


def _event(row: EngagementRow) -> EngagementEvent:
    return EngagementEvent(
        account_id=row.account_id, engagement_id=row.id, email_id=row.email_id,
        sender_id=row.sender_id, type=row.type, verdict=row.verdict,
        attribution=row.attribution, occurred_at=row.occurred_at, notify=True,
    )
