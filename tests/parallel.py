"""How `make test` runs the suite in parallel (pytest-xdist, ``-n auto``); the root conftest's
hooks call these.

- Each worker has its own PostgreSQL database (``postgres_url``), temporary directories and
  free ports: no fixture takes a fixed one.
- ``scope``: what one worker runs in a row. The tests of one end-to-end module stay
  together, so its module-scoped servers start once; all the browser tests and
  `make run` share one scope (`make run` rebuilds ``web-admin/dist`` while they would be
  serving it); every other test is handed out on its own. Scopes go out largest first.
- ``ALONE``: tests that run while no other test of the run does (every test holds a
  shared lock, these an exclusive one), because they assert a latency or make load.

Not ``--dist loadgroup``: under pytest 9, xdist 3.8's worker can no longer append a group
to a test's id (it sets ``item._nodeid``, which pytest 9 does not read), so its
``xdist_group`` marks group nothing; we give the scheduler the scopes ourselves.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ALONE", "WEB_ADMIN_SCOPE", "exclusion", "is_alone", "make_scheduler", "scope"]

WEB_ADMIN_SCOPE = "web-admin-dist"
"""The browser tests and `make run` (which rebuilds the ``web-admin/dist`` they serve)."""

ALONE = (
    # What each asserts about time, or the load it makes, that another test beside it on a
    # 2-core machine could break. A test may also carry @pytest.mark.alone itself.
    "e2e/test_live_notifications.py",  # a notification within 1 s; quiet periods
    "e2e/test_smtp_logging.py::test_logging_a_large_message_does_not_stall_the_server",  # < 2 s
    "e2e/test_ingest_durability.py",  # 32 threads of load; no pixel slower than 8 s
    "e2e/test_two_nodes.py",  # load through nginx, SIGKILL, settling within 30 s
    "e2e/test_derivation_sigkill.py",  # load and SIGKILLs at chosen moments
    "e2e/test_webhook_sigkill.py",  # SIGKILL while deliveries are held open
    "e2e/test_delivery_sigkill.py",  # SIGKILL while copies are held open
    # Renewed in the last third of a 16 s certificate; the failed renewal before expiry.
    "e2e/test_tracking_domains.py::test_certificate_is_renewed_without_downtime_and_a_failed"
    "_renewal_keeps_it",
    "integration/test_webhooks.py::test_the_background_dispatcher_delivers_as_soon_as_woken",
    # Chromium, the server and the test on one busy core: a 10 s step timed out
    # (networkidle) beside the GraphQL fuzz test.
    "browser/",
)
"""Tests (``dir/``, ``path`` or ``path::name`` under tests/) that run alone."""


def _relative(nodeid: str) -> str:
    return nodeid.removeprefix("tests/")


def scope(nodeid: str) -> str:
    """What one worker runs in a row: a test on its own, or the group it belongs to."""
    path = _relative(nodeid).split("::", 1)[0]
    if path.startswith("browser/") or path == "e2e/test_server_process.py":
        return WEB_ADMIN_SCOPE
    if path.startswith("e2e/"):  # module-scoped servers and stacks start once
        return path
    return nodeid


def is_alone(nodeid: str) -> bool:
    name = _relative(nodeid)
    return any(name == test or name.startswith((f"{test}::", f"{test}[")) or
               (test.endswith("/") and name.startswith(test)) for test in ALONE)


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's scope scheduler over ``scope`` (largest first: ``--loadscope-reorder``)."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only under xdist

    class Scopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid)

    return Scopes(config, log)


@contextmanager
def exclusion(item: pytest.Item) -> Iterator[None]:
    """Under xdist: a shared lock for the test, an exclusive one if it is ``alone``."""
    basetemp = getattr(item.config, "workerinput", None) and item.config.option.basetemp
    if not basetemp:  # one process: nothing runs beside the test anyway
        yield
        return
    # Each worker's basetemp is <the run's temporary directory>/popen-gwN.
    with (Path(basetemp).parent / "alone.lock").open("a") as lock:
        alone = item.get_closest_marker("alone") is not None
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
