"""Plain-language explanations of multiple opens (R8)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import pairwise

from sendtrail.i18n import _, ngettext

__all__ = ["PREVIEW_WINDOW", "OpenSeen", "OpensSummary", "hints_for", "multiple_open_hints",
           "network_of", "summarize_opens"]

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
    # The common case without ``ipaddress`` (an email's page works this out for each of
    # thousands of opens): four plain decimal parts, as ``ipaddress`` itself accepts them.
    parts = ip.split(".")
    if len(parts) == 4 and all(_octet(part) for part in parts):
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"
    return _other_network_of(ip)


def _octet(part: str) -> bool:
    return (0 < len(part) <= 3 and part.isascii() and part.isdigit()
            and (part == "0" or part[0] != "0") and int(part) <= 255)


@lru_cache(maxsize=4096)
def _other_network_of(ip: str) -> str | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True)
class OpensSummary:
    """What the R8 hints need to know of one recipient's human opens (a database can work
    it out without handing over every open: see tracking/engagements.py)."""

    count: int
    quick_repeat: bool
    """Two opens in a row (in time order) within PREVIEW_WINDOW from the same network."""
    networks: int
    """Distinct networks (``network_of``) the opens came from."""
    inferred: bool


def summarize_opens(opens: Sequence[OpenSeen]) -> OpensSummary:
    ordered = sorted(opens, key=lambda seen: seen.at)
    networks_seen = [network_of(seen.ip) for seen in ordered]
    quick = any(
        later.at - earlier.at <= PREVIEW_WINDOW and network is not None
        and network == earlier_network
        for (earlier, earlier_network), (later, network)
        in pairwise(zip(ordered, networks_seen, strict=True))
    )
    return OpensSummary(
        count=len(ordered), quick_repeat=quick,
        networks=len({network for network in networks_seen if network}),
        inferred=any(seen.inferred for seen in ordered),
    )


def multiple_open_hints(opens: Sequence[OpenSeen]) -> tuple[str, ...]:
    """Why a recipient may show several opens, from the human opens recorded for them."""
    return hints_for(summarize_opens(opens))


def hints_for(opens: OpensSummary) -> tuple[str, ...]:
    """Why a recipient may show several opens, from what is known of their human opens."""
    if opens.count < 2:
        return ()
    # No dates: the page shows the first and last open beside the hints, in the reader's
    # own time zone and format; a second rendering here in UTC contradicted them.
    # Sentences in the reader's language (sendtrail.i18n: plain gettext, no web imports).
    hints = [
        ngettext(
            "Opened {count} time. Multiple opens are normal: the pixel loads every time the "
            "email is viewed.",
            "Opened {count} times. Multiple opens are normal: the pixel loads every time the "
            "email is viewed.",
            opens.count,
        ).format(count=opens.count)
    ]
    if opens.quick_repeat:
        hints.append(_(
            "Some opens came within a minute of each other from the same network: usually a "
            "preview pane (hovering over the email in Outlook or Apple Mail) or the image "
            "being reloaded, not separate reads."
        ))
    if opens.networks >= 2:
        hints.append(_(
            "Opened from {count} different networks. That can be one person on a "
            "phone and a laptop, a changing IP address (mobile data, VPN), a forward, or a "
            "copy of the email pasted into a new message (which copies its pixel). Several "
            "IP addresses do not necessarily mean several people; opens by someone the "
            "email was forwarded to are attributed to the original recipient."
        ).format(count=opens.networks))
    if opens.inferred:
        hints.append(_(
            "One open was inferred from a click or a reply because the pixel had not loaded "
            "(images blocked), so it has no network of its own."
        ))
    return tuple(hints)
