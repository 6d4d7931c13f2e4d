"""DKIM signing of each recipient's copy and the account's keys (sendtrail.sending.dkim, R26).

dkimpy looks the key up in DNS unless given ``dnsfunc``: every verification here passes one.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest

from sendtrail.errors import InvalidInput
from sendtrail.sending.core.compose import compose_message
from sendtrail.sending.core.message import Attachment, Party, read_message, recipient_copy
from sendtrail.sending.dkim import (
    check_private_key,
    new_private_key,
    public_record,
    sign_message,
)

DOMAIN, SELECTOR = "sender.test", "st1"


@functools.cache
def _key() -> bytes:
    return new_private_key()


def _dns(record: str, selector: str = SELECTOR) -> Callable[..., bytes | None]:
    name = f"{selector}._domainkey.{DOMAIN}.".encode()

    def lookup(query: bytes, timeout: int = 5) -> bytes | None:
        return record.encode() if query == name else None

    return lookup


def _verifies(signed: bytes, key: bytes | None = None) -> bool:
    return bool(dkim.verify(signed, dnsfunc=_dns(public_record(key or _key()))))


def _message(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "sender": Party("anne@sender.test", "Änne"), "to": [Party("bo@client.test", "Bo")],
        "cc": [], "bcc": [Party("boss@sender.test", None)], "subject": "Angebot für Sie",
        "html": '<p>Hallo <a href="https://shop.test/o">hier</a></p>', "text": None,
        "attachments": [Attachment("r.pdf", "application/pdf", bytes(range(256)))],
        "message_id": "<m1@sender.test>", "date": datetime(2026, 12, 3, 14, tzinfo=UTC),
        "in_reply_to": None, "references": [],
    }
    fields.update(changes)
    return compose_message(**fields)  # type: ignore[arg-type]


def _signed_names(signed: bytes) -> list[str]:
    header = signed.split(b"\r\n\r\n", 1)[0].decode()
    found = re.search(r"\bh=([^;]+)", re.sub(r"\r\n[ \t]+", " ", header))
    assert found is not None
    return [name.strip().lower() for name in found.group(1).split(":")]


def test_a_copy_spliced_then_signed_verifies() -> None:  # R26, R27
    raw = _message()
    copy = recipient_copy(raw, '<p>Hallo <a href="https://t1.track.test/c/x">hier</a></p>')
    signed = sign_message(copy, domain=DOMAIN, selector=SELECTOR, private_key_pem=_key())
    assert signed.startswith(b"DKIM-Signature: ")
    assert signed.endswith(copy)
    assert _verifies(signed)
    assert read_message(signed).html == '<p>Hallo <a href="https://t1.track.test/c/x">hier</a></p>'


def test_the_usual_headers_are_signed_when_present_relaxed_relaxed() -> None:
    raw = _message(cc=[Party("dora@client.test", None)], in_reply_to="<m0@client.test>",
                   references=["<m0@client.test>"])
    signed = sign_message(recipient_copy(raw, None), domain=DOMAIN, selector=SELECTOR,
                          private_key_pem=_key())
    assert _signed_names(signed) == ["from", "to", "cc", "subject", "date", "message-id",
                                     "mime-version", "content-type", "in-reply-to",
                                     "references"]
    assert b"c=relaxed/relaxed" in signed
    bare = sign_message(_message(), domain=DOMAIN, selector=SELECTOR, private_key_pem=_key())
    assert "cc" not in _signed_names(bare)
    assert "in-reply-to" not in _signed_names(bare)
    assert "bcc" not in _signed_names(bare)


@pytest.mark.parametrize(("old", "new"), [
    (b"Subject: Angebot", b"Subject: Rechnung"),
    (b"From: =?utf-8?q?=C3=84nne?= <anne@sender.test>", b"From: Anne <anne@evil.test>"),
    (b"https://shop.test/o", b"https://evil.test/o"),
    (b"AAECAwQF", b"AAECAwQG"),  # one bit of the attachment
])
def test_a_tampered_copy_fails(old: bytes, new: bytes) -> None:
    signed = sign_message(_message(), domain=DOMAIN, selector=SELECTOR, private_key_pem=_key())
    assert old in signed
    assert _verifies(signed)
    assert not _verifies(signed.replace(old, new, 1))


def test_a_signature_checked_against_another_key_fails() -> None:
    signed = sign_message(_message(), domain=DOMAIN, selector=SELECTOR, private_key_pem=_key())
    assert not _verifies(signed, key=new_private_key())


def test_a_message_with_lf_line_breaks_is_signed_in_its_own_line_breaks() -> None:
    raw = _message().replace(b"\r\n", b"\n")
    signed = sign_message(raw, domain=DOMAIN, selector=SELECTOR, private_key_pem=_key())
    assert signed.endswith(raw)
    assert b"\r\n" not in signed
    assert _verifies(signed.replace(b"\n", b"\r\n"))


def test_new_keys_are_rsa_2048_and_publish_a_dkim_record() -> None:
    key = new_private_key()
    check_private_key(key)
    assert key.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    record = public_record(key)
    assert re.fullmatch(r"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*", record)
    assert len(record) > 350  # a 2048-bit key
    assert key != new_private_key()


def _openssl(*args: str | Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    subprocess.run(["openssl", *map(str, args)], capture_output=True, check=True)


def test_a_pkcs8_key_made_by_openssl_is_accepted_and_signs(tmp_path: Path) -> None:
    key_file = tmp_path / "dkim.key"
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", key_file)
    key = key_file.read_bytes()
    assert key.startswith(b"-----BEGIN PRIVATE KEY-----")
    check_private_key(key)
    signed = sign_message(_message(), domain=DOMAIN, selector=SELECTOR, private_key_pem=key)
    assert _verifies(signed, key=key)


@pytest.mark.parametrize(("make", "words"), [
    (lambda _: b"not a key", "not a PEM private key"),
    (lambda _: b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
     "not a PEM private key"),
    (lambda folder: _made(folder, "genpkey", "-algorithm", "EC", "-pkeyopt",
                          "ec_paramgen_curve:P-256"), "not an RSA key"),
    (lambda folder: _made(folder, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          "rsa_keygen_bits:512"), "512 bits"),
    (lambda folder: _made(folder, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          "rsa_keygen_bits:2048", "-aes256", "-pass", "pass:secret"),
     "without a password"),
])
def test_an_unusable_key_is_refused_with_a_sentence(
    make: Callable[[Path], bytes], words: str, tmp_path: Path,
) -> None:
    key = make(tmp_path)
    with pytest.raises(InvalidInput, match=words):
        check_private_key(key)
    with pytest.raises(InvalidInput, match=words):
        sign_message(_message(), domain=DOMAIN, selector=SELECTOR, private_key_pem=key)


def _made(folder: Path, *args: str) -> bytes:
    _openssl(*args, "-out", folder / "key.pem")
    return (folder / "key.pem").read_bytes()


def test_a_message_without_from_is_refused() -> None:
    raw = b"To: bo@client.test\r\nSubject: x\r\n\r\nhi\r\n"
    with pytest.raises(InvalidInput, match="no From header"):
        sign_message(raw, domain=DOMAIN, selector=SELECTOR, private_key_pem=_key())
