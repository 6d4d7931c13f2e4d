"""The one check between a verified click token and the ``Location`` header."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["safe_location"]

_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _valid_host(hostname: str) -> str | None:
    """The host in ASCII (punycode), or ``None`` when it is not a valid host name."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:  # kept as written (validated), so the redirect names the very same host
        return f"[{hostname.lower()}]" if address.version == 6 else hostname
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    bare = host[:-1] if host.endswith(".") else host  # a fully qualified name keeps its dot
    if not bare or len(bare) > 253:
        return None
    for label in bare.split("."):
        if not _LABEL.match(label):
            return None
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return None
    return host


def safe_location(url: str) -> str | None:
    """``url`` as an ASCII ``Location`` value, or ``None`` if it must not be redirected to.

    The token's signature already proves we prepared this URL; this guards the header
    itself (CR/LF and control characters, non-http schemes, hosts that are not hosts)
    and turns IDN hosts into punycode and non-ASCII paths into percent-escapes.
    """
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return None
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not hostname:
        return None
    if parts.username is not None or parts.password is not None or "\\" in parts.netloc:
        return None  # 'https://trusted.test\@evil.test' style confusion is never followed
    host = _valid_host(hostname)
    if host is None:
        return None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=_SAFE_PATH),
            quote(parts.query, safe=_SAFE_QUERY),
            quote(parts.fragment, safe=_SAFE_QUERY),
        )
    )
