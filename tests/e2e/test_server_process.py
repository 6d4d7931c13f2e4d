"""A real `sendtrail serve` process (and `make run` itself) answering over a real socket."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SENDTRAIL = str(Path(sys.executable).parent / "sendtrail")
VIEWER = "{ viewer { email account { name } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_healthy(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not answer /healthz within 60 s")


def _stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _demo_lines(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "SENDTRAIL_DATABASE_URL": database_url, "PYTHONSAFEPATH": "1",
           "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": "0"}
    subprocess.run([SENDTRAIL, "migrate"], env=env, check=True, capture_output=True)
    demo = subprocess.run([SENDTRAIL, "demo"], env=env, check=True, capture_output=True,
                          text=True)
    port = _free_port()
    process = subprocess.Popen(
        [SENDTRAIL, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process)
        yield base_url, _demo_lines(demo.stdout)
    finally:
        _stop(process)


def test_served_process_is_healthy_ready_and_answers_the_demo_token(
    served: tuple[str, dict[str, str]], database_url: str
) -> None:
    base_url, demo = served
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == database_url.split(":", maxsplit=1)[0]
    answer = httpx.post(f"{base_url}/graphql", json={"query": VIEWER},
                        headers={"Authorization": f"Bearer {demo['token']}"})
    assert answer.json() == {"data": {"viewer": {"email": demo["login"],
                                                 "account": {"name": "Demo"}}}}


def test_served_process_signs_in_with_the_printed_password(
    served: tuple[str, dict[str, str]],
) -> None:
    base_url, demo = served
    with httpx.Client(base_url=base_url) as browser:
        signed_in = browser.post("/auth/login", json={"email": demo["login"],
                                                      "password": demo["password"]})
        assert signed_in.status_code == 200
        csrf = signed_in.json()["csrfToken"]
        viewer = browser.post("/graphql", json={"query": VIEWER}, headers={"X-CSRF-Token": csrf})
        assert viewer.json()["data"]["viewer"]["email"] == demo["login"]


def test_make_run_sets_up_serves_and_prints_the_login(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SENDTRAIL_DATA_DIR": str(tmp_path / "var"),
           "SENDTRAIL_SMTP_PORT": "0"}
    env.pop("SENDTRAIL_DATABASE_URL", None)  # the embedded SQLite default
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("--- serving on"):
                break
        demo = _demo_lines("".join(printed))
        assert demo["login"].endswith("@demo.sendtrail.test"), printed
        assert demo["password"]
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base_url, process)
        answer = httpx.post(f"{base_url}/graphql", json={"query": VIEWER},
                            headers={"Authorization": f"Bearer {demo['token']}"})
        assert answer.json()["data"]["viewer"]["email"] == demo["login"]
        assert (tmp_path / "var" / "sendtrail.db").exists()
        # make run built the web admin; the server serves it at / beside the API.
        page = httpx.get(f"{base_url}/settings/tracking")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<div id="root">' in page.text
        script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
        assert script is not None, page.text
        assert httpx.get(f"{base_url}{script.group(1)}").status_code == 200
    finally:
        _stop(process)
        if process.stdout is not None:
            process.stdout.close()
