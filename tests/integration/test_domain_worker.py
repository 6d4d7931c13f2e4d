"""The domain worker (R21) with a real DNS server and a real Pebble, on both backends:
issuance makes a domain ACTIVE and writes its certificate for the TLS front, with the key
encrypted at rest; a challenge the CA cannot fetch is explained and retried, then FAILED;
DNS that appears late is picked up; an ACTIVE domain whose DNS changes stops being used
for new emails until fixed. (Serving through nginx and renewal: tests/e2e.)"""

from __future__ import annotations

import grp
import http.server
import os
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from components import ChallTestSrv, Pebble
from cryptography import x509
from litestar.testing import TestClient
from sqlalchemy import text
from support import FakeClock, Tenant, gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.domains.acme_schedule import MAX_FAILURES_PER_HOSTNAME
from sendtrail.domains.worker import DomainWorker
from sendtrail.settings import DomainSettings, Settings

ADD = """mutation($h: String!) { addTrackingDomain(input: {hostname: $h}) {
  id dnsRecords { type name value } } }"""
DOMAINS = """{ trackingDomains { hostname status lastError inUse certificateExpiresAt
  renewAt } }"""
PREPARE = ("mutation { prepareEmail(input: {subject: \"Hi\", html: \"<p>Hi</p>\", "
           "recipients: [{address: \"ann@client.test\"}]}) { messages { html } } }")


@pytest.fixture
def domain_settings(settings: Settings, challtestsrv: ChallTestSrv, pebble: Pebble) -> Settings:
    return replace(
        settings, dns_nameservers=(challtestsrv.dns_address,),
        acme_directory_url=pebble.directory_url, acme_ca_bundle=pebble.ca_bundle_path,
        domains=DomainSettings(worker=False, poll_seconds=0.2, caa_identifiers=("pebble.test",),
                               recheck_seconds=600),
    )


