"""TEMPORARY placeholder until the rollups change (wip/rollups) is merged this session."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class RollupDelta:
    account_id: uuid.UUID
    email_id: uuid.UUID
    sender_id: uuid.UUID
    link_idx: int | None
    occurred_at: datetime
    type: str
    verdict: str
    counts_in_reports: bool
    sender_copy: bool
    inferred: bool
    change: int


def rollup_delta(row: Mapping[str, Any], change: int) -> RollupDelta:
    return RollupDelta(row["account_id"], row["email_id"], row["sender_id"], row["link_idx"],
                       row["occurred_at"], row["type"], row["verdict"],
                       row["counts_in_reports"], row["sender_copy"], row["inferred"], change)


async def apply_rollup_deltas(conn: AsyncConnection, deltas: Sequence[RollupDelta]) -> None:
    return None
