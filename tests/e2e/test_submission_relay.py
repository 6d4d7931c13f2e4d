"""The SMTP submission relay of a real `sendtrail serve` (R26), spoken to with Python's
smtplib and Debian's swaks.

Only a user's own API token with the ``send`` scope logs in (535 otherwise, never saying
which part was wrong); AUTH travels in clear text only to a loopback listener; a user sends
only as themselves (MAIL FROM 553, From header 550); SIZE, the recipient limit and the
hourly send limit are announced or enforced (552, 452, 451); an accepted message is
answered ``250 Queued as <id>`` only once it is stored.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e.processes import Server, Subscriber
from mail_components import (  # noqa: F401
    Dovecot,
    UpstreamSink,
    dovecot_fixture,
    mail_tls_fixture,
    swaks_path_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)

SENDTRAIL = str(Path(sys.executable).parent / "sendtrail")
IN_CI = os.environ.get("CI", "").lower() == "true"
REP = "rep@relay.sendtrail.test"
OTHER = "other@relay.sendtrail.test"
MAX_BYTES = 200_000
MAX_RECIPIENTS = 4
SENDS_PER_HOUR = 3
SECRET = "submission-relay-e2e-secret-key-0123456789"
SENT_PASSWORD = "sent-folder-secret"  # the test dovecot user's
CREATE_TOKEN = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { secret } }"""
UPDATE_OUTBOUND = """mutation($input: OutboundMailInput!) {
  updateOutboundMail(input: $input) { configured } }"""


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (eth0's), if it has one."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5,
                             check=True).stdout
        for word in out.split():
            address = ipaddress.ip_address(word)
            if address.version == 4 and not address.is_loopback:
                with socket.socket() as sock:  # bindable here, not only listed
                    sock.bind((word, 0))
                return word
    return None


