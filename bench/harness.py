"""What the benchmarks share: wrk, server processes, scratch databases, the machine's facts.

``run.py`` (``make bench``) and the benchmarks it runs (``sustained_bench.py``) import these;
nothing here measures anything by itself.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from sendtrail.db.engine import create_sync_engine

__all__ = [
    "BIN", "CHROME", "PG_ADMIN_URL", "ROOT", "Run", "busy_cpu", "cpu_seconds", "database",
    "ensure_wrk", "free_port", "lua_script", "machine", "server", "wrk",
]

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us: float = 0.0
    """CPU time of the server process (all its threads) per request, in µs."""


def ensure_wrk() -> None:
    """Install wrk for the benchmark only (``make test`` does not need it)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("make bench needs wrk: apt-get install wrk (as root)")
    print("installing wrk (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],  # noqa: S607
                   check=True, env=env)


def busy_cpu(seconds: float = 2.0) -> float:
    """Fraction of the machine's CPU time used by others while the benchmark is idle."""
    def sample() -> tuple[int, int]:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of the process group ``pid`` leads (all its threads and
    worker processes: servers are started in their own session)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        if int(fields[2]) == pid:  # the process group
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path, probe: str) -> Iterator[int]:
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out,  # noqa: S603
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(f"{command[0]} exited early; see {log}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(probe, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                sys.exit(f"{probe} did not answer within 60 s")
            time.sleep(0.2)
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def database(backend: str, data_dir: Path, name: str = "sendtrail_bench") -> Iterator[str]:
    """A scratch database: a file in ``data_dir``, or PostgreSQL's ``name`` (re)created."""
    if backend == "sqlite":
        yield f"sqlite:///{data_dir / 'sendtrail.db'}"
        return
    admin = create_sync_engine(f"{PG_ADMIN_URL}/postgres").execution_options(
        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{PG_ADMIN_URL}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()



def lua_script(paths: list[str], target: Path) -> Path:
    listed = ",\n".join(f'  "{path}"' for path in paths)
    target.write_text(
        f"local paths = {{\n{listed}\n}}\n"
        f'wrk.headers["User-Agent"] = "{CHROME}"\n'
        "request = function()\n  return wrk.format(nil, paths[math.random(#paths)])\nend\n"
    )
    return target


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(base_url: str, script: Path, seconds: int, connections: int) -> Run:
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",  # noqa: S607
         "-s", str(script), base_url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        sys.exit(f"could not read wrk's latency distribution:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Run(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(latency["50"]), p99_ms=_ms(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        errors=errors + (int(non_ok.group(1)) if non_ok else 0),
    )



def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False,  # noqa: S603
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain"], check=False,  # noqa: S603
                           capture_output=True, text=True).stdout.strip()
    wrk_version = subprocess.run(["wrk", "-v"], check=False,  # noqa: S607
                                 capture_output=True, text=True).stdout.split()
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in (
        "uvicorn", "litestar", "SQLAlchemy", "aiosqlite", "psycopg"))
    return {
        "cpu": f"{os.cpu_count()} x {model.group(1) if model else 'unknown CPU'}",
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "software": f"Python {sys.version.split()[0]}, {versions}, "
                    f"wrk {wrk_version[1] if len(wrk_version) > 1 else '?'}",
    }


