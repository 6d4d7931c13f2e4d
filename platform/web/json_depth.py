"""Refuse JSON nested deeper than any client needs, before a decoder recurses into it.

Python's ``json`` and msgspec decode nesting by recursion: a body of ~1,000 ``[`` raises
``RecursionError`` inside the framework, which answered 500 (issue 12, defect 8). The
guard below is app-wide (every route that reads a body, ``/graphql`` and ``/auth/login``
alike); ``too_deep`` also serves decoders that read JSON from elsewhere (query parameters,
multipart fields).
"""

from __future__ import annotations

import re
from collections import deque
from functools import cache
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from sendtrail.i18n import _

__all__ = ["MAX_JSON_DEPTH", "JsonDepthGuard", "too_deep", "too_deep_message"]

MAX_JSON_DEPTH = 64
"""Our deepest input (a prepared email's recipients) nests 4 levels; 64 leaves room for
any client's ``extensions`` and stays far below the decoders' recursion limits."""

MAX_INSPECTED_BYTES = 10 * 1024 * 1024
"""Bodies past litestar's own limit (10 MiB) are answered 413 by litestar: not read here."""

_KEEP_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Forms are parsed as forms, never by a JSON decoder (their JSON fields go through too_deep).
_FORM_TYPES = (b"multipart/form-data", b"application/x-www-form-urlencoded")


def too_deep_message(limit: int = MAX_JSON_DEPTH) -> str:
    return _("The JSON is nested more than {limit} levels deep (or its brackets do not "
             "match): send at most {limit} levels of arrays and objects.").format(limit=limit)


def too_deep(document: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``document`` nests arrays/objects more than ``limit`` deep, or unbalanced.

    Linear and in C, a few hundred milliseconds for a hostile 10 MiB body: strings are cut
    out (escapes first), the brackets kept, and a regular expression for "balanced, at
    most ``limit`` deep" (a regular language for a fixed limit; possessive, so it never
    backtracks) must match them all.
    """
    data = document.encode() if isinstance(document, str) else document
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case: nothing to count
        return False
    # Backslashes only occur in strings; pairs go first so that \\" still ends a string.
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(_KEEP_BRACKETS, _NOT_BRACKETS)
    return _balanced(limit).fullmatch(brackets) is None


@cache
def _balanced(limit: int) -> re.Pattern[bytes]:
    pattern = b""
    for _level in range(limit):
        pattern = rb"(?:\[" + pattern + rb"\])*+"
    return re.compile(pattern)


class JsonDepthGuard:
    """ASGI middleware: read a request body once, refuse it with a 400 if ``too_deep``.

    The body is handed on unchanged (the same ``http.request`` messages, replayed), so the
    route reads it as if the guard were not there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != ScopeType.HTTP or scope["method"] not in _BODY_METHODS
                or _is_form(scope)):
            await self.app(scope, receive, send)
            return
        messages: deque[ReceiveMessage] = deque()
        size, complete = 0, False
        while size <= MAX_INSPECTED_BYTES:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                break
        if complete and too_deep(b"".join(_bodies(messages))):
            # Rendered by the route's exception handlers: a coded GraphQL error on /graphql,
            # {"error": {...}} elsewhere.
            raise ClientException(detail=too_deep_message())

        async def replay() -> ReceiveMessage:
            return messages.popleft() if messages else await receive()

        await self.app(scope, replay, send)


def _bodies(messages: deque[ReceiveMessage]) -> list[bytes]:
    found: list[Any] = [message.get("body", b"") for message in messages
                        if message["type"] == "http.request"]
    return found


def _is_form(scope: Scope) -> bool:
    headers: Any = scope["headers"]
    for name, value in headers:
        if name == b"content-type":
            return bool(value.lower().startswith(_FORM_TYPES))
    return False
