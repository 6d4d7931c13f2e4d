"""End-to-end fixtures: the node GraphQL WebSocket client, installed from its lockfile."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.processes import Server

WSCLIENT = Path(__file__).parent / "wsclient"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    # As in tests/conftest.py: skipped locally, a failure under CI=true.
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def _installed(folder: Path) -> bool:
    """node_modules exists and is newer than the lockfile (npm ci rewrites the folder)."""
    marker = folder / "node_modules" / ".package-lock.json"
    return marker.exists() and (
        marker.stat().st_mtime >= (folder / "package-lock.json").stat().st_mtime
    )


@pytest.fixture(scope="session")
def wsclient() -> Path:
    """``subscribe.mjs``, a real graphql-ws client, with its node modules in place.

    ``npm ci`` runs when node_modules is missing or older than package-lock.json, under a
    file lock so parallel pytest runs (or xdist workers) never install into the same folder
    at once.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed for the graphql-ws client (Debian: nodejs)")
    assert npm is not None
    digest = hashlib.sha256(str(WSCLIENT.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"sendtrail-wsclient-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(WSCLIENT):
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=WSCLIENT, capture_output=True,
                text=True, timeout=300, check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci failed in {WSCLIENT}:\n{done.stdout}\n{done.stderr}",
                            pytrace=False)
    return WSCLIENT / "subscribe.mjs"


@pytest.fixture
def stopped() -> Iterator[list[Server]]:
    """Servers to stop whatever happens (a test appends each one it starts)."""
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.kill(signal.SIGTERM)
