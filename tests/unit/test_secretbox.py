"""Encryption at rest of private keys: round trip, rotation, unknown keys, tampering."""

from __future__ import annotations

import base64

import pytest

from sendtrail.secretbox import (
    SecretBox,
    SecretKeyUnavailable,
    SecretTampered,
    UndecryptableSecret,
)

OLD, NEW = "old-secret-key-0123456789", "new-secret-key-9876543210"
KEY_PEM = b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEG\n-----END PRIVATE KEY-----\n"


def test_round_trip_is_text_safe_and_carries_the_key_id() -> None:
    box = SecretBox([NEW])
    blob = box.encrypt(KEY_PEM, context=b"certificate:a.example")

    version, key_id, payload = blob.split(".")
    assert (version, key_id) == ("v1", box.current_key_id)
    assert len(key_id) == 8
    assert blob.isascii()
    assert "\n" not in blob
    assert KEY_PEM not in blob.encode()
    assert box.decrypt(blob, context=b"certificate:a.example") == KEY_PEM
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_each_encryption_uses_a_fresh_nonce() -> None:
    box = SecretBox([NEW])
    assert box.encrypt(KEY_PEM) != box.encrypt(KEY_PEM)


def test_old_key_still_decrypts_after_rotation_and_asks_for_re_encryption() -> None:
    before = SecretBox([OLD]).encrypt(KEY_PEM, context=b"acme-account")
    rotated = SecretBox([NEW, OLD])

    assert rotated.decrypt(before, context=b"acme-account") == KEY_PEM
    assert rotated.needs_rotation(before)
    after = rotated.rotate(before, context=b"acme-account")
    assert not rotated.needs_rotation(after)
    assert rotated.rotate(after, context=b"acme-account") == after
    assert SecretBox([NEW]).decrypt(after, context=b"acme-account") == KEY_PEM


def test_key_removed_from_settings_gives_an_actionable_error() -> None:
    blob = SecretBox([OLD]).encrypt(KEY_PEM)

    with pytest.raises(SecretKeyUnavailable, match="no longer in SENDTRAIL_SECRET_KEYS"):
        SecretBox([NEW]).decrypt(blob)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: b[:-2] + ("A" if b[-2] != "A" else "B") + b[-1], id="flipped-byte"),
        pytest.param(lambda b: b[:-10], id="truncated"),
        pytest.param(lambda b: "v2" + b[2:], id="unknown-version"),
        pytest.param(lambda b: b.replace(".", ":"), id="not-a-blob"),
        pytest.param(lambda b: b.rsplit(".", 1)[0] + ".AAAA", id="too-short"),
    ],
)
def test_tampering_is_detected(tamper: object) -> None:
    box = SecretBox([NEW])
    blob = box.encrypt(KEY_PEM)
    assert callable(tamper)

    with pytest.raises(SecretTampered):
        box.decrypt(tamper(blob))


def test_ciphertext_moved_to_another_record_does_not_decrypt() -> None:
    box = SecretBox([NEW])
    blob = box.encrypt(KEY_PEM, context=b"certificate:a.example")

    with pytest.raises(UndecryptableSecret):
        box.decrypt(blob, context=b"certificate:b.example")


@pytest.mark.parametrize("keys", [[], [""], [NEW, ""]])
def test_box_needs_non_empty_keys(keys: list[str]) -> None:
    with pytest.raises(ValueError, match="non-empty key"):
        SecretBox(keys)
