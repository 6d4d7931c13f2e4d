"""Which host a request is for (issue 12, defect 4, R21), against a real ``sendtrail serve``
over a raw socket, so the bytes on the wire are exactly the attack: uvicorn exposed
directly, Acme owns ``links.acme.test``, and Rival's tracking token must not resolve on it.

- An absolute-form request line names its host itself (RFC 9112 §3.2.2: the server uses
  it and ignores ``Host``): ``GET http://links.acme.test/c/<Rival's token>`` with
  ``Host: 127.0.0.1`` is a request for Acme's hostname, so it is a 404.
- Two ``Host`` lines, or one that is not a host, are refused with 400 (RFC 9112 §3.2),
  whichever comes first, on every route.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from e2e.processes import Server, _free_port
from sqlalchemy import text
from support import Tenant, run, seed_tenant

from sendtrail.db.engine import create_sync_engine

ACME_HOST = "links.acme.test"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@dataclass(frozen=True)
class Site:
    server: Server
    click: str
    """The path of Rival's tracked link, ``/c/<token>``."""
    pixel: str
    """The path of Rival's pixel, ``/o/<token>.gif``."""

    @property
    def own_host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def send(self, head: str) -> tuple[int, bytes]:
        """Send one request head as written (CRLF line ends added); the status and answer."""
        raw = head.strip("\n").replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(raw)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
        assert status, answer[:200]
        return int(status.group(1)), answer


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("request-host")
    shutil.copyfile(sqlite_template, folder / "sendtrail.db")
    url = f"sqlite:///{folder / 'sendtrail.db'}"
    acme, rival = run(seed_tenant(url, "Acme")), run(seed_tenant(url, "Rival"))
    port = _free_port()
    server = Server({**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": url,
                     "SENDTRAIL_DATA_DIR": str(folder), "SENDTRAIL_SMTP_PORT": "0",
                     "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
                     "SENDTRAIL_DOMAIN_WORKER": "false", "SENDTRAIL_DOMAIN_POLL": "0.2",
                     "SENDTRAIL_WEBHOOK_DISPATCHER": "false"}, port=port)
    server.start()
    try:
        _add_domain(server, acme, ACME_HOST, url)
        click, pixel = _rival_paths(server, rival)
        found = Site(server, click, pixel)
        _wait_until_acme_owns_its_host(found)
        yield found
    finally:
        server.kill()


def _gql(server: Server, token: str, query: str) -> dict[str, object]:
    answer = httpx.post(f"{server.base_url}/graphql", json={"query": query}, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})
    body = answer.json()
    assert not body.get("errors"), body
    data: dict[str, object] = body["data"]
    return data


def _add_domain(server: Server, tenant: Tenant, hostname: str, database_url: str) -> None:
    """Add the hostname and make it ACTIVE in the store, as DNS checks and ACME would."""
    _gql(server, tenant.admin_token,
         f'mutation {{ addTrackingDomain(input: {{hostname: "{hostname}"}}) {{ id }} }}')
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE tracking_domain SET status = 'active', "
                              "certificate_expires_at = :later WHERE hostname = :host"),
                         {"later": datetime.now(UTC) + timedelta(days=60), "host": hostname})
    finally:
        engine.dispose()


def _rival_paths(server: Server, rival: Tenant) -> tuple[str, str]:
    # R12: click tracking needs a paid Sales seat.
    _gql(server, rival.admin_token, f'mutation {{ updateUser(input: {{id: "{rival.admin_id}", '
         'seat: SALES_STARTER}) { seat } }')
    data = _gql(server, rival.admin_token, """mutation { prepareEmail(input: {
        subject: "Hi", html: "<p>See <a href=\\"https://rival.test/offer\\">this</a></p>",
        recipients: [{address: "ann@client.test"}]}) { messages { html } } }""")
    html = str(data["prepareEmail"]["messages"][0]["html"])  # type: ignore[index]
    click = re.search(r'href="http://[^/"]+(/c/[^"]+)"', html)
    pixel = re.search(r'src="http://[^/"]+(/o/[^"]+\.gif)"', html)
    assert click, html
    assert pixel, html
    return click.group(1), pixel.group(1)


