"""The recipient's side of R29: what a footer link's token stands for, and withdrawing by it.

The token (``tracking.core.tokens.verify_withdrawal``) names one recipient of one email; the
email's recipient row names the contact. Reading the state changes nothing (a GET, which
mail scanners and link previews send); ``withdraw`` records WITHDRAWN once, through the same
``record_consent`` as every other consent change (history, proof, audit), so a second
confirmation records nothing new.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.consent_values import MAX_WORDING_LENGTH, ConsentSource, TrackingConsent
from sendtrail.contacts.store import ContactRow
from sendtrail.db.engine import Database
from sendtrail.records.consent import record_consent
from sendtrail.tracking.core.tokens import WithdrawalClaims
from sendtrail.tracking.store import EmailRecipientRow, TrackedEmailRow

__all__ = ["WITHDRAWAL_ACTOR", "LinkState", "link_state", "withdraw"]

WITHDRAWAL_ACTOR = "recipient (email link)"
"""Who recorded a withdrawal made from the link, in the history and the audit log."""


class LinkState(enum.StrEnum):
    READY = "ready"
    """A recipient whose opens may still be tracked individually: one confirmation away."""
    WITHDRAWN = "withdrawn"
    """Already withdrawn (by this link or otherwise): nothing more to record."""
    NOBODY = "nobody"
    """The contact was erased or the email deleted: nothing to withdraw."""
    SHARED = "shared"
    """One message shared by several recipients: the link cannot tell which one clicked."""
    SENDER_COPY = "sender_copy"
    """The sender's own copy, whose link withdraws nobody."""


async def _recipient_index(session: AsyncSession, claims: WithdrawalClaims) -> int | LinkState:
    """The recipient the link names; a message shared by one recipient names that one."""
    if claims.sender_copy:
        return LinkState.SENDER_COPY
    if claims.recipient is not None:
        return claims.recipient
    email = (await session.exec(select(TrackedEmailRow).where(
        TrackedEmailRow.account_id == claims.account_id,
        TrackedEmailRow.id == claims.email_id,
    ))).one_or_none()
    if email is None:
        return LinkState.NOBODY
    return 0 if email.recipient_count == 1 else LinkState.SHARED


async def _find(
    session: AsyncSession, claims: WithdrawalClaims, *, lock: bool
) -> tuple[LinkState, ContactRow | None]:
    index = await _recipient_index(session, claims)
    if isinstance(index, LinkState):
        return index, None
    recipient = (await session.exec(select(EmailRecipientRow).where(
        EmailRecipientRow.account_id == claims.account_id,
        EmailRecipientRow.email_id == claims.email_id,
        EmailRecipientRow.idx == index,
    ))).one_or_none()
    if recipient is None:  # erased (its recipient rows go with it), or the email deleted
        return LinkState.NOBODY, None
    query = select(ContactRow).where(
        ContactRow.account_id == claims.account_id, ContactRow.id == recipient.contact_id
    )
    # Two confirmations at once (a double click) must record one withdrawal.
    contact = (await session.exec(query.with_for_update() if lock else query)).one_or_none()
    if contact is None:
        return LinkState.NOBODY, None
    if contact.tracking_consent == TrackingConsent.WITHDRAWN.value:
        return LinkState.WITHDRAWN, contact
    return LinkState.READY, contact


async def link_state(database: Database, claims: WithdrawalClaims) -> LinkState:
    """What the link's page offers; reads only."""
    async with database.session(account_id=claims.account_id) as session:
        state, _contact = await _find(session, claims, lock=False)
        return state


async def withdraw(
    database: Database, claims: WithdrawalClaims, *, wording: str, now: datetime
) -> LinkState:
    """Record WITHDRAWN for the link's recipient (source EMAIL_LINK, ``wording`` as shown to
    them); ``WITHDRAWN`` when done or already so, else why there was no one to withdraw."""
    async with database.session(account_id=claims.account_id) as session:
        state, contact = await _find(session, claims, lock=True)
        if state is not LinkState.READY or contact is None:
            return state
        record_consent(session, WITHDRAWAL_ACTOR, contact, consent=TrackingConsent.WITHDRAWN,
                       source=ConsentSource.EMAIL_LINK, wording=wording[:MAX_WORDING_LENGTH],
                       now=now)
        await session.commit()
        return LinkState.WITHDRAWN
