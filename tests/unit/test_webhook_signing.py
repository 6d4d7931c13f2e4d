"""Webhook signatures follow the Standard Webhooks specification (issue 5, R22)."""

from __future__ import annotations

import pytest

from sendtrail.errors import InvalidInput
from sendtrail.notifications.signing import (
    WebhookVerificationError,
    new_webhook_secret,
    sign,
    signature_headers,
    verify,
)

# The specification's published example (standard-webhooks, "Signature scheme").
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signer_reproduces_the_specifications_test_vector() -> None:
    assert sign(SPEC_SECRET, message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP,
                body=SPEC_BODY) == SPEC_SIGNATURE


def test_during_rotation_every_active_secret_signs_and_each_verifies() -> None:
    new, old = new_webhook_secret(), SPEC_SECRET
    headers = signature_headers([new, old], message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP,
                                body=SPEC_BODY)
    assert headers["webhook-id"] == SPEC_ID
    assert headers["webhook-timestamp"] == str(SPEC_TIMESTAMP)
    assert headers["webhook-signature"].split()[1] == SPEC_SIGNATURE
    for secret in (new, old):  # receivers on either secret accept the delivery
        verify(secret, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10)


@pytest.mark.parametrize(
    ("body", "now", "why"),
    [
        ('{"test": 2432232315}', SPEC_TIMESTAMP, "no matching signature"),
        (SPEC_BODY, SPEC_TIMESTAMP + 3600, "too old"),
        (SPEC_BODY, SPEC_TIMESTAMP - 3600, "too new"),
    ],
)
def test_tampered_or_stale_messages_are_refused(body: str, now: int, why: str) -> None:
    headers = signature_headers([SPEC_SECRET], message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP,
                                body=SPEC_BODY)
    with pytest.raises(WebhookVerificationError, match=why):
        verify(SPEC_SECRET, headers, body, now=now)


def test_secrets_are_prefixed_random_and_checked() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first.startswith("whsec_")
    assert first != second
    with pytest.raises(InvalidInput, match="whsec_"):
        sign("not-a-secret", message_id="m", timestamp=1, body="{}")
    with pytest.raises(WebhookVerificationError, match="malformed"):
        verify(SPEC_SECRET, {"webhook-id": SPEC_ID}, SPEC_BODY, now=SPEC_TIMESTAMP)
