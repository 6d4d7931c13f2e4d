"""Mount the strawberry schema at ``/graphql``: HTTP requests and subscription WebSockets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from litestar import MediaType, Request, Response
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import Scope
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http.parse_content_type import parse_content_type
from strawberry.litestar import make_graphql_controller
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.graphql import OperationType

from sendtrail.db.engine import Database
from sendtrail.errors import SendtrailError
from sendtrail.graphql.context import RequestContext, SocketContext
from sendtrail.graphql.errors import add_default_codes
from sendtrail.graphql.schema import build_schema
from sendtrail.i18n import N_, _
from sendtrail.settings import Settings
from sendtrail.tenancy.values import Principal
from sendtrail.web.graphql_http import (
    GRAPHQL_RESPONSE,
    TransportError,
    error_response,
    graphql_http_error,
    is_request_error,
    negotiate,
)
from sendtrail.web.json_depth import too_deep, too_deep_message
from sendtrail.web.principal import authenticate, authenticate_socket

__all__ = ["graphql_controller"]

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS_PER_SOCKET = 5
"""The web admin needs one; a few more for integrators, never hundreds per socket."""

# Sentences in English, translated where a request is refused (``_()``, issue 15 item 12).
SUBSCRIPTION_OVER_HTTP = N_(
    "Subscriptions are served over WebSocket, not HTTP: open a WebSocket on /graphql with "
    "the graphql-transport-ws protocol (e.g. the graphql-ws client) and subscribe there."
)
MUTATION_OVER_GET = N_("Mutations are sent with POST; GET serves queries only.")
NOT_JSON = N_(
    "Send the operation as JSON with Content-Type: application/json (or "
    "multipart/form-data for file uploads)."
)
NO_QUERY = N_('No GraphQL query found: send {"query": "..."} (and optionally "variables").')
OPERATION_NAME = N_(
    "The GraphQL operation's `operationName` must be a string or null, if provided."
)


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
                wake_delivery=getattr(app.state, "wake_delivery", None),
                side_session=lambda: database.session(account_id=account_id),
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
        build_schema(settings.graphql),
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
        # Litestar's own refusals on this route (JSON too deep, body too large) as GraphQL.
        exception_handlers = {HTTPException: graphql_http_error}  # noqa: RUF012

        async def execute_request(
            self, request: Request[Any, Any, Any], context: Any, root_value: Any
        ) -> Response[Any]:
            media_type = negotiate(request.headers.get("accept"))
            request.state.graphql_media_type = media_type
            try:
                response: Response[Any] = await self.run(
                    request, context=context, root_value=root_value
                )
            except TransportError as error:
                return error_response(error.status_code, error.message, media_type,
                                      error.headers)
            except StrawberryHTTPException as error:
                if error.status_code == 404:  # a GET without a query, and no GraphiQL to serve
                    return error_response(400, _(NO_QUERY), media_type)
                return error_response(error.status_code, error.reason, media_type)
            if response.media_type == MediaType.JSON:  # not GraphiQL's page
                response.media_type = media_type
                response.status_code = request.state.get("graphql_status", response.status_code)
                # A cached GET answer is only valid for the same Accept.
                response.headers["Vary"] = "Accept"
            return response

        async def process_result(self, request: Any, result: Any) -> Any:
            processed = add_default_codes(await super().process_result(request, result))
            strict = request.state.get("graphql_media_type") == GRAPHQL_RESPONSE
            if strict and is_request_error(result):
                # The spec's watershed: nothing ran, so there is no data entry, and a 400.
                processed.pop("data", None)
                request.state.graphql_status = 400
            return processed

        def decode_json(self, data: str | bytes) -> object:
            # Query-string variables and multipart fields bypass the body guard.
            if too_deep(data):
                raise TransportError(400, too_deep_message())
            return super().decode_json(data)

        async def parse_http_body(self, request: Any) -> Any:
            if request.method == "POST":
                content_type, _params = parse_content_type(request.content_type or "")
                if content_type != "multipart/form-data" and "json" not in content_type:
                    raise TransportError(415, _(NOT_JSON))
            parsed = await super().parse_http_body(request)
            if not isinstance(parsed, list) and not isinstance(
                parsed.operation_name, str | None
            ):
                raise TransportError(400, _(OPERATION_NAME))
            return parsed

        async def execute_single(  # strawberry passes every argument by name
            self, *, request: Any, request_adapter: Any, sub_response: Any, context: Any,
            root_value: Any, request_data: Any,
        ) -> Any:
            # Queries over GET, queries and mutations over POST; subscriptions only on the
            # WebSocket (strawberry would run one over HTTP as a query and fail on it).
            allowed = {OperationType.QUERY}
            if request_adapter.method == "POST":
                allowed.add(OperationType.MUTATION)
            try:
                return await self.schema.execute(
                    request_data.query,
                    root_value=root_value,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
            except InvalidOperationTypeError as error:
                if error.operation_type is OperationType.SUBSCRIPTION:
                    raise TransportError(400, _(SUBSCRIPTION_OVER_HTTP)) from None
                raise TransportError(405, _(MUTATION_OVER_GET), {"Allow": "POST"}) from None
            except CannotGetOperationTypeError as error:
                raise TransportError(400, error.as_http_error_reason()) from None
            except MissingQueryError:
                raise TransportError(400, _(NO_QUERY)) from None

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
