"""Keyset pagination for Relay connections: stable under inserts, O(page) per request."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.moments import checked_moment

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "Page", "keyset_batches", "keyset_page",
           "merged_keyset_page", "within"]

DEFAULT_PAGE = 50
MAX_PAGE = 100
# Ours are under 300 characters; anything much longer is not one (and costs work to decode).
MAX_CURSOR = 1_000
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[T, str]]
    """Each row with its cursor."""
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][1] if self.items else None


def _encode(names: Sequence[str], values: Sequence[Any]) -> str:
    tagged: list[Any] = [{"k": list(names)}]
    for value in values:
        if isinstance(value, datetime):
            tagged.append({"d": value.isoformat()})
        elif isinstance(value, uuid.UUID):
            tagged.append({"u": str(value)})
        else:
            tagged.append({"s": str(value)})
    return base64.urlsafe_b64encode(json.dumps(tagged).encode()).decode().rstrip("=")


def _moment(text: str) -> datetime:
    try:
        return checked_moment(datetime.fromisoformat(text), "a cursor's date")
    except InvalidInput as error:
        raise ValueError(error.message) from None


def _decode(cursor: str, keys: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    foreign = InvalidInput(_("The 'after' cursor belongs to a different list."))
    not_ours = InvalidInput(_("The 'after' cursor is not one this API gave out; use the "
                              "endCursor of the previous page, or leave 'after' out."))
    if len(cursor) > MAX_CURSOR:
        raise not_ours
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        header, *tagged = json.loads(raw)
        if header != {"k": [key.key for key in keys]}:
            raise foreign
        values: list[Any] = []
        for item in tagged:
            ((tag, text),) = item.items()
            values.append(
                _moment(text) if tag == "d"
                else uuid.UUID(text) if tag == "u"
                else str(text)
            )
    # RecursionError: JSON nested deeper than the parser goes (issue 12, defect 8).
    except (binascii.Error, ValueError, TypeError, AttributeError, RecursionError):
        raise not_ours from None
    if len(values) != len(keys) or not all(
        isinstance(value, key.type.python_type) for value, key in zip(values, keys, strict=False)
    ):
        raise foreign
    return values


def within(
    statement: SelectOfScalar[T], column: Any, since: datetime | None, until: datetime | None
) -> SelectOfScalar[T]:
    """Rows whose ``column`` lies in ``[since, until)``; an open end is no bound."""
    if since is not None:
        statement = statement.where(column >= since)
    if until is not None:
        statement = statement.where(column < until)
    return statement


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise InvalidInput(_("'first' must be zero or more."))
    if first > MAX_PAGE:
        raise InvalidInput(_("'first' may be at most {most}; page with 'after' instead.").format(
            most=MAX_PAGE))
    return first


async def keyset_page(
    session: AsyncSession,
    statement: SelectOfScalar[Any],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    descending: bool,
    first: int | None,
    after: str | None,
) -> Page[Any]:
    """One page of ``statement`` (which selects one entity) ordered by the unique ``keys``."""
    size = page_size(first)
    if after:
        bound = _decode(after, keys)
        row = tuple_(*keys)
        statement = statement.where(row < tuple_(*bound) if descending else row > tuple_(*bound))
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = (await session.exec(statement.order_by(*order).limit(size + 1))).all()
    names = [key.key for key in keys]
    items = [(row, _encode(names, [getattr(row, name) for name in names])) for row in rows[:size]]
    return Page(items=items, has_next_page=len(rows) > size)


async def merged_keyset_page(
    session: AsyncSession,
    sources: Sequence[tuple[SelectOfScalar[Any], Sequence[InstrumentedAttribute[Any]]]],
    *,
    descending: bool,
    first: int | None,
    after: str | None,
) -> Page[Any]:
    """One page over several tables as if they were one list: each ``(statement, keys)``
    selects one entity, and all keys have the same names and types (and never coincide
    across sources). Each source gives at most a page from its own index, so the work stays
    O(page) per source; the pages are merged here. A cursor is the same as a single
    source's, so a list that gains a source keeps its clients' cursors valid."""
    size = page_size(first)
    names = _shared_names(sources)
    bound = _decode(after, sources[0][1]) if after else None
    found = await _merged_rows(session, sources, names, bound, descending=descending,
                               limit=size + 1)
    items = [(item, _encode(names, list(values))) for values, item in found[:size]]
    return Page(items=items, has_next_page=len(found) > size)


async def keyset_batches(
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    sources: Sequence[tuple[SelectOfScalar[Any], Sequence[InstrumentedAttribute[Any]]]],
    *,
    descending: bool,
    batch: int = 1_000,
) -> AsyncIterator[list[Any]]:
    """Every row of ``sources`` (merged as ``merged_keyset_page`` does), ``batch`` at a
    time, each batch read in a session of its own: an export streamed to a slow client
    holds no transaction open while it waits."""
    names = _shared_names(sources)
    bound: list[Any] | None = None
    while True:
        async with open_session() as session:
            found = await _merged_rows(session, sources, names, bound,
                                       descending=descending, limit=batch + 1)
        rows = found[:batch]
        if rows:
            yield [item for _, item in rows]
        if len(found) <= batch:
            return
        bound = list(rows[-1][0])


def _shared_names(
    sources: Sequence[tuple[SelectOfScalar[Any], Sequence[InstrumentedAttribute[Any]]]],
) -> list[str]:
    names = [key.key for key in sources[0][1]]
    if any([key.key for key in keys] != names for _, keys in sources):
        raise ValueError("merged sources must be ordered by keys of the same names")
    return names


async def _merged_rows(
    session: AsyncSession,
    sources: Sequence[tuple[SelectOfScalar[Any], Sequence[InstrumentedAttribute[Any]]]],
    names: list[str], bound: list[Any] | None, *, descending: bool, limit: int,
) -> list[tuple[tuple[Any, ...], Any]]:
    """Up to ``limit`` rows of each source after ``bound``, merged in order (each with its
    key values)."""
    found: list[tuple[tuple[Any, ...], Any]] = []
    for source, keys in sources:
        statement = source
        if bound is not None:
            row = tuple_(*keys)
            statement = statement.where(
                row < tuple_(*bound) if descending else row > tuple_(*bound))
        order = [key.desc() if descending else key.asc() for key in keys]
        for item in (await session.exec(statement.order_by(*order).limit(limit))).all():
            found.append((tuple(getattr(item, name) for name in names), item))
    found.sort(key=lambda pair: pair[0], reverse=descending)
    return found[:limit]
