"""The processes of one node divide its data dir (sendtrail.node_locks): a spool slot each,
and the files of a slot nobody holds any more are taken over, not forgotten."""

from __future__ import annotations

from pathlib import Path

from sendtrail.node_locks import HeldLock, claim_spool_dir


def test_each_process_gets_its_own_spool_and_the_first_keeps_the_usual_one(
    tmp_path: Path,
) -> None:
    root = tmp_path / "spool"
    # flock belongs to an open file: two claims in one process behave like two processes.
    first, first_lock = claim_spool_dir(root)
    second, second_lock = claim_spool_dir(root)
    assert first == root  # where a one-process node has always spooled
    assert second == root / "worker-1"
    first_lock.release()
    third, third_lock = claim_spool_dir(root)
    assert third == root  # a freed slot is reused
    second_lock.release()
    third_lock.release()


def test_spool_files_of_a_dead_process_are_moved_to_the_next_claimant(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    live, live_lock = claim_spool_dir(root)
    dead, dead_lock = claim_spool_dir(root)
    (dead / "hits.spool").write_text('{"hit": 1}\n')
    (dead / "hits.spool.1700000000000000000").write_text('{"hit": 2}\n')
    (live / "hits.spool").write_text('{"hit": 3}\n')
    dead_lock.release()  # the process died (the kernel drops its flock)

    taker, taker_lock = claim_spool_dir(root)
    assert taker == dead  # the lowest free slot
    assert sorted(p.name for p in taker.glob("hits.spool*")) == [
        "hits.spool", "hits.spool.1700000000000000000"]  # its own slot: nothing to move
    taker_lock.release()
    live_lock.release()

    only, only_lock = claim_spool_dir(root)  # a restart with one process
    assert only == root
    moved = sorted(p.name for p in root.glob("hits.spool.*"))
    assert len(moved) == 2
    assert all(name.removeprefix("hits.spool.").isdigit() for name in moved)  # replayable
    assert {p.read_text() for p in root.glob("hits.spool*")} == {
        '{"hit": 1}\n', '{"hit": 2}\n', '{"hit": 3}\n'}
    assert not list(dead.glob("hits.spool*"))
    only_lock.release()


def test_a_held_lock_is_refused_at_once_and_free_after_release(tmp_path: Path) -> None:
    path = tmp_path / "smtp.lock"
    held = HeldLock.try_take(path)
    assert held is not None
    assert HeldLock.try_take(path) is None
    held.release()
    again = HeldLock.try_take(path)
    assert again is not None
    again.release()
