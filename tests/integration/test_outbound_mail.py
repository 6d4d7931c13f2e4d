"""Outbound mail per account through GraphQL (R26, R27): settings, logins, DKIM keys, test.

Both backends; the upstream of ``testOutboundMail`` is a real aiosmtpd server with STARTTLS
and AUTH on 127.0.0.1, the Sent folder a real dovecot (tests/mail_components.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar.testing import TestClient
from mail_components import (  # noqa: F401
    Dovecot,
    UpstreamSink,
    dovecot_fixture,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from sqlmodel import select
from support import Tenant, error_codes, gql, grant_support_staff, run, sign_in_as_staff

from sendtrail.app import create_app
from sendtrail.db.engine import Database
from sendtrail.secretbox import secret_box
from sendtrail.sending.store import PASSWORD_CONTEXT, OutboundMailRow
from sendtrail.settings import SendingSettings, Settings
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.values import Principal, Role, Scope

SECRET = "s3cret-upstream-pass"
IMAP_SECRET = "imap-only-pass"
READ = """{ account { outboundMail { configured host port security username passwordSet
  imapHost imapPort imapSecurity imapUsername imapPasswordSet sentFolder upstreamFilesSent
  perUserLogins updatedAt dkimKeys { domain selector dnsName dnsRecord createdAt } } } }"""
UPDATE = """mutation($input: OutboundMailInput!) { updateOutboundMail(input: $input) {
  configured host port security username passwordSet imapHost imapPort imapSecurity
  imapUsername imapPasswordSet sentFolder upstreamFilesSent perUserLogins } }"""
TEST = "mutation { testOutboundMail { ok message steps { name ok message } } }"
SET_DKIM = """mutation($input: DkimKeyInput!) { setDkimKey(input: $input) {
  domain selector dnsName dnsRecord createdAt } }"""


@contextmanager
def _client(settings: Settings, *, allow_private: bool,
            ca_bundle: Path | None = None) -> Iterator[TestClient[Any]]:
    sending = SendingSettings(outbound_allow_private=allow_private, outbound_ca_bundle=ca_bundle,
                              delivery_worker=False)
    app = create_app(replace(settings, sending=sending))
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def private(settings: Settings) -> Iterator[TestClient[Any]]:
    """The app with SENDTRAIL_OUTBOUND_ALLOW_PRIVATE (as the tests' upstreams are loopback)."""
    with _client(settings, allow_private=True) as client:
        yield client


def _update(client: TestClient[Any], token: str, **fields: Any) -> dict[str, Any]:
    return gql(client, UPDATE, {"input": fields}, token=token)


def _message(body: dict[str, Any]) -> tuple[str, str]:
    (error,) = body["errors"]
    return error["extensions"]["code"], error["message"]


def test_settings_round_trip_and_never_return_a_password(
    private: TestClient[Any], acme: Tenant, database_url: str, settings: Settings
) -> None:
    # R26: the password is stored encrypted and never answered; left out, it is kept.
    body = _update(private, acme.admin_token, host="127.0.0.1", port=2587, security="STARTTLS",
                   username="alice", password=SECRET, imapHost="127.0.0.1",
                   imapPassword=IMAP_SECRET, sentFolder="Sent", perUserLogins=True)
    assert body.get("errors") is None, body
    assert body["data"]["updateOutboundMail"] == {
        "configured": True, "host": "127.0.0.1", "port": 2587, "security": "STARTTLS",
        "username": "alice", "passwordSet": True, "imapHost": "127.0.0.1", "imapPort": 993,
        "imapSecurity": "TLS", "imapUsername": None, "imapPasswordSet": True,
        "sentFolder": "Sent", "upstreamFilesSent": False, "perUserLogins": True,
    }
    changed = _update(private, acme.admin_token, host="127.0.0.1", port=2465, security="TLS")
    assert changed["data"]["updateOutboundMail"]["passwordSet"] is True
    assert changed["data"]["updateOutboundMail"]["username"] == "alice"
    read = gql(private, READ, token=acme.admin_token)
    assert read.get("errors") is None, read
    mail = read["data"]["account"]["outboundMail"]
    assert (mail["port"], mail["security"], mail["passwordSet"]) == (2465, "TLS", True)
    assert mail["perUserLogins"] is True
    assert mail["imapPasswordSet"] is True
    for answer in (body, changed, read):
        assert SECRET not in json.dumps(answer)
        assert IMAP_SECRET not in json.dumps(answer)

    stored = run(_stored(database_url, acme))
    assert SECRET not in str(stored.model_dump())
    box = secret_box(settings.secrets.keys)
    assert box.decrypt(stored.password_encrypted or "", context=PASSWORD_CONTEXT) == SECRET.encode()
    assert box.decrypt(stored.imap_password_encrypted or "",
                       context=PASSWORD_CONTEXT) == IMAP_SECRET.encode()

    cleared = _update(private, acme.admin_token, host="127.0.0.1", port=2465, security="TLS",
                      password="", imapHost=None)
    out = cleared["data"]["updateOutboundMail"]
    assert (out["passwordSet"], out["imapHost"], out["imapPasswordSet"]) == (False, None, False)


async def _stored(url: str, tenant: Tenant) -> OutboundMailRow:
    database = Database(url)
    account_id = uuid.UUID(tenant.account_id)
    try:
        async with database.session(account_id=account_id) as session:
            return (await session.exec(select(OutboundMailRow).where(
                OutboundMailRow.account_id == account_id))).one()
    finally:
        await database.dispose()


def test_a_private_host_is_refused_in_words_unless_allowed(
    client: TestClient[Any], private: TestClient[Any], acme: Tenant
) -> None:
    # R26: loopback and private upstreams only with SENDTRAIL_OUTBOUND_ALLOW_PRIVATE.
    for host in ("127.0.0.1", "10.1.2.3"):
        refused = _update(client, acme.admin_token, host=host, port=587, security="STARTTLS")
        code, message = _message(refused)
        assert code == "BAD_USER_INPUT"
        assert "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE" in message, message
    accepted = _update(private, acme.admin_token, host="10.1.2.3", port=587, security="NONE")
    assert accepted.get("errors") is None, accepted
    assert accepted["data"]["updateOutboundMail"]["security"] == "NONE"


def test_security_none_is_refused_for_a_public_host_and_without_allow_private(
    client: TestClient[Any], private: TestClient[Any], acme: Tenant
) -> None:
    # R26: an unencrypted login never crosses the internet.
    code, message = _message(_update(private, acme.admin_token, host="1.1.1.1", port=25,
                                     security="NONE"))
    assert (code, "public internet" in message) == ("BAD_USER_INPUT", True), message
    code, message = _message(_update(client, acme.admin_token, host="1.1.1.1", port=25,
                                     security="NONE"))
    assert (code, "TLS or STARTTLS" in message) == ("BAD_USER_INPUT", True), message
    for port in (0, 65536):
        code, message = _message(_update(private, acme.admin_token, host="1.1.1.1", port=port,
                                         security="TLS"))
        assert (code, "between 1 and 65535" in message) == ("BAD_USER_INPUT", True), message
    assert gql(private, READ, token=acme.admin_token)["data"]["account"]["outboundMail"][
        "configured"] is False


def test_a_user_reads_only_whether_it_is_configured_and_sets_their_own_login(
    private: TestClient[Any], acme: Tenant
) -> None:
    # R26, R19: the settings are an admin's; a user's own upstream login is theirs.
    configured = "{ account { outboundMail { configured } } }"
    assert gql(private, configured, token=acme.user_token)["data"]["account"][
        "outboundMail"] == {"configured": False}
    _update(private, acme.admin_token, host="127.0.0.1", port=587, security="STARTTLS",
            username="shared", password=SECRET, perUserLogins=True)
    assert gql(private, configured, token=acme.user_token)["data"]["account"][
        "outboundMail"] == {"configured": True}
    for query in ("{ account { outboundMail { host } } }",
                  "{ account { outboundMail { dkimKeys { domain } } } }"):
        body = gql(private, query, token=acme.user_token)
        assert error_codes(body) == ["FORBIDDEN"], body
        assert "shared" not in json.dumps(body)
        assert SECRET not in json.dumps(body)
    body = _update(private, acme.user_token, host="127.0.0.1", port=587, security="TLS")
    assert error_codes(body) == ["FORBIDDEN"], body
    for mutation in ("mutation { removeOutboundMail }", 'mutation { removeDkimKey(domain: "x") }',
                     'mutation { setDkimKey(input: {domain: "a.test", selector: "s"}) '
                     "{ domain } }"):
        assert error_codes(gql(private, mutation, token=acme.user_token)) == ["FORBIDDEN"]

    own = gql(private, """mutation { updateOutboundLogin(input: {username: "uma@acme.test",
      password: "uma-pass"}) { username updatedAt } }""", token=acme.user_token)
    assert own.get("errors") is None, own
    assert own["data"]["updateOutboundLogin"]["username"] == "uma@acme.test"
    viewer = gql(private, "{ viewer { outboundLogin { username } } }", token=acme.user_token)
    assert viewer["data"]["viewer"]["outboundLogin"] == {"username": "uma@acme.test"}
    # The user does not see the admin's login (none) nor anyone else's; the admin sees the user's.
    others = "{ users { edges { node { email outboundLogin { username } } } } }"
    seen = {edge["node"]["email"]: edge["node"]["outboundLogin"] for edge in
            gql(private, others, token=acme.admin_token)["data"]["users"]["edges"]}
    assert seen[acme.user_email] == {"username": "uma@acme.test"}
    assert "uma-pass" not in json.dumps(own) + json.dumps(viewer)
    assert gql(private, "mutation { removeOutboundLogin }",
               token=acme.user_token)["data"] == {"removeOutboundLogin": True}
    assert gql(private, "{ viewer { outboundLogin { username } } }",
               token=acme.user_token)["data"]["viewer"]["outboundLogin"] is None


def test_support_staff_read_the_settings_and_change_nothing(
    private: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    # R25: support access is read-only.
    _update(private, acme.admin_token, host="127.0.0.1", port=587, security="STARTTLS")
    grant_support_staff(database_url, "helper@sendtrail.test")
    headers = {**sign_in_as_staff(private, "helper@sendtrail.test"),
               "X-Sendtrail-Account": acme.account_id}
    read = gql(private, READ, headers=headers)
    assert read.get("errors") is None, read
    assert read["data"]["account"]["outboundMail"]["host"] == "127.0.0.1"
    body = gql(private, UPDATE, {"input": {"host": "127.0.0.2", "port": 25,
                                           "security": "TLS"}}, headers=headers)
    assert _message(body) == ("FORBIDDEN", "Support access is read-only.")
    body = gql(private, 'mutation { setDkimKey(input: {domain: "a.test", selector: "s"}) '
               "{ domain } }", headers=headers)
    assert error_codes(body) == ["FORBIDDEN"]


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_dkim_keys_are_generated_or_uploaded_and_show_the_record_to_publish(
    client: TestClient[Any], acme: Tenant
) -> None:
    # R26: mail from the domain is signed; the admin publishes the TXT record shown.
    made = gql(client, SET_DKIM, {"input": {"domain": "Acme.TEST.", "selector": "st1"}},
               token=acme.admin_token)
    assert made.get("errors") is None, made
    key = made["data"]["setDkimKey"]
    assert (key["domain"], key["dnsName"]) == ("acme.test", "st1._domainkey.acme.test")
    assert key["dnsRecord"].startswith("v=DKIM1; k=rsa; p=")
    pem = _pem()
    uploaded = gql(client, SET_DKIM, {"input": {"domain": "mail.acme.test", "selector": "s2",
                                                "privateKeyPem": pem}}, token=acme.admin_token)
    assert uploaded.get("errors") is None, uploaded
    listed = gql(client, "{ account { outboundMail { configured dkimKeys { domain dnsName } } } }",
                 token=acme.admin_token)["data"]["account"]["outboundMail"]
    assert listed == {"configured": False, "dkimKeys": [
        {"domain": "acme.test", "dnsName": "st1._domainkey.acme.test"},
        {"domain": "mail.acme.test", "dnsName": "s2._domainkey.mail.acme.test"},
    ]}
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    for bad in ("not a key", pem.replace("A", "B", 40), ec_pem):
        body = gql(client, SET_DKIM, {"input": {"domain": "acme.test", "selector": "s3",
                                                "privateKeyPem": bad}}, token=acme.admin_token)
        code, message = _message(body)
        assert (code, "key" in message) == ("BAD_USER_INPUT", True), body
    for domain, selector in (("acme", "s"), ("acme.test", "bad selector"), ("a..test", "s")):
        body = gql(client, SET_DKIM, {"input": {"domain": domain, "selector": selector}},
                   token=acme.admin_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert gql(client, 'mutation { removeDkimKey(domain: "acme.test") }',
               token=acme.admin_token)["data"] == {"removeDkimKey": True}
    body = gql(client, 'mutation { removeDkimKey(domain: "acme.test") }', token=acme.admin_token)
    assert error_codes(body) == ["NOT_FOUND"]
    audit = json.dumps(gql(client, "{ auditLog(first: 20) { edges { node { action after } } } }",
                           token=acme.admin_token))
    assert "dkim_key.set" in audit
    assert "dkim_key.removed" in audit
    assert "PRIVATE KEY" not in audit
    assert pem.splitlines()[1] not in audit


def test_every_change_is_audited_without_a_password(
    private: TestClient[Any], acme: Tenant
) -> None:
    # R26: admin changes are audited; no secret goes into the log.
    _update(private, acme.admin_token, host="127.0.0.1", port=587, security="STARTTLS",
            username="alice", password=SECRET, imapHost="127.0.0.1", imapPassword=IMAP_SECRET)
    _update(private, acme.admin_token, host="127.0.0.1", port=587, security="STARTTLS",
            password="another-" + SECRET)
    gql(private, 'mutation { updateOutboundLogin(input: {username: "u", password: "'
        + SECRET + '-own"}) { username } }', token=acme.user_token)
    assert gql(private, "mutation { removeOutboundMail }",
               token=acme.admin_token)["data"] == {"removeOutboundMail": True}
    entries = [edge["node"] for edge in gql(
        private, "{ auditLog(first: 20) { edges { node { actor action target before after } } } }",
        token=acme.admin_token)["data"]["auditLog"]["edges"]]
    actions = [entry["action"] for entry in entries]
    assert actions[:4] == ["outbound_mail.removed", "outbound_login.updated",
                           "outbound_mail.updated", "outbound_mail.updated"], actions
    assert entries[3]["after"]["passwordSet"] is True
    assert entries[2]["after"]["passwordChanged"] is True
    assert "imapPasswordChanged" not in entries[2]["after"]
    assert entries[3]["after"]["imapPasswordSet"] is True
    assert SECRET not in json.dumps(entries)
    assert IMAP_SECRET not in json.dumps(entries)


# --- testOutboundMail against a real upstream --------------------------------------------


def test_testing_the_settings_logs_in_to_the_real_upstream_and_says_what_failed(
    settings: Settings, upstream_sink: UpstreamSink, acme: Tenant
) -> None:
    # R26: the admin learns in words whether Sendtrail can send, before any mail is sent.
    upstream = upstream_sink
    with _client(settings, allow_private=True, ca_bundle=upstream.tls.ca_bundle) as client:
        assert error_codes(gql(client, TEST, token=acme.admin_token)) == ["CONFLICT"]
        _update(client, acme.admin_token, host="127.0.0.1", port=upstream.port,
                security="STARTTLS", username="alice", password="secret")
        body = gql(client, TEST, token=acme.admin_token)
        assert body.get("errors") is None, body
        result = body["data"]["testOutboundMail"]
        assert result["ok"] is True, result
        assert all(step["ok"] for step in result["steps"])
        assert len(result["steps"]) >= 2
        assert f"127.0.0.1:{upstream.port}" in result["message"]

        _update(client, acme.admin_token, host="127.0.0.1", port=upstream.port,
                security="STARTTLS", password="wrong-password")
        result = gql(client, TEST, token=acme.admin_token)["data"]["testOutboundMail"]
        assert result["ok"] is False, result
        failed = [step for step in result["steps"] if not step["ok"]]
        assert "login" in failed[0]["name"].lower(), result
        assert result["message"] == failed[0]["message"]
        assert len(result["message"]) > 10
        assert "wrong-password" not in json.dumps(result)
        assert error_codes(gql(client, TEST, token=acme.user_token)) == ["FORBIDDEN"]
        # With per-user logins a user tests their own login (and only theirs).
        _update(client, acme.admin_token, host="127.0.0.1", port=upstream.port,
                security="STARTTLS", perUserLogins=True)
        assert error_codes(gql(client, TEST, token=acme.user_token)) == ["CONFLICT"]
        gql(client, 'mutation { updateOutboundLogin(input: {username: "alice", '
            'password: "secret"}) { username } }', token=acme.user_token)
        result = gql(client, TEST, token=acme.user_token)["data"]["testOutboundMail"]
        assert result["ok"] is True, result
        assert upstream.transactions == []  # a test sends nothing


def test_testing_the_settings_also_opens_the_sent_folder(
    settings: Settings, upstream_sink: UpstreamSink, dovecot: Dovecot, acme: Tenant
) -> None:
    # R27: copies go to the sender's Sent folder; the test logs in there too.
    user = f"sent{uuid.uuid4().hex[:8]}"
    dovecot.add_user(user, "imap-pass")
    with _client(settings, allow_private=True,
                 ca_bundle=upstream_sink.tls.ca_bundle) as client:
        _update(client, acme.admin_token, host="127.0.0.1", port=upstream_sink.port,
                security="STARTTLS", username="alice", password="secret",
                imapHost="127.0.0.1", imapPort=dovecot.imaps_port, imapSecurity="TLS",
                imapUsername=user, imapPassword="imap-pass")
        result = gql(client, TEST, token=acme.admin_token)["data"]["testOutboundMail"]
        assert result["ok"] is True, result
        assert "Sent folder" in result["message"], result
        _update(client, acme.admin_token, host="127.0.0.1", port=upstream_sink.port,
                security="STARTTLS", imapPassword="wrong-imap-pass")
        result = gql(client, TEST, token=acme.admin_token)["data"]["testOutboundMail"]
        assert result["ok"] is False, result
        failed = [step for step in result["steps"] if not step["ok"]]
        assert result["message"] == failed[0]["message"]
        # The upstream files sent mail itself: the Sent folder is not tried.
        _update(client, acme.admin_token, host="127.0.0.1", port=upstream_sink.port,
                security="STARTTLS", upstreamFilesSent=True)
        result = gql(client, TEST, token=acme.admin_token)["data"]["testOutboundMail"]
        assert result["ok"] is True, result
        assert "Sent folder" not in result["message"], result


async def _expiring_admin_token(url: str, tenant: Tenant) -> str:
    database = Database(url)
    account_id = uuid.UUID(tenant.account_id)
    owner = Principal(login_id=uuid.uuid4(), email=tenant.admin_email, account_id=account_id,
                      user_id=uuid.UUID(tenant.admin_id), role=Role.ADMIN)
    now = dt.datetime.now(dt.UTC)
    try:
        async with database.session(account_id=account_id) as session:
            _, secret = await create_api_token(
                session, owner, account_id, name="soon", scopes=frozenset(Scope), now=now,
                expires_at=now + dt.timedelta(minutes=10))
        return secret
    finally:
        await database.dispose()


def test_an_expiring_token_cannot_choose_the_server_mail_goes_through(
    private: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    # Issue 12, defect 1 (class): where the account's mail goes outlasts a 10-minute token.
    token = run(_expiring_admin_token(database_url, acme))
    code, message = _message(_update(private, token, host="127.0.0.1", port=587,
                                     security="STARTTLS"))
    assert (code, "expires" in message) == ("FORBIDDEN", True), message
    assert gql(private, READ, token=acme.admin_token)["data"]["account"]["outboundMail"][
        "configured"] is False


def _escaped(client: TestClient[Any], query: str, variables: dict[str, Any],
             token: str) -> dict[str, Any]:
    """POST with JSON escapes (``\\ud800``): a lone surrogate has no UTF-8 form."""
    response = client.post("/graphql", content=json.dumps({"query": query,
                                                           "variables": variables}),
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_hostile_text_is_refused_in_words(private: TestClient[Any], acme: Tenant) -> None:
    # API.md: a person's input never comes back as a server error.
    for fields in ({"host": "ü@münchen.test"}, {"host": "smtp.\ud800.test"},
                   {"host": "x" * 64 + ".test"}, {"host": "a..test"},
                   {"host": "127.0.0.1", "password": "\ud800"},
                   {"host": "127.0.0.1", "username": "a\r\nb"}):
        body = _escaped(private, UPDATE, {"input": {"port": 587, "security": "TLS", **fields}},
                        acme.admin_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
    body = _escaped(private, SET_DKIM, {"input": {"domain": "acme.test", "selector": "s",
                                                  "privateKeyPem": "\ud800"}}, acme.admin_token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    body = _escaped(private, "mutation($d: String!) { removeDkimKey(domain: $d) }",
                    {"d": "\ud800"}, acme.admin_token)
    assert error_codes(body) == ["NOT_FOUND"], body
    body = _escaped(private, """mutation($p: String!) { updateOutboundLogin(input: {
      username: "u", password: $p}) { username } }""", {"p": "\ud800"}, acme.user_token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
