"""Per-request GraphQL context: who is asking, for which account, and one DB session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from graphql import FieldNode, OperationType, value_from_ast_untyped
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.types import Info

from sendtrail.db.engine import Database
from sendtrail.errors import InvalidInput, SendtrailError, TenantScopeMissing, Unauthenticated
from sendtrail.graphql.loaders import Loaders
from sendtrail.i18n import N_, _
from sendtrail.records.services import RecordsConfig
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import record_support_read
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.tokens import TokenKeys
from sendtrail.tracking.stream import EngagementStream

__all__ = ["RequestContext", "SocketContext", "ctx", "socket_ctx"]

ID_ARGUMENTS = frozenset({"id", "contactId", "emailId"})
"""Arguments naming the one object a support read opens."""
NOT_SIGNED_IN = N_("Sign in, or send an API token as 'Authorization: Bearer st_...'.")


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
    wake_delivery: Callable[[], None] | None = None
    """Wakes this node's delivery worker after a submission (``sendEmail``)."""
    side_session: Callable[[], AsyncSession] | None = None
    """Another session scoped like ``session``, on a connection of its own: for reads a
    resolver runs side by side (an engagement report's parts). None: run them in turn."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _support_read_logged: bool = False
    _loaders: Loaders | None = None

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """The request's session, one resolver at a time (sibling fields run concurrently)."""
        async with self._lock:
            yield self.session

    async def actor(self, info: Info) -> Principal:
        """The authenticated principal; support staff's reads are audited before answering."""
        if self.principal is None:
            raise self.auth_error or Unauthenticated(_(NOT_SIGNED_IN))
        principal = self.principal
        if principal.is_staff:
            if principal.account_id is None:
                raise InvalidInput(_(
                    "Support staff: choose the account to inspect with the "
                    "X-Sendtrail-Account header (its id)."
                ))
            if not self._support_read_logged and info.operation.operation is OperationType.QUERY:
                # Set before awaiting: sibling root fields reach here concurrently.
                self._support_read_logged = True
                async with self.db() as session:
                    await record_support_read(session, principal, what=_describe(info))
        return principal

    async def account_id(self, info: Info) -> uuid.UUID:
        principal = await self.actor(info)
        if principal.account_id is None:  # actor() refuses staff without an account
            raise Unauthenticated(_(NOT_SIGNED_IN))
        return principal.account_id

    async def loaders(self, info: Info, account_id: uuid.UUID) -> Loaders:
        """This request's DataLoaders, bound to its account; ``account_id`` is the account
        of the object asking, which can only be the request's own."""
        principal = await self.actor(info)
        if account_id != principal.account_id:
            raise TenantScopeMissing("a loader was asked for another account's objects")
        if self._loaders is None:
            # A query may read beside its own session; a mutation's reads must see its
            # own writes, so they stay in it.
            reads_only = info.operation.operation is OperationType.QUERY
            self._loaders = Loaders(self.db, principal, account_id,
                                    aside=self.side_session if reads_only else None)
        return self._loaders

    def now(self) -> datetime:
        return self.clock()


def ctx(info: Info) -> RequestContext:
    context = info.context.get("sendtrail")
    if context is None:  # a query or mutation sent over the WebSocket
        raise InvalidInput(_("Send queries and mutations over HTTP; the WebSocket is for "
                             "subscriptions."))
    return cast(RequestContext, context)


@dataclass
class SocketContext:
    """A GraphQL WebSocket's context: who connected (set at ``connection_init``).

    It holds no database session: a socket lives for hours, so each notification reads
    through a short session of its own.
    """

    database: Database
    stream: EngagementStream
    principal: Principal | None = None
    still_authorized: Callable[[], Awaitable[bool]] | None = None
    """Re-checks the credential the socket was opened with (revoked token, ended session)."""
    close: Callable[[int, str], Awaitable[None]] | None = None

    @property
    def subscriber(self) -> Principal:
        if self.principal is None:  # on_ws_connect sets it before any subscription runs
            raise Unauthenticated(_(NOT_SIGNED_IN))
        return self.principal


def socket_ctx(info: Info) -> SocketContext:
    context = info.context.get("sendtrail_socket")
    if context is None:
        raise Unauthenticated(_("Subscriptions run over the GraphQL WebSocket, after "
                                "connection_init with {example}.").format(
                                    example='{"authorization": "Bearer st_..."}'))
    return cast(SocketContext, context)


def _describe(info: Info) -> str:
    """What a support read asked for, for the audit log: ``GraphQL query Name { a, b }``,
    a field given an id with it, ``email(id: …)``, so the log can say which email was read
    (``tenancy/audit_things.py`` reads this shape back)."""
    operation = info.operation
    fields = ", ".join(
        _field_with_id(selection, info.variable_values)
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode)
    )
    name = f"{operation.name.value} " if operation.name else ""
    return f"GraphQL query {name}{{ {fields} }}"[:400]


def _field_with_id(selection: FieldNode, variables: dict[str, Any]) -> str:
    for argument in selection.arguments or ():
        if argument.name.value in ID_ARGUMENTS:
            given = value_from_ast_untyped(argument.value, variables)
            if isinstance(given, str) and len(given) <= 64:
                return f"{selection.name.value}({argument.name.value}: {given})"
    return selection.name.value