def _wait_until_acme_owns_its_host(site: Site) -> None:
    """The existing host check (a 404 for a Host of Acme's) once the host map has the
    domain: the control that the attacks below are attacks on something that holds."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, _ = site.send(f"GET {site.click} HTTP/1.1\nHost: {ACME_HOST}\n"
                              "Connection: close")
        if status == 404:
            return
        time.sleep(0.2)
    raise AssertionError(f"Rival's link still resolves on {ACME_HOST}:\n{site.server.logs()}")


def test_rivals_link_resolves_on_the_platform_host(site: Site) -> None:
    status, answer = site.send(f"GET {site.click} HTTP/1.1\nHost: {site.own_host}\n"
                               "Connection: close")
    assert status == 302, answer
    assert b"location: https://rival.test/offer" in answer.lower()


@pytest.mark.parametrize("path", ["click", "pixel"])
def test_an_absolute_form_request_is_for_the_host_it_names_not_the_host_header(
    site: Site, path: str
) -> None:
    target = site.click if path == "click" else site.pixel
    status, answer = site.send(f"GET http://{ACME_HOST}{target} HTTP/1.1\n"
                               f"Host: {site.own_host}\nUser-Agent: {CHROME}\n"
                               "Connection: close")
    assert status == 404, answer  # Rival's token on Acme's hostname (R21)
    assert b"rival.test" not in answer
    # Consistently: naming the platform host in the request line is a platform request.
    status, answer = site.send(f"GET http://{site.own_host}{target} HTTP/1.1\n"
                               f"Host: {ACME_HOST}\nUser-Agent: {CHROME}\nConnection: close")
    assert status == (302 if path == "click" else 200), answer


@pytest.mark.parametrize("hosts", [
    ("{own}", ACME_HOST),
    (ACME_HOST, "{own}"),
    ("{own}", "{own}"),
], ids=["platform-first", "acme-first", "same-twice"])
@pytest.mark.parametrize("route", ["click", "healthz"])
def test_two_host_headers_are_refused(site: Site, hosts: tuple[str, str], route: str) -> None:
    target = site.click if route == "click" else "/healthz"
    lines = "".join(f"Host: {host.format(own=site.own_host)}\n" for host in hosts)
    status, answer = site.send(f"GET {target} HTTP/1.1\n{lines}Connection: close")
    assert status == 400, answer
    assert b"rival.test" not in answer
    assert b"Host" in answer  # says what is wrong


@pytest.mark.parametrize("host", [
    f"{ACME_HOST}, 127.0.0.1", f"127.0.0.1 {ACME_HOST}", f"{ACME_HOST}/x", "",
    f"user@{ACME_HOST}", f"{ACME_HOST}:1:2", "links%2eacme.test", f"{ACME_HOST}:http",
], ids=["list", "space", "path", "empty", "userinfo", "two-ports", "percent", "named-port"])
def test_a_host_header_that_is_not_a_host_is_refused(site: Site, host: str) -> None:
    status, answer = site.send(f"GET {site.click} HTTP/1.1\nHost: {host}\nConnection: close")
    assert status == 400, answer
    assert b"rival.test" not in answer


@pytest.mark.parametrize("target", [
    f"ftp://{ACME_HOST}/c/x", f"http://user@{ACME_HOST}/c/x", f"{ACME_HOST}:443",
], ids=["other-scheme", "credentials", "authority-form"])
def test_a_request_line_that_is_neither_a_path_nor_an_http_url_is_refused(
    site: Site, target: str
) -> None:
    status, answer = site.send(f"GET {target} HTTP/1.1\nHost: {site.own_host}\n"
                               "Connection: close")
    assert status == 400, answer
