"""When a webhook message is tried again (pure: no clock, no I/O, randomness passed in).

The schedule is the one of the Standard Webhooks reference implementation (Svix): the first
attempt is immediate, then after a failure the next attempt waits::

    attempt   1      2      3       4        5      6      7       8
    after     0      5 s    5 min   30 min   2 h    5 h    10 h    10 h

about 27.6 hours in all ("about a day"), each delay with ±20 % jitter so that retries of
many messages do not arrive in lockstep. After the 8th failed attempt the message is
``failed`` (an admin can replay it). A ``429 Too Many Requests`` or ``503 Service
Unavailable`` with ``Retry-After`` (seconds or an HTTP date) counts as an attempt, and the
next one is no earlier than the receiver asked (capped at 24 hours).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "JITTER",
    "MAX_ATTEMPTS",
    "RETRY_AFTER_CAP",
    "RETRY_DELAYS",
    "Retry",
    "next_retry",
    "parse_retry_after",
]

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""The delay after failed attempt n (1-based) is ``RETRY_DELAYS[n - 1]``, before jitter."""
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
RETRY_AFTER_CAP = timedelta(hours=24)


@dataclass(frozen=True)
class Retry:
    delay: timedelta
    honoured_retry_after: bool
    """Whether the receiver's Retry-After pushed the attempt later than the schedule."""


def next_retry(
    failed_attempts: int, rng: random.Random, *, retry_after: timedelta | None = None
) -> Retry | None:
    """When to try again after ``failed_attempts`` attempts failed; ``None``: give up."""
    if failed_attempts < 1:
        raise ValueError("a retry follows at least one failed attempt")
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[failed_attempts - 1] * rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        wanted = min(max(retry_after, timedelta(0)), RETRY_AFTER_CAP)
        if wanted > delay:
            return Retry(wanted, honoured_retry_after=True)
    return Retry(delay, honoured_retry_after=False)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """``Retry-After`` as a delay from ``now``: delta-seconds or an HTTP date; else None."""
    if value is None:
        return None
    value = value.strip()
    # ASCII digits only (``str.isdigit`` also accepts "²", which ``int`` refuses), and
    # few of them: ``int`` refuses numbers past 4,300 digits, and 10 digits already
    # exceed the cap. A longer number is not a Retry-After we honour.
    if value.isascii() and value.isdigit() and len(value) <= 10:
        return timedelta(seconds=min(int(value), int(RETRY_AFTER_CAP.total_seconds())))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))