def _certificate(folder: Path, ips: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and ``ips``, made now (never committed)."""
    if shutil.which("openssl") is None:
        _unavailable("openssl is needed to make the relay's test certificate")
    cert, key = folder / "relay-cert.pem", folder / "relay-key.pem"
    names = ",".join(["DNS:localhost", *(f"IP:{ip}" for ip in ips)])
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", f"subjectAltName={names}"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@dataclass
class Relay:
    """A running `sendtrail serve` with its relay, an account and its tokens."""

    server: Server
    host: str
    port: int
    cert: Path
    send_token: str = ""
    read_token: str = ""
    admin_token: str = ""
    sent_user: str = ""

    def client(self, *, tls: bool = True) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=60)
        smtp.ehlo("client.sendtrail.test")
        if tls:
            smtp.starttls(context=ssl.create_default_context(cafile=str(self.cert)))
            smtp.ehlo("client.sendtrail.test")
        return smtp

    def token(self, scope: str) -> str:
        """A new token of REP's with ``scope`` (created by REP's admin token)."""
        body = self.gql(CREATE_TOKEN, {"input": {"name": scope.lower(), "scopes": [scope]}},
                        self.admin_token)
        assert not body.get("errors"), body
        secret: str = body["data"]["createApiToken"]["secret"]
        return secret

    def gql(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        answer = httpx.post(f"{self.server.base_url}/graphql", timeout=30,
                            json={"query": query, "variables": variables},
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([SENDTRAIL, *args], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _wait_for_smtp(host: str, port: int, server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), smtplib.SMTP(host, port, timeout=5) as smtp:
            assert smtp.noop()[0] == 250
            return
        time.sleep(0.1)
    raise AssertionError(f"the relay did not answer on {host}:{port}\n{server.logs()}")


def _message(sender: str, to: list[str], *, body: str = "Hello", html: bool = True,
             header_from: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = header_from or sender
    message["To"] = ", ".join(to)
    message["Subject"] = "Relay test"
    message.set_content(body)
    if html:
        message.add_alternative(f"<p>{body} <a href='https://example.test/a'>a</a></p>",
                                subtype="html")
    return message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as clients send


def _start(database_url: str, tmp_path: Path, stopped: list[Server], upstream: UpstreamSink,
           *, host: str = "127.0.0.1", sent: tuple[Dovecot, str] | None = None,
           extra_env: dict[str, str] | None = None) -> Relay:
    """Start `sendtrail serve` with its relay for a new account (REP admin, OTHER user);
    ``extra_env`` overrides the settings below (e.g. ``SENDTRAIL_DELIVERY_RETRY``)."""
    ips = ["127.0.0.1"] if host == "127.0.0.1" else ["127.0.0.1", host]
    cert, key = _certificate(tmp_path, ips)
    trusted = tmp_path / "outbound-ca.pem"  # the upstream's certificate (and the relay's)
    trusted.write_bytes(upstream.ca_bundle.read_bytes() + cert.read_bytes())
    port, http_port = _free_port(host), _free_port()
    public_url = f"http://127.0.0.1:{http_port}"  # pixels and links point at this server
    env = {**os.environ, "SENDTRAIL_DATABASE_URL": database_url, "PYTHONSAFEPATH": "1",
           "SENDTRAIL_PUBLIC_URL": public_url, "SENDTRAIL_TRACKING_BASE_URL": public_url,
           "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": "0",
           "SENDTRAIL_SECRET_KEYS": SECRET,
           "SENDTRAIL_SUBMISSION_PORT": str(port), "SENDTRAIL_SUBMISSION_HOST": host,
           "SENDTRAIL_SUBMISSION_TLS_CERT": str(cert), "SENDTRAIL_SUBMISSION_TLS_KEY": str(key),
           "SENDTRAIL_SUBMISSION_MAX_BYTES": str(MAX_BYTES),
           "SENDTRAIL_SUBMISSION_MAX_RECIPIENTS": str(MAX_RECIPIENTS),
           "SENDTRAIL_SENDS_PER_HOUR": str(SENDS_PER_HOUR),
           "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE": "true", "SENDTRAIL_OUTBOUND_CA_BUNDLE": str(trusted),
           **(extra_env or {})}
    _cli(env, "migrate")
    account = _cli(env, "accounts", "create", "Relay Co", "--admin-email", REP, "--seats",
                   "sales_starter=1")
    _cli(env, "users", "add", "--account", account, "--email", OTHER)
    server = Server(env, port=http_port)
    stopped.append(server)
    relay = Relay(server, host, port, cert)
    relay.admin_token = _cli(env, "tokens", "create", "--account", account, "--user", REP,
                             "--scope", "admin")
    server.start()
    _wait_for_smtp(host, port, server)
    relay.send_token = relay.token("SEND")
    relay.read_token = relay.token("READ")
    _configure_outbound(relay, upstream, sent)
    # Links are tracked for paid seats only (R12): the rep takes the starter seat.
    viewer = relay.gql("{ viewer { id } }", {}, relay.admin_token)["data"]["viewer"]
    seat = relay.gql("mutation($id: ID!) { updateUser(input: {id: $id, seat: SALES_STARTER}) "
                     "{ seat } }", {"id": viewer["id"]}, relay.admin_token)
    assert seat["data"]["updateUser"]["seat"] == "SALES_STARTER", seat
    return relay


def _configure_outbound(relay: Relay, upstream: UpstreamSink,
                        sent: tuple[Dovecot, str] | None) -> None:
    """The account's own mail server: the loopback sink (OUTBOUND_ALLOW_PRIVATE), STARTTLS;
    with ``sent`` (dovecot, user), its Sent folder over IMAP STARTTLS."""
    settings: dict[str, Any] = {
        "host": upstream.host, "port": upstream.port, "security": "STARTTLS",
        "username": upstream.username, "password": upstream.password}
    if sent is not None:
        dovecot, user = sent
        settings |= {"imapHost": "127.0.0.1", "imapPort": dovecot.imap_port,
                     "imapSecurity": "STARTTLS", "imapUsername": user,
                     "imapPassword": SENT_PASSWORD}
    body = relay.gql(UPDATE_OUTBOUND, {"input": settings}, relay.admin_token)
    assert not body.get("errors"), body
    assert body["data"]["updateOutboundMail"]["configured"] is True


@pytest.fixture
def relay(database_url: str, tmp_path: Path, upstream_sink: UpstreamSink,
          stopped: list[Server]) -> Relay:
    # upstream_sink before stopped: the server stops first, so no delivery is cut off by a
    # sink that went away (an unclosed transport in this process otherwise).
    return _start(database_url, tmp_path, stopped, upstream_sink)


def _code(error: smtplib.SMTPException) -> int:
    code: int = getattr(error, "smtp_code", 0)
    return code


def test_login_needs_the_users_own_token_with_send(relay: Relay) -> None:
    """Wrong token, a read-only token, another user's token, another user's name: all 535,
    in the same words. # R26"""
    refusals = []
    for user, password in [
        (REP, "st_" + "x" * 40),            # no such token
        (REP, relay.read_token),           # the user's own token without send
        (OTHER, relay.send_token),         # REP's token under another user's name
        (REP, "not a token at all"),
    ]:
        for mechanism in ("PLAIN", "LOGIN"):
            with relay.client() as smtp:
                smtp.user, smtp.password = user, password
                with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                    smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
                refusals.append((refused.value.smtp_code, refused.value.smtp_error))
    assert {code for code, _ in refusals} == {535}
    assert len({words for _, words in refusals}) == 1  # no hint which part was wrong
    assert b"5.7.8" in refusals[0][1]
    for mechanism in ("PLAIN", "LOGIN"):
        with relay.client() as smtp:
            smtp.user, smtp.password = REP, relay.send_token
            code, _ = smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
            assert code == 235


