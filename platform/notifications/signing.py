"""Webhook signatures per the Standard Webhooks specification (pure, no I/O).

A message is signed as ``base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))`` where the
key is the base64 part of a ``whsec_`` secret; the ``webhook-signature`` header carries
``v1,<signature>`` once per active secret (space-separated), so receivers keep verifying
while a secret is rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = [
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "new_webhook_secret",
    "sign",
    "signature_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"  # noqa: S105  (a public prefix, not a secret)
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The message is not signed by any of the secrets, or is too old/new."""


def new_webhook_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of 24 random bytes (shown once)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInput(_("Webhook secrets start with 'whsec_'."))
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("This webhook secret is not valid base64 after 'whsec_'.")
                           ) from None


def sign(secret: str, *, message_id: str, timestamp: int, body: str) -> str:
    """The ``v1,<base64>`` signature of one message with one secret."""
    content = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secrets_: Sequence[str], *, message_id: str, timestamp: int, body: str
) -> dict[str, str]:
    """The three headers of a delivery, signed with every active secret (newest first)."""
    if not secrets_:
        raise InvalidInput(_("A webhook endpoint needs at least one secret."))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, message_id=message_id, timestamp=timestamp, body=body)
            for secret in secrets_
        ),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: str, *, now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """What a receiver does: raise ``WebhookVerificationError`` unless one signature in the
    header is ``secret``'s signature of this message and the timestamp is recent."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        message_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        offered = lowered["webhook-signature"].split()
    except (KeyError, ValueError):
        raise WebhookVerificationError("missing or malformed webhook headers") from None
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("the message timestamp is too old or too new")
    expected = sign(secret, message_id=message_id, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise WebhookVerificationError("no matching signature")
