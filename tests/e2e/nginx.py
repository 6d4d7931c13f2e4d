"""Debian's nginx on loopback, running the shipped ``deploy/nginx/sendtrail.conf``.

Import the fixture into a test module (``from e2e.nginx import nginx_factory_fixture``;
``name=`` keeps ruff's F811 quiet, as in tests/components.py) and start one per stack,
``nginx_factory(cert_dir=..., upstream="127.0.0.1:<port>")`` (several nodes: a list of
``host:port``, written as one ``server`` line each, as deploy/nginx/README.md says). The
deploy file is rendered as its README says (only its ``${SENDTRAIL_*}`` placeholders are
replaced), then included from a minimal main configuration that keeps the pid file, logs
and temporary files in the test's own directory. The access log is nginx's "combined"
format followed by the upstream(s) each request went to (``upstream=127.0.0.1:A,
127.0.0.1:B`` when nginx tried a second). nginx runs in the foreground in its own process
group and is stopped at the end of the test module.

A missing nginx skips locally and fails under ``CI=true`` (as elsewhere in the suite).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = [
    "DEPLOY_CONF", "PLACEHOLDERS", "Nginx", "NginxFactory", "nginx_factory_fixture", "render",
]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_CONF = ROOT / "deploy" / "nginx" / "sendtrail.conf"
PLACEHOLDERS = (
    "SENDTRAIL_UPSTREAM", "SENDTRAIL_CERT_DIR", "SENDTRAIL_HTTPS_LISTEN", "SENDTRAIL_HTTP_LISTEN",
)
IN_CI = os.environ.get("CI", "").lower() == "true"
STARTUP_TIMEOUT = 15.0

MAIN_CONF = """\
{user}worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{
    worker_connections 256;
}}
http {{
    log_format upstreams '$remote_addr - $remote_user [$time_local] "$request" $status '
                         '$body_bytes_sent "$http_referer" "$http_user_agent" '
                         'upstream=$upstream_addr';
    access_log {directory}/access.log upstreams;
    client_body_temp_path {directory}/tmp/body;
    proxy_temp_path {directory}/tmp/proxy;
    fastcgi_temp_path {directory}/tmp/fastcgi;
    uwsgi_temp_path {directory}/tmp/uwsgi;
    scgi_temp_path {directory}/tmp/scgi;
    include {directory}/sendtrail.conf;
}}
"""


def _unavailable(reason: str) -> None:
    # As in tests/conftest.py: a missing component skips locally and fails under CI=true.
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def render(template: str, values: Mapping[str, str]) -> str:
    """``envsubst '${SENDTRAIL_UPSTREAM} ...'`` in Python: only the named placeholders."""
    if set(values) != set(PLACEHOLDERS):
        raise ValueError(f"give exactly {PLACEHOLDERS}, not {sorted(values)}")
    for name, value in values.items():
        if f"${{{name}}}" not in template:
            raise ValueError(f"${{{name}}} does not occur in {DEPLOY_CONF}")
        template = template.replace(f"${{{name}}}", value)
    leftover = sorted(set(re.findall(r"\$\{SENDTRAIL_\w+\}", template)))
    if leftover:
        raise ValueError(f"placeholders nobody fills in {DEPLOY_CONF}: {leftover}")
    return template


def _binary() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()),
        None,
    )
    if found is None:
        _unavailable("`nginx` is not installed (apt-get install nginx)")
    assert found is not None
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Nginx:
    """nginx in the foreground, serving the rendered deploy file on two loopback ports."""

    directory: Path
    cert_dir: Path
    upstream: str
    more_upstreams: tuple[str, ...] = ()
    """Further nodes: a ``server`` line each after the rendered one."""
    https_port: int = field(default_factory=_free_port)
    http_port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    def configure(self) -> Path:
        """Write the rendered deploy file and the main file around it; returns the latter."""
        (self.directory / "tmp").mkdir(parents=True, exist_ok=True)
        rendered = render(DEPLOY_CONF.read_text(), {
            "SENDTRAIL_UPSTREAM": self.upstream,
            "SENDTRAIL_CERT_DIR": str(self.cert_dir),
            "SENDTRAIL_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "SENDTRAIL_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
        })
        first = f"    server {self.upstream};\n"
        if self.more_upstreams:
            if rendered.count(first) != 1:
                raise ValueError(f"no single {first.strip()!r} line to add nodes after")
            rendered = rendered.replace(first, first + "".join(
                f"    server {node};\n" for node in self.more_upstreams))
        (self.directory / "sendtrail.conf").write_text(rendered)
        # Certificates are read by the workers at each handshake. As root, nginx would run
        # them as `nobody`, who cannot read the 0600 files sendtrail (root here) writes.
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = self.directory / "nginx.conf"
        main.write_text(MAIN_CONF.format(user=user, directory=self.directory))
        return main

    def start(self) -> None:
        main = self.configure()
        # setpriv (util-linux) gives the master a parent-death signal: if pytest is killed
        # outright, nginx stops instead of keeping its ports (same pid, so stop() works).
        setpriv = shutil.which("setpriv")
        prefix = [setpriv, "--pdeathsig", "TERM"] if setpriv else []
        with (self.directory / "stderr.log").open("ab") as stderr:
            self.process = subprocess.Popen(
                [*prefix, _binary(), "-p", str(self.directory), "-c", str(main),
                 "-e", str(self.error_log), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.logs()}")
            if _listening(self.https_port) and _listening(self.http_port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen within {STARTUP_TIMEOUT} s:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGQUIT)  # graceful: let workers finish
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def logs(self, tail: int = 8000) -> str:
        parts = []
        for name in ("stderr.log", "error.log", "access.log"):
            path = self.directory / name
            if path.exists():
                parts.append(f"--- nginx {name}\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)


NginxFactory = Callable[..., Nginx]


@pytest.fixture(scope="module", name="nginx_factory")
def nginx_factory_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxFactory]:
    """``nginx_factory(*, cert_dir, upstream, start=True) -> Nginx`` (``upstream``: one
    ``host:port`` or a list of them); all are stopped at the
    end of the test module (so a module-scoped stack can use it).

    With ``start=False`` the ports are chosen but nginx is not started yet (e.g. when
    Pebble must learn the HTTP port first); call ``.start()`` later.
    """
    _binary()
    started: list[Nginx] = []

    def make(*, cert_dir: Path, upstream: str | Sequence[str], start: bool = True) -> Nginx:
        nodes = (upstream,) if isinstance(upstream, str) else tuple(upstream)
        server = Nginx(tmp_path_factory.mktemp("nginx"), cert_dir, nodes[0], nodes[1:])
        started.append(server)
        if start:
            server.start()
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()
