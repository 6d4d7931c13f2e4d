"""Child rows of many parents in one statement, grouped by parent (what a DataLoader asks)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["rows_by_parent"]

Row = TypeVar("Row", bound=SQLModel)


async def rows_by_parent(
    session: AsyncSession, model: type[Row], account_id: uuid.UUID, *, parent: str,
    parent_ids: Collection[Any], order: str,
) -> dict[Any, list[Row]]:
    """The account's ``model`` rows whose ``parent`` column is one of ``parent_ids``, per
    parent, each list in ``order``."""
    found: dict[Any, list[Row]] = defaultdict(list)
    if parent_ids:
        parent_column = col(getattr(model, parent))
        rows = await session.exec(select(model).where(
            col(getattr(model, "account_id")) == account_id,  # noqa: B009 - any tenant model
            parent_column.in_(parent_ids),
        ).order_by(parent_column, col(getattr(model, order))))
        for row in rows.all():
            found[getattr(row, parent)].append(row)
    return found
