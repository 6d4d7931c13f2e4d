"""Guards for the routes that set or clear the session cookie (issue 12, defect 2).

A cross-site HTML form can POST ``text/plain``, form-encoded or multipart bodies without a
preflight, and the browser then stores whatever cookie the answer sets: login CSRF signs
the victim into the attacker's account. So these routes take JSON only (a cross-site
``application/json`` POST needs a CORS preflight, which we never grant), and refuse any
request a browser marks as coming from another site: an ``Origin`` that is not ours, or
``Sec-Fetch-Site: cross-site``. Requests without either header (curl, scripts, old
browsers on a same-origin GET) are not a browser acting for another site, and pass.

Our origins: ``SENDTRAIL_PUBLIC_URL``'s and ``SENDTRAIL_ALLOWED_ORIGINS``.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from sendtrail.errors import Forbidden, UnsupportedMediaType
from sendtrail.i18n import _
from sendtrail.settings import Settings

__all__ = ["allowed_origins", "json_body_only", "origin_of", "same_site_only"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` in one spelling (lower case, default port dropped), or None
    for anything that is not an http(s) origin (``null``, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@cache
def _origins(public_url: str, extra: tuple[str, ...]) -> frozenset[str]:
    return frozenset(origin for url in (public_url, *extra) if (origin := origin_of(url)))


def allowed_origins(settings: Settings) -> frozenset[str]:
    """The browser origins whose pages may sign people in and out."""
    return _origins(settings.http.public_url, settings.notifications.allowed_origins)


def same_site_only(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Refuse a request that a browser sent on behalf of another site's page."""
    settings: Settings = connection.app.state.settings
    origin = connection.headers.get("origin")
    fetch_site = connection.headers.get("sec-fetch-site", "").strip().lower()
    foreign_origin = origin is not None and origin_of(origin) not in allowed_origins(settings)
    if foreign_origin or fetch_site == "cross-site":
        raise Forbidden(_(
            "This request came from a page on another site, which may not sign you in or "
            "out here. Use the Sendtrail web admin itself (or ask the administrator to add "
            "that page's origin to SENDTRAIL_ALLOWED_ORIGINS)."
        ))


def json_body_only(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Refuse bodies that an HTML form can send across sites without asking first."""
    media_type = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or _("no Content-Type")
        raise UnsupportedMediaType(_(
            "Send the sign-in as JSON with 'Content-Type: application/json' "
            "(e.g. {example}), not {shown}."
        ).format(example='{"email": "...", "password": "..."}', shown=shown))
