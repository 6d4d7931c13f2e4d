"""Real processes for end-to-end tests (import as `e2e.processes`): `sendtrail serve`, and
the node graphql-ws client in ``wsclient/subscribe.mjs``."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

SENDTRAIL = str(Path(sys.executable).parent / "sendtrail")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`sendtrail serve` in its own process group, restartable on the same port and data.

    ``port`` may be given when the environment must name the server's own URL (e.g.
    ``SENDTRAIL_PUBLIC_URL``) before it starts; each life logs to
    ``$SENDTRAIL_DATA_DIR/serve-<life>.log``.
    """

    def __init__(self, env: dict[str, str], *, port: int | None = None) -> None:
        self.env, self.port = env, port or _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.lives = 0

    @property
    def log_path(self) -> Path:
        """The log of the current (or last) life."""
        return Path(self.env["SENDTRAIL_DATA_DIR"]) / f"serve-{self.lives}.log"

    def logs(self) -> str:
        """Every life's log, oldest first, for a failure message."""
        parts = []
        for life in range(1, self.lives + 1):
            path = Path(self.env["SENDTRAIL_DATA_DIR"]) / f"serve-{life}.log"
            if path.exists():
                parts.append(f"--- {path}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    def start(self) -> None:
        self.lives += 1
        with self.log_path.open("wb") as stderr:  # kept for diagnosis
            self.process = subprocess.Popen(
                [SENDTRAIL, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited with {self.process.returncode}"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError("server did not answer /healthz within 60 s")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Subscriber:
    """``subscribe.mjs`` in a child process; each JSON line it prints, with its arrival time."""

    def __init__(self, script: Path, url: str, log_dir: Path, *, token: str | None = None,
                 account: str | None = None, origin: str | None = None) -> None:
        node = shutil.which("node")
        assert node is not None  # the wsclient fixture checked
        args = [node, str(script), "--url", url]
        if account is not None:
            args += ["--account", account]
        if origin is not None:
            args += ["--origin", origin]
        env = {key: value for key, value in os.environ.items() if not key.startswith("SUBSCRIBE_")}
        if token is not None:
            env["SUBSCRIBE_TOKEN"] = token  # not on the command line
        self.name = f"subscriber-{uuid.uuid4().hex[:8]}"
        self.stderr_path = log_dir / f"{self.name}.stderr"
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                            stderr=stderr, text=True)
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            arrived = time.monotonic()
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "unparsable", "line": line}
            with self._changed:
                self.events.append((arrived, event))
                self._changed.notify_all()
        with self._changed:
            self.events.append((time.monotonic(), {"event": "exit"}))
            self._changed.notify_all()

    def wait_for(self, wanted: Callable[[dict[str, Any]], bool], timeout: float,
                 *, after: int = 0) -> tuple[float, dict[str, Any]] | None:
        """The first event from index ``after`` on that is ``wanted``, with its arrival time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for arrived, event in self.events[after:]:
                    if wanted(event):
                        return arrived, event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def kinds(self) -> list[str]:
        with self._changed:
            return [event["event"] for _, event in self.events]

    def notifications(self, *, after: int = 0) -> list[dict[str, Any]]:
        with self._changed:
            return [event["data"]["engagementNotifications"]
                    for _, event in self.events[after:]
                    if event["event"] == "next" and event.get("data")]

    def report(self) -> str:
        with self._changed:
            lines = [json.dumps(event) for _, event in self.events]
        stderr = self.stderr_path.read_text(errors="replace")
        return f"{self.name} printed:\n" + "\n".join(lines) + f"\nstderr:\n{stderr}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
