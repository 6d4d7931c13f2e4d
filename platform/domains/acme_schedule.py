"""When to renew a certificate and when to retry a failed issuance (pure).

- Renew at two thirds of the certificate's own lifetime (``not_before`` to ``not_after``),
  whatever the CA chose: 60 days into a 90-day certificate, 4 days into a 6-day one.
- Retry a failed issuance after 1 min, 5 min, 30 min, 2 h, 6 h, then daily, each with
  ±20 % jitter so that many domains failing together (a CA outage) do not retry together.
- After ``MAX_FAILURES_PER_HOSTNAME`` consecutive failures a domain stays failed until an
  administrator asks for a retry.

Imports nothing of ours; time and randomness come in as arguments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

__all__ = [
    "MAX_FAILURES_PER_HOSTNAME",
    "RETRY_DELAYS",
    "RETRY_DELAY_CAP",
    "RETRY_JITTER",
    "renewal_time",
    "retry_delay",
]

MAX_FAILURES_PER_HOSTNAME = 5
"""Consecutive failed attempts after which a hostname waits for an administrator."""

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
RETRY_DELAY_CAP = timedelta(hours=24)
RETRY_JITTER = 0.2
"""Each delay is multiplied by a factor drawn uniformly from [1 - jitter, 1 + jitter]."""


class Random(Protocol):
    def random(self) -> float: ...


def renewal_time(not_before: datetime, not_after: datetime) -> datetime:
    """The moment two thirds of the certificate's lifetime have elapsed."""
    lifetime = not_after - not_before
    if lifetime <= timedelta(0):
        raise ValueError(f"not_after ({not_after}) must be later than not_before ({not_before})")
    return not_before + lifetime * 2 / 3


def retry_delay(failures: int, rng: Random) -> timedelta:
    """How long to wait after the ``failures``-th consecutive failure (1 for the first)."""
    if failures < 1:
        raise ValueError(f"failures must be at least 1, got {failures}")
    base = RETRY_DELAYS[failures - 1] if failures <= len(RETRY_DELAYS) else RETRY_DELAY_CAP
    factor = 1 + RETRY_JITTER * (2 * rng.random() - 1)
    return min(base * factor, RETRY_DELAY_CAP)
