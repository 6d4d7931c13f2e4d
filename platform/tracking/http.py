"""The public pixel and click endpoints: the hot path.

Raw ASGI (mounted at ``/o`` and ``/c``): verify the token, build a ``RawHit``, wait until
ingestion made it durable, answer. No casbin, no GraphQL, no ORM here. Whatever happens,
a pixel request gets the GIF and a valid click its redirect: never a 5xx (docs/architecture.md).
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

from sendtrail.client_ip import scope_client_ip, scope_peer_is_trusted
from sendtrail.tracking import metrics
from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.redirect import safe_location
from sendtrail.tracking.core.tokens import InvalidToken, TokenKeys, sign, verify
from sendtrail.tracking.hits import RawHit
from sendtrail.tracking.ingest import HitDropped, Ingestor

__all__ = ["PIXEL_GIF", "SENDER_COOKIE", "TrackingEndpoints", "host_name"]

log = logging.getLogger("sendtrail.tracking")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
SENDER_COOKIE = "st_self"
_NO_STORE = (b"cache-control", b"no-store, no-cache, must-revalidate, private, max-age=0")
_NOT_FOUND_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Link not found</title>"
    b"<h1>This link is not valid</h1><p>The link may have been cut short or changed when it "
    b"was copied. Try the link from the original email again.</p>"
)
_SENDER_COOKIE_MAX_AGE = 365 * 24 * 3600


def host_name(header: str) -> str:
    """The hostname of a ``Host`` header: lower case, without port or trailing dot (an IPv6
    literal in brackets is kept whole: it is never a custom domain)."""
    host = header.strip().lower()
    if not host.startswith("["):
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


@dataclass
class TrackingEndpoints:
    keys: TokenKeys
    ingestor: Ingestor
    trusted_proxies: tuple[str, ...]
    secure_cookies: bool
    clock: Callable[[], datetime]
    host_owner: Callable[[str], uuid.UUID | None] = lambda host: None
    """The account a custom tracking hostname belongs to (None: a platform host)."""

    async def pixel(self, scope: Scope, receive: Receive, send: Send) -> None:
        claims = self._claims(scope, suffix=".gif", kind=HitKind.OPEN)
        if claims is not None and self._foreign(scope, claims):
            await self._not_found(send)
            return
        if claims is not None:
            await self._ingest(scope, claims)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"image/gif"), (b"content-length", b"%d" % len(PIXEL_GIF)),
            _NO_STORE, (b"pragma", b"no-cache"), (b"expires", b"0"),
        ]})
        body = b"" if scope.get("method") == "HEAD" else PIXEL_GIF
        await send({"type": "http.response.body", "body": body})

    async def click(self, scope: Scope, receive: Receive, send: Send) -> None:
        claims = self._claims(scope, suffix="", kind=HitKind.CLICK)
        location = safe_location(claims.url) if claims and claims.url else None
        if claims is None or location is None or self._foreign(scope, claims):
            await self._not_found(send)
            return
        await self._ingest(scope, claims)
        headers = [(b"location", location.encode("ascii")), _NO_STORE,
                   (b"content-length", b"0"), (b"referrer-policy", b"no-referrer")]
        if claims.sender_copy:
            # Remember this browser as the sender's, so their later clicks on the
            # recipients' copies are recognised as their own (R14).
            secure = "; Secure" if self.secure_cookies else ""
            headers.append((b"set-cookie", (
                f"{SENDER_COOKIE}={self._sender_token(claims)}; Path=/; "
                f"Max-Age={_SENDER_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
            ).encode()))
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _not_found(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), _NO_STORE,
            (b"content-length", b"%d" % len(_NOT_FOUND_PAGE)),
        ]})
        await send({"type": "http.response.body", "body": _NOT_FOUND_PAGE})

    def _foreign(self, scope: Scope, claims: TokenClaims) -> bool:
        """A token of one account arriving on another account's custom domain (R21)."""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                owner = self.host_owner(host_name(value.decode("latin-1")))
                return owner is not None and owner != claims.account_id
        return False

    def _claims(self, scope: Scope, *, suffix: str, kind: HitKind) -> TokenClaims | None:
        # Litestar hands a mount the rest of the path with a trailing slash added.
        token = str(scope.get("path", "")).strip("/")
        if suffix and token.endswith(suffix):
            token = token[: -len(suffix)]
        try:
            claims = verify(token, self.keys)
        except InvalidToken:
            metrics.REJECTED_TOKENS.labels(kind=kind.value).inc()
            return None
        if claims.kind is not kind:
            metrics.REJECTED_TOKENS.labels(kind=kind.value).inc()
            return None
        return claims

    def _sender_token(self, claims: TokenClaims) -> str:
        return sign(
            TokenClaims(kind=HitKind.OPEN, account_id=claims.account_id,
                        email_id=claims.email_id, recipient=None, sender_copy=True,
                        sent_at=claims.sent_at),
            self.keys,
        )

    def _sender_cookie_email(self, headers: dict[bytes, bytes]) -> uuid.UUID | None:
        raw = headers.get(b"cookie")
        if not raw:
            return None
        try:
            cookie = SimpleCookie(raw.decode("latin-1"))
            value = cookie[SENDER_COOKIE].value if SENDER_COOKIE in cookie else None
            claims = verify(value, self.keys) if value else None
        except (CookieError, InvalidToken):
            return None
        return claims.email_id if claims is not None and claims.sender_copy else None

    def _event_id(self, headers: dict[bytes, bytes], scope: Scope) -> uuid.UUID:
        """A new event id, or the trusted proxy's request id: nginx keeps ``$request_id`` when
        it sends a request again to another node (the first died before answering), so the
        hit both nodes stored is derived into one engagement (event ids are its key)."""
        request_id = headers.get(b"x-request-id", b"")
        if len(request_id) == 32 and scope_peer_is_trusted(scope, self.trusted_proxies):
            try:
                return uuid.UUID(hex=request_id.decode("ascii"))
            except ValueError:
                pass  # not hex: not nginx's
        return uuid.uuid4()

    async def _ingest(self, scope: Scope, claims: TokenClaims) -> None:
        headers = dict(scope.get("headers") or [])
        hit = RawHit(
            event_id=self._event_id(headers, scope),
            claims=claims,
            method=str(scope.get("method", "GET")),
            at=self.clock(),
            ip=scope_client_ip(scope, self.trusted_proxies),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
            sender_cookie_email=(
                self._sender_cookie_email(headers) if claims.kind is HitKind.CLICK else None
            ),
            headers=RawHit.classifying(headers),
        )
        try:
            await self.ingestor.submit(hit)
        except HitDropped:
            pass  # counted, logged once per interval and failing /readyz: see Ingestor
        except Exception:
            # The answer must not depend on storage; the failure is logged and counted.
            log.exception("a tracking hit could not be stored or spooled")
