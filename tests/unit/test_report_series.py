"""Report buckets follow the viewer's calendar: local days and Monday weeks, daylight saving
included, with every hit counted in exactly one bucket (the Overview chart, R10, R17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sendtrail.tracking.core.series import (
    SLOT_SECONDS,
    Counts,
    Interval,
    RangeTooLong,
    SlotCount,
    buckets,
    fold,
)

PARIS = ZoneInfo("Europe/Paris")
KOLKATA = ZoneInfo("Asia/Kolkata")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _slot(at: datetime, *, click: bool = False, human: bool = True, count: int = 1) -> SlotCount:
    return SlotCount(slot=int(at.timestamp()) // SLOT_SECONDS, click=click, human=human,
                     count=count)


def test_days_begin_at_local_midnight_and_a_clock_change_day_has_23_hours() -> None:
    # Paris moves to summer time on 2030-03-31 at 02:00 local.
    days = buckets(_utc("2030-03-30T12:00"), _utc("2030-04-01T12:00"), Interval.DAY, PARIS)
    assert [(b.start, b.end - b.start) for b in days] == [
        (_utc("2030-03-29T23:00"), timedelta(hours=24)),
        (_utc("2030-03-30T23:00"), timedelta(hours=23)),
        (_utc("2030-03-31T22:00"), timedelta(hours=24)),
    ]


def test_weeks_begin_on_monday_and_hours_in_a_half_hour_zone_at_half_past_utc() -> None:
    (week,) = buckets(_utc("2030-01-02T10:00"), _utc("2030-01-03T10:00"), Interval.WEEK, UTC)
    assert (week.start, week.end) == (_utc("2029-12-31T00:00"), _utc("2030-01-07T00:00"))
    hours = buckets(_utc("2030-01-01T10:45"), _utc("2030-01-01T12:00"), Interval.HOUR, KOLKATA)
    assert [b.start for b in hours] == [_utc("2030-01-01T10:30"), _utc("2030-01-01T11:30")]


def test_a_hit_just_after_local_midnight_counts_on_the_local_day() -> None:
    days = buckets(_utc("2030-06-01T00:00"), _utc("2030-06-03T00:00"), Interval.DAY, PARIS)
    late_evening_utc = _utc("2030-06-01T22:15")  # 00:15 on June 2nd in Paris
    series = fold(days, [_slot(late_evening_utc), _slot(late_evening_utc, human=False),
                         _slot(_utc("2030-06-01T21:45"), click=True, count=3)])
    by_day = {b.start.astimezone(PARIS).date().isoformat(): b.counts for b in series}
    assert by_day == {
        "2030-06-01": Counts(human_clicks=3),
        "2030-06-02": Counts(human_opens=1, machine_opens=1),
        "2030-06-03": Counts(),
    }


def test_slots_outside_the_range_are_not_counted() -> None:
    days = buckets(_utc("2030-06-01T00:00"), _utc("2030-06-02T00:00"), Interval.DAY, UTC)
    series = fold(days, [_slot(_utc("2030-05-31T23:45")), _slot(_utc("2030-06-02T00:00")),
                         _slot(_utc("2030-06-01T23:45"), click=True, human=False)])
    assert [b.counts for b in series] == [Counts(machine_clicks=1)]


def test_a_range_with_too_many_points_is_refused_in_words() -> None:
    with pytest.raises(RangeTooLong, match="at most 192 hours"):
        buckets(_utc("2030-01-01T00:00"), _utc("2030-01-31T00:00"), Interval.HOUR, UTC)
    assert len(buckets(_utc("2030-01-01T00:00"), _utc("2030-01-09T00:00"), Interval.HOUR,
                       UTC)) == 192


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        buckets(datetime(2030, 1, 1), _utc("2030-01-02T00:00"), Interval.DAY, UTC)
