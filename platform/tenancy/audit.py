"""The audit log: every admin change and every support-staff read, per account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.pagination import Page, keyset_page
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.store import AuditEntryRow
from sendtrail.tenancy.values import Principal

__all__ = ["list_audit_entries", "record"]


def record(
    session: AsyncSession,
    actor: Principal | str,
    account_id: uuid.UUID,
    *,
    action: str,
    target: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntryRow:
    """Add an audit entry to the caller's transaction (it commits with the change)."""
    entry = AuditEntryRow(
        account_id=account_id,
        actor=actor if isinstance(actor, str) else actor.actor_label,
        action=action,
        target=target,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


async def list_audit_entries(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    first: int | None,
    after: str | None,
) -> Page[AuditEntryRow]:
    """Newest first. Admins and support staff only."""
    authorizer().require(actor, account_id, AuthzObject.AUDIT_LOG, AuthzAction.READ)
    return await keyset_page(
        session,
        select(AuditEntryRow).where(AuditEntryRow.account_id == account_id),
        keys=[AuditEntryRow.at, AuditEntryRow.id],  # type: ignore[list-item]
        descending=True,
        first=first,
        after=after,
    )
