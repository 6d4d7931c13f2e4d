"""What an operation asks of a field's result, so a resolver can fetch once, for the whole
list it returns, what each item's fields would otherwise await one by one (issue 14: on an
email's page, every awaited field of 50 recipients was a task of its own)."""

from __future__ import annotations

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

__all__ = ["asks_for"]


def asks_for(info: Info, names: frozenset[str]) -> bool:
    """Whether any field named in ``names`` (GraphQL names) is selected anywhere below the
    field being resolved. Errs towards yes: fragments count whatever their type condition,
    ``@skip``/``@include`` are not evaluated, and a name deeper down counts too."""
    return any(_asks(selection, names)
               for field in info.selected_fields for selection in field.selections)


def _asks(selection: Selection, names: frozenset[str]) -> bool:
    if isinstance(selection, SelectedField) and selection.name in names:
        return True
    return any(_asks(child, names) for child in selection.selections)
