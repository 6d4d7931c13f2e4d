"""Support staff finding an account to inspect (R25): a cross-tenant search, audited.

Staff are members of no account, so the search is the one read that spans tenants; each
account it names gets a ``support.search`` entry in its own audit log, in the same
transaction, before the answer is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.tenant import unscoped
from sendtrail.errors import Forbidden
from sendtrail.i18n import _
from sendtrail.tenancy import audit
from sendtrail.tenancy.store import AccountRow
from sendtrail.tenancy.values import Principal

__all__ = ["MAX_RESULTS", "AccountSummary", "search_accounts"]

MAX_RESULTS = 25


@dataclass(frozen=True)
class AccountSummary:
    id: str
    name: str
    slug: str


async def search_accounts(
    session: AsyncSession, actor: Principal, *, search: str | None
) -> list[AccountSummary]:
    """Accounts whose name, slug or id contains ``search`` (all when empty), by name."""
    if not actor.is_staff:
        raise Forbidden(_("Only Sendtrail support staff can look up accounts."))
    wanted = (search or "").strip().lower()
    statement = select(AccountRow).order_by(col(AccountRow.name), col(AccountRow.id))
    if wanted:
        literal = "".join(ch for ch in wanted if ch not in "\\%_")  # no LIKE wildcards
        pattern = f"%{literal}%"
        statement = statement.where(or_(
            func.lower(AccountRow.name).like(pattern),
            func.lower(AccountRow.slug).like(pattern),
        ))
    rows = (await session.exec(unscoped(statement.limit(MAX_RESULTS)))).all()
    what = f'Account search "{wanted}"' if wanted else "Account list"
    for row in rows:
        audit.record(session, actor, row.id, action="support.search", target=what)
    await session.commit()
    return [AccountSummary(id=str(row.id), name=row.name, slug=row.slug) for row in rows]
