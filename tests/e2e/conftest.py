"""End-to-end fixtures: the node GraphQL WebSocket client and the graphql-http audit, each
installed from its lockfile."""

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
HTTPAUDIT = Path(__file__).parent / "httpaudit"
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


def _npm_ci(folder: Path, purpose: str) -> None:
    """``npm ci`` in ``folder`` when node_modules is missing or older than package-lock.json,
    under a file lock so parallel pytest runs (or xdist workers) never install into the same
    folder at once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable(f"node and npm are needed for {purpose} (Debian: nodejs)")
    assert npm is not None
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"sendtrail-{folder.name}-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(folder):
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True,
                text=True, timeout=300, check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci failed in {folder}:\n{done.stdout}\n{done.stderr}",
                            pytrace=False)


@pytest.fixture(scope="session")
def wsclient() -> Path:
    """``subscribe.mjs``, a real graphql-ws client, with its node modules in place."""
    _npm_ci(WSCLIENT, "the graphql-ws client")
    return WSCLIENT / "subscribe.mjs"


@pytest.fixture(scope="session")
def httpaudit() -> Path:
    """``audit.mjs``: graphql-http's GraphQL-over-HTTP server audit, installed the same way."""
    _npm_ci(HTTPAUDIT, "the graphql-http audit")
    return HTTPAUDIT / "audit.mjs"


@pytest.fixture
def stopped() -> Iterator[list[Server]]:
    """Servers to stop whatever happens (a test appends each one it starts)."""
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.kill(signal.SIGTERM)
