"""Issue 12, defect 10: one address rule for every way in (R1, R23).

``@x.test``, ``a@x``, ``b@-x.test`` and ``c@x..test`` in a ``To:`` header became contacts
through the SMTP logging listener although the API refuses them. Now the API's rule
(``sendtrail.addresses``) decides everywhere: the structured API refuses such an address
with BAD_USER_INPUT; a raw message (SMTP or ``logEmail(rawBase64)``) is logged with its
valid addresses only, the others named (SMTP: in the 250 reply) and never made contacts; a
message left with no valid participant is refused with the reason (SMTP: 550).
"""

from __future__ import annotations

import base64
import smtplib
import socket
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from support import Tenant, error_codes, gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.settings import Settings, SmtpSettings

INVALID = ("@x.test", "a@x", "b@-x.test", "c@x..test")
CONTACTS = "{ contacts(first: 100) { edges { node { address } } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


@pytest.fixture
def smtp_app(settings: Settings) -> Iterator[tuple[TestClient[Any], int]]:
    """The real app with its real SMTP logging listener on a free port."""
    port = _free_port()
    with TestClient(create_app(replace(settings, smtp=SmtpSettings(port=port))),
                    base_url="http://testserver.local") as client:
        yield client, port


def _contacts(client: TestClient[Any], tenant: Tenant) -> set[str]:
    edges = gql(client, CONTACTS, token=tenant.admin_token)["data"]["contacts"]["edges"]
    return {edge["node"]["address"] for edge in edges}


def _raw(sender: str, to: str, subject: str) -> bytes:
    return (f"From: Ada <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            "Message-ID: <m1@client.test>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n").encode()


def _smtp(port: int, sender: str, rcpt: str, raw: bytes) -> tuple[int, str]:
    """One message through a real SMTP conversation; the DATA reply (or the first refusal)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        code, reply = smtp.mail(sender)
        if code != 250:
            return code, reply.decode()
        code, reply = smtp.rcpt(rcpt)
        if code != 250:
            return code, reply.decode()
        code, reply = smtp.data(raw)
        return code, reply.decode()


def _logging_address(client: TestClient[Any], tenant: Tenant) -> str:
    body = gql(client, "{ account { loggingAddress } }", token=tenant.admin_token)
    address: str = body["data"]["account"]["loggingAddress"]
    return address


def test_smtp_logs_the_valid_addresses_and_names_the_refused_ones(
    smtp_app: tuple[TestClient[Any], int], tenant: Tenant
) -> None:
    client, port = smtp_app
    to = ", ".join([*INVALID, "Good <good@client.test>"])
    code, reply = _smtp(port, tenant.admin_email, _logging_address(client, tenant),
                        _raw(tenant.admin_email, to, "Mixed"))
    assert code == 250, reply
    assert "skipped addresses that are not valid" in reply
    for address in INVALID:
        assert address in reply
    assert _contacts(client, tenant) == {"good@client.test"}


def test_smtp_refuses_a_message_with_no_valid_participant_and_says_why(
    smtp_app: tuple[TestClient[Any], int], tenant: Tenant
) -> None:
    client, port = smtp_app
    code, reply = _smtp(port, tenant.admin_email, _logging_address(client, tenant),
                        _raw(tenant.admin_email, ", ".join(INVALID), "Only invalid"))
    assert code == 550, reply
    assert "not valid addresses: @x.test" in reply
    assert _contacts(client, tenant) == set()


def test_smtp_refuses_an_envelope_sender_the_rule_refuses(
    smtp_app: tuple[TestClient[Any], int], tenant: Tenant
) -> None:
    client, port = smtp_app
    code, reply = _smtp(port, "c@x..test", _logging_address(client, tenant),
                        _raw(tenant.admin_email, "good@client.test", "Envelope"))
    assert 500 <= code < 600, reply
    assert _contacts(client, tenant) == set()


def test_log_email_raw_skips_the_addresses_the_api_refuses(
    client: TestClient[Any], tenant: Tenant
) -> None:
    raw = _raw(tenant.admin_email, ", ".join([*INVALID, "good@client.test"]), "Raw")
    body = gql(client, """mutation($r: String!) { logEmail(input: {rawBase64: $r}) {
      id } }""", {"r": base64.b64encode(raw).decode()}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    assert _contacts(client, tenant) == {"good@client.test"}
    only_invalid = _raw(tenant.admin_email, ", ".join(INVALID), "Raw, none valid")
    refused = gql(client, """mutation($r: String!) { logEmail(input: {rawBase64: $r}) {
      id } }""", {"r": base64.b64encode(only_invalid).decode()}, token=tenant.admin_token)
    assert error_codes(refused) == ["BAD_USER_INPUT"], refused
    assert "not valid addresses" in refused["errors"][0]["message"]


@pytest.mark.parametrize("address", INVALID)
def test_the_structured_api_refuses_each_address_with_the_rule(
    client: TestClient[Any], tenant: Tenant, address: str
) -> None:
    for mutation in (
        'mutation($a: String!) { logEmail(input: {subject: "s", '
        'recipients: [{address: $a}]}) { id } }',
        'mutation($a: String!) { prepareEmail(input: {subject: "s", html: "<p>x</p>", '
        'recipients: [{address: $a}]}) { email { id } } }',
        'mutation($a: String!) { logEmail(input: {subject: "s", from: {address: $a}, '
        'recipients: [{address: "good@client.test"}]}) { id } }',
    ):
        body = gql(client, mutation, {"a": address}, token=tenant.admin_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert "not a valid email address" in body["errors"][0]["message"]
    assert _contacts(client, tenant) == set()