@pytest.fixture
def app(domain_settings: Settings, clock: FakeClock) -> Iterator[TestClient[Any]]:
    # The app is another node: its own certificate directory (the test's worker writes
    # domain_settings' one).
    node = replace(domain_settings, domains=replace(
        domain_settings.domains, cert_dir=domain_settings.data_dir / "app-node-certs"))
    with TestClient(create_app(node, clock=clock),
                    base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


class _ChallengeRelay(http.server.BaseHTTPRequestHandler):
    """Where Pebble's HTTP-01 requests land: passed on to the app under test, Host intact."""

    app: TestClient[Any]

    def do_GET(self) -> None:
        answer = self.app.get(self.path, headers={"Host": self.headers.get("Host", "")})
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def relay(app: TestClient[Any], pebble: Pebble) -> Iterator[None]:
    handler = type("Relay", (_ChallengeRelay,), {"app": app})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", pebble.http01_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield
    server.shutdown()
    server.server_close()


def _domain_with_dns(app: TestClient[Any], tenant: Tenant, challtestsrv: ChallTestSrv,
                     *, publish: bool = True) -> tuple[str, dict[str, Any]]:
    host = f"links.acme{time.monotonic_ns()}.test"  # the DNS server is shared by the session
    body = gql(app, ADD, {"h": host}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    domain: dict[str, Any] = body["data"]["addTrackingDomain"]
    if publish:
        _publish(challtestsrv, domain)
    return host, domain


def _publish(challtestsrv: ChallTestSrv, domain: dict[str, Any]) -> None:
    cname, txt = domain["dnsRecords"]
    challtestsrv.set_cname(cname["name"], cname["value"])
    challtestsrv.set_txt(txt["name"], txt["value"])


def _work(settings: Settings, clock: FakeClock, rounds: int = 1) -> None:
    async def go() -> None:
        database = Database(settings.database.url)
        worker = DomainWorker(database.engine, settings, clock=clock)
        try:
            for _ in range(rounds):
                await worker.run_once(clock())
                await worker.sync_certificates()
        finally:
            await worker.stop()
            await database.dispose()

    run(go())


def _rotate(settings: Settings, clock: FakeClock) -> int:
    async def go() -> int:
        database = Database(settings.database.url)
        worker = DomainWorker(database.engine, settings, clock=clock)
        try:
            return await worker.rotate_keys()
        finally:
            await worker.stop()
            await database.dispose()

    return run(go())


def _status(app: TestClient[Any], tenant: Tenant, host: str) -> dict[str, Any]:
    domains = gql(app, DOMAINS, token=tenant.admin_token)["data"]["trackingDomains"]
    (found,) = [d for d in domains if d["hostname"] == host]
    return found


def test_issuance_makes_the_domain_active_with_its_certificate_served_and_key_encrypted(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv, pebble: Pebble,
    domain_settings: Settings, clock: FakeClock, relay: None, database_url: str,
) -> None:
    host, _ = _domain_with_dns(app, acme, challtestsrv)
    _work(domain_settings, clock, rounds=2)  # DNS verified, then the certificate issued
    domain = _status(app, acme, host)
    assert (domain["status"], domain["lastError"], domain["inUse"]) == ("ACTIVE", None, True)
    pem = (domain_settings.data_dir / "certs" / f"{host}.pem").read_text()
    leaf = x509.load_pem_x509_certificate(pem.encode())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [host]
    assert "PRIVATE KEY-----" in pem  # chain and key in one file, for nginx by SNI
    pem_path = domain_settings.data_dir / "certs" / f"{host}.pem"
    assert stat.S_IMODE(pem_path.stat().st_mode) == 0o600  # the key: owner only by default
    shared = replace(domain_settings, domains=replace(
        domain_settings.domains, cert_dir=domain_settings.data_dir / "shared-certs",
        cert_group=grp.getgrgid(os.getgid()).gr_name))
    _work(shared, clock)  # another node, whose TLS front reads through a group
    shared_pem = shared.data_dir / "shared-certs" / f"{host}.pem"
    assert shared_pem.read_text() == pem
    assert stat.S_IMODE(shared_pem.stat().st_mode) == 0o640
    assert stat.S_IMODE(shared_pem.parent.stat().st_mode) == 0o750
    engine = create_sync_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT key_encrypted FROM tracking_certificate")).scalar_one()
    engine.dispose()
    assert "PRIVATE KEY" not in stored  # encrypted at rest
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    renew_at = datetime.fromisoformat(domain["renewAt"])
    expected = leaf.not_valid_before_utc + lifetime * 2 / 3  # never a hard-coded 90 days
    assert abs(renew_at - expected) < timedelta(seconds=2)
    assert datetime.fromisoformat(domain["certificateExpiresAt"]) == leaf.not_valid_after_utc
    html = gql(app, PREPARE, token=acme.admin_token)["data"]["prepareEmail"]["messages"][0]
    assert f'src="https://{host}/o/' in html["html"]  # R21: new emails use it
    # Rotation: a new secret key goes first, keys are re-encrypted, the old one can go.
    newest = "n" * 40
    rotated = replace(domain_settings, secrets=replace(
        domain_settings.secrets, keys=(newest, *domain_settings.secrets.keys)))
    assert _rotate(rotated, clock) == 1
    retired = replace(domain_settings, secrets=replace(domain_settings.secrets, keys=(newest,)),
                      domains=replace(domain_settings.domains,
                                      cert_dir=domain_settings.data_dir / "after-rotation"))
    _work(retired, clock)
    assert (retired.data_dir / "after-rotation" / f"{host}.pem").read_text() == pem


def test_a_challenge_the_ca_cannot_fetch_is_explained_retried_then_failed(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv,
    domain_settings: Settings, clock: FakeClock,
) -> None:
    host, _ = _domain_with_dns(app, acme, challtestsrv)  # no relay: nothing answers
    _work(domain_settings, clock, rounds=2)
    first = _status(app, acme, host)
    assert first["status"] == "ISSUING"
    assert host in first["lastError"]
    assert "Trying again" in first["lastError"]
    for _ in range(MAX_FAILURES_PER_HOSTNAME):
        clock.advance(2 * 24 * 3600)
        _work(domain_settings, clock)
    failed = _status(app, acme, host)
    assert failed["status"] == "FAILED"
    assert "Verify to try again" in failed["lastError"]
    assert failed["inUse"] is False


def test_dns_that_appears_late_is_picked_up_by_the_next_check(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv,
    domain_settings: Settings, clock: FakeClock,
) -> None:
    host, domain = _domain_with_dns(app, acme, challtestsrv, publish=False)
    _work(domain_settings, clock)
    waiting = _status(app, acme, host)
    assert waiting["status"] == "PENDING_DNS"
    assert "CNAME" in waiting["lastError"]
    _publish(challtestsrv, domain)
    _work(domain_settings, clock)  # not due yet: checks back off
    assert _status(app, acme, host)["status"] == "PENDING_DNS"
    clock.advance(600)
    _work(domain_settings, clock)
    assert _status(app, acme, host)["status"] in {"VERIFIED", "ISSUING"}


def test_an_active_domain_whose_dns_changes_stops_being_used_until_fixed(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv,
    domain_settings: Settings, clock: FakeClock, database_url: str,
) -> None:
    host, domain = _domain_with_dns(app, acme, challtestsrv)
    engine = create_sync_engine(database_url)
    with engine.begin() as conn:  # as if issued: only the re-verification is under test
        conn.execute(text("UPDATE tracking_domain SET status = 'active', next_check_at = "
                          ":now WHERE hostname = :h"), {"now": clock(), "h": host})
    engine.dispose()
    challtestsrv.set_cname(host, "somewhere-else.example.test")
    _work(domain_settings, clock)
    changed = _status(app, acme, host)
    assert (changed["status"], changed["inUse"]) == ("DNS_CHANGED", False)
    assert "somewhere-else.example.test" in changed["lastError"]
    html = gql(app, PREPARE, token=acme.admin_token)["data"]["prepareEmail"]["messages"][0]
    assert 'src="http://testserver.local/o/' in html["html"]  # back on the default host
    _publish(challtestsrv, domain)
    clock.advance(600)
    _work(domain_settings, clock)
    assert _status(app, acme, host)["status"] == "ACTIVE"


def _domain_row(database_url: str, host: str) -> Any:
    engine = create_sync_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, next_check_at, last_checked_at FROM "
                                "tracking_domain WHERE hostname = :h"), {"h": host}).one()
    engine.dispose()
    return row


