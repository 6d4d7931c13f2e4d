"""ASGI middleware: each request and WebSocket speaks its reader's language (issue 15, item 12).

The web admin keeps the person's choice in the ``sendtrail_language`` cookie, which the
browser also sends on the subscription WebSocket (where scripts cannot set headers);
integrators send ``Accept-Language``. See ``sendtrail.i18n``.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from litestar.types import ASGIApp, Receive, Scope, Send

from sendtrail.i18n import negotiate, speaking

LANGUAGE_COOKIE = "sendtrail_language"


def reader_language(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        with speaking(language_of(scope)):
            await app(scope, receive, send)

    return middleware


def language_of(scope: Scope) -> str:
    cookie_header = accept_language = None
    for name, value in scope.get("headers") or ():
        if name == b"cookie":
            cookie_header = value.decode("latin-1")
        elif name == b"accept-language":
            accept_language = value.decode("latin-1")
    chosen = None
    if cookie_header:
        try:
            morsel = SimpleCookie(cookie_header).get(LANGUAGE_COOKIE)
        except CookieError:
            morsel = None
        chosen = morsel.value if morsel else None
    return negotiate(chosen, accept_language)
