"""R29: the footer link's token is its own kind, so no token opens another's door (pure)."""

from __future__ import annotations

import uuid

import pytest

from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.tokens import (
    InvalidToken,
    TokenKeys,
    WithdrawalClaims,
    sign,
    sign_withdrawal,
    verify,
    verify_withdrawal,
)

KEYS = TokenKeys.derive(["first secret"])
ROTATED = TokenKeys.derive(["second secret", "first secret"])
ACCOUNT, EMAIL = uuid.uuid4(), uuid.uuid4()
CLAIMS = WithdrawalClaims(ACCOUNT, EMAIL, recipient=3, sender_copy=False, sent_at=1_790_000_000)


@pytest.mark.parametrize("claims", [
    CLAIMS,
    WithdrawalClaims(ACCOUNT, EMAIL, recipient=None, sender_copy=True, sent_at=1),
])
def test_a_withdrawal_token_names_its_recipient_and_survives_key_rotation(
    claims: WithdrawalClaims,
) -> None:
    token = sign_withdrawal(claims, KEYS)
    assert verify_withdrawal(token, KEYS) == claims
    assert verify_withdrawal(token, ROTATED) == claims  # mail already sent keeps working


def test_a_withdrawal_token_is_no_pixel_and_a_pixel_or_click_token_withdraws_nobody() -> None:
    with pytest.raises(InvalidToken):
        verify(sign_withdrawal(CLAIMS, KEYS), KEYS)
    for claims in (
        TokenClaims(HitKind.OPEN, ACCOUNT, EMAIL, 3, False, 1),
        TokenClaims(HitKind.CLICK, ACCOUNT, EMAIL, 3, False, 1, 0, "https://shop.test/"),
    ):
        with pytest.raises(InvalidToken):
            verify_withdrawal(sign(claims, KEYS), KEYS)


def test_an_altered_or_foreign_withdrawal_token_is_refused() -> None:
    token = sign_withdrawal(CLAIMS, KEYS)
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-4], token + "A", "",
                sign_withdrawal(CLAIMS, TokenKeys.derive(["someone else's secret"]))):
        with pytest.raises(InvalidToken):
            verify_withdrawal(bad, KEYS)
