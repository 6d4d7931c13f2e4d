"""The range of moments Sendtrail accepts from outside, and the one check that enforces it.

Python's ``datetime`` stops at the years 1 and 9999: ``0001-01-01T00:00:00+14:00`` cannot be
converted to UTC at all, and a date near either end overflows as soon as the code adds a
window to it (a report's default 12 weeks, a bucket, a token's lifetime). Every date-time
that comes in (GraphQL arguments, pagination cursors, the Date header of a logged message)
is therefore held to years 1900 to 9000: wider than any email, far from the edges.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_date

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _, current_language

__all__ = ["EARLIEST", "LATEST", "checked_moment", "spoken_moment"]

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def checked_moment(value: datetime, what: str) -> datetime:
    """``value`` when it has a timezone and lies in [EARLIEST, LATEST); else BAD_USER_INPUT."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            _("Give {what} with a timezone, e.g. 2030-01-31T00:00:00Z.").format(what=what)
        )
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc < LATEST:
        raise InvalidInput(_(
            "{what} must lie between 1900-01-01T00:00:00Z and 9000-01-01T00:00:00Z; "
            "{value} does not."
        ).format(what=what, value=value.isoformat()))
    return value


def spoken_moment(value: datetime) -> str:
    """``value`` as a sentence says it (its own clock), in the reader's language."""
    if current_language() == "de":
        return f"{format_date(value, format='d. MMMM y', locale='de')} um {value:%H:%M}"
    return f"{value:%B %-d, %Y at %H:%M}"
