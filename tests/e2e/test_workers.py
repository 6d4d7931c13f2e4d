"""`sendtrail serve --workers 2` on PostgreSQL: the node's SMTP logging listener runs in one
of its processes, and another takes it over when that one is SIGKILLed (the lock is the
kernel's, released with the process). Linux only: the holder is found through /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from e2e.processes import SENDTRAIL, Server, _free_port


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The command name may hold spaces and parentheses: ppid follows the last ")".
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    found.append(int(entry.name))
    return found


def _listener_holder(server: Server, lock_name: str) -> int | None:
    """The process of the node that holds the SMTP listeners' lock file open."""
    assert server.process is not None
    for pid in _children(server.process.pid):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd).endswith(lock_name):
                        return pid
    return None


def _greets(port: int) -> bool:
    with contextlib.suppress(OSError, smtplib.SMTPException), \
            smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        return client.noop()[0] == 250
    return False


def _wait(what: str, seconds: float, ready: Callable[[], bool], server: Server) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"{what} within {seconds} s\n{server.logs()}"
        time.sleep(0.2)


def test_the_smtp_listener_moves_to_another_process_when_its_own_is_killed(
    postgres_url: str, tmp_path: Path, stopped: list[Server]
) -> None:
    smtp_port = _free_port()
    env = {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": postgres_url,
           "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": str(smtp_port),
           "SENDTRAIL_WORKERS": "2", "SENDTRAIL_DOMAIN_WORKER": "false"}
    subprocess.run([SENDTRAIL, "migrate"], env=env, check=True, capture_output=True)
    server = Server(env)
    stopped.append(server)
    server.start()
    lock_name = f"smtp-{smtp_port}-0.lock"
    _wait("the SMTP listener answers", 30, lambda: _greets(smtp_port), server)
    holder = _listener_holder(server, lock_name)
    assert holder is not None, f"no process holds {lock_name}\n{server.logs()}"

    os.kill(holder, signal.SIGKILL)
    _wait("another process takes the listener over", 30,
          lambda: _listener_holder(server, lock_name) not in (None, holder), server)
    _wait("the SMTP listener answers again", 10, lambda: _greets(smtp_port), server)
