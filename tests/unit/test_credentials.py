"""API-token shape and checksum, password hashing (argon2id), secret hashing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from sendtrail.errors import InvalidInput, Unauthenticated
from sendtrail.tenancy.credentials import (
    TOKEN_PREFIX,
    check_token_shape,
    hash_password,
    hash_secret,
    new_api_token,
    verify_password,
)

TOKEN_LENGTH = len("st_") + 32 + 6
GOOD_PASSWORD = "correct horse battery"


def _change_one_char(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


def _shape_error(token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        check_token_shape(token)
    assert caught.value.code == "UNAUTHENTICATED"
    return caught.value.message


# --- API tokens ----------------------------------------------------------------------


def test_new_token_starts_with_st_prefix() -> None:
    assert TOKEN_PREFIX == "st_"
    assert new_api_token().startswith("st_")


def test_new_tokens_have_fixed_length_and_base62_body() -> None:
    for _ in range(20):
        token = new_api_token()
        assert len(token) == TOKEN_LENGTH
        assert re.fullmatch(r"st_[0-9A-Za-z]+", token)


def test_two_new_tokens_differ() -> None:
    assert new_api_token() != new_api_token()


def test_new_token_passes_shape_check() -> None:
    for _ in range(20):
        check_token_shape(new_api_token())


def test_token_without_prefix_is_rejected_with_copy_hint() -> None:
    token = new_api_token()
    message = _shape_error(token[len(TOKEN_PREFIX) :])
    assert "start with 'st_'" in message


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[:20],
        lambda t: t + "x",
        lambda t: t[:10] + "-" + t[11:],
        lambda t: t + "\n",
    ],
    ids=["one-char-short", "half", "one-char-long", "non-base62-char", "trailing-newline"],
)
def test_truncated_or_garbled_token_is_rejected_as_garbled(mangle: Callable[[str], str]) -> None:
    message = _shape_error(mangle(new_api_token()))
    assert "garbled or truncated" in message


@pytest.mark.parametrize("index", [3, 20, 34, TOKEN_LENGTH - 1], ids=lambda i: f"at-{i}")
def test_token_with_one_character_changed_fails_checksum(index: int) -> None:
    message = _shape_error(_change_one_char(new_api_token(), index))
    assert "checksum" in message


def test_shape_errors_have_distinct_messages() -> None:
    token = new_api_token()
    messages = {
        _shape_error(token[3:]),
        _shape_error(token[:-1]),
        _shape_error(_change_one_char(token, 5)),
    }
    assert len(messages) == 3


# --- Passwords -----------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "short", "123456789"], ids=["empty", "5", "9"])
def test_hash_password_refuses_passwords_shorter_than_ten(password: str) -> None:
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        hash_password(password)


def test_hash_password_accepts_exactly_ten_characters() -> None:
    assert verify_password(hash_password("0123456789"), "0123456789")


def test_password_hash_is_argon2id() -> None:
    assert hash_password(GOOD_PASSWORD).startswith("$argon2id$")


def test_same_password_hashes_differently_each_time() -> None:
    assert hash_password(GOOD_PASSWORD) != hash_password(GOOD_PASSWORD)  # salted


def test_verify_password_accepts_right_password() -> None:
    assert verify_password(hash_password(GOOD_PASSWORD), GOOD_PASSWORD) is True


def test_verify_password_rejects_wrong_password() -> None:
    assert verify_password(hash_password(GOOD_PASSWORD), "wrong horse battery") is False


def test_verify_password_is_false_without_a_hash() -> None:
    assert verify_password(None, GOOD_PASSWORD) is False
    assert verify_password(None, "") is False


def test_verify_password_is_false_for_a_corrupt_hash() -> None:
    assert verify_password("not-a-hash", GOOD_PASSWORD) is False


# --- Secrets -------------------------------------------------------------------------


def test_hash_secret_is_64_hex_chars_and_not_the_secret() -> None:
    secret = new_api_token()
    digest = hash_secret(secret)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != secret
    assert secret not in digest


def test_hash_secret_is_deterministic_and_distinguishes_secrets() -> None:
    assert hash_secret("abc") == hash_secret("abc")
    assert hash_secret("abc") != hash_secret("abd")
