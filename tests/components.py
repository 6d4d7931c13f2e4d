"""Real network components on loopback for tests: pebble-challtestsrv (DNS) and Pebble (ACME).

Import the fixtures into a test module or a conftest (``name=`` keeps ruff's F811 quiet
about the parameters that use them), or list ``"components"`` in the root conftest's
``pytest_plugins``::

    from components import (  # noqa: F401
        challtestsrv_fixture, pebble_factory_fixture, pebble_fixture,
    )

- ``challtestsrv`` (session): a DNS server on ``127.0.0.1:<free port>`` whose records are
  set at run time (``add_a``, ``set_cname``, ``set_txt``, ``add_caa``, ``set_servfail``,
  ``clear``). Unknown names answer A ``127.0.0.1`` (challtestsrv's ``-defaultIPv4``) and no
  AAAA; tests that need NXDOMAIN-like behaviour should ``set_servfail`` or use their own
  name with records cleared and ``set_default_ipv4("")`` (restore it afterwards).
- ``pebble`` (session): a Pebble ACME server resolving through ``challtestsrv``;
  ``directory_url``, ``ca_bundle_path`` (verifies Pebble's own listener),
  ``http01_port`` (where Pebble fetches HTTP-01 challenges), ``roots_pem()``.
- ``pebble_factory`` (session): ``pebble_factory(validity_seconds=..., http01_port=...)``
  starts another Pebble (e.g. short-lived certificates for renewal tests); all are
  stopped at the end of the session. Orders for ``REJECTED_HOSTNAME`` are refused
  (``rejectedIdentifier``). Pebble 2.4.0 does not check CAA records.

When a binary is missing the fixtures skip locally and fail under ``CI=true``
(as ``_unavailable`` in tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dns.resolver
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "REJECTED_HOSTNAME",
    "ChallTestSrv",
    "Pebble",
    "PebbleFactory",
    "challtestsrv_fixture",
    "free_port",
    "pebble_factory_fixture",
    "pebble_fixture",
]

STARTUP_TIMEOUT = 15.0
REJECTED_HOSTNAME = "rejected.customer.test"
"""On every Pebble's ``domainBlocklist``: orders for it fail with ``rejectedIdentifier``."""
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    # As in tests/conftest.py: a missing component skips locally and fails under CI=true.
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin")
    if path is None:
        _unavailable(f"`{name}` is not installed (apt-get install pebble)")
        raise AssertionError("unreachable: _unavailable skips or fails")
    return path


