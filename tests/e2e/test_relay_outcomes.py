"""What becomes of an email submitted to the relay of a real `sendtrail serve` (R26, R27),
seen where a sender would look: the upstream mail server (aiosmtpd), the Emails list and a
contact's timeline over GraphQL (the web admin's own queries).

- The upstream is down: the client still hears 250, the copies wait as RETRYING with
  their next attempt's time and arrive, each once, when the upstream is back (R27).
- ``X-Sendtrail-Track: off`` sends a copy without pixel or tracked links and records the
  email as not tracked; ``X-Sendtrail-Log: off`` keeps it off the contact's timeline,
  where it is by default (R1, R2, R23). Neither header reaches the upstream.
- Plain-text and signed mail are stored with the reason they are not tracked (R6, R27).

One server per backend serves the whole module (starting one takes seconds); each test
uses its own subjects, Message-IDs and recipients, and delivery retries after 1 s.
"""

from __future__ import annotations

import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from e2e.processes import Server
from e2e.test_submission_relay import REP, Relay, _html_of, _start, _submit
from mail_components import MailTls, UpstreamSink
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from sendtrail.migrations import register_all_tables
from sendtrail.sending.core.message import PLAIN_TEXT_REASON, SIGNED_REASON

T = TypeVar("T")
RETRY = ",".join(["1"] * 40)
"""SENDTRAIL_DELIVERY_RETRY: a temporary failure is tried again after 1 s (40 times)."""

EMAILS = """query Emails($first: Int!, $after: String, $filter: EmailFilterInput) {
  emails(first: $first, after: $after, filter: $filter) { edges { node {
    id subject kind sentAt tracked logged sender { id name email } recipients { id } } }
    pageInfo { hasNextPage endCursor } } }"""
"""The web admin's Emails page (web-admin/src/features/emails/EmailsPage.tsx)."""
EMAIL = """query($id: ID!) { email(id: $id) { id subject messageId tracked logged openTracking
  clickTracking notTrackedReasons links { url }
  deliveries { recipient status attempts lastError nextAttemptAt sentAt } } }"""
CONTACTS = """query($q: String!) { contacts(search: $q) { edges { node { id address } } } }"""
TIMELINE = """query ContactTimeline($id: ID!, $first: Int!, $after: String) {
  contact(id: $id) { id timeline(first: $first, after: $after) { edges { cursor node {
    __typename ... on Email { id subject kind sentAt fromAddress text htmlUrl
      recipients { id address field } } } } } } }"""
"""The web admin's contact timeline (web-admin/src/features/contacts/Timeline.tsx)."""


