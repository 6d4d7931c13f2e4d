"""Encryption at rest for private keys (certificate keys, the ACME account key).

Each configured secret (``settings.secrets.keys``, newest first) yields an AES-256-GCM key
through HKDF-SHA256 and a short key id. ``encrypt`` always uses the newest key; ``decrypt``
picks the key by the id carried in the ciphertext, so after a rotation (prepend a new
secret to ``SENDTRAIL_SECRET_KEYS``) old ciphertexts still open, ``needs_rotation`` says
which ones to re-encrypt, and ``rotate`` does it. The output is text-safe::

    v1.<key id: 8 base64url chars>.<base64url(nonce ‖ ciphertext ‖ tag)>

``context`` (e.g. ``b"certificate:shop-links.example.com"``) is bound as associated data,
so a ciphertext copied to another row does not decrypt there.

Pure: imports no storage and reads no environment; keys come in as arguments.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sendtrail.errors import SendtrailError
from sendtrail.i18n import _

__all__ = [
    "SecretBox",
    "SecretKeyUnavailable",
    "SecretTampered",
    "UndecryptableSecret",
    "secret_box",
]

VERSION = "v1"
_ENCRYPTION_INFO = b"sendtrail key encryption v1"
_KEY_ID_INFO = b"sendtrail key id v1"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 6  # 8 base64url characters; a collision only costs one extra attempt


class UndecryptableSecret(SendtrailError):
    """A stored secret cannot be decrypted with the configured keys."""


class SecretKeyUnavailable(UndecryptableSecret):
    """The secret was encrypted with a key that is no longer configured."""


class SecretTampered(UndecryptableSecret):
    """The ciphertext is malformed, altered, or bound to another context."""


@dataclass(frozen=True)
class _Key:
    key_id: str
    aead: AESGCM


def _derive(secret: str) -> _Key:
    material = secret.encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_ENCRYPTION_INFO)
    key_id = HKDF(algorithm=hashes.SHA256(), length=_KEY_ID_BYTES, salt=None, info=_KEY_ID_INFO)
    return _Key(
        key_id=_b64encode(key_id.derive(material)),
        aead=AESGCM(key.derive(material)),
    )


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """Encrypts with the newest key and decrypts with whichever configured key made it."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys or not all(keys):
            raise ValueError("SecretBox needs at least one non-empty key (newest first)")
        self._keys = tuple(_derive(secret) for secret in keys)

    @property
    def current_key_id(self) -> str:
        return self._keys[0].key_id

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> str:
        key = self._keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, plaintext, _associated_data(key.key_id, context))
        return f"{VERSION}.{key.key_id}.{_b64encode(nonce + sealed)}"

    def decrypt(self, blob: str, *, context: bytes = b"") -> bytes:
        key_id, payload = _parse(blob)
        candidates = [key for key in self._keys if key.key_id == key_id]
        if not candidates:
            raise SecretKeyUnavailable(_(
                "A stored private key was encrypted with a key no longer in "
                "SENDTRAIL_SECRET_KEYS: put the old key back (after the new one) "
                "until every secret has been re-encrypted."
            ))
        nonce, sealed = payload[:_NONCE_BYTES], payload[_NONCE_BYTES:]
        for key in candidates:
            try:
                return key.aead.decrypt(nonce, sealed, _associated_data(key_id, context))
            except InvalidTag:
                continue
        raise SecretTampered(_(
            "A stored private key failed its integrity check: it was altered, truncated "
            "or copied from another record."
        ))

    def needs_rotation(self, blob: str) -> bool:
        """Whether ``blob`` was made with another key than the newest one."""
        key_id, _payload = _parse(blob)
        return key_id != self.current_key_id

    def rotate(self, blob: str, *, context: bytes = b"") -> str:
        """``blob`` re-encrypted with the newest key (unchanged when it already is)."""
        if not self.needs_rotation(blob):
            return blob
        return self.encrypt(self.decrypt(blob, context=context), context=context)


@functools.cache
def secret_box(keys: tuple[str, ...]) -> SecretBox:
    """One box per key set (deriving keys costs a little; settings never change at run time)."""
    return SecretBox(keys)


def _associated_data(key_id: str, context: bytes) -> bytes:
    return f"{VERSION}.{key_id}.".encode() + context


def _parse(blob: str) -> tuple[str, bytes]:
    parts = blob.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise SecretTampered(_("Not a Sendtrail encrypted secret (expected {version}.<id>.<data>)."
                               ).format(version=VERSION))
    try:
        payload = _b64decode(parts[2])
    except (binascii.Error, ValueError) as error:
        raise SecretTampered(_("A stored encrypted secret is not valid base64url.")) from error
    if len(payload) < _NONCE_BYTES + 16:
        raise SecretTampered(_("A stored encrypted secret is truncated."))
    return parts[1], payload
