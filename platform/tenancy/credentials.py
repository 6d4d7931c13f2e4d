"""Password hashing (argon2id) and API-token secrets (``st_`` + random + checksum).

Pure functions: no storage. A token is ``st_`` followed by 32 random base62 characters and a
6-character base62 CRC32 of them, so a mistyped or truncated token is recognised as
garbled before any lookup, and secret scanners can spot leaked tokens by their shape.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sendtrail.errors import InvalidInput, Unauthenticated
from sendtrail.i18n import _

__all__ = [
    "TOKEN_PREFIX",
    "check_token_shape",
    "hash_password",
    "hash_secret",
    "new_api_token",
    "new_secret",
    "password_needs_rehash",
    "verify_password",
]

TOKEN_PREFIX = "st_"  # noqa: S105  (a public prefix, not a secret)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LEN = 32
_CHECKSUM_LEN = 6
_TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}[0-9A-Za-z]{{{_RANDOM_LEN + _CHECKSUM_LEN}}}$")
MIN_PASSWORD_LENGTH = 10

# argon2-cffi's defaults are RFC 9106's low-memory recommendation for argon2id.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("Choose a password of at least {count} characters.").format(
            count=MIN_PASSWORD_LENGTH))
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        # Still spend the hashing time, so absent users are not told apart by timing.
        _hasher.hash(password or "x")
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _base62(number: int, length: int) -> str:
    digits = []
    for _digit in range(length):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LEN)


def new_api_token() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _char in range(_RANDOM_LEN))
    return f"{TOKEN_PREFIX}{body}{_checksum(body)}"


def check_token_shape(token: str) -> None:
    """Raise ``Unauthenticated`` with a useful message when ``token`` cannot be ours."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated(
            _("API tokens start with 'st_'; check that you copied the whole token.")
        )
    if not _TOKEN_RE.fullmatch(token):
        raise Unauthenticated(_("This API token is garbled or truncated; copy it again."))
    body, checksum = token[len(TOKEN_PREFIX) : -_CHECKSUM_LEN], token[-_CHECKSUM_LEN:]
    if not secrets.compare_digest(_checksum(body), checksum):
        raise Unauthenticated(_("This API token is garbled (its checksum does not match)."))


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret (tokens, session ids): fast lookups, nothing reversible."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
