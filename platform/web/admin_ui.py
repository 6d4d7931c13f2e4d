"""The web admin (``web-admin/dist``, built by ``make web``) at ``/``, beside the API.

- ``/assets/<hashed name>``: the bundle; the name changes with the content, so it is
  cached for a year as immutable.
- Files at the top of ``dist`` (``favicon.svg``): cached briefly.
- Any other path outside the API (``/``, ``/settings/tracking``, ...): ``index.html``,
  never cached, for the browser's router. API prefixes (``/graphql``, ``/auth``, ``/o``,
  ...) are never answered with the page: an unknown API path stays a JSON 404.
- No build (a Python-only checkout): a 503 page saying how to build it, never a 500.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import MediaType, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.response import File

from sendtrail.i18n import _

__all__ = ["CONTENT_SECURITY_POLICY", "DIST", "admin_ui_router", "browser_page"]

DIST = Path(__file__).resolve().parents[2] / "web-admin" / "dist"
"""Where ``npm run build`` writes the web admin (the checkout's ``web-admin/dist``)."""

API_PREFIXES = frozenset({
    "graphql", "auth", "o", "c", "records", "healthz", "readyz", "metrics", ".well-known",
})
"""First path segments that belong to the server, never to the browser's router."""

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    # Mantine sets CSS variables and style props inline; scripts stay external only.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self' ws: wss:",  # graphql-ws subscriptions on /graphql
    "frame-src 'self'",  # logged HTML is shown in a sandboxed frame (R23)
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sendtrail: web admin not built</title></head>
<body><h1>The web admin is not built: run make run</h1>
<p><code>make run</code> (or <code>make web</code>) builds <code>web-admin/dist</code>;
the API at <code>/graphql</code> works without it.</p></body></html>
"""
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# Explicit for what Vite emits: with nosniff, a module script must not be octet-stream.
MEDIA_TYPES = {
    ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
    ".woff2": "font/woff2", ".woff": "font/woff", ".png": "image/png", ".ico": "image/x-icon",
    ".json": "application/json", ".webp": "image/webp", ".txt": "text/plain",
}


def _serve(path: Path, cache_control: str) -> File:
    media_type = (MEDIA_TYPES.get(path.suffix)
                  or mimetypes.guess_type(path.name)[0] or "application/octet-stream")
    return File(path, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"})


def _file_in(folder: Path, name: str) -> Path | None:
    """``folder/name`` when it is a regular file directly inside ``folder``, else None."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    candidate = folder / name
    return candidate if candidate.is_file() else None


def _not_built() -> Response[str]:
    return Response(NOT_BUILT, status_code=503, media_type=MediaType.HTML,
                    headers={"Cache-Control": "no-store", "Retry-After": "60"})


def browser_page(dist: Path, path: str) -> Response[Any]:
    """What ``path`` outside the API answers: a top-level file of the build, or the page for
    the browser's router. API paths and missing files raise ``NotFoundException``."""
    parts = [part for part in path.split("/") if part]
    if parts and parts[0] in API_PREFIXES:
        raise NotFoundException(_("No API route at {path}.").format(path="/" + "/".join(parts)))
    index = dist / "index.html"
    if not index.is_file():
        return _not_built()
    if len(parts) == 1 and (top := _file_in(dist, parts[0])) is not None:
        return _serve(top, SHORT)
    if parts and "." in parts[-1]:
        # A missing file (``/missing.js``) is a 404, not the page parsed as a script.
        raise NotFoundException(_("No file at {path}.").format(path="/" + "/".join(parts)))
    return Response(index.read_bytes(), media_type=MediaType.HTML, headers=PAGE_HEADERS)


def admin_ui_router(dist: Path = DIST) -> Router:
    """Routes serving the build in ``dist`` (looked up per request: a rebuild needs no restart)."""

    @get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
    def asset(name: str) -> File | Response[str]:
        if not (dist / "index.html").is_file():
            return _not_built()
        path = _file_in(dist / "assets", name)
        if path is None:
            raise NotFoundException(_("No web admin asset named {name!r}.").format(name=name))
        return _serve(path, IMMUTABLE)

    @get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
    def page(path: Path | None = None) -> Any:
        return browser_page(dist, str(path or ""))

    return Router(path="/", route_handlers=[asset, page])
