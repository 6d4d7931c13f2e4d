"""The webhook retry schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each
with ±20 % jitter, Retry-After honoured (capped), failed after the 8th attempt."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from sendtrail.notifications.schedule import (
    MAX_ATTEMPTS,
    RETRY_AFTER_CAP,
    next_retry,
    parse_retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = [5, 300, 1800, 7200, 18000, 36000, 36000]


def _seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311  (jitter, not secrecy)


class _Fixed(random.Random):
    """A random source stuck at one end of the range (to pin the jitter bounds)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.value


@pytest.mark.parametrize(("failed", "base"), list(enumerate(BASE, start=1)))
def test_each_delay_stays_within_twenty_percent_of_the_documented_one(
    failed: int, base: int
) -> None:
    rng = _seeded(failed)
    delays = []
    for _ in range(200):
        retry = next_retry(failed, rng)
        assert retry is not None
        delays.append(retry.delay.total_seconds())
    assert min(delays) >= base * 0.8
    assert max(delays) <= base * 1.2
    assert max(delays) - min(delays) > base * 0.2  # jitter really spreads them


@pytest.mark.parametrize(("end", "factor"), [(0.0, 0.8), (1.0, 1.2), (0.5, 1.0)])
def test_jitter_bounds_are_exactly_plus_minus_twenty_percent(end: float, factor: float) -> None:
    retry = next_retry(2, _Fixed(end))
    assert retry is not None
    assert retry.delay == timedelta(minutes=5) * factor


def test_the_eighth_failure_gives_up() -> None:
    assert MAX_ATTEMPTS == 8
    assert next_retry(7, _seeded(1)) is not None
    assert next_retry(8, _seeded(1)) is None
    assert next_retry(9, _seeded(1)) is None
    with pytest.raises(ValueError, match="at least one"):
        next_retry(0, _seeded(1))


def test_whole_schedule_spans_about_a_day() -> None:
    for end, hours in ((0.5, 27.58), (0.0, 27.58 * 0.8), (1.0, 27.58 * 1.2)):
        rng = _Fixed(end)
        total = timedelta(0)
        failed = 1
        while (retry := next_retry(failed, rng)) is not None:
            total += retry.delay
            failed += 1
        assert failed == 8  # eight attempts in all
        assert abs(total.total_seconds() / 3600 - hours) < 0.02


def test_retry_after_later_than_the_schedule_wins_and_is_reported() -> None:
    retry = next_retry(1, _Fixed(1.0), retry_after=timedelta(seconds=120))
    assert retry is not None
    assert (retry.delay, retry.honoured_retry_after) == (timedelta(seconds=120), True)


def test_retry_after_sooner_than_the_schedule_does_not_hurry_it() -> None:
    retry = next_retry(3, _Fixed(0.5), retry_after=timedelta(seconds=10))
    assert retry is not None
    assert (retry.delay, retry.honoured_retry_after) == (timedelta(minutes=30), False)


def test_retry_after_is_capped_at_a_day_and_still_counts_as_an_attempt() -> None:
    retry = next_retry(1, _Fixed(0.5), retry_after=timedelta(days=30))
    assert retry is not None
    assert retry.delay == RETRY_AFTER_CAP == timedelta(hours=24)
    assert next_retry(8, _Fixed(0.5), retry_after=timedelta(seconds=1)) is None


@pytest.mark.parametrize(("header", "expected"), [
    ("120", timedelta(seconds=120)),
    (" 0 ", timedelta(0)),
    ("999999999", RETRY_AFTER_CAP),
    ("Sun, 01 Mar 2026 12:10:00 GMT", timedelta(minutes=10)),
    ("Sunday, 01-Mar-26 12:00:30 GMT", timedelta(seconds=30)),  # RFC 850 form
    ("Sun, 01 Mar 2026 11:00:00 GMT", timedelta(0)),  # already past: no wait
    ("9999999999", RETRY_AFTER_CAP),  # 10 digits: still a number of seconds
    ("soon", None),
    ("-5", None),
    # Regression: str.isdigit() accepts non-ASCII digits that int() refuses, and int()
    # refuses numbers past 4,300 digits; both raised out of the dispatcher's attempt.
    ("\u00b2", None),  # superscript two
    ("\u0661\u0662\u0660", None),  # Arabic-Indic 120
    ("\uff11\uff12\uff10", None),  # fullwidth 120
    ("99999999999", None),  # 11 digits: not a delay we honour
    ("9" * 5000, None),
    ("Sun, 01 Mar 99999 12:10:00 GMT", None),
    ("Sun, 32 Mar 2026 12:10:00 GMT", None),
    ("", None),
    (None, None),
])
def test_retry_after_in_seconds_or_as_an_http_date(
    header: str | None, expected: timedelta | None
) -> None:
    assert parse_retry_after(header, now=NOW) == expected
