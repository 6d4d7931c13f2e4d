"""DKIM signing of a finished copy (dkimpy), and the account's DKIM keys (R26).

A copy is signed last, after its HTML was spliced and its Bcc dropped, with relaxed/relaxed
canonicalization (a relay on the way may rewrap header whitespace). Keys are RSA, stored as
PEM; dkimpy reads only PKCS#1, so every key is turned into that form before signing.
"""

from __future__ import annotations

import base64
from email import policy
from email.parser import BytesHeaderParser

import dkim  # type: ignore[import-untyped]  # dkimpy ships no types
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = [
    "SIGNED_HEADERS",
    "check_private_key",
    "new_private_key",
    "public_record",
    "sign_message",
]

SIGNED_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "mime-version",
                  "content-type", "in-reply-to", "references")
"""Signed when present (From always is)."""
MIN_BITS = 1024  # RFC 8301: verifiers refuse smaller keys
MAX_BITS = 4096


def _rsa_key(private_key_pem: bytes) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidInput(_(
            "The DKIM key is not a PEM private key without a password "
            "(-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)."
        )) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInput(_("The DKIM key is not an RSA key: only RSA keys are supported."))
    if not MIN_BITS <= key.key_size <= MAX_BITS:
        raise InvalidInput(_("The DKIM key has {bits} bits: use an RSA key of "
                             "{min} to {max} bits (2048 is usual).").format(
            bits=key.key_size, min=MIN_BITS, max=MAX_BITS))
    return key


def _pkcs1(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def new_private_key() -> bytes:
    """A new RSA 2048 key, PEM (PKCS#1)."""
    return _pkcs1(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def check_private_key(private_key_pem: bytes) -> None:
    """``InvalidInput`` with a sentence unless the key can sign."""
    _rsa_key(private_key_pem)


def public_record(private_key_pem: bytes) -> str:
    """The TXT record to publish at ``<selector>._domainkey.<domain>``."""
    public = _rsa_key(private_key_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode("ascii")


def sign_message(raw: bytes, *, domain: str, selector: str, private_key_pem: bytes) -> bytes:
    """``raw`` with a DKIM-Signature header field prepended."""
    key = _pkcs1(_rsa_key(private_key_pem))
    try:
        domain_bytes = domain.strip().rstrip(".").encode("idna")
        selector_bytes = selector.strip().encode("ascii")
    except UnicodeError:
        raise InvalidInput(_("{domain} / {selector} is not a DKIM domain and selector.").format(
            domain=repr(domain), selector=repr(selector))) from None
    present = {name.lower() for name in BytesHeaderParser(policy=policy.compat32)
               .parsebytes(raw)}
    if "from" not in present:
        raise InvalidInput(_("The message has no From header: DKIM cannot sign it."))
    headers = [name.encode("ascii") for name in SIGNED_HEADERS if name in present]
    line_break = b"\r\n" if b"\r\n" in raw[: raw.find(b"\n") + 1] else b"\n"
    try:
        signature: bytes = dkim.sign(
            raw, selector_bytes, domain_bytes, key, include_headers=headers,
            canonicalize=(b"relaxed", b"relaxed"), linesep=line_break,
        )
    except dkim.DKIMException as error:
        raise InvalidInput(_("The message cannot be signed with DKIM: {error}.").format(
            error=error)) from None
    return signature + raw