def test_mail_needs_auth_and_the_users_own_address(relay: Relay) -> None:
    """MAIL without AUTH 530; another user's MAIL FROM 553; another user's From 550;
    an invalid recipient 553. # R26"""
    with relay.client() as smtp:
        assert "size" in smtp.esmtp_features
        assert int(smtp.esmtp_features["size"]) == MAX_BYTES  # announced
        assert "PLAIN" in smtp.esmtp_features["auth"]
        code, words = smtp.mail(REP)
        assert code == 530, words
    with relay.client() as smtp:
        smtp.login(REP, relay.send_token)
        code, words = smtp.mail(OTHER)
        assert code == 553, words
        assert b"5.7.1" in words
        assert REP.encode() in words
        assert smtp.mail(REP)[0] == 250
        code, words = smtp.rcpt("not an address")
        assert code in (501, 553), words
        assert smtp.rcpt("a@example.test")[0] == 250
        code, words = smtp.data(_message(REP, ["a@example.test"], header_from=OTHER))
        assert code == 550, words
        assert b"5.7.1" in words
    with relay.client() as smtp:  # the user's address and another one: not only yourself
        smtp.login(REP, relay.send_token)
        assert smtp.mail(REP)[0] == 250
        assert smtp.rcpt("a@example.test")[0] == 250
        code, words = smtp.data(_message(REP, ["a@example.test"],
                                         header_from=f"{REP}, {OTHER}"))
        assert code == 550, words


def test_size_and_recipient_limits(relay: Relay) -> None:
    """SIZE announced and enforced (552 at MAIL SIZE= and at DATA); a recipient beyond the
    limit 452 4.5.3. # R26"""
    lines = MAX_BYTES // 70 + 100
    big = _message(REP, ["a@example.test"], body=("x" * 70 + "\n") * lines, html=False)
    with relay.client() as smtp:
        smtp.login(REP, relay.send_token)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # smtplib sends SIZE=
            smtp.sendmail(REP, ["a@example.test"], big)
        assert _code(refused.value) == 552
    with relay.client() as smtp:  # a client that does not say SIZE= hears 552 after DATA
        smtp.login(REP, relay.send_token)
        assert smtp.mail(REP)[0] == 250
        assert smtp.rcpt("a@example.test")[0] == 250
        code, words = smtp.data(big)
        assert code == 552, words
    with relay.client() as smtp:
        smtp.login(REP, relay.send_token)
        assert smtp.mail(REP)[0] == 250
        for number in range(MAX_RECIPIENTS):
            assert smtp.rcpt(f"r{number}@example.test")[0] == 250
        code, words = smtp.rcpt("one-too-many@example.test")
        assert code == 452, words
        assert b"4.5.3" in words


def test_queued_then_hourly_limit(relay: Relay, upstream_sink: UpstreamSink) -> None:
    """Accepted messages are answered 250 Queued as <id>; beyond the hourly limit (counted
    in the database) MAIL is answered 451 4.7.1. # R26"""
    answers = []
    for number in range(SENDS_PER_HOUR):
        with relay.client() as smtp:
            smtp.login(REP, relay.send_token)
            assert smtp.mail(REP)[0] == 250
            assert smtp.rcpt(f"r{number}@example.test")[0] == 250
            answers.append(smtp.data(_message(REP, [f"r{number}@example.test"])))
    assert all(code == 250 for code, _ in answers), answers
    assert all(words.startswith(b"2.0.0 Queued as ") for _, words in answers), answers
    assert len({words for _, words in answers}) == SENDS_PER_HOUR
    # Delivered before the test ends (no connection to the sink is cut mid-transaction).
    assert len(upstream_sink.wait_for(SENDS_PER_HOUR, timeout=60)) == SENDS_PER_HOUR
    with relay.client() as smtp:
        smtp.login(REP, relay.send_token)
        code, words = smtp.mail(REP)
        assert code == 451, words
        assert b"4.7.1" in words
        assert b"hour" in words


