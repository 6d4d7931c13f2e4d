"""Mount the strawberry schema at ``/graphql``: HTTP requests and subscription WebSockets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import Scope
from strawberry.exceptions import ConnectionRejectionError
from strawberry.litestar import make_graphql_controller
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from sendtrail.db.engine import Database
from sendtrail.errors import SendtrailError
from sendtrail.graphql.context import RequestContext, SocketContext
from sendtrail.graphql.errors import add_default_codes
from sendtrail.graphql.schema import build_schema
from sendtrail.settings import Settings
from sendtrail.tenancy.values import Principal
from sendtrail.web.principal import authenticate, authenticate_socket

__all__ = ["graphql_controller"]

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS_PER_SOCKET = 5
"""The web admin needs one; a few more for integrators, never hundreds per socket."""


async def graphql_context(scope: Scope) -> AsyncIterator[dict[str, Any]]:
    # Typed as the raw scope: litestar injects ``request`` into HTTP handlers only, and this
    # getter serves the subscription WebSocket as well.
    app = scope["app"]
    database: Database = app.state.database
    if scope["type"] == ScopeType.WEBSOCKET:
        # Authenticated at connection_init (on_ws_connect), when the token arrives.
        yield {"sendtrail_socket": SocketContext(database=database, stream=app.state.stream)}
        return
    request: Request[Any, Any, Any] = Request(scope)
    settings: Settings = app.state.settings
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
                clock=app.state.clock,
                token_keys=app.state.token_keys,
                records=app.state.records,
            )
        }


class IdleClosingHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, closing sockets that neither subscribe nor talk for a while.

    A socket with a running subscription is never idle: it is waiting for notifications.
    """

    idle_timeout: float = 300.0

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._last_message = time.monotonic()
        self._idle_task = asyncio.create_task(self._close_when_idle())

    async def handle_message(self, message: Any) -> None:
        self._last_message = time.monotonic()
        await super().handle_message(message)

    async def shutdown(self) -> None:
        self._idle_task.cancel()
        await super().shutdown()

    async def _close_when_idle(self) -> None:
        check_every = min(self.idle_timeout, 5.0)
        while True:
            await asyncio.sleep(check_every)
            idle_for = time.monotonic() - self._last_message
            if not self.operations and idle_for >= self.idle_timeout:
                await self.websocket.close(code=1000, reason="Idle timeout")
                return


def graphql_controller(settings: Settings) -> type:
    public_origin = settings.http.public_url
    base: Any = make_graphql_controller(
        build_schema(),
        path="/graphql",
        context_getter=graphql_context,
        graphql_ide="graphiql" if settings.http.debug else None,
        allow_queries_via_get=True,
        allowed_origins=[public_origin, *settings.notifications.allowed_origins],
        # logEmail takes a raw message as a multipart upload; cookie-authenticated uploads
        # still need the CSRF header, so this opens no cross-site hole.
        multipart_uploads_enabled=True,
        # One protocol, one place where sockets are authenticated (on_ws_connect).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_SOCKET,
        connection_init_wait_timeout=timedelta(
            seconds=settings.notifications.socket_init_timeout_seconds
        ),
    )
    handler = type("SendtrailTransportWSHandler", (IdleClosingHandler,), {
        "idle_timeout": settings.notifications.socket_idle_timeout_seconds,
    })

    class GraphQLController(base):  # type: ignore[misc]
        graphql_transport_ws_handler_class = handler

        async def process_result(self, request: Any, result: Any) -> Any:
            return add_default_codes(await super().process_result(request, result))

        async def on_ws_connect(self, context: dict[str, Any]) -> Any:
            socket_context: SocketContext = context["sendtrail_socket"]
            params = context.get("connection_params") or {}
            socket = context["socket"]
            cookies = dict(socket.cookies)
            database = socket_context.database

            async def authenticated() -> Principal:
                async with database.session(account_id=None) as session:
                    return await authenticate_socket(params, cookies, session, settings)

            try:
                principal = await authenticated()
            except SendtrailError as error:
                log.info("GraphQL WebSocket refused: %s", error.message)
                raise ConnectionRejectionError({"message": error.message}) from None

            async def still_authorized() -> bool:
                try:
                    return (await authenticated()).user_id == principal.user_id
                except SendtrailError:
                    return False

            async def close(code: int, reason: str) -> None:
                await socket.close(code=code, reason=reason)

            socket_context.principal = principal
            socket_context.still_authorized = still_authorized
            socket_context.close = close
            return {"account": str(principal.account_id)}

    return GraphQLController
