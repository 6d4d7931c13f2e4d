"""Mount the raw-ASGI tracking endpoints and ``/metrics`` (see ``metrics_access``) into litestar."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote

from litestar import Request, Response, asgi, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from sendtrail.tracking.http import TrackingEndpoints
from sendtrail.web import admin_ui
from sendtrail.web.metrics_access import metrics_refusal

__all__ = ["click", "metrics", "pixel"]


def _endpoints(scope: Any) -> TrackingEndpoints:
    endpoints: TrackingEndpoints = scope["app"].state.tracking
    return endpoints


def _mounted_here(scope: Any) -> bool:
    """Litestar finds a mount by string prefix, so ``/contacts`` reaches the ``/c`` mount
    with the rest of the path as ``ontacts/``: only ``/c`` and ``/c/...`` are tracking's."""
    return str(scope.get("path", "")).startswith("/")


async def _browser_page(scope: Any, receive: Any, send: Any) -> None:
    """Answer a web admin route that only looked like a tracking path (``/contacts/…``)."""
    path = unquote(bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"))
    # A NotFoundException (``/contacts.js``) is answered like any other route's.
    response = admin_ui.browser_page(admin_ui.DIST, path.split("?", 1)[0])
    await response.to_asgi_response(app=None, request=Request(scope))(scope, receive, send)


@asgi("/o", is_mount=True, copy_scope=False)
async def pixel(scope: Any, receive: Any, send: Any) -> None:
    if not _mounted_here(scope):
        return await _browser_page(scope, receive, send)
    await _endpoints(scope).pixel(scope, receive, send)


@asgi("/c", is_mount=True, copy_scope=False)
async def click(scope: Any, receive: Any, send: Any) -> None:
    if not _mounted_here(scope):
        return await _browser_page(scope, receive, send)
    await _endpoints(scope).click(scope, receive, send)


@get("/metrics", sync_to_thread=False)
def metrics(request: Request[Any, Any, State]) -> Response[Any]:
    # A bearer token, or this machine only (issue 12, defect 7).
    refusal = metrics_refusal(request.scope, request.app.state.settings.metrics.token)
    if refusal is not None:
        return refusal
    return Response(_exposition(), media_type=CONTENT_TYPE_LATEST)


def _exposition() -> bytes:
    """This process's metrics; under ``serve --workers N`` (prometheus_client's multiprocess
    mode, which cli.py switches on with its own variable) every process's, summed, so a
    scrape does not show whichever process happened to answer."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped library
        return generate_latest(registry)
    return generate_latest()
