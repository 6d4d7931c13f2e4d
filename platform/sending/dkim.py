"""STAND-IN for the mime worker's module (issue 13 contract); main's version replaces it."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sendtrail.errors import InvalidInput

__all__ = ["check_private_key", "new_private_key", "public_record"]


def new_private_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load(pem: bytes) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise InvalidInput("The DKIM key is not an unencrypted PEM private key.") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInput("The DKIM key must be an RSA key.")
    return key


def public_record(private_key_pem: bytes) -> str:
    der = _load(private_key_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def check_private_key(private_key_pem: bytes) -> None:
    _load(private_key_pem)