def test_a_passing_recheck_moves_the_next_one_forward_so_no_domain_starves(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv,
    domain_settings: Settings, clock: FakeClock, database_url: str,
) -> None:
    hosts = [_domain_with_dns(app, acme, challtestsrv)[0] for _ in range(6)]
    engine = create_sync_engine(database_url)
    with engine.begin() as conn:  # six ACTIVE domains, all due for their hourly re-check
        conn.execute(text("UPDATE tracking_domain SET status = 'active', next_check_at = "
                          ":due, certificate_expires_at = :later, renew_at = :renew"),
                     {"due": clock() - timedelta(hours=1), "later": clock() + timedelta(days=60),
                      "renew": clock() + timedelta(days=30)})
    engine.dispose()
    late, _ = _domain_with_dns(app, acme, challtestsrv, publish=False)  # added last: due now
    _work(domain_settings, clock, rounds=2)  # 5 domains a round
    for host in hosts:
        row = _domain_row(database_url, host)
        assert row.status == "active"
        assert _aware(row.next_check_at) > clock()  # re-checked, next time in the future
    assert _domain_row(database_url, late).last_checked_at is not None  # not starved


def test_a_certificate_that_expires_unrenewed_takes_the_domain_out_of_use(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv,
    domain_settings: Settings, clock: FakeClock, database_url: str,
) -> None:
    host, _ = _domain_with_dns(app, acme, challtestsrv)
    engine = create_sync_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE tracking_domain SET status = 'renewing', next_check_at = "
                          ":now, certificate_expires_at = :past, last_error = :why"),
                     {"now": clock(), "past": clock() - timedelta(minutes=1),
                      "why": "Renewing the certificate failed: the CA was unreachable."})
    engine.dispose()
    _work(domain_settings, clock)
    domain = _status(app, acme, host)
    assert (domain["status"], domain["inUse"]) == ("FAILED", False)
    assert domain["lastError"].startswith("The certificate expired before it could be renewed.")
    assert "the CA was unreachable" in domain["lastError"]


def _aware(moment: datetime | str) -> datetime:
    """A timestamp read with raw SQL (SQLite gives text) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

