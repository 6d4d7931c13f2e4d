"""Who may read ``GET /metrics`` (issue 12, defect 7).

With ``SENDTRAIL_METRICS_TOKEN`` set, only a request bearing it (compared in constant
time), from anywhere. Without one, only a scrape made on this machine: the TCP peer is a
loopback address and no proxy forwarded the request (a reverse proxy on the same host
connects from loopback too, but adds ``X-Forwarded-For``, ``Forwarded`` or
``X-Real-IP``). ``sendtrail serve`` never lets uvicorn rewrite the peer, so the peer here
is the real one.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any

from litestar import MediaType, Response

from sendtrail.errors import Forbidden, SendtrailError, Unauthenticated
from sendtrail.i18n import _

__all__ = ["metrics_refusal"]

_FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


def metrics_refusal(scope: Mapping[str, Any], token: str | None) -> Response[Any] | None:
    """The answer refusing this request, or None when it may read the metrics."""
    if token is not None:
        sent = _bearer(scope)
        if sent is not None and hmac.compare_digest(sent, token.encode()):
            return None
        return _refusal(
            Unauthenticated(_(
                "The metrics need 'Authorization: Bearer <token>' with the token set in "
                "SENDTRAIL_METRICS_TOKEN."
            )),
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if _on_this_machine(scope):
        return None
    return _refusal(
        Forbidden(_(
            "The metrics are served only on this machine (a scrape from a loopback address, "
            "not through a proxy). To scrape them from elsewhere, set SENDTRAIL_METRICS_TOKEN "
            "and send 'Authorization: Bearer <token>'."
        )),
        {},
    )


def _bearer(scope: Mapping[str, Any]) -> bytes | None:
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, credential = bytes(value).partition(b" ")
            return credential.strip() if scheme.lower() == b"bearer" else None
    return None


def _on_this_machine(scope: Mapping[str, Any]) -> bool:
    if any(name in _FORWARDING_HEADERS for name, _ in scope.get("headers") or ()):
        return False
    client = scope.get("client")
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:  # not an address (a Unix socket, a test client)
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address is not None and address.is_loopback


def _refusal(error: SendtrailError, headers: dict[str, str]) -> Response[Any]:
    return Response(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.http_status,
        headers=headers,
        media_type=MediaType.JSON,
    )
