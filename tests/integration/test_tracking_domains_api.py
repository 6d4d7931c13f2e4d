"""Custom tracking domains over GraphQL (R20, R21), on both backends: adding a hostname and
the records shown, refusals in words, DNS verification against a real DNS server on
loopback, new emails on the ACTIVE domain, and Host isolation between accounts.
(Issuance through Pebble and serving through nginx: tests/e2e/test_tracking_domains.py.)"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from components import ChallTestSrv
from litestar.testing import TestClient
from sqlalchemy import text
from support import Tenant, error_codes, gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.db.engine import create_sync_engine
from sendtrail.domains import challenges
from sendtrail.settings import DomainSettings, Settings

ADD = """mutation($i: AddTrackingDomainInput!) { addTrackingDomain(input: $i) {
  id hostname hostnameUnicode purpose status lastError inUse dnsRecords { type name value } } }"""
VERIFY = "mutation($id: ID!) { verifyTrackingDomain(id: $id) { status lastError } }"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def dns_settings(settings: Settings, challtestsrv: ChallTestSrv) -> Settings:
    return replace(settings, dns_nameservers=(challtestsrv.dns_address,),
                   domains=DomainSettings(worker=False, poll_seconds=0.2,
                                          caa_identifiers=("pebble.test",)))


@pytest.fixture
def app(dns_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(dns_settings), base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


def _add(app: TestClient[Any], tenant: Tenant, hostname: str, **fields: Any) -> dict[str, Any]:
    return gql(app, ADD, {"i": {"hostname": hostname, **fields}}, token=tenant.admin_token)


def _added(app: TestClient[Any], tenant: Tenant, hostname: str) -> dict[str, Any]:
    body = _add(app, tenant, hostname)
    assert body.get("errors") is None, body
    domain: dict[str, Any] = body["data"]["addTrackingDomain"]
    return domain


def _sql(database_url: str, statement: str, **params: Any) -> None:
    engine = create_sync_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def test_adding_a_hostname_shows_the_records_to_create(app: TestClient[Any],
                                                       acme: Tenant) -> None:
    domain = _added(app, acme, "Bücher.Example.TEST.")
    assert domain["hostname"] == "xn--bcher-kva.example.test"
    assert domain["hostnameUnicode"] == "bücher.example.test"
    assert (domain["status"], domain["purpose"], domain["inUse"]) == (
        "PENDING_DNS", "SALES", False)
    cname, txt = domain["dnsRecords"]
    assert cname["type"] == "CNAME"
    assert cname["name"] == "xn--bcher-kva.example.test"
    assert re.fullmatch(r"t\d+\.na1\.track\.sendtrail\.test", cname["value"])
    assert (txt["type"], txt["name"]) == ("TXT", "_sendtrail-verify.xn--bcher-kva.example.test")
    assert txt["value"].startswith("sendtrail-verify=")
    listed = gql(app, "{ trackingDomains { hostname status } }", token=acme.admin_token)
    assert listed["data"]["trackingDomains"] == [
        {"hostname": "xn--bcher-kva.example.test", "status": "PENDING_DNS"}]


@pytest.mark.parametrize(("hostname", "words"), [
    ("https://links.example.test/x", "just the hostname"),
    ("192.0.2.7", "address"),
    ("t1.na1.track.sendtrail.test", "own"),
    ("localhost", ""),
    ("", ""),
])
def test_a_hostname_that_cannot_be_a_tracking_domain_is_refused_in_words(
    app: TestClient[Any], acme: Tenant, hostname: str, words: str
) -> None:
    body = _add(app, acme, hostname)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert words.lower() in body["errors"][0]["message"].lower()


def test_a_hostname_belongs_to_one_account_and_only_admins_add_them(
    app: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    rival = run(seed_tenant(database_url, "Rival", seats={}))
    _added(app, acme, "links.acme.test")
    again = _add(app, acme, "LINKS.acme.test")
    assert error_codes(again) == ["CONFLICT"]
    assert "already added to your account" in again["errors"][0]["message"]
    claimed = _add(app, rival, "links.acme.test")
    assert error_codes(claimed) == ["CONFLICT"]
    assert "another Sendtrail account" in claimed["errors"][0]["message"]
    assert "acme" not in claimed["errors"][0]["message"].lower().replace("links.acme.test", "")
    user = gql(app, ADD, {"i": {"hostname": "links2.acme.test"}}, token=acme.user_token)
    assert error_codes(user) == ["FORBIDDEN"]
    marketing = _add(app, acme, "news.acme.test", purpose="MARKETING", businessUnit="EU")
    assert error_codes(marketing) == ["ENTITLEMENT_REQUIRED"]
    assert "business-units add-on" in marketing["errors"][0]["message"]


def test_removing_a_domain_is_audited(app: TestClient[Any], acme: Tenant) -> None:
    domain = _added(app, acme, "old-links.acme.test")
    removed = gql(app, "mutation($id: ID!) { removeTrackingDomain(id: $id) }",
                  {"id": domain["id"]}, token=acme.admin_token)
    assert removed["data"]["removeTrackingDomain"] is True
    log = gql(app, "{ auditLog { edges { node { action target } } } }", token=acme.admin_token)
    actions = [edge["node"] for edge in log["data"]["auditLog"]["edges"]]
    assert {"action": "tracking_domain.removed", "target": "old-links.acme.test"} in actions
    assert gql(app, "{ trackingDomains { id } }", token=acme.admin_token)[
        "data"]["trackingDomains"] == []


def test_verification_explains_each_dns_mistake_then_passes(
    app: TestClient[Any], acme: Tenant, challtestsrv: ChallTestSrv
) -> None:
    zone = f"acme{time.monotonic_ns()}.test"  # the DNS server is shared by the session
    host = f"links.{zone}"
    domain = _added(app, acme, host)
    cname, txt = domain["dnsRecords"]

    def verify() -> dict[str, Any]:
        body = gql(app, VERIFY, {"id": domain["id"]}, token=acme.admin_token)
        assert body.get("errors") is None, body
        result: dict[str, Any] = body["data"]["verifyTrackingDomain"]
        return result

    nothing = verify()
    assert nothing["status"] == "PENDING_DNS"
    assert "CNAME" in nothing["lastError"]
    assert cname["value"] in nothing["lastError"]
    challtestsrv.set_cname(host, "elsewhere.example.test")
    elsewhere = verify()
    assert elsewhere["status"] == "PENDING_DNS"
    assert "elsewhere.example.test" in elsewhere["lastError"]
    challtestsrv.set_cname(host, cname["value"])
    challtestsrv.set_txt(txt["name"], "sendtrail-verify=someone-elses")
    wrong_txt = verify()
    assert wrong_txt["status"] == "PENDING_DNS"
    assert "someone-elses" in wrong_txt["lastError"]
    challtestsrv.set_txt(txt["name"], txt["value"])
    challtestsrv.add_caa(zone, [("issue", "other-ca.test")])  # found by climbing (RFC 8659)
    caa = verify()
    assert caa["status"] == "PENDING_DNS"
    assert "other-ca.test" in caa["lastError"]
    challtestsrv.clear(zone)
    challtestsrv.add_caa(zone, [("issue", "pebble.test")])
    passed = verify()
    assert (passed["status"], passed["lastError"]) == ("VERIFIED", None)


def test_new_emails_use_the_active_domain_and_other_accounts_tokens_are_refused_on_it(
    app: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    rival = run(seed_tenant(database_url, "Rival", seats={}))
    domain = _added(app, acme, "links.acme.test")
    _sql(database_url, "UPDATE tracking_domain SET status = 'active', "
         "certificate_expires_at = :later WHERE hostname = :h",
         h="links.acme.test", later=datetime.now(UTC) + timedelta(days=60))
    prepare = ("mutation { prepareEmail(input: {subject: \"Hi\", html: \"<p>Hi</p>\", "
               "recipients: [{address: \"ann@client.test\"}]}) { messages { html } } }")
    ours = gql(app, prepare, token=acme.admin_token)["data"]["prepareEmail"]["messages"][0]
    assert 'src="https://links.acme.test/o/' in ours["html"]
    theirs = gql(app, prepare, token=rival.admin_token)["data"]["prepareEmail"]["messages"][0]
    assert 'src="http://testserver.local/o/' in theirs["html"]  # no domain: the default
    path = re.search(r'src="http://testserver\.local(/o/[^"]+)"', theirs["html"])
    assert path is not None
    time.sleep(0.5)  # the host map reloads every poll interval (0.2 s here)
    foreign = app.get(path.group(1), headers={"Host": "links.acme.test", "User-Agent": CHROME})
    assert foreign.status_code == 404  # Rival's token on Acme's hostname (R21)
    assert app.get(path.group(1), headers={"User-Agent": CHROME}).status_code == 200
    listed = gql(app, "{ trackingDomains { id inUse } }", token=acme.admin_token)
    assert listed["data"]["trackingDomains"] == [{"id": domain["id"], "inUse": True}]
    _sql(database_url, "UPDATE tracking_domain SET certificate_expires_at = :past",
         past=datetime.now(UTC) - timedelta(minutes=1))
    expired = gql(app, prepare, token=acme.admin_token)["data"]["prepareEmail"]["messages"][0]
    assert 'src="http://testserver.local/o/' in expired["html"]  # never an expired cert


def test_the_acme_challenge_is_answered_only_on_the_host_being_validated(
    app: TestClient[Any], database_url: str
) -> None:
    engine = create_sync_engine(database_url)
    challenges.publish(engine, token="tok-123", hostname="links.acme.test",
                       key_authorization="tok-123.thumbprint", now=datetime.now(UTC))
    engine.dispose()
    path = "/.well-known/acme-challenge/tok-123"
    right = app.get(path, headers={"Host": "links.acme.test"})
    assert (right.status_code, right.text) == (200, "tok-123.thumbprint")
    assert app.get(path, headers={"Host": "links.rival.test"}).status_code == 404
    assert app.get("/.well-known/acme-challenge/other",
                   headers={"Host": "links.acme.test"}).status_code == 404


def test_a_long_explanation_is_kept_whole_enough_never_a_server_error(
    app: TestClient[Any], acme: Tenant
) -> None:
    """The longest hostname, nothing in DNS: three long reasons (PostgreSQL caps the column)."""
    host = ".".join(["a" * 60, "b" * 60, "c" * 60, "d" * 40, "test"])
    domain = _added(app, acme, host)
    body = gql(app, VERIFY, {"id": domain["id"]}, token=acme.admin_token)
    assert body.get("errors") is None, body
    reason = body["data"]["verifyTrackingDomain"]["lastError"]
    assert host in reason
    assert len(reason) <= 1000


def test_marketing_domains_belong_to_a_business_unit_with_the_add_on(
    app: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    _sql(database_url, "UPDATE account SET business_units = :on WHERE slug = 'acme'", on=True)
    unnamed = _add(app, acme, "news.acme.test", purpose="MARKETING")
    assert error_codes(unnamed) == ["BAD_USER_INPUT"]
    assert "business unit" in unnamed["errors"][0]["message"]
    added = _add(app, acme, "news.acme.test", purpose="MARKETING", businessUnit="Europe")
    assert added.get("errors") is None, added
    assert added["data"]["addTrackingDomain"]["purpose"] == "MARKETING"
    sales_with_unit = _add(app, acme, "links.acme.test", businessUnit="Europe")
    assert error_codes(sales_with_unit) == ["BAD_USER_INPUT"]
