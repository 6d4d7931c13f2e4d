"""Searching text columns with what a person typed: their text is text, not a pattern."""

from __future__ import annotations

__all__ = ["ESCAPE", "MAX_SEARCH", "contains_pattern"]

ESCAPE = "\\"
MAX_SEARCH = 200


def contains_pattern(search: str) -> str | None:
    """A case-folded ``LIKE`` pattern (use with ``escape=ESCAPE``) matching ``search``
    anywhere, or ``None`` when there is nothing to search for."""
    term = search.strip().lower()[:MAX_SEARCH]
    if not term:
        return None
    for char in (ESCAPE, "%", "_"):
        term = term.replace(char, ESCAPE + char)
    return f"%{term}%"
