"""The platform's own domains cannot be claimed as tracking domains (issue 12, defect 7;
R20, R21): the default tracking domain (``SENDTRAIL_TRACKING_DOMAIN``) and the logging
domain (``SENDTRAIL_LOGGING_DOMAIN``), the public URL's and the tracking base URL's hosts,
every name under them, and the domains above them (their parent, e.g. ``sendtrail.test``
above ``track.sendtrail.test``). Refused by ``addTrackingDomain`` with BAD_USER_INPUT and
words, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from support import Tenant, error_codes, gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.settings import Settings

ADD = """mutation($i: AddTrackingDomainInput!) { addTrackingDomain(input: $i) { hostname } }"""


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    own = replace(
        settings,
        http=replace(settings.http, public_url="https://app.sendtrail.example"),
        tracking=replace(settings.tracking, base_url="https://t.sendtrail-links.example",
                         default_domain="track.sendtrail.test"),
        smtp=replace(settings.smtp, logging_domain="log.sendtrail.test"),
    )
    with TestClient(create_app(own), base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


def _add(client: TestClient[Any], tenant: Tenant, hostname: str) -> dict[str, Any]:
    return gql(client, ADD, {"i": {"hostname": hostname}}, token=tenant.admin_token)


@pytest.mark.parametrize(("hostname", "words"), [
    ("track.sendtrail.test", "is on track.sendtrail.test, one of our own domains"),
    ("t1.na1.track.sendtrail.test", "is on track.sendtrail.test, one of our own domains"),
    ("log.sendtrail.test", "is on log.sendtrail.test, one of our own domains"),
    ("LOG.Sendtrail.Test.", "is on log.sendtrail.test, one of our own domains"),
    ("x.log.sendtrail.test", "is on log.sendtrail.test, one of our own domains"),
    ("sendtrail.test", "is a parent of track.sendtrail.test, one of our own domains"),
    ("app.sendtrail.example", "is on app.sendtrail.example, one of our own domains"),
    ("sendtrail.example", "is a parent of app.sendtrail.example, one of our own domains"),
    ("t.sendtrail-links.example", "is on t.sendtrail-links.example, one of our own"),
    ("sendtrail-links.example", "is a parent of t.sendtrail-links.example, one of our own"),
], ids=["tracking-domain", "shard-host", "logging-domain", "logging-spelt-oddly",
        "under-logging", "parent", "public-host", "public-parent", "base-url-host",
        "base-url-parent"])
def test_the_platforms_own_domains_cannot_be_claimed(
    client: TestClient[Any], acme: Tenant, hostname: str, words: str
) -> None:
    body = _add(client, acme, hostname)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    message = body["errors"][0]["message"]
    assert words in message
    assert "add a hostname of your own" in message
    listed = gql(client, "{ trackingDomains { hostname } }", token=acme.admin_token)
    assert listed["data"]["trackingDomains"] == []


@pytest.mark.parametrize("hostname", ["links.acme.test", "links.sendtrail.test"],
                         ids=["own-domain", "beside-ours"])
def test_hostnames_beside_ours_can_be_claimed(
    client: TestClient[Any], acme: Tenant, hostname: str
) -> None:
    # Beside ours is not ours: a company running Sendtrail on track.acme.com may put a
    # business unit's links on links.acme.com (and only it can publish the DNS records).
    body = _add(client, acme, hostname)
    assert body.get("errors") is None, body
    assert body["data"]["addTrackingDomain"]["hostname"] == hostname