def _swaks(swaks: str, relay: Relay, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [swaks, "--server", f"{relay.host}:{relay.port}", "--helo", "client.sendtrail.test",
         *args], capture_output=True, text=True, timeout=120, check=False,
    )


def test_swaks(relay: Relay, tmp_path: Path, swaks_path: str,
               upstream_sink: UpstreamSink) -> None:
    """Debian's swaks over STARTTLS with the relay's certificate verified: a wrong token and
    a read-only token are refused 535, another sender 553, the user's own accepted. # R26"""
    tls = ["--tls", "--tls-verify", "--tls-ca-path", str(relay.cert)]
    attachment = tmp_path / "note.txt"
    attachment.write_bytes(b"attached bytes\n")
    for password in ("st_" + "y" * 40, relay.read_token):
        done = _swaks(swaks_path, relay, *tls, "--from", REP, "--to", "a@example.test",
                      "--auth", "PLAIN", "--auth-user", REP, "--auth-password", password)
        assert done.returncode == 28, done.stdout + done.stderr  # 28: AUTH refused
        assert "535 5.7.8" in done.stdout
    done = _swaks(swaks_path, relay, *tls, "--from", OTHER, "--to", "a@example.test",
                  "--auth", "LOGIN", "--auth-user", REP, "--auth-password", relay.send_token)
    assert done.returncode != 0
    assert "553 5.7.1" in done.stdout, done.stdout
    done = _swaks(swaks_path, relay, *tls, "--from", REP, "--to", "a@example.test",
                  "--auth", "PLAIN", "--auth-user", REP, "--auth-password", relay.send_token,
                  "--header", "Subject: from swaks", "--attach", f"@{attachment}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "250 2.0.0 Queued as " in done.stdout
    (copy,) = upstream_sink.wait_for(1, timeout=60)
    assert b"attached bytes" in copy.content or b"YXR0YWNoZWQgYnl0ZXMK" in copy.content


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_clear_text_auth_refused_off_loopback(database_url: str, tmp_path: Path,
                                              upstream_sink: UpstreamSink,
                                              stopped: list[Server], swaks_path: str) -> None:
    """On a listener bound to a non-loopback address, AUTH is neither offered nor accepted
    before STARTTLS (538), MAIL without it is 530; after STARTTLS the login works. # R26"""
    address = _non_loopback_address()
    if address is None:
        _unavailable("this machine has no non-loopback IPv4 address to bind the relay to")
    assert address is not None
    relay = _start(database_url, tmp_path, stopped, upstream_sink, host=address)
    with relay.client(tls=False) as smtp:
        assert "starttls" in smtp.esmtp_features
        assert "auth" not in smtp.esmtp_features
        plain = ("\0" + REP + "\0" + relay.send_token).encode()
        code, words = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(plain).decode())
        assert code == 538, words
        assert smtp.mail(REP)[0] == 530
    done = _swaks(swaks_path, relay, "--from", REP, "--to", "a@example.test", "--auth", "PLAIN",
                  "--auth-user", REP, "--auth-password", relay.send_token)
    assert done.returncode == 28, done.stdout + done.stderr  # AUTH not advertised
    with relay.client() as smtp:
        assert smtp.login(REP, relay.send_token)[0] == 235


# --- the acceptance scenario of issue 13 ------------------------------------------------------

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
TOO_SOON = 2.5
"""Hits within 2 s of sending are MACHINE (classify.TOO_SOON): the open waits longer."""
TO = ["ann@client.test", "bob@client.test"]
CC = ["cat@client.test"]
BCC = ["dan@hidden.test"]
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CSV = "name;amount\r\nÄrger GmbH;1 200,50\r\n".encode("latin-1")
HTML_BODY = ('<html><body><p>Hi,</p><p>See <a href="https://shop.test/pricing">our pricing</a> '
             'and <a href="https://shop.test/terms">the terms</a>.</p></body></html>')


