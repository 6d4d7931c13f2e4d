"""Portable time arithmetic in SQL: which time slot a time is in, and seconds between two.

SQLite and PostgreSQL spell "seconds since the epoch" differently; reports group by
``epoch_slot(column, seconds)`` and fold the slots into calendar buckets in Python, where
the time zone rules live (SQLite knows no time zones). ``seconds_between`` lets a
statement compare neighbouring rows' times (an email page's R8 hints).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["epoch_slot", "seconds_between"]


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


class seconds_between(FunctionElement[float]):
    """``later - earlier`` in seconds (NULL when either is NULL)."""

    type = Float()
    inherit_cache = True

    def __init__(self, later: ColumnElement[Any] | Any, earlier: ColumnElement[Any] | Any) -> None:
        super().__init__(later, earlier)


def _pair(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    later, earlier = element.clauses
    return compiler.process(later, **kw), compiler.process(earlier, **kw)


@compiles(seconds_between, "postgresql")
def _postgresql_between(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _pair(element, compiler, **kw)
    return f"extract(epoch FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _sqlite_between(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _pair(element, compiler, **kw)
    # julianday() reads UtcDateTime's naive UTC text, in days with sub-second precision.
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
