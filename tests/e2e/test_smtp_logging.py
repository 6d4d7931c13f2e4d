"""The SMTP logging address of a real `sendtrail serve`, spoken to with smtplib (R23).

BCC'd mail lands on its recipients' records with every attachment byte for byte; forwarded
mail (as an attachment or inline) logs the forwarded message; refusals carry the right SMTP
code and log nothing; hostile messages are answered 250 or 5xx, never a drop or a 4xx
"try again later" that a sending server would retry for days.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

SENDTRAIL = str(Path(sys.executable).parent / "sendtrail")
DOMAIN = "log.sendtrail.test"
ADMIN = "admin@demo.sendtrail.test"
ACCOUNT = "query { account { loggingAddress } }"
EMAILS = """query($s: String) { emails(filter: {search: $s}) { edges { node { id logged tracked
  } } } }"""
CONTACTS = "query($s: String) { contacts(first: 50, search: $s) { edges { node { id address } } } }"
TIMELINE = """query($id: ID!) { contact(id: $id) { timeline(first: 50) { edges { node {
  __typename ... on Email { id subject fromAddress text
    attachments { id filename contentType size sha256 downloadUrl } } } } } } }"""


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    base_url: str
    smtp_port: int
    token: str
    env: dict[str, str]
    logging_address: str = ""
    other_token: str = ""
    other_logging_address: str = ""

    def add_other_account(self) -> None:
        """A second account (CLI), its read token and its logging address (GraphQL)."""
        other_id = _cli(self.env, "accounts", "create", "Other Co", "--admin-email",
                        "boss@other.test").strip().splitlines()[-1]
        self.other_token = _cli(self.env, "tokens", "create", "--account", other_id, "--user",
                                "boss@other.test", "--scope", "read").strip()
        account = self.gql(ACCOUNT, token=self.other_token)["account"]
        self.other_logging_address = account["loggingAddress"]
        assert self.other_logging_address.endswith(f"@{DOMAIN}")
        assert self.other_logging_address != self.logging_address

    def gql(self, query: str, variables: dict[str, Any] | None = None, *,
            token: str | None = None) -> dict[str, Any]:
        answer = httpx.post(f"{self.base_url}/graphql", timeout=30,
                            json={"query": query, "variables": variables or {}},
                            headers={"Authorization": f"Bearer {token or self.token}"})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert not body.get("errors"), body
        return body["data"]

    def contacts(self, search: str, *, token: str | None = None) -> dict[str, str]:
        edges = self.gql(CONTACTS, {"s": search}, token=token)["contacts"]["edges"]
        return {edge["node"]["address"]: edge["node"]["id"] for edge in edges}

    def emails_of(self, address: str) -> list[dict[str, Any]]:
        contact_id = self.contacts(address)[address]
        edges = self.gql(TIMELINE, {"id": contact_id})["contact"]["timeline"]["edges"]
        return [edge["node"] for edge in edges if edge["node"]["__typename"] == "Email"]

    def send(self, sender: str, recipients: list[str], raw: bytes) -> dict[str, Any]:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=120) as smtp:
            return smtp.sendmail(sender, recipients, raw)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([SENDTRAIL, *args], env=env, check=True, capture_output=True,
                          text=True)
    return done.stdout


def _wait_until_serving(base_url: str, smtp_port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited early with {process.returncode}"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
                    assert smtp.noop()[0] == 250
                return
        except (httpx.TransportError, OSError):
            time.sleep(0.2)
    raise AssertionError("server did not answer HTTP and SMTP within 60 s")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    http_port, smtp_port = _free_port(), _free_port()
    base_url = f"http://127.0.0.1:{http_port}"
    env = {**os.environ, "SENDTRAIL_DATABASE_URL": database_url, "PYTHONSAFEPATH": "1",
           "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": str(smtp_port),
           "SENDTRAIL_LOGGING_DOMAIN": DOMAIN, "SENDTRAIL_PUBLIC_URL": base_url}
    _cli(env, "migrate")
    demo = dict(line.split(": ", 1) for line in _cli(env, "demo").splitlines() if ": " in line)
    assert demo["login"] == ADMIN
    process = subprocess.Popen(
        [SENDTRAIL, "serve", "--host", "127.0.0.1", "--port", str(http_port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    try:
        _wait_until_serving(base_url, smtp_port, process)
        served = Server(base_url, smtp_port, demo["token"].strip(), env)
        served.logging_address = served.gql(ACCOUNT)["account"]["loggingAddress"]
        assert served.logging_address.endswith(f"@{DOMAIN}")
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _message(subject: str, to: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)  # CRLF: smtplib sends bytes as they are
    message["From"] = f"Demo Admin <{ADMIN}>"
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def test_a_bcc_logs_the_email_and_its_attachments_byte_for_byte(server: Server) -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 400 + os.urandom(50_000) + b"\n%%EOF\n"
    notes = "Angebot für Dana - Übersicht ✓\nZeile 2\n".encode()
    message = _message("Proposal for Dana", "Dana Client <dana@client.test>",
                       "Hi Dana,\nthe proposal is attached.\n")
    message.add_alternative("<p>Hi Dana,</p><p>the proposal is attached.</p>", subtype="html")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="proposal.pdf")
    message.add_attachment(notes, maintype="text", subtype="plain",
                           filename="Übersicht - Angebot.txt")

    # the logging address is only in the envelope, as a BCC is
    assert server.send(ADMIN, [server.logging_address], message.as_bytes()) == {}

    (email,) = server.emails_of("dana@client.test")
    assert email["subject"] == "Proposal for Dana"
    assert email["fromAddress"] == ADMIN
    assert "the proposal is attached" in email["text"]
    sent = {"proposal.pdf": pdf, "Übersicht - Angebot.txt": notes}
    assert sorted(a["filename"] for a in email["attachments"]) == sorted(sent)
    for attachment in email["attachments"]:
        data = sent[attachment["filename"]]
        assert attachment["size"] == len(data)
        assert attachment["sha256"] == hashlib.sha256(data).hexdigest()
        download = httpx.get(attachment["downloadUrl"], timeout=30,
                             headers={"Authorization": f"Bearer {server.token}"})
        assert download.status_code == 200
        assert download.content == data
        assert hashlib.sha256(download.content).hexdigest() == attachment["sha256"]
    assert server.contacts(DOMAIN) == {}  # the logging address is nobody's contact
    # The email is in the account's Emails list, as logged and not tracked (R1, R23).
    listed = server.gql(EMAILS, {"s": "proposal for dana"})["emails"]["edges"]
    assert [(e["node"]["id"], e["node"]["logged"], e["node"]["tracked"]) for e in listed] == [
        (email["id"], True, False)]


def test_forwarded_mail_logs_the_forwarded_message(server: Server) -> None:
    original = _message("Pricing for Erin", "Erin Example <erin@client.test>",
                        "Hi Erin, here is our pricing.\n", Date="Mon, 13 Jan 2025 10:00:00 +0000",
                        Message_ID="<pricing-erin@demo.sendtrail.test>")
    as_attachment = _message("Fwd: Pricing for Erin", server.logging_address, "For the record.\n")
    as_attachment.add_attachment(original)
    assert server.send(ADMIN, [server.logging_address], as_attachment.as_bytes()) == {}

    inline = _message("Fwd: Contract for Erin", server.logging_address, (
        "For the record.\n\n---------- Forwarded message ---------\n"
        f"From: Demo Admin <{ADMIN}>\nDate: Tue, 14 Jan 2025 at 09:30\n"
        "Subject: Contract for Erin\nTo: Erin Example <erin@client.test>\n\n\n"
        "Hi Erin, the contract is below.\n"))
    inline.add_alternative("<div>For the record.<br><br>---------- Forwarded message "
                           "---------<br>...</div>", subtype="html")
    assert server.send(ADMIN, [server.logging_address], inline.as_bytes()) == {}

    emails = {e["subject"]: e for e in server.emails_of("erin@client.test")}
    assert set(emails) == {"Pricing for Erin", "Contract for Erin"}
    assert all(e["fromAddress"] == ADMIN for e in emails.values())
    assert "here is our pricing" in emails["Pricing for Erin"]["text"]
    assert "the contract is below" in emails["Contract for Erin"]["text"]
    assert server.contacts(DOMAIN) == {}


def test_refused_mail_gets_the_right_code_and_logs_nothing(server: Server) -> None:
    def raw(kind: str) -> bytes:
        return _message(f"refused {kind}", f"refused-{kind}@client.test", "x\n").as_bytes()

    server.add_other_account()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as other_account:
        server.send(ADMIN, [server.other_logging_address], raw("other-account"))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
        server.send(ADMIN, [f"no-such-secret@{DOMAIN}"], raw("unknown"))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as elsewhere:
        server.send(ADMIN, ["someone@elsewhere.test"], raw("elsewhere"))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as stranger:
        server.send("stranger@elsewhere.test", [server.logging_address], raw("stranger"))
    for refused in (other_account, unknown, elsewhere, stranger):
        ((code, _reply),) = refused.value.recipients.values()
        assert code == 550, refused.value.recipients
    ((_, reply),) = stranger.value.recipients.values()
    assert b"5.7.1" in reply

    big = raw("oversized") + (b"A" * 76 + b"\r\n") * (25 * 1024 * 1024 // 78 + 10)
    with pytest.raises(smtplib.SMTPSenderRefused) as announced:  # SIZE= in MAIL FROM
        server.send(ADMIN, [server.logging_address], big)
    assert announced.value.smtp_code == 552
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=120) as smtp:  # no SIZE: at DATA
        smtp.ehlo()
        assert smtp.mail(ADMIN)[0] == 250
        assert smtp.rcpt(server.logging_address)[0] == 250
        assert smtp.data(big)[0] == 552  # data() returns the final answer, never raises it

    assert server.contacts("refused") == {}
    assert server.contacts("refused", token=server.other_token) == {}

    # two accounts' addresses in one message: the second is deferred, the first logs it
    both = [server.logging_address, server.other_logging_address]
    deferred = server.send(ADMIN, both, _message("split", "split@client.test", "x\n").as_bytes())
    assert [code for code, _ in deferred.values()] == [452]
    assert list(server.contacts("split")) == ["split@client.test"]
    assert server.contacts("split", token=server.other_token) == {}


HEAD = b"From: Demo Admin <" + ADMIN.encode() + b">\r\nTo: hostile-%d@client.test\r\n"
HOSTILE = [
    b"Subject: =?utf-8?q?a=0D=0ABcc:_x@evil.test?=\r\n\r\ninjection\r\n",
    b"Subject: plain\r\nContent-Type: text/plain; charset=undefined\r\n\r\nhi\r\n",
    b"Subject: caf\xe9 \xff\r\nContent-Type: text/plain; charset=idna\r\n\r\nh\xffi\r\n",
    b"Subject: date\r\nDate: Mon, 1 Jan 99999999999999999999 00:00:00 +0000\r\n\r\nhi\r\n",
    b"Subject: nul\r\nContent-Transfer-Encoding: 8bit\r\n\r\nnul \x00 here\r\n",
    b"Subject: =?ut\xf8-8?q?caf=C3=A9?=\r\n\r\nbroken encoded word\r\n",
    b"Subject: nested\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (i, i) for i in range(100)
    ) + b"Content-Type: text/plain\r\n\r\ndeep\r\n",
    b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=P\r\n\r\n" + b"".join(
        b"--P\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % i for i in range(10_000)) + b"--P--\r\n",
    b"Subject: names\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
    b"Content-Type: text/plain\r\n\r\nsee\r\n--B\r\nContent-Type: application/zip\r\n"
    b"Content-Disposition: attachment; filename=\"../../\xe2\x80\xaeevil\r\n.zip\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n--B--\r\n",
    b"Subject: type\r\nContent-Type: application/pdf\xff\r\n X-Injected: yes\r\n\r\nabc\r\n",
    b"\xff\xfe\x00garbage" * 50,
]


def test_hostile_messages_are_answered_250_or_5xx_and_never_break_the_server(
    server: Server,
) -> None:
    answers = {}
    for n, body in enumerate(HOSTILE):
        raw = (HEAD % n) + body
        try:
            server.send(ADMIN, [server.logging_address], raw)
            answers[n] = 250
        except smtplib.SMTPDataError as refused:
            answers[n] = refused.smtp_code
        except smtplib.SMTPServerDisconnected as dropped:
            answers[n] = f"dropped: {dropped}"
    wrong = {n: (answer, HOSTILE[n][:80]) for n, answer in answers.items()
             if not (answer == 250 or 500 <= answer < 600)}
    assert not wrong, f"answered neither 250 nor 5xx: {wrong}"
    logged = server.contacts("hostile-")
    assert set(logged) == {f"hostile-{n}@client.test" for n, a in answers.items() if a == 250}
    for address in logged:
        for email in server.emails_of(address):
            assert "\n" not in email["subject"]
            assert "\r" not in email["subject"]
            for attachment in email["attachments"]:
                assert not set(attachment["filename"]) & set("/\\\r\n\u202e")
                assert "\n" not in attachment["contentType"]
                download = httpx.get(attachment["downloadUrl"], timeout=30,
                                     headers={"Authorization": f"Bearer {server.token}"})
                assert download.status_code == 200, attachment
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_logging_a_large_message_does_not_stall_the_server(server: Server) -> None:
    """Parsing and storing happen off the event loop that serves pixels and the API."""
    raw = (HEAD % 999) + b"Subject: big\r\n\r\n" + b"line\r\n\r\n" * 2_500_000  # ~20 MB
    outcome: list[Any] = []
    sender = threading.Thread(target=lambda: outcome.append(
        server.send(ADMIN, [server.logging_address], raw)))
    sender.start()
    slowest = 0.0
    while sender.is_alive():
        started = time.monotonic()
        assert httpx.get(f"{server.base_url}/healthz", timeout=60).status_code == 200
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.1)
    sender.join()
    assert outcome == [{}]
    assert slowest < 2.0, f"/healthz waited {slowest:.1f} s while a message was logged"


def test_the_attachment_endpoint_wants_the_owning_account(server: Server) -> None:
    server.add_other_account()
    message = _message("Private", "gus@client.test", "x\n")
    message.add_attachment(b"secret", maintype="application", subtype="octet-stream",
                           filename="s.bin")
    server.send(ADMIN, [server.logging_address], message.as_bytes())
    (email,) = server.emails_of("gus@client.test")
    url = email["attachments"][0]["downloadUrl"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {server.other_token}"}
                     ).status_code == 404
    assert httpx.get(url).status_code in (401, 403)