def _scenario_message() -> bytes:
    message = EmailMessage()
    message["From"] = f"Rep <{REP}>"
    message["To"] = ", ".join(TO)
    message["Cc"] = ", ".join(CC)
    message["Bcc"] = ", ".join(BCC)
    message["Subject"] = "Our offer"
    message["Message-ID"] = "<offer-1@relay.sendtrail.test>"
    message.set_content("Hi,\nSee our pricing: https://shop.test/pricing\n")
    message.add_alternative(HTML_BODY, subtype="html")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="offer.pdf")
    message.add_attachment(CSV, maintype="text", subtype="csv", filename="prices.csv")
    return message.as_bytes(policy=policy.SMTP)


def _html_of(content: bytes) -> str:
    message = BytesParser(policy=policy.default).parsebytes(content)
    part = message.get_body(preferencelist=("html",))
    assert part is not None, content[:2000]
    html: str = part.get_content()
    return html


def _attachment_payloads(content: bytes) -> list[bytes]:
    """Each attachment's encoded body as written (base64 lines), to compare byte for byte."""
    message = BytesParser(policy=policy.default).parsebytes(content)
    return [str(part.get_payload()).encode() for part in message.iter_attachments()]


@pytest.fixture
def scenario(database_url: str, tmp_path: Path, upstream_sink: UpstreamSink,
             dovecot: Dovecot, stopped: list[Server]) -> Relay:
    user = f"rep{uuid.uuid4().hex[:8]}"
    dovecot.add_user(user, SENT_PASSWORD)
    relay = _start(database_url, tmp_path, stopped, upstream_sink, sent=(dovecot, user))
    relay.sent_user = user
    return relay


def _submit(relay: Relay, raw: bytes, recipients: list[str]) -> bytes:
    with relay.client() as smtp:
        smtp.login(REP, relay.send_token)
        assert smtp.mail(REP)[0] == 250
        for recipient in recipients:
            assert smtp.rcpt(recipient)[0] == 250
        code, words = smtp.data(raw)
    assert code == 250, (words, relay.server.logs()[-4000:])
    assert words.startswith(b"2.0.0 Queued as ")
    return words


