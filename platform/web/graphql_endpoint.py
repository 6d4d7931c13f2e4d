"""Mount the strawberry schema at ``/graphql`` with a per-request context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from strawberry.litestar import make_graphql_controller

from sendtrail.db.engine import Database
from sendtrail.errors import SendtrailError
from sendtrail.graphql.context import RequestContext
from sendtrail.graphql.errors import add_default_codes
from sendtrail.graphql.schema import build_schema
from sendtrail.settings import Settings
from sendtrail.tenancy.values import Principal
from sendtrail.web.principal import authenticate

__all__ = ["graphql_controller"]


async def graphql_context(request: Request[Any, Any, State]) -> AsyncIterator[dict[str, Any]]:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    principal: Principal | None = None
    auth_error: SendtrailError | None = None
    async with database.session(account_id=None) as auth_session:
        try:
            principal = await authenticate(request, auth_session, settings, require_csrf=True)
        except SendtrailError as error:
            auth_error = error  # reported as a coded GraphQL error by the first resolver
    account_id = principal.account_id if principal else None
    async with database.session(account_id=account_id) as session:
        yield {
            "sendtrail": RequestContext(
                session=session,
                settings=settings,
                principal=principal,
                auth_error=auth_error,
                clock=request.app.state.clock,
                token_keys=request.app.state.token_keys,
                records=request.app.state.records,
            )
        }


def graphql_controller(settings: Settings) -> type:
    base: Any = make_graphql_controller(
        build_schema(),
        path="/graphql",
        context_getter=graphql_context,
        graphql_ide="graphiql" if settings.http.debug else None,
        allow_queries_via_get=True,
        allowed_origins=[settings.http.public_url],
        # logEmail takes a raw message as a multipart upload; cookie-authenticated uploads
        # still need the CSRF header, so this opens no cross-site hole.
        multipart_uploads_enabled=True,
    )

    class GraphQLController(base):  # type: ignore[misc]
        async def process_result(self, request: Any, result: Any) -> Any:
            return add_default_codes(await super().process_result(request, result))

    return GraphQLController
