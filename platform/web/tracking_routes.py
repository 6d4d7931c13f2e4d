"""Mount the raw-ASGI tracking endpoints and ``/metrics`` into litestar."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, asgi, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sendtrail.tracking.http import TrackingEndpoints

__all__ = ["click", "metrics", "pixel"]


def _endpoints(scope: Any) -> TrackingEndpoints:
    endpoints: TrackingEndpoints = scope["app"].state.tracking
    return endpoints


@asgi("/o", is_mount=True, copy_scope=False)
async def pixel(scope: Any, receive: Any, send: Any) -> None:
    await _endpoints(scope).pixel(scope, receive, send)


@asgi("/c", is_mount=True, copy_scope=False)
async def click(scope: Any, receive: Any, send: Any) -> None:
    await _endpoints(scope).click(scope, receive, send)


@get("/metrics", sync_to_thread=False)
def metrics(request: Request[Any, Any, State]) -> Response[bytes]:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