def test_one_tracked_copy_per_recipient_and_one_untracked_in_sent(
    scenario: Relay, upstream_sink: UpstreamSink, dovecot: Dovecot, wsclient: Path,
    tmp_path: Path,
) -> None:
    """2 To, 1 Cc, 1 Bcc, multipart/alternative with two attachments: four upstream
    transactions with their own pixel and links, no Bcc header, the attachments byte for
    byte, visible headers identical; one untracked copy in dovecot's Sent; copy 2's pixel
    records an open of recipient 2, notified live to the sender. # R26 R27 R15 R9 R22"""
    relay = scenario
    subscriber = Subscriber(wsclient, f"ws://127.0.0.1:{relay.server.port}/graphql", tmp_path,
                            token=relay.admin_token)
    try:
        connected = subscriber.wait_for(lambda e: e["event"] in {"connected", "closed"}, 15)
        assert connected is not None
        assert connected[1]["event"] == "connected", subscriber.report()
        raw = _scenario_message()
        recipients = TO + CC + BCC
        _submit(relay, raw, recipients)
        sent_at = time.monotonic()
        copies = upstream_sink.wait_for(4, timeout=60)
        assert len(copies) == 4
        by_recipient = {}
        for copy in copies:
            assert len(copy.rcpt_tos) == 1, copy.rcpt_tos
            by_recipient[copy.rcpt_tos[0].lower()] = copy
            assert copy.mail_from.lower() == REP
        assert sorted(by_recipient) == sorted(recipients)

        original_attachments = _attachment_payloads(raw)
        assert len(original_attachments) == 2
        pixels, link_sets, visible = {}, {}, set()
        for recipient, copy in by_recipient.items():
            parsed = BytesParser(policy=policy.default).parsebytes(copy.content)
            assert "Bcc" not in parsed, recipient
            header_block = copy.content.split(b"\r\n\r\n", 1)[0]
            assert not re.search(rb"(?im)^bcc:", header_block), recipient
            assert BCC[0].encode() not in header_block, recipient  # not even to dan
            visible.add(tuple(str(parsed[name]) for name in
                              ("From", "To", "Cc", "Subject", "Message-ID")))
            for payload in original_attachments:
                assert payload in copy.content, f"an attachment changed in {recipient}'s copy"
            assert _attachment_payloads(copy.content) == original_attachments
            html = _html_of(copy.content)
            found = re.findall(r'src="(https?://[^"]+/o/[^"]+\.gif)"', html)
            assert len(found) == 1, html
            pixels[recipient] = found[0]
            link_sets[recipient] = frozenset(re.findall(r'href="(https?://[^"]+/c/[^"]+)"', html))
            assert len(link_sets[recipient]) == 2, html
        assert len(visible) == 1, visible  # every visible header the same in every copy
        assert len(set(pixels.values())) == 4
        assert all(not (a & b) for a in link_sets.values() for b in link_sets.values()
                   if a is not b)

        deadline = time.monotonic() + 60
        filed = dovecot.sent_messages(relay.sent_user)
        while not filed and time.monotonic() < deadline:
            time.sleep(0.5)
            filed = dovecot.sent_messages(relay.sent_user)
        assert len(filed) == 1, "one copy in the Sent folder"
        assert b"/o/" not in filed[0], "the Sent copy has no pixel"
        assert b"/c/" not in filed[0], "the Sent copy has no tracked link"
        assert _attachment_payloads(filed[0]) == original_attachments

        time.sleep(max(0.0, sent_at + TOO_SOON - time.monotonic()))
        second = TO[1]
        mark = len(subscriber.events)
        answer = httpx.get(pixels[second], headers={"User-Agent": CHROME}, timeout=10)
        assert answer.status_code == 200
        found_event = subscriber.wait_for(
            lambda e: e["event"] == "next"
            and (e.get("data") or {}).get("engagementNotifications", {}).get("type") == "OPEN",
            10, after=mark)
        assert found_event is not None, subscriber.report() + relay.server.logs()[-4000:]
        note = found_event[1]["data"]["engagementNotifications"]
        assert note["who"] == second  # attributed to recipient 2, not "Someone"
        assert note["emailSubject"] == "Our offer"
    finally:
        subscriber.stop()


SMIME = (
    b"From: Rep <" + REP.encode() + b">\r\nTo: ann@client.test\r\nSubject: signed\r\n"
    b"Message-ID: <signed-1@relay.sendtrail.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
    b'micalg=sha-256;\r\n boundary="sig"\r\n\r\n'
    b"--sig\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p>Signed <a href="https://shop.test/x">link</a></p>\r\n'
    b"--sig\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nMIIBexampleSIGNATURE==\r\n--sig--\r\n"
)
PGP_MIME = (
    b"From: " + REP.encode() + b"\r\nTo: ann@client.test\r\nSubject: encrypted\r\n"
    b"Message-ID: <pgp-1@relay.sendtrail.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n'
    b'  boundary="enc"\r\n\r\n'
    b"--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
    b"--enc\r\nContent-Type: application/octet-stream; name=encrypted.asc\r\n\r\n"
    b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA0example\r\n=abcd\r\n"
    b"-----END PGP MESSAGE-----\r\n--enc--\r\n"
)
PLAIN = (
    b"From: " + REP.encode() + b"\r\nTo: ann@client.test\r\nSubject: plain\r\n"
    b"Message-ID: <plain-1@relay.sendtrail.test>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nJust text: https://shop.test/x\r\n"
)


def test_signed_encrypted_and_plain_text_go_upstream_byte_for_byte(
    relay: Relay, upstream_sink: UpstreamSink
) -> None:
    """S/MIME (multipart/signed) and PGP/MIME (multipart/encrypted) arrive upstream byte
    for byte; a plain-text message too, answered as not trackable (plain text). # R6 R27"""
    replies = [_submit(relay, raw, ["ann@client.test"]) for raw in (SMIME, PGP_MIME, PLAIN)]
    assert b"plain" in replies[2].lower()
    assert b"not track" in replies[2].lower()
    copies = upstream_sink.wait_for(3, timeout=60)
    received = {copy.message_id: copy.content for copy in copies}
    assert received["<signed-1@relay.sendtrail.test>"] == SMIME
    assert received["<pgp-1@relay.sendtrail.test>"] == PGP_MIME
    assert received["<plain-1@relay.sendtrail.test>"] == PLAIN
