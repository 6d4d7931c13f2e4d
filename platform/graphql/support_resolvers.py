"""Support staff's own queries (R25): finding the account to inspect.

Every other support read goes through ``RequestContext.actor`` with an account chosen by
the ``X-Sendtrail-Account`` header; this one runs before any account is chosen.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from sendtrail.errors import Unauthenticated
from sendtrail.graphql.context import NOT_SIGNED_IN, ctx
from sendtrail.i18n import _
from sendtrail.tenancy import support

__all__ = ["SupportAccount", "SupportQuery"]


@strawberry.type(description="An account as support staff find it, to inspect it read-only.")
class SupportAccount:
    id: strawberry.ID
    name: str
    slug: str


@strawberry.type
class SupportQuery:
    @strawberry.field(description="Support staff: accounts by name or slug (each listing is "
                      "audited in the account's log).")
    async def support_accounts(
        self, info: Info, search: str | None = None
    ) -> list[SupportAccount]:
        context = ctx(info)
        if context.principal is None:
            raise context.auth_error or Unauthenticated(_(NOT_SIGNED_IN))
        async with context.db() as session:
            found = await support.search_accounts(session, context.principal, search=search)
        return [SupportAccount(id=strawberry.ID(a.id), name=a.name, slug=a.slug) for a in found]
