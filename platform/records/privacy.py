"""Privacy rights: legal basis with history (R16), a data export, and erasure (with the
tracking consent history of ``records.consent``, R29)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.service import normalise_address
from sendtrail.contacts.store import ContactRow
from sendtrail.contacts.values import LegalBasis
from sendtrail.errors import NotFound
from sendtrail.i18n import _
from sendtrail.records.blobs import BlobStore
from sendtrail.records.store import (
    AttachmentRow,
    ContactTombstoneRow,
    LegalBasisChangeRow,
    LoggedEmailRow,
    LoggedRecipientRow,
    TrackingConsentChangeRow,
)
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.store import EmailRecipientRow, EngagementRow

__all__ = [
    "address_hash",
    "erase_contact",
    "export_contact",
    "get_contact",
    "is_erased",
    "legal_basis_history",
    "set_legal_basis",
]


ERASED_SENDER = "erased-contact@invalid"


def address_hash(key: bytes, account_id: uuid.UUID, address: str) -> str:
    """A keyed hash: the tombstone can be matched, not reversed (no address is kept)."""
    message = f"{account_id}:{normalise_address(address)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def get_contact(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, contact_id: uuid.UUID
) -> ContactRow:
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.READ)
    row = (await session.exec(select(ContactRow).where(
        ContactRow.account_id == account_id, ContactRow.id == contact_id
    ))).one_or_none()
    if row is None:
        raise NotFound(_("No contact with id {id}.").format(id=contact_id))
    return row


async def set_legal_basis(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    contact_id: uuid.UUID, basis: LegalBasis, now: datetime,
) -> ContactRow:
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.WRITE)
    contact = await get_contact(session, actor, account_id, contact_id)
    if contact.legal_basis != basis.value:
        session.add(LegalBasisChangeRow(
            account_id=account_id, contact_id=contact.id, at=now, actor=actor.actor_label,
            before=contact.legal_basis, after=basis.value,
        ))
        # The audit entry names the contact by id: an erasure must leave no address behind.
        audit.record(session, actor, account_id, action="contact.legal_basis_changed",
                     target=f"contact {contact.id}",
                     before={"legalBasis": contact.legal_basis},
                     after={"legalBasis": basis.value})
        contact.legal_basis = basis.value
        contact.legal_basis_changed_at = now
        contact.legal_basis_changed_by = actor.actor_label
        session.add(contact)
        await session.commit()
    return contact


async def legal_basis_history(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, contact_id: uuid.UUID
) -> list[LegalBasisChangeRow]:
    """Every change of a contact's legal basis, newest first (R16)."""
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.READ)
    rows = await session.exec(select(LegalBasisChangeRow).where(
        LegalBasisChangeRow.account_id == account_id,
        LegalBasisChangeRow.contact_id == contact_id,
    ).order_by(col(LegalBasisChangeRow.at).desc(), col(LegalBasisChangeRow.id)))
    return list(rows.all())


async def export_contact(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, contact_id: uuid.UUID
) -> dict[str, Any]:
    """Everything held about a contact, as JSON-ready data (GDPR Art. 15/20)."""
    contact = await get_contact(session, actor, account_id, contact_id)
    logged_ids = (await session.exec(select(LoggedRecipientRow.logged_email_id).where(
        LoggedRecipientRow.account_id == account_id, LoggedRecipientRow.contact_id == contact.id
    ))).all()
    logged = (await session.exec(select(LoggedEmailRow).where(
        LoggedEmailRow.account_id == account_id, col(LoggedEmailRow.id).in_(logged_ids)
    ))).all()
    events = (await session.exec(select(EngagementRow).where(
        EngagementRow.account_id == account_id, EngagementRow.contact_id == contact.id
    ))).all()
    changes = (await session.exec(select(LegalBasisChangeRow).where(
        LegalBasisChangeRow.account_id == account_id,
        LegalBasisChangeRow.contact_id == contact.id,
    ))).all()
    consents = (await session.exec(select(TrackingConsentChangeRow).where(
        TrackingConsentChangeRow.account_id == account_id,
        TrackingConsentChangeRow.contact_id == contact.id,
    ).order_by(col(TrackingConsentChangeRow.at), col(TrackingConsentChangeRow.id)))).all()
    return {
        "contact": contact.model_dump(mode="json"),
        "loggedEmails": [e.model_dump(mode="json") for e in logged],
        "engagements": [e.model_dump(mode="json") for e in events],
        "legalBasisChanges": [c.model_dump(mode="json") for c in changes],
        # The contact's current consent is ``contact.tracking_consent`` (R29).
        "trackingConsentChanges": [c.model_dump(mode="json") for c in consents],
    }


