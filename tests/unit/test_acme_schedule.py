"""Renewal at two thirds of a certificate's lifetime; retries with backoff and jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from sendtrail.domains.acme_schedule import (
    MAX_FAILURES_PER_HOSTNAME,
    RETRY_DELAY_CAP,
    renewal_time,
    retry_delay,
)

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Fixed:
    """An rng whose ``random()`` always returns ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [
        pytest.param(timedelta(days=90), timedelta(days=60), id="90-day"),
        pytest.param(timedelta(days=6), timedelta(days=4), id="6-day"),
        pytest.param(timedelta(hours=1), timedelta(minutes=40), id="1-hour"),
        pytest.param(timedelta(days=90) - timedelta(seconds=1),
                     timedelta(days=60) - timedelta(seconds=2 / 3), id="pebble-minus-1s"),
    ],
)
def test_renewal_is_two_thirds_into_the_certificates_own_lifetime(
    lifetime: timedelta, renew_after: timedelta
) -> None:
    assert renewal_time(START, START + lifetime) == START + renew_after


def test_renewal_time_keeps_the_time_zone() -> None:
    assert renewal_time(START, START + timedelta(days=3)).tzinfo is UTC


@pytest.mark.parametrize("lifetime", [timedelta(0), timedelta(seconds=-1)])
def test_renewal_time_rejects_an_empty_lifetime(lifetime: timedelta) -> None:
    with pytest.raises(ValueError, match="later than"):
        renewal_time(START, START + lifetime)


@pytest.mark.parametrize(
    ("failures", "base"),
    [
        (1, timedelta(minutes=1)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=30)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=6)),
        (6, timedelta(hours=24)),
        (50, timedelta(hours=24)),
    ],
)
def test_retry_delay_grows_with_jitter_within_twenty_percent(
    failures: int, base: timedelta
) -> None:
    assert retry_delay(failures, Fixed(0.5)) == base
    low, high = retry_delay(failures, Fixed(0.0)), retry_delay(failures, Fixed(0.999999))
    assert low == base * 0.8
    # From the 24 h tier on the cap clips upward jitter; downward jitter still spreads out.
    assert high <= min(base * 1.2, RETRY_DELAY_CAP)
    assert high > base or high == RETRY_DELAY_CAP


def test_retry_delay_is_never_above_the_cap_and_spreads_out() -> None:
    rng = random.Random(7)  # noqa: S311  (jitter, not secrets)
    delays = [retry_delay(failures, rng) for failures in range(1, 40) for _ in range(20)]
    assert max(delays) <= RETRY_DELAY_CAP
    assert min(delays) >= timedelta(seconds=48)
    assert len({retry_delay(1, rng) for _ in range(20)}) > 1


@pytest.mark.parametrize("failures", [0, -1])
def test_retry_delay_counts_failures_from_one(failures: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retry_delay(failures, Fixed(0.5))


def test_a_hostname_gets_a_few_attempts_before_waiting_for_an_admin() -> None:
    assert 3 <= MAX_FAILURES_PER_HOSTNAME <= 10
