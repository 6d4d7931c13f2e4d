"""A portable "which time slot is this in" SQL expression, for reports grouped by time.

SQLite and PostgreSQL spell "seconds since the epoch" differently; reports group by
``epoch_slot(column, seconds)`` and fold the slots into calendar buckets in Python, where
the time zone rules live (SQLite knows no time zones).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["epoch_slot"]


class epoch_slot(FunctionElement[int]):
    """``floor(epoch seconds of column / seconds)``: the index of the slot a time falls in."""

    type = BigInteger()
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any] | Any, seconds: int) -> None:
        if not isinstance(seconds, int) or seconds <= 0:
            raise ValueError("a slot is a positive whole number of seconds")
        # The width is a literal, not a bound parameter (it comes from code, never from
        # input): the expression in SELECT and in GROUP BY is then textually identical, as
        # PostgreSQL requires, and it is part of the statement cache key.
        super().__init__(column, literal_column(str(seconds)))


def _arguments(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    column, seconds = element.clauses
    return compiler.process(column, **kw), compiler.process(seconds, **kw)


@compiles(epoch_slot, "postgresql")
def _postgresql(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> str:
    column, seconds = _arguments(element, compiler, **kw)
    return f"CAST(floor(extract(epoch FROM {column}) / {seconds}) AS BIGINT)"


@compiles(epoch_slot, "sqlite")
def _sqlite(element: epoch_slot, compiler: SQLCompiler, **kw: Any) -> str:
    column, seconds = _arguments(element, compiler, **kw)
    # UtcDateTime stores naive UTC text on SQLite; strftime('%s') reads it as UTC.
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / {seconds})"
