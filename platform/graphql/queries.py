"""Query root: thin resolvers that call the tenancy services."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from sendtrail.errors import Forbidden
from sendtrail.graphql.audit_types import (
    AuditActor,
    AuditEntryConnection,
    AuditLogFilter,
    audit_actors,
    audit_connection,
)
from sendtrail.graphql.context import ctx
from sendtrail.graphql.types import Account, ApiToken, User, UserConnection
from sendtrail.i18n import N_, _
from sendtrail.tenancy import accounts, audit_log, tokens, users
from sendtrail.tenancy.audit_log import AuditFilter
from sendtrail.tenancy.users import parse_id

__all__ = ["Query"]

STAFF_ARE_NO_USERS = N_("Support staff are not users of an account; query `account` instead.")


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user (or the user of the API token).")
    async def viewer(self, info: Info) -> User:
        context = ctx(info)
        # Staff are refused before actor(): with or without an account chosen they are no
        # user, and the web admin's session probe must hear FORBIDDEN, not "choose one".
        if context.principal is not None and context.principal.is_staff:
            raise Forbidden(_(STAFF_ARE_NO_USERS))
        principal = await context.actor(info)
        if principal.user_id is None:
            raise Forbidden(_(STAFF_ARE_NO_USERS))
        async with context.db() as session:
            row = await users.get_user(session, principal, await context.account_id(info),
                                       principal.user_id)
        return User.from_row(row)

    @strawberry.field(description="The account the viewer belongs to (or support inspects).")
    async def account(self, info: Info) -> Account:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        async with context.db() as session:
            row = await accounts.get_account(session, principal, account_id)
        return Account.from_row(row, logging_domain=context.settings.smtp.logging_domain)

    @strawberry.field(description="Users of the account, by email address.")
    async def users(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> UserConnection:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            page = await users.list_users(
                session, principal, await context.account_id(info), first=first, after=after
            )
        return UserConnection.from_page(page)

    @strawberry.field(description="One user of the account; null never, NOT_FOUND instead.")
    async def user(self, info: Info, id: strawberry.ID) -> User:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await users.get_user(
                session, principal, await context.account_id(info), parse_id(id, "user")
            )
        return User.from_row(row)

    @strawberry.field(description="Admin changes and support reads, newest first (admins), "
                      "each a sentence; a support visit is one entry with its reads.")
    async def audit_log(
        self, info: Info, first: int | None = None, after: str | None = None,
        filter: AuditLogFilter | None = None,
    ) -> AuditEntryConnection:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        given = filter or AuditLogFilter()
        wanted = AuditFilter(actor=given.actor, kind=given.kind, since=given.since,
                             until=given.until)
        async with context.db() as session:
            page = await audit_log.list_audit_log(session, principal, account_id,
                                                  wanted=wanted, first=first, after=after)
            return await audit_connection(session, account_id, page)

    @strawberry.field(description="Everyone with an entry in the audit log, for its filter "
                      "(admins).")
    async def audit_actors(self, info: Info) -> list[AuditActor]:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        async with context.db() as session:
            labels = await audit_log.list_audit_actors(session, principal, account_id)
            return await audit_actors(session, account_id, labels)

    @strawberry.field(description="API tokens: all of the account's for admins, else your own.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            rows = await tokens.list_api_tokens(session, principal, await context.account_id(info))
        return [ApiToken.from_row(row) for row in rows]
