"""Per-request GraphQL context: who is asking, for which account, and one DB session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from graphql import FieldNode, OperationType
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.types import Info

from sendtrail.errors import InvalidInput, SendtrailError, Unauthenticated
from sendtrail.records.services import RecordsConfig
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import record_support_read
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.tokens import TokenKeys

__all__ = ["RequestContext", "ctx"]

NOT_SIGNED_IN = "Sign in, or send an API token as 'Authorization: Bearer st_...'."


@dataclass
class RequestContext:
    session: AsyncSession
    """Scoped to the principal's account: tenant-owned reads cannot escape it."""
    settings: Settings
    principal: Principal | None
    auth_error: SendtrailError | None
    clock: Callable[[], datetime]
    token_keys: TokenKeys
    records: RecordsConfig
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _support_read_logged: bool = False

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """The request's session, one resolver at a time (sibling fields run concurrently)."""
        async with self._lock:
            yield self.session

    async def actor(self, info: Info) -> Principal:
        """The authenticated principal; support staff's reads are audited before answering."""
        if self.principal is None:
            raise self.auth_error or Unauthenticated(NOT_SIGNED_IN)
        principal = self.principal
        if principal.is_staff:
            if principal.account_id is None:
                raise InvalidInput(
                    "Support staff: choose the account to inspect with the "
                    "X-Sendtrail-Account header (its id)."
                )
            if not self._support_read_logged and info.operation.operation is OperationType.QUERY:
                # Set before awaiting: sibling root fields reach here concurrently.
                self._support_read_logged = True
                async with self.db() as session:
                    await record_support_read(session, principal, what=_describe(info))
        return principal

    async def account_id(self, info: Info) -> uuid.UUID:
        principal = await self.actor(info)
        if principal.account_id is None:  # actor() refuses staff without an account
            raise Unauthenticated(NOT_SIGNED_IN)
        return principal.account_id

    def now(self) -> datetime:
        return self.clock()


def ctx(info: Info) -> RequestContext:
    return cast(RequestContext, info.context["sendtrail"])


def _describe(info: Info) -> str:
    """What a support read asked for, for the audit log: ``GraphQL query Name { a, b }``."""
    operation = info.operation
    fields = ", ".join(
        selection.name.value
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode)
    )
    name = f"{operation.name.value} " if operation.name else ""
    return f"GraphQL query {name}{{ {fields} }}"
