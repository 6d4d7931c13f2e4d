"""Signed, compact, URL-safe tracking tokens with key rotation.

Layout (before base64url, no padding)::

    version:1 | flags:1 | key id:1 | account:16 | email:16 | recipient:2 | sent at:4
    [clicks: link:2 | url (UTF-8, zlib-compressed when that is shorter)] | MAC:16

A withdrawal token (the footer link of R29) has the same header with its own flag and no
body. ``verify`` refuses that flag and ``verify_withdrawal`` accepts nothing else, so the
footer link can never be loaded as a pixel or a click, nor a pixel's token withdraw anyone.

The MAC is HMAC-SHA256 over everything before it, truncated to 128 bits. The key id is
the first byte of SHA-256 of the key, so verification tries only the configured keys with
that id (normally one): sign with the newest key, verify with all of them. Any change to
any byte, a truncation or an unknown key is ``InvalidToken`` — decided without storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sendtrail.tracking.core.model import HitKind, TokenClaims

__all__ = [
    "InvalidToken",
    "TokenKeys",
    "WithdrawalClaims",
    "sign",
    "sign_withdrawal",
    "verify",
    "verify_withdrawal",
]

VERSION = 1
MAC_SIZE = 16
SHARED = 0xFFFF
MAX_URL_BYTES = 4096
_HEADER = struct.Struct(">BBB16s16sHI")
_LINK = struct.Struct(">H")
_FLAG_CLICK = 0x01
_FLAG_SENDER_COPY = 0x02
_FLAG_COMPRESSED = 0x04
_FLAG_WITHDRAWAL = 0x08
_KNOWN_FLAGS = _FLAG_CLICK | _FLAG_SENDER_COPY | _FLAG_COMPRESSED


class InvalidToken(Exception):
    """Not a token we signed (forged, altered, truncated, or signed with a retired key)."""


@dataclass(frozen=True)
class TokenKeys:
    """Tracking keys, newest first (derived from the deployment's secret keys)."""

    keys: tuple[bytes, ...]
    by_id: dict[int, tuple[bytes, ...]] = field(init=False, repr=False, compare=False)
    signing_id: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("at least one tracking key is needed")
        by_id: dict[int, tuple[bytes, ...]] = {}
        for key in self.keys:
            by_id[self.key_id(key)] = (*by_id.get(self.key_id(key), ()), key)
        object.__setattr__(self, "by_id", by_id)
        object.__setattr__(self, "signing_id", self.key_id(self.keys[0]))

    @classmethod
    def derive(cls, secrets: Sequence[str]) -> TokenKeys:
        """One tracking key per configured secret, domain-separated from other uses."""
        return cls(
            tuple(
                hmac.new(secret.encode(), b"sendtrail tracking token v1", hashlib.sha256).digest()
                for secret in secrets
            )
        )

    @staticmethod
    def key_id(key: bytes) -> int:
        return hashlib.sha256(key).digest()[0]


@dataclass(frozen=True)
class WithdrawalClaims:
    """Whose tracking consent a footer link withdraws: one recipient of one email (R29)."""

    account_id: uuid.UUID
    email_id: uuid.UUID
    recipient: int | None
    """The recipient's index in the email, or ``None`` for a message shared by all."""
    sender_copy: bool
    """The footer of the sender's own copy, which withdraws nobody."""
    sent_at: int


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: a token has exactly one spelling (no padding, no stray characters)."""
    if not text.isascii() or "=" in text:
        raise InvalidToken("not base64url")
    try:
        raw = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        raise InvalidToken("not base64url") from None
    if _b64encode(raw) != text:
        raise InvalidToken("not the canonical spelling")
    return raw


@lru_cache(maxsize=4096)
def _url_part(url: str) -> tuple[int, bytes]:
    """Flags and bytes of a URL, compressed when that is shorter (cached: a message's
    links are the same for every recipient, and compression dominates signing time)."""
    raw = url.encode("utf-8")
    if len(raw) > MAX_URL_BYTES:
        raise ValueError("URL too long to track")
    packed = zlib.compress(raw, 9)
    return (_FLAG_COMPRESSED, packed) if len(packed) < len(raw) else (0, raw)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.digest(key, payload, "sha256")[:MAC_SIZE]


def sign(claims: TokenClaims, keys: TokenKeys) -> str:
    key = keys.keys[0]
    flags = _FLAG_SENDER_COPY if claims.sender_copy else 0
    body = b""
    if claims.kind is HitKind.CLICK:
        if claims.link is None or claims.url is None:
            raise ValueError("click tokens need a link index and a URL")
        url_flags, url = _url_part(claims.url)
        flags |= _FLAG_CLICK | url_flags
        body = _LINK.pack(claims.link) + url
    recipient = SHARED if claims.recipient is None else claims.recipient
    if not 0 <= recipient <= SHARED:
        raise ValueError("recipient index out of range")
    header = _HEADER.pack(
        VERSION,
        flags,
        keys.signing_id,
        claims.account_id.bytes,
        claims.email_id.bytes,
        recipient,
        claims.sent_at,
    )
    payload = header + body
    return _b64encode(payload + _mac(key, payload))


def verify(token: str, keys: TokenKeys) -> TokenClaims:
    """The claims of a token we signed, else ``InvalidToken``."""
    if len(token) > 2 * MAX_URL_BYTES:
        raise InvalidToken("too long")
    raw = _b64decode(token)
    if len(raw) < _HEADER.size + MAC_SIZE:
        raise InvalidToken("too short")
    payload, mac = raw[:-MAC_SIZE], raw[-MAC_SIZE:]
    if not any(
        hmac.compare_digest(_mac(key, payload), mac) for key in keys.by_id.get(payload[2], ())
    ):
        raise InvalidToken("bad signature")
    version, flags, _, account, email, recipient, sent_at = _HEADER.unpack_from(payload)
    if version != VERSION or flags & ~_KNOWN_FLAGS:
        raise InvalidToken("unknown version")
    link: int | None = None
    url: str | None = None
    if flags & _FLAG_CLICK:
        rest = payload[_HEADER.size :]
        if len(rest) < _LINK.size:
            raise InvalidToken("click token without link")
        (link,) = _LINK.unpack_from(rest)
        raw_url = rest[_LINK.size :]
        try:
            if flags & _FLAG_COMPRESSED:
                raw_url = zlib.decompress(raw_url, bufsize=MAX_URL_BYTES)
            url = raw_url.decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            raise InvalidToken("undecodable URL") from None
    elif len(payload) != _HEADER.size:
        raise InvalidToken("trailing bytes")
    return TokenClaims(
        kind=HitKind.CLICK if flags & _FLAG_CLICK else HitKind.OPEN,
        account_id=uuid.UUID(bytes=account),
        email_id=uuid.UUID(bytes=email),
        recipient=None if recipient == SHARED else recipient,
        sender_copy=bool(flags & _FLAG_SENDER_COPY),
        sent_at=sent_at,
        link=link,
        url=url,
    )


def sign_withdrawal(claims: WithdrawalClaims, keys: TokenKeys) -> str:
    recipient = SHARED if claims.recipient is None else claims.recipient
    if not 0 <= recipient <= SHARED:
        raise ValueError("recipient index out of range")
    flags = _FLAG_WITHDRAWAL | (_FLAG_SENDER_COPY if claims.sender_copy else 0)
    payload = _HEADER.pack(VERSION, flags, keys.signing_id, claims.account_id.bytes,
                           claims.email_id.bytes, recipient, claims.sent_at)
    return _b64encode(payload + _mac(keys.keys[0], payload))


def verify_withdrawal(token: str, keys: TokenKeys) -> WithdrawalClaims:
    """The claims of a footer link's token we signed, else ``InvalidToken``."""
    if len(token) > 2 * MAX_URL_BYTES:
        raise InvalidToken("too long")
    raw = _b64decode(token)
    if len(raw) != _HEADER.size + MAC_SIZE:
        raise InvalidToken("not a withdrawal token")
    payload, mac = raw[:-MAC_SIZE], raw[-MAC_SIZE:]
    if not any(
        hmac.compare_digest(_mac(key, payload), mac) for key in keys.by_id.get(payload[2], ())
    ):
        raise InvalidToken("bad signature")
    version, flags, _, account, email, recipient, sent_at = _HEADER.unpack_from(payload)
    if version != VERSION or flags & ~(_FLAG_WITHDRAWAL | _FLAG_SENDER_COPY) or not (
        flags & _FLAG_WITHDRAWAL
    ):
        raise InvalidToken("not a withdrawal token")
    return WithdrawalClaims(
        account_id=uuid.UUID(bytes=account),
        email_id=uuid.UUID(bytes=email),
        recipient=None if recipient == SHARED else recipient,
        sender_copy=bool(flags & _FLAG_SENDER_COPY),
        sent_at=sent_at,
    )
