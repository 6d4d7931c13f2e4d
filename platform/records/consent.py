"""Tracking consent with its proof (R29): set it for one contact or many, read its history.

Apart from the marketing legal basis (``privacy.set_legal_basis``, R16): the regulator asks
for a consent to tracking given separately, so neither ever changes the other. Every
recording is kept, even one that repeats the current consent: a fresh "granted" from a form
is new proof (its wording, its date) worth keeping. The export and erasure of a contact
(``privacy``) carry and remove the history with the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.consent_values import (
    MAX_BULK_CONTACTS,
    MAX_WORDING_LENGTH,
    ConsentSource,
    TrackingConsent,
)
from sendtrail.contacts.store import ContactRow
from sendtrail.errors import InvalidInput, NotFound
from sendtrail.i18n import _
from sendtrail.records.store import TrackingConsentChangeRow
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal

__all__ = [
    "consent_source",
    "record_consent",
    "set_tracking_consent",
    "tracking_consent_history",
]

SOURCES = ", ".join(source.value for source in ConsentSource)


def consent_source(text: str) -> ConsentSource:
    """The source named by ``text`` (case and spaces forgiven), or a refusal listing them."""
    try:
        return ConsentSource(text.strip().upper())
    except ValueError:
        raise InvalidInput(_(
            "The consent source {source} is not one Sendtrail knows; use one of {sources}."
        ).format(source=repr(text), sources=SOURCES)) from None


def _wording(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    wording = text.strip()
    if len(wording) > MAX_WORDING_LENGTH:
        raise InvalidInput(_(
            "The consent wording is {length} characters long; keep it to {limit} (the "
            "sentence the person agreed to, not the whole policy)."
        ).format(length=len(wording), limit=MAX_WORDING_LENGTH))
    return wording


async def set_tracking_consent(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    contact_ids: Sequence[uuid.UUID], consent: TrackingConsent, source: str,
    wording: str | None, now: datetime,
) -> list[ContactRow]:
    """Record ``consent`` for every contact named, all of them or none; audited per contact.

    The contacts come back in the order asked for (a repeated id once)."""
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.WRITE)
    wanted = list(dict.fromkeys(contact_ids))
    if not wanted:
        raise InvalidInput(_("Name at least one contact whose tracking consent to record."))
    if len(wanted) > MAX_BULK_CONTACTS:
        raise InvalidInput(_(
            "{count} contacts is more than one change may name ({limit}); split the list."
        ).format(count=len(wanted), limit=MAX_BULK_CONTACTS))
    rows = (await session.exec(select(ContactRow).where(
        ContactRow.account_id == account_id, col(ContactRow.id).in_(wanted)
    ))).all()
    found = {row.id: row for row in rows}
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:
        raise NotFound(_("No contact with id {id}.").format(id=missing[0]))
    contacts = [found[contact_id] for contact_id in wanted]
    # Checked once the contacts are found: another account's contact is not found, whatever
    # else the call says (docs/architecture.md, tenant isolation).
    checked_source = consent_source(source)
    checked_wording = _wording(wording)
    for contact in contacts:
        record_consent(session, actor.actor_label, contact, consent=consent,
                       source=checked_source, wording=checked_wording, now=now)
    await session.commit()
    return contacts


def record_consent(
    session: AsyncSession, actor: str, contact: ContactRow, *, consent: TrackingConsent,
    source: ConsentSource, wording: str | None, now: datetime,
) -> None:
    """Add one recorded consent, its audit entry and the contact's new state to the caller's
    transaction; ``actor`` is the audit label (who, already checked by the caller)."""
    session.add(TrackingConsentChangeRow(
        account_id=contact.account_id, contact_id=contact.id, at=now, consent=consent.value,
        source=source.value, wording=wording, actor=actor,
    ))
    # Named by id, as the legal basis is: an erasure must leave no address behind.
    audit.record(session, actor, contact.account_id, action="contact.tracking_consent_recorded",
                 target=f"contact {contact.id}",
                 before={"trackingConsent": contact.tracking_consent},
                 after={"trackingConsent": consent.value, "source": source.value})
    contact.tracking_consent = consent.value
    session.add(contact)


async def tracking_consent_history(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, contact_id: uuid.UUID
) -> list[TrackingConsentChangeRow]:
    """Every recorded tracking consent of a contact, newest first (R29)."""
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.READ)
    rows = await session.exec(select(TrackingConsentChangeRow).where(
        TrackingConsentChangeRow.account_id == account_id,
        TrackingConsentChangeRow.contact_id == contact_id,
    ).order_by(col(TrackingConsentChangeRow.at).desc(), col(TrackingConsentChangeRow.id)))
    return list(rows.all())
