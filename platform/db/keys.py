"""Rows named by composite keys, in a condition both databases answer from an index.

``tuple_(a, b, c).in_(keys)`` reads naturally, but SQLite answers a row-value ``IN`` by
scanning the whole table (its planner cannot use an index for it: 1.2 s per statement over
a million engagements, measured), and every batch of the deriver, the outbox and the
DataLoaders names rows that way. ``key_in`` groups the keys by all but their last column and
asks ``(a = ? AND b = ? AND c IN (…)) OR …``: SQLite searches the primary key once per group
("MULTI-INDEX OR"), PostgreSQL ORs bitmap index scans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Boolean, and_, false, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["key_in"]

_OR_CHUNK = 100
"""Terms per parenthesised OR: SQLite parses a flat OR chain into a tree as deep as the
chain is long, and refuses expressions deeper than 1,000."""


class _Parenthesised(ColumnElement[bool]):
    """A condition in parentheses that ``or_`` keeps: it unwraps a ``Grouping`` (and
    ``self_group()`` of an OR is the OR itself) and flattens the chain back into one."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition: no "= 1" where booleans are integers
    # SQLAlchemy's own elements declare it this way (a list on the class); its cache key.
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition


@compiles(_Parenthesised)
def _parenthesised(element: _Parenthesised, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.condition, **kw)})"


def key_in(columns: Sequence[Any], keys: Iterable[Sequence[Any]],
           *also: ColumnElement[bool]) -> ColumnElement[bool]:
    """``(columns) IN keys``, written so that an index on ``columns`` is used.

    ``also`` are conditions repeated in every group's term rather than ANDed around the
    whole OR: SQLite plans each OR'd term on its own, so a time range there lets it search
    an index on (columns' prefix, time) instead of reading every row of each group."""
    *prefix_columns, last_column = columns
    grouped: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    for key in keys:
        *prefix, last = key
        grouped[tuple(prefix)].add(last)
    terms: list[ColumnElement[bool]] = [
        and_(*(column == value for column, value in zip(prefix_columns, prefix, strict=True)),
             last_column.in_(sorted(lasts, key=str)), *also)
        for prefix, lasts in grouped.items()
    ]
    if not terms:
        return false()
    while len(terms) > _OR_CHUNK:
        terms = [_Parenthesised(or_(*terms[i:i + _OR_CHUNK]))
                 for i in range(0, len(terms), _OR_CHUNK)]
    return or_(*terms) if len(terms) > 1 else terms[0]