def _spawn(args: list[str], log: IO[bytes], **kwargs: Any) -> subprocess.Popen[bytes]:
    # util-linux's setpriv (Essential in Debian) sets a parent-death signal before exec:
    # if pytest is killed outright (no teardown), the server gets SIGTERM instead of
    # staying on its ports. Same pid, so terminate() still reaches the server.
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--pdeathsig", "TERM"] if setpriv else []
    return subprocess.Popen(
        [*prefix, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        **kwargs,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- pebble-challtestsrv ----------------------------------------------------------------


@dataclass
class ChallTestSrv:
    """A running ``pebble-challtestsrv`` that serves mock DNS only."""

    dns_port: int
    management_port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def dns_address(self) -> str:
        return f"127.0.0.1:{self.dns_port}"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = _spawn(
                [
                    _binary("pebble-challtestsrv"),
                    "-management", f"127.0.0.1:{self.management_port}",
                    "-dns01", self.dns_address,
                    "-http01", "", "-https01", "", "-tlsalpn01", "",
                    "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                ],
                log,
            )
        _wait_until(
            lambda: _tcp_open(self.management_port) and _tcp_open(self.dns_port),
            self.process, "pebble-challtestsrv", self.log_path,
        )

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _post(self, path: str, body: Mapping[str, Any]) -> None:
        response = httpx.post(f"{self.management_url}/{path}", json=dict(body), timeout=5)
        if response.status_code != 200:
            raise AssertionError(f"challtestsrv /{path} {body!r}: {response.status_code}")

    def add_a(self, host: str, addresses: Sequence[str]) -> None:
        self._post("add-a", {"host": host, "addresses": list(addresses)})

    def add_aaaa(self, host: str, addresses: Sequence[str]) -> None:
        self._post("add-aaaa", {"host": host, "addresses": list(addresses)})

    def set_cname(self, host: str, target: str) -> None:
        self._post("set-cname", {"host": host, "target": _fqdn(target)})

    def set_txt(self, host: str, value: str) -> None:
        """Replace the TXT record of ``host`` (challtestsrv keeps one value per name)."""
        self._post("set-txt", {"host": _fqdn(host), "value": value})

    def add_caa(self, host: str, policies: Sequence[tuple[str, str] | Mapping[str, str]]) -> None:
        """``policies``: ``[("issue", "letsencrypt.org")]`` or ``[{"tag": ..., "value": ...}]``."""
        items = [p if isinstance(p, Mapping) else {"tag": p[0], "value": p[1]} for p in policies]
        self._post("add-caa", {"host": host, "policies": items})

    def set_servfail(self, host: str) -> None:
        self._post("set-servfail", {"host": host})

    def remove_servfail(self, host: str) -> None:
        self._post("clear-servfail", {"host": host})

    def set_default_ipv4(self, address: str) -> None:
        """The A answer for names without a record; ``""`` for none (NoAnswer)."""
        self._post("set-default-ipv4", {"ip": address})

    def clear(self, host: str) -> None:
        """Remove every record of ``host``: A, AAAA, TXT, CNAME, CAA and SERVFAIL."""
        for path in ("clear-a", "clear-aaaa", "clear-cname", "clear-caa", "clear-servfail"):
            self._post(path, {"host": host})
        self._post("clear-txt", {"host": _fqdn(host)})

    def resolver(self) -> dns.resolver.Resolver:
        """A dnspython resolver asking only this server, without cache."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.dns_port
        resolver.cache = None
        resolver.lifetime = 3
        return resolver


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], name: str, log_path: Path
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        if ready():
            return
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"{name} did not start in {STARTUP_TIMEOUT} s:\n{log_path.read_text()}")


def _start_with_retries(start: Callable[[], None], attempts: int = 3) -> None:
    # A "free" port can be taken between probing and binding; pick new ports and retry.
    for attempt in range(attempts):
        try:
            start()
            return
        except RuntimeError:
            if attempt == attempts - 1:
                raise


@pytest.fixture(scope="session", name="challtestsrv")
def challtestsrv_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChallTestSrv]:
    """A mock DNS server on loopback (session-wide; tests use their own host names)."""
    _binary("pebble-challtestsrv")
    log_path = tmp_path_factory.mktemp("challtestsrv") / "challtestsrv.log"
    server = ChallTestSrv(dns_port=0, management_port=0, log_path=log_path)

    def start() -> None:
        server.dns_port, server.management_port = free_port(), free_port()
        server.start()

    _start_with_retries(start)
    try:
        yield server
    finally:
        server.stop()


# --- Pebble -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _ListenerTls:
    ca_path: Path
    cert_path: Path
    key_path: Path


def _make_listener_tls(directory: Path) -> _ListenerTls:
    """A throwaway CA and a leaf for Pebble's HTTPS listeners (localhost, 127.0.0.1, ::1)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sendtrail test Pebble CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = _ListenerTls(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    tls.ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tls.cert_path.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        tls.key_path,
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return tls


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


@dataclass
class Pebble:
    """A running Pebble ACME server (its own ports, config and log)."""

    directory: Path
    tls: _ListenerTls
    dns_address: str
    http01_port: int
    validity_seconds: int | None = None
    port: int = 0
    management_port: int = 0
    tls_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    @property
    def ca_bundle_path(self) -> str:
        """The CA of Pebble's own HTTPS listener (for ``verify_ssl``), not its issuing root."""
        return str(self.tls.ca_path)

    @property
    def log_path(self) -> Path:
        return self.directory / "pebble.log"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_bundle_path)

    def roots_pem(self) -> str:
        """Pebble's issuing root for this run (it changes at every start)."""
        return self._management_get("/roots/0")

    def intermediates_pem(self) -> str:
        return self._management_get("/intermediates/0")

    def _management_get(self, path: str) -> str:
        url = f"https://127.0.0.1:{self.management_port}{path}"
        response = httpx.get(url, verify=self.ssl_context(), timeout=5)
        response.raise_for_status()
        return response.text

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        self.port, self.management_port, self.tls_port = free_port(), free_port(), free_port()
        config: dict[str, Any] = {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(self.tls.cert_path),
            "privateKey": str(self.tls.key_path),
            "httpPort": self.http01_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            "domainBlocklist": [REJECTED_HOSTNAME],
        }
        if self.validity_seconds is not None:
            config["certificateValidityPeriod"] = self.validity_seconds
        config_path = self.directory / "pebble-config.json"
        config_path.write_text(json.dumps({"pebble": config}, indent=2))
        env = {
            **os.environ,
            "PEBBLE_VA_NOSLEEP": "1",
            "PEBBLE_WFE_NONCEREJECT": "0",
            "PEBBLE_AUTHZREUSE": "0",
        }
        with self.log_path.open("ab") as log:
            self.process = _spawn(
                [_binary("pebble"), "-config", str(config_path), "-dnsserver", self.dns_address],
                log, env=env, cwd=self.directory,
            )
        _wait_until(self._answers, self.process, "pebble", self.log_path)

    def _answers(self) -> bool:
        with contextlib.suppress(httpx.TransportError):
            response = httpx.get(self.directory_url, verify=self.ssl_context(), timeout=1)
            return response.status_code == 200 and _tcp_open(self.management_port)
        return False

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


PebbleFactory = Callable[..., Pebble]


@pytest.fixture(scope="session", name="pebble_factory")
def pebble_factory_fixture(
    challtestsrv: ChallTestSrv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PebbleFactory]:
    """``pebble_factory(*, validity_seconds=None, http01_port=None) -> Pebble``, started."""
    _binary("pebble")
    tls = _make_listener_tls(tmp_path_factory.mktemp("pebble-tls"))
    started: list[Pebble] = []

    def make(*, validity_seconds: int | None = None, http01_port: int | None = None) -> Pebble:
        server = Pebble(
            directory=tmp_path_factory.mktemp("pebble"), tls=tls,
            dns_address=challtestsrv.dns_address,
            http01_port=http01_port or free_port(), validity_seconds=validity_seconds,
        )
        started.append(server)
        _start_with_retries(server.start)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session", name="pebble")
def pebble_fixture(pebble_factory: PebbleFactory) -> Pebble:
    """The session's Pebble with its default certificate lifetime."""
    return pebble_factory()
