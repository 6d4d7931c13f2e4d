"""The audit log: every admin change and every support-staff read, per account.

Written here; read (filtered, support visits grouped) by ``audit_log.py`` and put in
words by ``audit_wording.py``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.tenancy.store import AuditEntryRow
from sendtrail.tenancy.values import Principal

__all__ = ["record"]


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
