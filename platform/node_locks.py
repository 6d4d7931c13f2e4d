"""What the processes of one node share a data dir for, and must not do together.

``sendtrail serve --workers N`` runs N processes with one ``SENDTRAIL_DATA_DIR``. Two things
in it belong to one process at a time:

- **A spool directory.** The ingest spool appends, rotates and deletes its files under a
  per-process lock; two processes on one directory could rotate a file while the other
  appends to it, and lose acknowledged hits. Each process claims a *slot*: the spool root
  itself (slot 0, where a one-process node has always spooled), else ``worker-1``,
  ``worker-2``, ... under it. Files left in a slot nobody holds (a worker that died, a node
  that ran more workers before) are moved into the claimed slot and replayed from there.
- **The SMTP ports.** The logging listener and the submission relay run in whichever
  process holds the node's listener lock (``HeldLock`` on ``smtp-<ports>.lock``, taken in
  ``sendtrail.app``); the others try again every second and take over when it dies.

Every lock is an ``flock`` held by an open descriptor: the kernel releases it when the
process exits, SIGKILL included, so a successor never waits for a clean-up that a killed
process cannot do.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

__all__ = ["HeldLock", "claim_spool_dir"]

LOCK_NAME = ".owner.lock"
SPOOL_FILES = "hits.spool*"


class HeldLock:
    """An exclusive ``flock`` on a file, held until ``release()`` or the process's end."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    @classmethod
    def try_take(cls, path: Path) -> HeldLock | None:
        """The lock, or None at once when another process holds it."""
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return cls(descriptor)

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the only descriptor drops the flock
            self._descriptor = None


def _slots(root: Path) -> list[Path]:
    numbered = sorted(
        (path for path in root.glob("worker-*") if path.name[7:].isdigit()),
        key=lambda path: int(path.name[7:]),
    )
    return [root, *numbered]


def claim_spool_dir(root: Path) -> tuple[Path, HeldLock]:
    """This process's spool directory (held until the lock is released), with every spool
    file of unheld slots moved into it."""
    root.mkdir(parents=True, exist_ok=True)
    number = 0
    while True:
        slot = root if number == 0 else root / f"worker-{number}"
        slot.mkdir(exist_ok=True)
        held = HeldLock.try_take(slot / LOCK_NAME)
        if held is not None:
            break
        number += 1
    for other in _slots(root):
        if other == slot:
            continue
        orphan = HeldLock.try_take(other / LOCK_NAME)
        if orphan is None:
            continue  # a live process spools there and replays its own files
        try:
            _adopt(other, slot)
        finally:
            orphan.release()
    return slot, held


def _adopt(source: Path, target: Path) -> None:
    """Move ``source``'s spool files into ``target`` under names its replayer picks up
    (``hits.spool.<digits>``); renames within one file system, so nothing is copied."""
    for path in sorted(source.glob(SPOOL_FILES)):
        stamp = path.name.removeprefix("hits.spool.") if path.name != "hits.spool" else ""
        if not stamp.isdigit():
            stamp = str(time.time_ns())
        destination = target / f"hits.spool.{stamp}"
        while destination.exists():
            destination = destination.with_name(destination.name + "0")
        path.rename(destination)
