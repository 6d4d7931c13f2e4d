"""Custom tracking domains end to end (R21), every component a real process on loopback.

pebble-challtestsrv is the DNS the test controls; Debian's ``pebble`` issues certificates
and validates HTTP-01 through Debian's ``nginx`` (port "80"), which runs the shipped
``deploy/nginx/sendtrail.conf`` and proxies to ``sendtrail serve`` on PostgreSQL::

    test ──GraphQL──▶ sendtrail serve ──ACME──▶ pebble ──DNS──▶ challtestsrv
      │                  ▲   │ writes <host>.pem          │ HTTP-01
      └──TLS, SNI=host──▶ nginx ◀────────────────────────┘

Pebble's certificates here live ``VALIDITY`` seconds, so one certificate is renewed (two
thirds in) while the test keeps handshaking, and a second renewal is made to fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from components import (  # noqa: F401  (the fixtures)
    ChallTestSrv,
    Pebble,
    PebbleFactory,
    challtestsrv_fixture,
    pebble_factory_fixture,
)
from cryptography import x509
from e2e.nginx import Nginx, NginxFactory, nginx_factory_fixture  # noqa: F401  (the fixture)
from e2e.processes import Server, _free_port
from support import Tenant, run, seed_tenant

VALIDITY = 16
"""Pebble's certificate lifetime (s): renewal is due two thirds in (~11 s), leaving ~5 s."""
ACTIVE_WITHIN = 30.0
CERT_WRITTEN_WITHIN = 1.0
TOO_SOON = 2.5
"""Hits within 2 s of preparing are classed MACHINE (classify.TOO_SOON): wait longer."""
HANDSHAKE_EVERY = 0.2
SECRET = "tracking-domains-e2e-secret-key-0123456789"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
DESTINATION = "https://shop.test/pricing"
HTML = f'<p>Hi,</p><p>See <a href="{DESTINATION}">our pricing</a>.</p>'
DOMAIN_FIELDS = "id hostname status dnsRecords { type name value } lastError " \
                "certificateExpiresAt renewAt inUse"


@dataclass
class Stack:
    server: Server
    nginx: Nginx
    pebble: Pebble
    dns: ChallTestSrv
    acme: Tenant
    other: Tenant
    renewer: Tenant
    suffix: str

    def diagnosis(self) -> str:
        """Every process's log tail, for assertion messages."""
        return "\n\n".join([
            f"--- sendtrail serve\n{self.server.logs()[-8000:]}",
            self.nginx.logs(4000),
            f"--- pebble\n{self.pebble.logs()[-4000:]}",
            f"--- challtestsrv\n{self.dns.logs()[-2000:]}",
        ])

    def tls_context(self) -> ssl.SSLContext:
        """Trusts Pebble's issuing root only (it changes at every Pebble start)."""
        return ssl.create_default_context(cadata=self.pebble.roots_pem())


