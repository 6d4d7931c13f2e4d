"""Exactly-once derivation (issue 14): raw hits acknowledged by the hot path become exactly
one engagement each when a separate `sendtrail derive` process (PostgreSQL, where derivers
run apart from servers) is SIGKILLed again and again mid-load. The server killed with its
own deriver, on both backends, is test_ingest_durability.py's."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from e2e.hitload import (
    Load,
    assert_exactly_once,
    await_stored,
    demo_token,
    pixel_url,
    raw_waiting,
    serve_env,
    stored,
)
from e2e.processes import SENDTRAIL, Server


def _derive(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen([SENDTRAIL, "derive"], env=env, stdout=stderr,
                                stderr=stderr, start_new_session=True)


def test_every_acknowledged_hit_is_derived_once_across_sigkills_of_the_deriver(
    postgres_url: str, tmp_path: Path, stopped: list[Server]
) -> None:
    env = serve_env(postgres_url, tmp_path)
    token = demo_token(env)
    server = Server({**env, "SENDTRAIL_DERIVER": "false"})  # serves; derives nothing
    stopped.append(server)
    server.start()
    load = Load(pixel_url(server, token))
    load.start(workers=8)
    log = tmp_path / "derive.log"
    derived_per_life = []
    try:
        for _ in range(4):
            deriver = _derive(env, log)
            before = sum(stored(postgres_url, load.prefix).values())
            time.sleep(4)
            deriver.send_signal(signal.SIGKILL)  # mid-batch, most likely: the load goes on
            deriver.wait(10)
            derived_per_life.append(sum(stored(postgres_url, load.prefix).values()) - before)
        time.sleep(0.5)
        load.stop()
        assert raw_waiting(postgres_url, load.prefix) > 0, "hits waited while none derived"
        deriver = _derive(env, log)
        await_stored(postgres_url, load, seconds=30)
        deadline = time.monotonic() + 10
        while raw_waiting(postgres_url, load.prefix) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        deriver.send_signal(signal.SIGTERM)
        deriver.wait(20)
        server.kill(signal.SIGTERM)

    assert all(count > 0 for count in derived_per_life), (derived_per_life, log.read_text())
    assert_exactly_once(stored(postgres_url, load.prefix), load.acknowledged(),
                        tmp_path / "spool")
    assert raw_waiting(postgres_url, load.prefix) == 0
