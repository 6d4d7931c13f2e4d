"""The range of moments Sendtrail accepts from outside, and the one check that enforces it.

Python's ``datetime`` stops at the years 1 and 9999: ``0001-01-01T00:00:00+14:00`` cannot be
converted to UTC at all, and a date near either end overflows as soon as the code adds a
window to it (a report's default 12 weeks, a bucket, a token's lifetime). Every date-time
that comes in (GraphQL arguments, pagination cursors, the Date header of a logged message)
is therefore held to years 1900 to 9000: wider than any email, far from the edges.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sendtrail.errors import InvalidInput

__all__ = ["EARLIEST", "LATEST", "checked_moment"]

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def checked_moment(value: datetime, what: str) -> datetime:
    """``value`` when it has a timezone and lies in [EARLIEST, LATEST); else BAD_USER_INPUT."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"Give {what} with a timezone, e.g. 2030-01-31T00:00:00Z.")
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc < LATEST:
        raise InvalidInput(
            f"{what} must lie between 1900-01-01T00:00:00Z and 9000-01-01T00:00:00Z; "
            f"{value.isoformat()} does not."
        )
    return value
