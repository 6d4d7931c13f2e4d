"""Plain-language explanations of multiple opens (R8)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

__all__ = ["OpenSeen", "multiple_open_hints", "network_of"]

PREVIEW_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class OpenSeen:
    at: datetime
    ip: str | None
    inferred: bool = False


def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) a client address belongs to: 'the same network'."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def multiple_open_hints(opens: Sequence[OpenSeen]) -> tuple[str, ...]:
    """Why a recipient may show several opens, from the human opens recorded for them."""
    if len(opens) < 2:
        return ()
    ordered = sorted(opens, key=lambda seen: seen.at)
    hints = [
        f"Opened {len(ordered)} times, first on {_when(ordered[0].at)} and last on "
        f"{_when(ordered[-1].at)}. Multiple opens are normal: the pixel loads every time the "
        "email is viewed."
    ]
    quick = any(
        later.at - earlier.at <= PREVIEW_WINDOW
        and network_of(later.ip) is not None
        and network_of(later.ip) == network_of(earlier.ip)
        for earlier, later in pairwise(ordered)
    )
    if quick:
        hints.append(
            "Some opens came within a minute of each other from the same network: usually a "
            "preview pane (hovering over the email in Outlook or Apple Mail) or the image "
            "being reloaded, not separate reads."
        )
    networks = {network for seen in ordered if (network := network_of(seen.ip))}
    if len(networks) >= 2:
        hints.append(
            f"Opened from {len(networks)} different networks. That can be one person on a "
            "phone and a laptop, a changing IP address (mobile data, VPN), a forward, or a "
            "copy of the email pasted into a new message (which copies its pixel). Several "
            "IP addresses do not necessarily mean several people; opens by someone the "
            "email was forwarded to are attributed to the original recipient."
        )
    if any(seen.inferred for seen in ordered):
        hints.append(
            "One open was inferred from a click or a reply because the pixel had not loaded "
            "(images blocked), so it has no network of its own (R7)."
        )
    return tuple(hints)