@pytest.fixture(scope="module")
def stack(
    challtestsrv: ChallTestSrv,
    pebble_factory: PebbleFactory,
    nginx_factory: NginxFactory,
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("tracking-domains")
    cert_dir, data_dir = root / "certs", root / "data"
    data_dir.mkdir()
    port = _free_port()
    nginx = nginx_factory(cert_dir=cert_dir, upstream=f"127.0.0.1:{port}")
    # Pebble's HTTP-01 goes through nginx's plain-HTTP server, as a real CA's would.
    pebble = pebble_factory(validity_seconds=VALIDITY, http01_port=nginx.http_port)
    server = Server({
        **os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": postgres_url,
        "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SECRET_KEYS": SECRET,
        "SENDTRAIL_SMTP_PORT": "0", "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SENDTRAIL_TRACKING_BASE_URL": f"http://127.0.0.1:{port}",
        "SENDTRAIL_TRUSTED_PROXIES": "127.0.0.1",
        "SENDTRAIL_ACME_DIRECTORY_URL": pebble.directory_url,
        "SENDTRAIL_ACME_CA_BUNDLE": pebble.ca_bundle_path,
        "SENDTRAIL_DNS_NAMESERVERS": challtestsrv.dns_address,
        "SENDTRAIL_CERT_DIR": str(cert_dir),
        "SENDTRAIL_DOMAIN_POLL": "0.5",
    }, port=port)
    suffix = uuid.uuid4().hex[:8]
    try:
        try:
            server.start()
        except AssertionError as error:
            raise AssertionError(f"{error}\n{server.logs()}") from None
        acme, other, renewer = (run(seed_tenant(postgres_url, f"{name} {suffix}"))
                                for name in ("Acme", "Other", "Renewer"))
        stack = Stack(server, nginx, pebble, challtestsrv, acme, other, renewer, suffix)
        for tenant in (acme, other, renewer):  # R12: click tracking needs a paid Sales seat
            seat = _gql(stack, tenant.admin_token, "mutation($id: ID!) { updateUser(input: "
                        "{id: $id, seat: SALES_STARTER}) { seat } }", {"id": tenant.admin_id})
            assert seat["updateUser"]["seat"] == "SALES_STARTER"
        yield stack
    finally:
        server.kill(signal.SIGTERM)


# --- helpers -----------------------------------------------------------------------------


def _gql(stack: Stack, token: str, query: str, variables: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    answer = httpx.post(f"{stack.server.base_url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables or {}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("errors"), f"{body}\n{stack.diagnosis()}"
    data: dict[str, Any] = body["data"]
    return data


def _domain(stack: Stack, tenant: Tenant, domain_id: str) -> dict[str, Any]:
    domains = _gql(stack, tenant.admin_token, f"{{ trackingDomains {{ {DOMAIN_FIELDS} }} }}")
    (found,) = [d for d in domains["trackingDomains"] if d["id"] == domain_id]
    assert isinstance(found, dict)
    return found


def _wait_for(what: str, stack: Stack, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s\n{stack.diagnosis()}")
        time.sleep(0.2)


@dataclass(frozen=True)
class Activated:
    tenant: Tenant
    hostname: str
    added: dict[str, Any]
    """What ``addTrackingDomain`` answered."""
    active: dict[str, Any]
    """The domain once ACTIVE."""


def _activate(stack: Stack, tenant: Tenant, hostname: str) -> Activated:
    """Add the hostname, publish what it asks for, verify, and wait until it is ACTIVE."""
    added = _gql(stack, tenant.admin_token, "mutation($h: String!) { addTrackingDomain("
                 f"input: {{hostname: $h}}) {{ {DOMAIN_FIELDS} }} }}",
                 {"h": hostname})["addTrackingDomain"]
    for record in added["dnsRecords"]:
        if record["type"] == "CNAME":
            stack.dns.set_cname(record["name"], record["value"])
        elif record["type"] == "TXT":
            stack.dns.set_txt(record["name"], record["value"])
    verified = _gql(stack, tenant.admin_token, "mutation($id: ID!) { verifyTrackingDomain("
                    f"id: $id) {{ {DOMAIN_FIELDS} }} }}",
                    {"id": added["id"]})["verifyTrackingDomain"]
    assert verified["status"] in {"VERIFIED", "ISSUING", "ACTIVE"}, verified

    def active() -> dict[str, Any] | None:
        domain = _domain(stack, tenant, added["id"])
        assert domain["status"] != "FAILED", f"{domain}\n{stack.diagnosis()}"
        return domain if domain["status"] == "ACTIVE" else None

    domain = _wait_for(f"{hostname} ACTIVE", stack, active, ACTIVE_WITHIN)
    # The worker saves ACTIVE, then writes the file in the same round: allow for that round.
    pem = stack.nginx.cert_dir / f"{hostname}.pem"
    _wait_for(f"{pem} written", stack, pem.exists, CERT_WRITTEN_WITHIN)
    return Activated(tenant, hostname, added, domain)


def _handshake(stack: Stack, hostname: str, context: ssl.SSLContext) -> x509.Certificate:
    """A TLS handshake to nginx with SNI ``hostname``, verified against Pebble's root."""
    with socket.create_connection(("127.0.0.1", stack.nginx.https_port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=hostname) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _via_nginx(stack: Stack, url: str) -> httpx.Response:
    """GET a tracking URL as a mail client would, but to nginx's port: the URL's host
    stays in SNI and Host (it is https on 443 in the email)."""
    parsed = httpx.URL(url)
    assert parsed.scheme == "https", url
    assert parsed.port is None, url
    with httpx.Client(verify=stack.tls_context(), timeout=10) as client:
        return client.get(
            parsed.copy_with(host="127.0.0.1", port=stack.nginx.https_port),
            headers={"Host": parsed.host, "User-Agent": CHROME},
            extensions={"sni_hostname": parsed.host}, follow_redirects=False,
        )


@dataclass(frozen=True)
class Prepared:
    email_id: str
    pixel: str
    link: str


def _prepare(stack: Stack, tenant: Tenant) -> Prepared:
    data = _gql(stack, tenant.admin_token, """mutation($i: PrepareEmailInput!) {
        prepareEmail(input: $i) { email { id } messages { html } } }""", {"i": {
        "subject": "Pricing", "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": f"ann@{tenant.slug}-customer.test"}]}})["prepareEmail"]
    (message,) = data["messages"]
    pixel = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', message["html"])
    link = re.search(r'href="(https?://[^"]+/c/[^"]+)"', message["html"])
    assert pixel, message["html"]
    assert link, message["html"]
    return Prepared(data["email"]["id"], pixel.group(1), link.group(1))


def _counts(stack: Stack, tenant: Tenant, email_id: str) -> tuple[int, int]:
    data = _gql(stack, tenant.admin_token, "query($id: ID!) { email(id: $id) { "
                "recipients { openCount clickCount } } }", {"id": email_id})
    (recipient,) = data["email"]["recipients"]
    return recipient["openCount"], recipient["clickCount"]


def _not_after(certificate: x509.Certificate) -> dt.datetime:
    return certificate.not_valid_after_utc


# --- tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme_domain(stack: Stack) -> Activated:
    return _activate(stack, stack.acme, f"links-{stack.suffix}.acme-customer.test")


def test_added_domain_is_issued_by_pebble_served_by_nginx_and_tracks_over_https(
    stack: Stack, acme_domain: Activated
) -> None:
    hostname = acme_domain.hostname
    records = {r["type"]: r for r in acme_domain.added["dnsRecords"]}
    assert acme_domain.added["status"] == "PENDING_DNS"
    assert records["CNAME"]["name"] == hostname
    assert records["CNAME"]["value"].endswith(".track.sendtrail.test")
    assert records["TXT"]["name"] == f"_sendtrail-verify.{hostname}"
    assert records["TXT"]["value"].startswith("sendtrail-verify=")
    assert acme_domain.active["inUse"] is True
    assert acme_domain.active["lastError"] is None

    prepared = _prepare(stack, stack.acme)
    prepared_at = time.monotonic()
    assert prepared.pixel.startswith(f"https://{hostname}/o/"), prepared
    assert prepared.link.startswith(f"https://{hostname}/c/"), prepared

    # The handshake presents a certificate for the hostname that chains to Pebble's root
    # (verification needs the intermediate, so nginx sends the full chain).
    leaf = _handshake(stack, hostname, stack.tls_context())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [hostname]
    serial_file = stack.nginx.cert_dir / f"{hostname}.serial"
    assert int(serial_file.read_text(), 16) == leaf.serial_number
    pem = stack.nginx.cert_dir / f"{hostname}.pem"
    assert oct(pem.stat().st_mode & 0o777) == oct(0o600)

    time.sleep(max(0.0, TOO_SOON - (time.monotonic() - prepared_at)))
    pixel = _via_nginx(stack, prepared.pixel)
    assert pixel.status_code == 200, f"{pixel.text[:300]}\n{stack.diagnosis()}"
    assert pixel.headers["content-type"] == "image/gif"
    click = _via_nginx(stack, prepared.link)
    assert click.status_code == 302, f"{click.text[:300]}\n{stack.diagnosis()}"
    assert click.headers["location"] == DESTINATION
    _wait_for("the open and the click recorded", stack,
              lambda: _counts(stack, stack.acme, prepared.email_id) == (1, 1), 10)

    # Pebble validated HTTP-01 through nginx's plain-HTTP server, as a real CA would.
    access_log = (stack.nginx.directory / "access.log").read_text()
    assert re.search(r'"GET /\.well-known/acme-challenge/\S+ HTTP/1\.1" 200 .*Pebble',
                     access_log), access_log[-2000:]

    # Anything but tracking on a customer's hostname is not served at all.
    assert _via_nginx(stack, f"https://{hostname}/graphql").status_code == 404


def test_token_of_another_account_on_a_custom_domain_is_not_found(
    stack: Stack, acme_domain: Activated
) -> None:
    foreign = _prepare(stack, stack.other)  # on the default host: Other has no domain
    time.sleep(TOO_SOON)
    for url in (foreign.pixel, foreign.link):
        path = httpx.URL(url).raw_path.decode()
        answer = _via_nginx(stack, f"https://{acme_domain.hostname}{path}")
        assert answer.status_code == 404, f"{url}: {answer.status_code}\n{stack.diagnosis()}"
    assert _counts(stack, stack.other, foreign.email_id) == (0, 0)
    # The same tokens are good on Other's own (default) host: the 404 was the Host check.
    pixel = httpx.get(foreign.pixel, headers={"User-Agent": CHROME}, timeout=10)
    assert pixel.status_code == 200, f"{foreign.pixel}: {pixel.status_code}"
    click = httpx.get(foreign.link, headers={"User-Agent": CHROME}, timeout=10)
    assert click.status_code == 302, f"{foreign.link}: {click.status_code}"


def test_removed_domain_no_longer_completes_a_handshake(stack: Stack) -> None:
    hostname = f"gone-{stack.suffix}.acme-customer.test"
    domain = _activate(stack, stack.acme, hostname)
    assert _handshake(stack, hostname, stack.tls_context()).serial_number
    removed = _gql(stack, stack.acme.admin_token, "mutation($id: ID!) { "
                   "removeTrackingDomain(id: $id) }", {"id": domain.active["id"]})
    assert removed["removeTrackingDomain"] is True
    pem = stack.nginx.cert_dir / f"{hostname}.pem"
    _wait_for(f"{pem} removed", stack, lambda: not pem.exists(), 5)
    with pytest.raises(ssl.SSLError, match="alert internal error"):
        _handshake(stack, hostname, stack.tls_context())
    assert f'cannot load certificate "{pem}"' in stack.nginx.error_log.read_text()


@dataclass
class Handshakes:
    """TLS handshakes to nginx every ``HANDSHAKE_EVERY`` s in a thread, each remembered."""

    stack: Stack
    hostname: str
    seen: list[tuple[dt.datetime, int | str]] = field(default_factory=list)
    """(when, serial) per successful handshake, (when, error) per failed one."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Handshakes:
        context = self.stack.tls_context()

        def loop() -> None:
            while not self._stop.wait(HANDSHAKE_EVERY):
                now = dt.datetime.now(dt.UTC)
                try:
                    result: int | str = _handshake(self.stack, self.hostname,
                                                   context).serial_number
                except Exception as error:
                    result = f"{type(error).__name__}: {error}"
                self.seen.append((now, result))

        self._thread = threading.Thread(target=loop, name="handshakes", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def failures(self) -> list[tuple[dt.datetime, int | str]]:
        return [(when, what) for when, what in self.seen if isinstance(what, str)]

    def serials(self) -> list[int]:
        """Distinct serials in the order they were first presented."""
        found: list[int] = []
        for _, what in list(self.seen):
            if isinstance(what, int) and what not in found:
                found.append(what)
        return found


def test_certificate_is_renewed_without_downtime_and_a_failed_renewal_keeps_it(
    stack: Stack,
) -> None:
    hostname = f"links-{stack.suffix}.renewer-customer.test"
    domain = _activate(stack, stack.renewer, hostname)
    target = next(r["value"] for r in domain.added["dnsRecords"] if r["type"] == "CNAME")
    first = _handshake(stack, hostname, stack.tls_context())
    lifetime = _not_after(first) - first.not_valid_before_utc
    assert lifetime <= dt.timedelta(seconds=VALIDITY), lifetime  # Pebble's short validity
    try:
        with Handshakes(stack, hostname) as handshakes:
            # 1. Renewal two thirds in, served by the next handshake: no failure, no gap.
            _wait_for("a renewed certificate presented, or the first one expired", stack,
                      lambda: len(handshakes.serials()) > 1 or
                      dt.datetime.now(dt.UTC) > _not_after(first), VALIDITY + 5)
            assert len(handshakes.serials()) > 1, \
                f"not renewed before {_not_after(first)}\n{stack.diagnosis()}"
            assert handshakes.serials()[0] == first.serial_number
            second_seen = next(when for when, what in handshakes.seen
                               if isinstance(what, int) and what != first.serial_number)
            assert second_seen < _not_after(first), (second_seen, _not_after(first))
            second = _handshake(stack, hostname, stack.tls_context())
            assert second.serial_number == handshakes.serials()[1]
            assert not handshakes.failures(), f"{handshakes.failures()}\n{stack.diagnosis()}"

            # 2. HTTP-01 breaks (the tracking host now resolves where nothing listens):
            # the next renewal fails, is reported, and the last good certificate stays.
            stack.dns.add_a(target, ["127.0.0.2"])

            def renewal_failed() -> dict[str, Any] | None:
                now = _domain(stack, stack.renewer, domain.active["id"])
                return now if "Renewing the certificate failed" in (now["lastError"] or "") \
                    else None

            failed = _wait_for("the failed renewal reported", stack, renewal_failed,
                               VALIDITY + 5)
            assert failed["status"] in {"RENEWING", "ACTIVE"}, failed
            assert failed["inUse"] is True, failed
            # Keep handshaking until just before the last good certificate expires.
            left = (_not_after(second) - dt.datetime.now(dt.UTC)).total_seconds() - 1
            assert left > 0, f"the failure came after the certificate expired: {failed}"
            time.sleep(left)
    finally:
        stack.dns.clear(target)  # back to challtestsrv's default A 127.0.0.1
    assert not handshakes.failures(), f"{handshakes.failures()}\n{stack.diagnosis()}"
    assert handshakes.serials() == [first.serial_number, second.serial_number], \
        f"{handshakes.seen}\n{stack.diagnosis()}"
    assert handshakes.seen[-1][1] == second.serial_number
    assert handshakes.seen[-1][0] > _not_after(second) - dt.timedelta(seconds=2)
