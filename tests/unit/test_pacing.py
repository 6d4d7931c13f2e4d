"""The deriver gives way to the hot path (issue 14): while hits arrive it takes at most its
share of the process, whether its rounds are full batches or a trickle of a few hits, and a
hit that arrives after a quiet moment is derived (and notified, R22) at once."""

from __future__ import annotations

import pytest

from sendtrail.tracking.pacing import Pacing


def test_the_first_round_after_a_quiet_moment_starts_at_once() -> None:
    pacing = Pacing(0.1)
    assert pacing.rest_before_work(100.0) == 0.0
    pacing.worked(100.0, 100.01)
    assert pacing.rest_before_work(100.2) == 0.0  # idle long enough: no rest left


def test_a_round_is_owed_nine_times_its_length_at_a_tenth_less_the_idle_time() -> None:
    pacing = Pacing(0.1)
    pacing.worked(10.0, 10.02)
    assert pacing.rest_before_work(10.02) == pytest.approx(0.18)
    assert pacing.rest_before_work(10.12) == pytest.approx(0.08)


@pytest.mark.parametrize("round_seconds", [0.0005, 0.003, 0.02])
def test_back_to_back_rounds_of_any_size_take_at_most_the_share(round_seconds: float) -> None:
    """A steady trickle makes small rounds that follow each other at once: before, only a
    full batch was followed by a rest, so such rounds took the whole process."""
    pacing, now, working = Pacing(0.1), 0.0, 0.0
    while now < 60.0:
        now += pacing.rest_before_work(now)
        pacing.worked(now, now + round_seconds)
        now += round_seconds
        working += round_seconds
    assert working / now == pytest.approx(0.1, abs=0.001)


def test_a_long_round_owes_a_bounded_rest_and_forgiving_clears_it() -> None:
    pacing = Pacing(0.1, longest_rest=2.0)
    pacing.worked(0.0, 5.0)
    assert pacing.rest_before_work(5.0) == 2.0
    pacing.forgive()
    assert pacing.rest_before_work(5.0) == 0.0


def test_a_share_outside_zero_to_one_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="share must be in"):
        Pacing(0.0)
    assert Pacing(1.0).rest_before_work(0.0) == 0.0
