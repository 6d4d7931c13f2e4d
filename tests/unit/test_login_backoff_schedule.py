"""Issue 12, defect 6: after a few free failures the wait doubles, up to a cap."""

from __future__ import annotations

import pytest

from sendtrail.settings import AuthSettings
from sendtrail.tenancy.auth import backoff_seconds

LIMITS = AuthSettings()


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 4), (6, 8), (7, 16), (8, 32), (9, 60),
     (10, 60), (10_000, 60)],
)
def test_each_failure_after_the_free_ones_doubles_the_wait_up_to_a_minute(
    failures: int, wait: int
) -> None:
    assert backoff_seconds(failures, LIMITS) == wait


def test_the_defaults_never_lock_anyone_out_for_more_than_a_minute() -> None:
    assert LIMITS.login_backoff_max_seconds == 60
    assert LIMITS.login_free_failures == 3
    assert LIMITS.login_max_failures_per_ip == 20  # the per-client-address limit stays
