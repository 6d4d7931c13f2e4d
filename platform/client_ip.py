"""The client's address: the peer, or ``X-Forwarded-For`` when the peer is a trusted proxy.

``SENDTRAIL_TRUSTED_PROXIES`` alone decides (issue 12, defect 3): ``sendtrail serve`` runs
uvicorn with its own proxy-header handling off, so the ASGI scope's ``client`` is always
the TCP peer, and every use of the client's address (sign-in limits, sessions, tracking
hits) goes through ``scope_client_ip``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

__all__ = ["client_ip", "scope_client_ip", "scope_peer_is_trusted"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(trusted))


def client_ip(peer: str | None, forwarded_for: Sequence[str], trusted: tuple[str, ...]) -> str:
    """Walk ``X-Forwarded-For`` from the right, skipping trusted proxies (RFC 7239 practice)."""
    address = peer or "unknown"
    if not trusted or not _is_trusted(address, trusted):
        return address
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
        address = hop
    return address


def scope_client_ip(scope: Mapping[str, Any], trusted: tuple[str, ...]) -> str:
    """``client_ip`` of an ASGI scope: its peer and every ``X-Forwarded-For`` line, in order."""
    client = scope.get("client")
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers") or ()
                 if name == b"x-forwarded-for"]
    return client_ip(client[0] if client else None, forwarded, trusted)


def scope_peer_is_trusted(scope: Mapping[str, Any], trusted: tuple[str, ...]) -> bool:
    """Whether the TCP peer of an ASGI scope is one of ``SENDTRAIL_TRUSTED_PROXIES``."""
    client = scope.get("client")
    return bool(trusted and client and _is_trusted(client[0], trusted))
