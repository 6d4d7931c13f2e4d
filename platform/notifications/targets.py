"""Where a webhook may be sent (SSRF rules), and a request pinned to the checked address.

A webhook URL is ``http(s)://host[:port]/path``: no credentials, at most 2,000 characters.
Its host is resolved when the endpoint is saved **and before every attempt**; the attempt
is refused when any address it resolves to is loopback (unless
``webhook_allow_loopback``), private, link-local, multicast, unspecified, reserved, shared
(CGNAT, 100.64.0.0/10) or otherwise not globally routable, including those addresses
written in other forms (``2130706433``, ``0x7f.1``, ``::ffff:10.0.0.1``, 6to4, ...). The
connection then goes to the very address that was checked (the URL's host replaced by
it, the name kept in ``Host`` and TLS SNI), so a DNS answer that changes between check
and connect (DNS rebinding) cannot redirect it.

A refusal of a name never says what it resolved to (that would map internal DNS for
whoever may save a URL); the address is logged instead.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from sendtrail.errors import InvalidInput
from sendtrail.i18n import N_, _

__all__ = [
    "MAX_URL_LENGTH",
    "PinnedTarget",
    "Resolver",
    "TargetRefused",
    "WebhookUrl",
    "address_words",
    "check_address",
    "parse_webhook_url",
    "pin_target",
    "pinned_request",
    "system_resolver",
]

MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
"""Deprecated (RFC 3879) but still routed inside some networks; Python calls it private
only in recent versions."""
_IETF_PROTOCOL = ipaddress.ip_network("192.0.0.0/24")
"""IETF protocol assignments (RFC 6890): not for hosts on the internet, whatever the
per-block exceptions of ``ipaddress.is_global`` say."""
log = logging.getLogger("sendtrail.webhooks")


class TargetRefused(InvalidInput):
    """The URL, or an address its host resolves to, is not a place webhooks may go."""


@dataclass(frozen=True)
class WebhookUrl:
    url: str
    scheme: str
    host: str
    """ASCII (IDNA) host name, or the IP address literal as written."""
    port: int


@dataclass(frozen=True)
class PinnedTarget:
    url: str
    """The URL with its host replaced by ``address``."""
    address: str
    host_header: str
    sni_hostname: str | None


def parse_webhook_url(url: str) -> WebhookUrl:
    """The URL's parts, or ``InvalidInput`` saying what is wrong with it."""
    url = url.strip()
    if not url:
        raise InvalidInput(_("Give the URL the webhooks are sent to (https://...)."))
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(_("A webhook URL may be at most {limit} characters long.").format(
            limit=MAX_URL_LENGTH))
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise InvalidInput(_("A webhook URL may not contain spaces or control characters."))
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError):
        raise InvalidInput(_("{url} is not a valid URL.").format(url=repr(url))) from None
    if port is not None and not 0 < port < 65536:
        raise InvalidInput(_("{url} is not a valid URL: the port must be 1 to 65535.").format(
            url=repr(url)))
    if parsed.scheme not in {"http", "https"}:
        raise InvalidInput(_("A webhook URL must start with https:// (or http://)."))
    host = parsed.raw_host.decode("ascii").strip("[]").lower()
    if not host:
        raise InvalidInput(
            _("A webhook URL needs a host name, e.g. https://hooks.example.com/."))
    if parsed.userinfo:
        raise InvalidInput(_(
            "Put no user name or password in a webhook URL: receivers authenticate "
            "deliveries by their signature (webhook-signature)."
        ))
    default = 443 if parsed.scheme == "https" else 80
    return WebhookUrl(url=url, scheme=parsed.scheme, host=host, port=port or default)


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means, in any form a resolver accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:  # decimal, octal, hex and short forms: 2130706433, 0177.1, 0x7f.0.0.1, 127.1
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_address(address: IPAddress | str, *, allow_loopback: bool) -> str | None:
    """Why webhooks may not go to ``address`` (an English phrase, shown through
    ``address_words``), or ``None`` when they may."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(ip.packed)  # drop a %zone
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            reason = check_address(embedded, allow_loopback=allow_loopback)
            return f"{reason}{_WRITTEN_AS_IPV6}" if reason else None
        if ip.teredo is not None:
            return N_("a Teredo tunnel address")
    if ip.is_loopback:
        return None if allow_loopback else N_("a loopback address")
    checks = (
        (ip.is_unspecified, N_("the unspecified address")),
        (ip.is_multicast, N_("a multicast address")),
        (ip.is_link_local, N_("a link-local address")),
        (ip.version == 6 and ip in _SITE_LOCAL, N_("a site-local address")),
        (ip.version == 4 and ip in _IETF_PROTOCOL, N_("an IETF protocol address")),
        (ip.version == 4 and ip in _SHARED, N_("a shared (carrier-grade NAT) address")),
        (ip.is_reserved, N_("a reserved address")),
        (ip.is_private, N_("a private address")),
        (not ip.is_global, N_("an address that is not publicly routable")),
    )
    return next((reason for refused, reason in checks if refused), None)


_WRITTEN_AS_IPV6 = " (written as IPv6)"


def address_words(reason: str) -> str:
    """A ``check_address`` phrase in the reader's language."""
    if reason.endswith(_WRITTEN_AS_IPV6):
        return _("{reason} (written as IPv6)").format(
            reason=address_words(reason.removesuffix(_WRITTEN_AS_IPV6)))
    return _(reason)


def _is_localhost(host: str) -> bool:
    name = host.rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def pin_target(
    url: str | WebhookUrl, *, allow_loopback: bool, resolver: Resolver = system_resolver
) -> PinnedTarget:
    """Resolve and check the URL's host; raise ``TargetRefused`` (with the reason)."""
    target = url if isinstance(url, WebhookUrl) else parse_webhook_url(url)
    literal = literal_address(target.host)
    if literal is not None:
        addresses = [str(literal)]
    elif _is_localhost(target.host):  # RFC 6761: always loopback, whatever DNS says
        addresses = ["127.0.0.1"]
    else:
        try:
            addresses = await resolver(target.host, target.port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise TargetRefused(_("The host {host} does not resolve to an address.").format(
                host=target.host))
    for address in addresses:
        reason = check_address(address, allow_loopback=allow_loopback)
        if reason:
            if literal is not None or _is_localhost(target.host):  # nothing DNS said
                raise TargetRefused(_("Webhooks may not be sent to {host}: it is {reason}.")
                                    .format(host=target.host, reason=address_words(reason)))
            log.info("webhook target %s refused: it resolves to %s, %s",
                     target.host, address, reason)
            raise TargetRefused(_("Webhooks may only be sent to public internet addresses; "
                                  "{host} is not one.").format(host=target.host))
    chosen = addresses[0].split("%")[0]
    ip = ipaddress.ip_address(chosen)
    host_text = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    host_header = host_text if target.port == default else f"{host_text}:{target.port}"
    pinned_url = httpx.URL(target.url).copy_with(host=str(ip))
    return PinnedTarget(
        url=str(pinned_url),
        address=str(ip),
        host_header=host_header,
        sni_hostname=target.host if target.scheme == "https" and literal is None else None,
    )


def pinned_request(
    client: httpx.AsyncClient, target: PinnedTarget, *, headers: dict[str, str], body: bytes
) -> httpx.Request:
    """A POST to the checked address, carrying the original name in Host and SNI."""
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    return client.build_request(
        "POST", target.url, headers={**headers, "Host": target.host_header}, content=body,
        extensions=extensions,
    )
