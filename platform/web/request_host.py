"""Which host a request is for, decided once, before any route sees it (issue 12, defect 4).

The tracking host check (R21), the ACME challenge route and litestar all read the ``Host``
header of the ASGI scope; they agree only if there is exactly one. Two layers make it so:

- ``OneHostProtocol`` (the HTTP/1.1 protocol ``sendtrail serve`` runs): an absolute-form
  request line, ``GET http://links.example.com/c/... HTTP/1.1``, names its host itself,
  and RFC 9112 §3.2.2 says the server must use that and ignore ``Host``. uvicorn keeps
  only the path of such a line, so this protocol replaces the ``Host`` lines with the
  line's authority before the scope reaches the app. Any other form (``CONNECT``'s
  ``host:port``, a non-http scheme, credentials) is answered 400 by uvicorn.
- ``one_host_header`` (an app middleware, whatever server runs the app): a request with
  two ``Host`` lines, an empty one, one that is not ``host[:port]`` (a name of letters,
  digits, ``-``, ``_`` and dots, an IPv4 address or a bracketed IPv6 literal: no
  ``user@``, ``%``-escapes or second port that one reader would strip and another keep),
  or (HTTP/1.1) none is refused with 400, as RFC 9112 §3.2 requires.
"""

from __future__ import annotations

import re
from typing import Any

import httptools
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = ["OneHostProtocol", "absolute_form_host", "one_host_header"]

_SCHEMES = frozenset({b"http", b"https"})
_HOST_VALUE = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z._-]+)(?::[0-9]{1,5})?")


def absolute_form_host(target: bytes) -> bytes:
    """The ``Host`` value an absolute-form request target stands for (``host[:port]``).

    Raises ``ValueError`` for anything that is not an ``http(s)://host[:port]/...`` URL.
    """
    try:
        url = httptools.parse_url(target)
    except httptools.HttpParserInvalidURLError:
        raise ValueError("not a URL") from None
    if (url.schema or b"").lower() not in _SCHEMES or not url.host or url.userinfo:
        raise ValueError("not an http(s) URL with a host and without credentials")
    host = bytes(url.host).lower()
    if b":" in host:  # an IPv6 literal, whose brackets the parser removed
        host = b"[" + host + b"]"
    return host if url.port is None else b"%s:%d" % (host, url.port)


class OneHostProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, taking an absolute-form target's host as the Host."""

    def on_headers_complete(self) -> None:
        target = self.url
        if not target.startswith(b"/") and target != b"*":
            # Raised inside a parser callback: uvicorn answers 400 and closes.
            host = absolute_form_host(target)
            # The scope holds this very list, so every layer sees the one Host line.
            self.headers[:] = [(name, value) for name, value in self.headers
                               if name != b"host"] + [(b"host", host)]
        super().on_headers_complete()


def one_host_header(app: ASGIApp) -> ASGIApp:
    """Refuse an HTTP request or WebSocket handshake whose host is ambiguous or missing."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            _check(scope)
        await app(scope, receive, send)

    return middleware


def _check(scope: Any) -> None:
    hosts = [value for name, value in scope.get("headers") or () if name == b"host"]
    if len(hosts) > 1:
        raise InvalidInput(_(
            "This request has more than one Host header; send exactly one, naming the "
            "host the request is for."
        ))
    if hosts and not hosts[0].strip():
        raise InvalidInput(_("This request's Host header is empty; name the host it is for."))
    if hosts and not _HOST_VALUE.fullmatch(hosts[0].strip()):
        raise InvalidInput(_(
            "This request's Host header is not a host name or address with an optional "
            "port (such as links.example.com or links.example.com:443)."
        ))
    if not hosts and scope.get("http_version", "1.1") != "1.0":
        raise InvalidInput(_("This request has no Host header; name the host it is for."))
