"""Time series of engagement counts: calendar buckets in the viewer's time zone.

The database groups hits into fixed UTC slots (see ``sendtrail.db.timeslots``); this module
decides where local hours, days and weeks begin (daylight saving included) and folds the
slots into them. Every UTC offset in use is a multiple of 15 minutes, so 15-minute slots
never straddle a bucket boundary.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sendtrail.i18n import N_, _

__all__ = [
    "MAX_BUCKETS",
    "SLOT_SECONDS",
    "Bucket",
    "Counts",
    "Interval",
    "RangeTooLong",
    "SlotCount",
    "buckets",
    "fold",
]

SLOT_SECONDS = 15 * 60


class Interval(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"


MAX_BUCKETS = {Interval.HOUR: 24 * 8, Interval.DAY: 366, Interval.WEEK: 54}
"""A chart of more points than this is unreadable (and the query unbounded)."""
_TOO_LONG = {
    Interval.HOUR: N_("A report shows at most {count} hours; choose a shorter range or a "
                      "longer interval."),
    Interval.DAY: N_("A report shows at most {count} days; choose a shorter range or a "
                     "longer interval."),
    Interval.WEEK: N_("A report shows at most {count} weeks; choose a shorter range or a "
                      "longer interval."),
}


class RangeTooLong(ValueError):
    """The range holds more buckets of the interval than a report shows."""


@dataclass(frozen=True)
class Counts:
    """Hits in a bucket. HUMAN ones are those reports count (attributed, R17); MACHINE
    ones are kept apart so the split is visible (R10); the sender's own are in neither (R9)."""

    human_opens: int = 0
    human_clicks: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0

    def plus(self, other: Counts) -> Counts:
        return Counts(
            self.human_opens + other.human_opens, self.human_clicks + other.human_clicks,
            self.machine_opens + other.machine_opens, self.machine_clicks + other.machine_clicks,
        )


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    counts: Counts = Counts()


@dataclass(frozen=True, slots=True)
class SlotCount:
    slot: int
    """Index of the ``SLOT_SECONDS``-wide UTC slot since the epoch."""
    click: bool
    human: bool
    count: int

    @property
    def counts(self) -> Counts:
        return Counts(
            human_opens=self.count if self.human and not self.click else 0,
            human_clicks=self.count if self.human and self.click else 0,
            machine_opens=self.count if not self.human and not self.click else 0,
            machine_clicks=self.count if not self.human and self.click else 0,
        )


def _local_midnight(day: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), time(0), tzinfo=zone).astimezone(UTC)


def _floor(at: datetime, interval: Interval, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    if interval is Interval.HOUR:
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    if interval is Interval.WEEK:  # weeks begin on Monday (ISO 8601)
        local -= timedelta(days=local.weekday())
    return _local_midnight(local, zone)


def _next(start: datetime, interval: Interval, zone: ZoneInfo) -> datetime:
    if interval is Interval.HOUR:  # an hour is an hour, also across a clock change
        return start + timedelta(hours=1)
    days = 7 if interval is Interval.WEEK else 1
    # Calendar arithmetic on the local date: a day is 23 or 25 hours on clock-change days.
    return _local_midnight(start.astimezone(zone) + timedelta(days=days), zone)


def buckets(since: datetime, until: datetime, interval: Interval, zone: ZoneInfo) -> list[Bucket]:
    """The buckets covering [since, until): the first begins at or before ``since``."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("report ranges are timezone-aware")
    result: list[Bucket] = []
    start = _floor(since, interval, zone)
    while start < until:
        if len(result) == MAX_BUCKETS[interval]:
            raise RangeTooLong(_(_TOO_LONG[interval]).format(count=MAX_BUCKETS[interval]))
        end = _next(start, interval, zone)
        result.append(Bucket(start=start, end=end))
        start = end
    return result


def fold(empty: list[Bucket], slots: Iterable[SlotCount]) -> list[Bucket]:
    """Add each slot's counts to the bucket it falls in; slots outside all buckets are dropped."""
    if not empty:
        return []
    starts = [bucket.start.timestamp() for bucket in empty]
    ends = empty[-1].end.timestamp()
    # Plain running sums, one Counts per bucket at the end: a 90-day report folds ~7,000
    # slot counts, and two frozen objects per slot were a tenth of its time (issue 14).
    sums = [[bucket.counts.human_opens, bucket.counts.human_clicks,
             bucket.counts.machine_opens, bucket.counts.machine_clicks] for bucket in empty]
    for slot in slots:
        at = slot.slot * SLOT_SECONDS
        index = bisect_right(starts, at) - 1
        if index < 0 or at >= ends:
            continue
        sums[index][(0 if slot.human else 2) + (1 if slot.click else 0)] += slot.count
    return [replace(bucket, counts=Counts(*counts))
            for bucket, counts in zip(empty, sums, strict=True)]
