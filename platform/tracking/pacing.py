"""How long the deriver rests so that, while hits arrive, it takes at most a share of its
process's time (issue 14: acknowledging a hit comes first, a mail client never waits for our
bookkeeping).

Each round of work is owed ``work * (1 / share - 1)`` of rest before the next round, and the
time the deriver already spent idle (waiting to be woken) counts towards it. So hits that
trickle in after a quiet moment are derived at once, and rounds that follow each other
closely — however few hits each takes — never add up to more than the share. Counting rest
only after rounds that took a full batch, as first built, let a steady trickle of small
rounds run back to back with no rest at all.
"""

from __future__ import annotations

import math

__all__ = ["Pacing"]


class Pacing:
    """The rest owed by the last round of work, in monotonic seconds."""

    def __init__(self, share: float, *, longest_rest: float = 2.0) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"the deriver's share must be in (0, 1], not {share}")
        self._rest_per_work = 1 / share - 1
        self._longest_rest = longest_rest
        self._owed = 0.0
        self._ended = -math.inf

    def rest_before_work(self, now: float) -> float:
        """Seconds to rest before the next round, given the time since the last one ended."""
        return max(0.0, self._owed - (now - self._ended))

    def worked(self, started: float, ended: float) -> None:
        """A round ran from ``started`` to ``ended``: owe its rest. A long round owes at most
        ``longest_rest``, so the hits that arrive behind it are not left waiting for long."""
        self._owed = min(self._longest_rest, self._rest_per_work * max(0.0, ended - started))
        self._ended = ended

    def forgive(self) -> None:
        """Nothing is owed (the hot path is quiet, or the backlog is too long to be gentle)."""
        self._owed = 0.0
