"""Input scalars that refuse, with a reason, what the code behind them could not use.

Strawberry's own ``DateTime`` accepts any ISO 8601 text, including a time without a zone or
a date at the very edge of the calendar; its ``Upload`` accepts a plain string. Ours keep
the same names (the SDL does not change) and answer ``BAD_USER_INPUT`` instead, for every
argument of the type at once: the check cannot be forgotten in a resolver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload
from strawberry.types.scalar import ScalarDefinition

from sendtrail.errors import InvalidInput, SendtrailError
from sendtrail.i18n import _
from sendtrail.moments import checked_moment

__all__ = ["SCALAR_MAP"]


def _refuse(error: SendtrailError) -> GraphQLError:
    # graphql-core keeps a GraphQLError's extensions when it reports a coercion failure.
    return GraphQLError(error.message, extensions={"code": error.code}, original_error=error)


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _refuse(InvalidInput(
            _("Give a date-time as ISO 8601 text, e.g. 2030-01-31T00:00:00Z.")
        ))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _refuse(InvalidInput(_(
            "{value!r} is not a date-time; give ISO 8601 with a timezone, "
            "e.g. 2030-01-31T00:00:00Z."
        ).format(value=value[:40]))) from None
    try:
        return checked_moment(parsed, _("a date-time"))
    except InvalidInput as error:
        raise _refuse(error) from None


def _serialize_datetime(value: datetime) -> str:
    return value.isoformat()


def _parse_upload(value: Any) -> Any:
    if not hasattr(value, "read"):
        raise _refuse(InvalidInput(_(
            "An Upload must be a file part of a multipart request; send the message as "
            "base64 text in rawBase64 instead."
        )))
    return value


SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime", description="Date with time (isoformat)",
        serialize=_serialize_datetime, parse_value=_parse_datetime,
    ),
    Upload: strawberry.scalar(
        name="Upload", description="Represents a file upload.",
        serialize=lambda value: value, parse_value=_parse_upload,
    ),
}