async def erase_contact(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    contact_id: uuid.UUID, blobs: BlobStore, tombstone_key: bytes, now: datetime,
    on_engagements_erased: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[object]]
    | None = None,
) -> dict[str, int]:
    """Remove the contact, its events, the logged emails it alone appears on, blobs no other
    email references, and its place on other emails; leave a keyed-hash tombstone.

    ``on_engagements_erased(session, ids)`` runs in the erasure's transaction, before it
    commits: layers above records (webhooks) forget what they hold about those events."""
    authorizer().require(actor, account_id, AuthzObject.CONTACTS, AuthzAction.WRITE)
    contact = await get_contact(session, actor, account_id, contact_id)
    counts: dict[str, int] = {}
    if on_engagements_erased is not None:
        erased_ids = list((await session.exec(select(EngagementRow.id).where(
            EngagementRow.account_id == account_id, EngagementRow.contact_id == contact.id
        ))).all())
        await on_engagements_erased(session, erased_ids)
    # The hourly rollups keep counting these (tracking/rollups.py): counts per email, link
    # and hour name nobody, which is what the aggregate purpose may keep (R28).
    events = await session.exec(delete(EngagementRow).where(
        col(EngagementRow.account_id) == account_id, col(EngagementRow.contact_id) == contact.id
    ))
    counts["engagements"] = events.rowcount
    email_ids = set((await session.exec(select(LoggedRecipientRow.logged_email_id).where(
        LoggedRecipientRow.account_id == account_id, LoggedRecipientRow.contact_id == contact.id
    ))).all())
    await session.exec(delete(LoggedRecipientRow).where(
        col(LoggedRecipientRow.account_id) == account_id,
        col(LoggedRecipientRow.contact_id) == contact.id,
    ))
    others = set((await session.exec(select(LoggedRecipientRow.logged_email_id).where(
        LoggedRecipientRow.account_id == account_id,
        col(LoggedRecipientRow.logged_email_id).in_(email_ids),
    ))).all())
    alone = email_ids - others
    digests = set((await session.exec(select(AttachmentRow.sha256).where(
        AttachmentRow.account_id == account_id, col(AttachmentRow.logged_email_id).in_(alone)
    ))).all())
    await session.exec(delete(AttachmentRow).where(
        col(AttachmentRow.account_id) == account_id,
        col(AttachmentRow.logged_email_id).in_(alone),
    ))
    await session.exec(delete(LoggedEmailRow).where(
        col(LoggedEmailRow.account_id) == account_id, col(LoggedEmailRow.id).in_(alone)
    ))
    # Emails kept for other contacts no longer say who the erased contact was.
    await session.exec(update(LoggedEmailRow).where(
        col(LoggedEmailRow.account_id) == account_id,
        col(LoggedEmailRow.sender_address) == contact.address,
    ).values(sender_address=ERASED_SENDER, sender_name=None))
    counts["loggedEmails"] = len(alone)
    # Tracked emails keep their row for the other recipients; this one's address goes.
    await session.exec(delete(EmailRecipientRow).where(
        col(EmailRecipientRow.account_id) == account_id,
        col(EmailRecipientRow.contact_id) == contact.id,
    ))
    await session.exec(delete(LegalBasisChangeRow).where(
        col(LegalBasisChangeRow.account_id) == account_id,
        col(LegalBasisChangeRow.contact_id) == contact.id,
    ))
    await session.exec(delete(TrackingConsentChangeRow).where(
        col(TrackingConsentChangeRow.account_id) == account_id,
        col(TrackingConsentChangeRow.contact_id) == contact.id,
    ))
    still_used = set((await session.exec(select(AttachmentRow.sha256).where(
        AttachmentRow.account_id == account_id, col(AttachmentRow.sha256).in_(digests)
    ))).all())
    orphaned = digests - still_used
    counts["attachments"] = len(orphaned)
    digest = address_hash(tombstone_key, account_id, contact.address)
    await session.delete(contact)
    if await session.get(ContactTombstoneRow, (account_id, digest)) is None:
        session.add(ContactTombstoneRow(account_id=account_id, address_hash=digest,
                                        erased_at=now, details=counts))
    audit.record(session, actor, account_id, action="contact.erased",
                 target=f"contact {contact_id}", after=counts)
    await session.commit()
    for sha in orphaned:  # after commit: a rolled-back erasure must not lose files
        blobs.delete(account_id, sha)
    return counts


async def is_erased(
    session: AsyncSession, account_id: uuid.UUID, address: str, *,
    tombstone_keys: tuple[bytes, ...],
) -> bool:
    digests = [address_hash(key, account_id, address) for key in tombstone_keys]
    found = await session.exec(select(func.count()).select_from(ContactTombstoneRow).where(
        ContactTombstoneRow.account_id == account_id,
        col(ContactTombstoneRow.address_hash).in_(digests),
    ))
    return bool(found.one())