@dataclass
class Outcomes:
    relay: Relay
    sink: UpstreamSink

    def data(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = self.relay.gql(query, variables, self.relay.admin_token)
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def listed(self, subject: str) -> dict[str, Any]:
        """The one row of the Emails list with this subject."""
        edges = self.data(EMAILS, {"first": 50, "filter": {"search": subject}})["emails"]["edges"]
        rows = [edge["node"] for edge in edges if edge["node"]["subject"] == subject]
        assert len(rows) == 1, edges
        row: dict[str, Any] = rows[0]
        return row

    def email(self, email_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data(EMAIL, {"id": email_id})["email"]
        return found

    def timeline_subjects(self, address: str) -> list[str]:
        """The subjects of the emails on the contact's timeline (none: no contact)."""
        contacts = [edge["node"] for edge in self.data(CONTACTS, {"q": address})["contacts"]
                    ["edges"] if edge["node"]["address"] == address]
        if not contacts:
            return []
        timeline = self.data(TIMELINE, {"id": contacts[0]["id"], "first": 50})["contact"][
            "timeline"]["edges"]
        return [edge["node"]["subject"] for edge in timeline
                if edge["node"]["__typename"] == "Email"]

    def copies(self, message_id: str, count: int, timeout: float = 30) -> list[bytes]:
        """Wait for ``count`` upstream copies with this Message-ID."""
        found = _eventually(
            lambda: [t.content for t in list(self.sink.transactions)
                     if t.message_id == message_id] or None,
            timeout, lambda: f"no copy of {message_id} upstream\n{self.logs()}",
            done=lambda copies: len(copies) >= count)
        assert len(found) == count, found
        return found

    def logs(self) -> str:
        return self.relay.server.logs()[-4000:]


def _eventually(probe: Callable[[], T | None], timeout: float, why: Callable[[], str], *,
                done: Callable[[T], bool] = lambda _: True) -> T:
    """Poll ``probe`` until it returns something ``done`` accepts."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and done(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s: {found!r}\n{why()}")
        time.sleep(0.1)


def _truncate(url: str) -> None:
    register_all_tables()
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             mail_tls: MailTls) -> Iterator[Outcomes]:
    """One relay server per backend for the module, with its own upstream sink."""
    folder = tmp_path_factory.mktemp(f"relay-outcomes-{request.param}")
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, folder / "sendtrail.db")
        url = f"sqlite:///{folder / 'sendtrail.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate(url)  # an empty account list, as the function-scoped database_url gives
    sink = UpstreamSink(tls=mail_tls)
    sink.start()
    servers: list[Server] = []
    try:
        relay = _start(url, folder, servers, sink, extra_env={
            "SENDTRAIL_DELIVERY_RETRY": RETRY, "SENDTRAIL_SENDS_PER_HOUR": "100"})
        yield Outcomes(relay, sink)
    finally:
        for server in servers:  # before the sink: no delivery is cut off mid-transaction
            server.kill(signal.SIGTERM)
        sink.stop()


def _html_message(subject: str, to: list[str], *, headers: dict[str, str] | None = None,
                  cc: list[str] | None = None) -> tuple[bytes, str]:
    """A multipart/alternative message from REP with one web link; and its Message-ID."""
    message_id = f"<{uuid.uuid4().hex}@relay.sendtrail.test>"
    message = EmailMessage()
    message["From"] = f"Rep <{REP}>"
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content("See https://shop.test/pricing\n")
    message.add_alternative('<p>See <a href="https://shop.test/pricing">our pricing</a></p>',
                            subtype="html")
    return message.as_bytes(policy=policy.SMTP), message_id


def _without_sendtrail_headers(copy: bytes) -> bool:
    return b"x-sendtrail" not in copy.split(b"\r\n\r\n", 1)[0].lower()


def test_upstream_down_the_client_gets_250_and_each_copy_arrives_once_when_it_is_back(
    outcomes: Outcomes,
) -> None:
    """While the upstream refuses connections the relay still answers 250; the email's
    deliveries show RETRYING with the next attempt's time and the connection error; once
    the upstream listens again every copy arrives exactly once and shows SENT. # R27"""
    subject = f"Down then back {uuid.uuid4().hex[:6]}"
    recipients = ["ann@down.test", "bob@down.test"]
    raw, message_id = _html_message(subject, recipients[:1], cc=recipients[1:])
    outcomes.sink.stop()
    try:
        _submit(outcomes.relay, raw, recipients)  # asserts 250 Queued as <id>
        email_id = outcomes.listed(subject)["id"]

        def retrying() -> list[dict[str, Any]] | None:
            deliveries: list[dict[str, Any]] = outcomes.email(email_id)["deliveries"]
            return deliveries if all(d["status"] == "RETRYING" for d in deliveries) else None

        waiting = _eventually(retrying, 20, outcomes.logs)
        assert sorted(d["recipient"] for d in waiting) == recipients
        for delivery in waiting:
            assert delivery["attempts"] >= 1
            assert delivery["nextAttemptAt"] is not None
            assert delivery["lastError"]
            assert delivery["sentAt"] is None
        assert all(t.message_id != message_id for t in outcomes.sink.transactions)
    finally:
        outcomes.sink.start()  # the same port: the stored settings still point at it

    def sent() -> list[dict[str, Any]] | None:
        deliveries: list[dict[str, Any]] = outcomes.email(email_id)["deliveries"]
        return deliveries if all(d["status"] == "SENT" for d in deliveries) else None

    done = _eventually(sent, 30, outcomes.logs)
    assert all(d["attempts"] >= 2 and d["sentAt"] and d["nextAttemptAt"] is None for d in done)
    outcomes.copies(message_id, 2)
    counts = outcomes.sink.delivery_counts()
    assert [counts[(message_id, r)] for r in recipients] == [1, 1]  # each copy once


def test_track_off_header_sends_a_plain_copy_and_records_the_email_as_not_tracked(
    outcomes: Outcomes,
) -> None:
    """``X-Sendtrail-Track: off``: the upstream copy has no pixel and its link is the
    original one, and the email says it is not tracked and why; ``on`` (the default) adds
    both. The header reaches the upstream in neither. # R1 R2 R5 R11"""
    tag = uuid.uuid4().hex[:6]
    sent: dict[str, tuple[str, bytes]] = {}
    for switch in ("off", "on"):
        subject = f"Track {switch} {tag}"
        raw, message_id = _html_message(subject, [f"track-{switch}@client.test"],
                                        headers={"X-Sendtrail-Track": switch})
        _submit(outcomes.relay, raw, [f"track-{switch}@client.test"])
        (copy,) = outcomes.copies(message_id, 1)
        assert _without_sendtrail_headers(copy), copy[:1500]
        sent[switch] = (outcomes.listed(subject)["id"], copy)

    email_id, copy = sent["off"]
    html = _html_of(copy)
    assert "/o/" not in html, html
    assert "/c/" not in html, html
    assert 'href="https://shop.test/pricing"' in html
    untracked = outcomes.email(email_id)
    assert (untracked["tracked"], untracked["openTracking"], untracked["clickTracking"]) == (
        False, False, False)
    assert untracked["notTrackedReasons"] == ["Tracking was turned off for this email."]
    assert untracked["links"] == []

    email_id, copy = sent["on"]
    html = _html_of(copy)
    assert "/o/" in html, html
    assert "/c/" in html, html
    assert "https://shop.test/pricing" not in html
    tracked = outcomes.email(email_id)
    assert (tracked["tracked"], tracked["openTracking"], tracked["clickTracking"]) == (
        True, True, True)
    assert [link["url"] for link in tracked["links"]] == ["https://shop.test/pricing"]


def test_a_relayed_email_is_in_emails_and_on_the_timeline_unless_log_is_off(
    outcomes: Outcomes,
) -> None:
    """Two emails to one contact through the relay: both are in the Emails list, sent by
    the rep; the one with the defaults is logged on the contact's timeline, the one with
    ``X-Sendtrail-Log: off`` is not (and says so). The header never reaches the upstream.
    # R1 R2 R23 R26"""
    tag = uuid.uuid4().hex[:6]
    contact = f"dora-{tag}@client.test"
    logged_subject, unlogged_subject = f"Logged by default {tag}", f"Not logged {tag}"
    for subject, headers in ((logged_subject, {}), (unlogged_subject, {"X-Sendtrail-Log": "off"})):
        raw, message_id = _html_message(subject, [contact], headers=headers)
        _submit(outcomes.relay, raw, [contact])
        (copy,) = outcomes.copies(message_id, 1)
        assert _without_sendtrail_headers(copy), copy[:1500]
        assert "/o/" in _html_of(copy)  # Log off changes logging only

    logged, unlogged = outcomes.listed(logged_subject), outcomes.listed(unlogged_subject)
    for row in (logged, unlogged):
        assert row["kind"] == "SALES"
        assert row["sender"]["email"] == REP
        assert row["tracked"] is True
        assert row["sentAt"]
        assert len(row["recipients"]) == 1
    assert logged["logged"] is True
    assert unlogged["logged"] is False
    assert outcomes.timeline_subjects(contact) == [logged_subject]


PLAIN = (
    b"From: " + REP.encode() + b"\r\nTo: pat@client.test\r\nSubject: {subject}\r\n"
    b"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nJust text: https://shop.test/x\r\n"
)
SIGNED = (
    b"From: Rep <" + REP.encode() + b">\r\nTo: pat@client.test\r\nSubject: {subject}\r\n"
    b"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
    b'micalg=sha-256;\r\n boundary="sig"\r\n\r\n'
    b"--sig\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p>Signed <a href="https://shop.test/x">link</a></p>\r\n'
    b"--sig\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nMIIBexampleSIGNATURE==\r\n--sig--\r\n"
)


def test_plain_text_and_signed_relayed_emails_are_stored_with_why_they_are_not_tracked(
    outcomes: Outcomes,
) -> None:
    """A plain-text and an S/MIME-signed message through the relay: each is in the Emails
    list as not tracked, with its reason over GraphQL, and its copy goes upstream as it
    was submitted. # R6 R27"""
    tag = uuid.uuid4().hex[:6]
    for template, reason in ((PLAIN, PLAIN_TEXT_REASON), (SIGNED, SIGNED_REASON)):
        subject = f"Untrackable {reason.split()[0]} {tag}"
        message_id = f"<{uuid.uuid4().hex}@relay.sendtrail.test>"
        raw = template.replace(b"{subject}", subject.encode()).replace(
            b"{message_id}", message_id.encode())
        reply = _submit(outcomes.relay, raw, ["pat@client.test"])
        assert reason.encode() in reply  # the client hears why, too
        (copy,) = outcomes.copies(message_id, 1)
        assert copy == raw
        row = outcomes.listed(subject)
        assert row["tracked"] is False
        stored = outcomes.email(row["id"])
        assert stored["messageId"] == message_id
        assert (stored["openTracking"], stored["clickTracking"]) == (False, False)
        assert stored["notTrackedReasons"] == [reason]
        assert "not trackable" in reason
        assert stored["links"] == []
