"""A short-lived, per-process memo of the context a batch of hits needs.

During a campaign most hits land on a few emails; re-reading the same email and its
account's settings for every batch is most of the ingestion cost. Entries live ``ttl``
seconds, so a changed setting is seen by new hits within that time (the default: 5 s).
Legal bases and the sender's sessions are read fresh for every batch (README: "How
tracking works").
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, *, ttl: float = 5.0, max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    async def get_many(
        self, keys: Iterable[K], load: Callable[[set[K]], Awaitable[dict[K, V]]], missing: V
    ) -> dict[K, V]:
        """Cached values for ``keys``; ``load`` fetches the rest (absent ones get ``missing``)."""
        now = self._clock()
        found: dict[K, V] = {}
        wanted: set[K] = set()
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                found[key] = entry[1]
            else:
                wanted.add(key)
        if wanted:
            loaded = await load(wanted)
            if len(self._entries) + len(wanted) > self._max:
                self._entries.clear()
            for key in wanted:
                value = loaded.get(key, missing)
                self._entries[key] = (now + self._ttl, value)
                found[key] = value
        return found

    def clear(self) -> None:
        self._entries.clear()


EmailKey = tuple[uuid.UUID, uuid.UUID]
