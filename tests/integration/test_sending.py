"""Sending from a record (``sendEmail``) and the delivery worker (R26, R27).

Real components: the app on both backends, an aiosmtpd server playing the account's own
mail server (``tests/mail_components.py``), Debian's dovecot for the Sent folder. The
worker runs here by hand (``deliver_due``) so each test says when time passes.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from queue import Empty
from typing import Any

import dkim
import pytest
from litestar.testing import TestClient
from mail_components import Dovecot, MailTls, UpstreamSink
from support import (
    FakeClock,
    Tenant,
    give_admin_a_paid_seat,
    gql,
    gql_data,
    run,
    seed_tenant,
    subscribed,
)

from sendtrail.app import create_app
from sendtrail.db.engine import Database
from sendtrail.secretbox import secret_box
from sendtrail.sending.store import (
    DKIM_KEY_CONTEXT,
    PASSWORD_CONTEXT,
    DkimKeyRow,
    OutboundMailRow,
)
from sendtrail.sending.values import ImapEndpoint, SmtpEndpoint
from sendtrail.sending.worker import DeliveryWorker
from sendtrail.settings import SendingSettings, Settings

SEND = """mutation($i: SendEmailInput!) { sendEmail(input: $i) {
  email { id subject tracked logged openTracking notTrackedReasons }
  deliveries { recipient status attempts lastError nextAttemptAt } } }"""
EMAIL = """query($id: ID!) { email(id: $id) { id logged
  deliveries { recipient status attempts lastError nextAttemptAt sentAt }
  sentFolderCopy { status } attachments { filename size } } }"""
CHECK = """query($i: ComposeCheckInput!) { composeCheck(input: $i) {
  canSend track log notes } }"""


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


def configure(settings: Settings, tenant: Tenant, smtp: SmtpEndpoint,
              imap: ImapEndpoint | None = None, *, per_user_logins: bool = False,
              upstream_files_sent: bool = False) -> None:
    """The account's outbound mail, as an admin's Settings → Outbound mail stores it."""
    box = secret_box(settings.secrets.keys)

    def seal(text: str | None) -> str | None:
        return None if text is None else box.encrypt(text.encode(), context=PASSWORD_CONTEXT)

    async def store() -> None:
        database = Database(settings.database.url)
        account_id = uuid.UUID(tenant.account_id)
        async with database.session(account_id=account_id) as session:
            session.add(OutboundMailRow(
                account_id=account_id, host=smtp.host, port=smtp.port,
                security=smtp.security.value, username=smtp.username,
                password_encrypted=seal(smtp.password),
                imap_host=imap.host if imap else None, imap_port=imap.port if imap else None,
                imap_security=imap.security.value if imap else None,
                imap_username=imap.username if imap else None,
                imap_password_encrypted=seal(imap.password) if imap else None,
                per_user_logins=per_user_logins, upstream_files_sent=upstream_files_sent,
            ))
            await session.commit()
        await database.dispose()

    run(store())


def deliver_due(settings: Settings, tls: MailTls, clock: FakeClock) -> int:
    """One pass of the delivery worker at the app's clock: the attempts it made."""
    sending = SendingSettings(outbound_allow_private=True, outbound_ca_bundle=tls.ca_bundle,
                              delivery_timeout_seconds=10, delivery_retry_seconds=(60, 600))

    async def once() -> int:
        database = Database(settings.database.url)
        worker = DeliveryWorker(database, sending, box=secret_box(settings.secrets.keys),
                                clock=clock)
        try:
            return await worker.run_once()
        finally:
            await database.dispose()

    return run(once())


def send(client: TestClient[Any], token: str, files: dict[str, tuple[str, bytes, str]] | None
         = None, **fields: Any) -> dict[str, Any]:
    payload = {"to": ["ann@client.test"], "subject": "Proposal",
               "html": '<p>Hello, see <a href="https://example.test/offer">the offer</a></p>',
               **fields}
    if files:  # graphql-multipart-request-spec: operations, map, then the files
        payload["attachments"] = [None] * len(files)
        response = client.post(
            "/graphql", headers={"Authorization": f"Bearer {token}"},
            data={"operations": json.dumps({"query": SEND, "variables": {"i": payload}}),
                  "map": json.dumps({key: [f"variables.i.attachments.{n}"]
                                     for n, key in enumerate(files)})},
            files=files)
        body: dict[str, Any] = response.json()
    else:
        body = gql(client, SEND, {"i": payload}, token=token)
    assert body.get("errors") is None, body
    result: dict[str, Any] = body["data"]["sendEmail"]
    return result


def read_email(client: TestClient[Any], token: str, email_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gql_data(client, EMAIL, {"id": email_id}, token=token,
                                     field="email")
    return found


def parsed(content: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def html_of(content: bytes) -> str:
    part = parsed(content).get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_sending_needs_the_accounts_mail_server(app_client: TestClient[Any], acme: Tenant) -> None:
    # R26: mail leaves through the account's own server; without one, nothing is accepted.
    check = gql(app_client, CHECK, {"i": {"to": ["ann@client.test"]}}, token=acme.admin_token)
    assert check["data"]["composeCheck"]["canSend"] is False
    assert any("Settings → Outbound mail" in n for n in check["data"]["composeCheck"]["notes"])
    body = gql(app_client, SEND, {"i": {"to": ["ann@client.test"], "subject": "Hi",
                                        "html": "<p>Hi</p>"}}, token=acme.admin_token)
    assert body["errors"][0]["extensions"]["code"] == "OUTBOUND_NOT_CONFIGURED"
    assert "Outbound mail" in body["errors"][0]["message"]


def test_one_copy_per_recipient_with_its_own_tracking_and_no_bcc_header(
    app_client: TestClient[Any], acme: Tenant, database_url: str, settings: Settings,
    clock: FakeClock, upstream_sink: UpstreamSink, mail_tls: MailTls,
) -> None:
    # R26: To, Cc and Bcc each get their own copy, so every hit is attributed (R15);
    # R27: attachments arrive as they were, and the Bcc recipient is in no header.
    give_admin_a_paid_seat(app_client, database_url, acme)
    configure(settings, acme, upstream_sink.endpoint())
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    sent = send(app_client, acme.admin_token,
                files={"a": ("offer.pdf", pdf, "application/pdf")},
                to=["ann@client.test", "ben@client.test"], cc=["cy@client.test"],
                bcc=["dee@client.test"], log=True)
    assert [d["status"] for d in sent["deliveries"]] == ["QUEUED"] * 4
    assert sent["email"]["tracked"] is True

    assert deliver_due(settings, mail_tls, clock) == 4
    transactions = upstream_sink.wait_for(4)
    assert sorted(r for t in transactions for r in t.rcpt_tos) == [
        "ann@client.test", "ben@client.test", "cy@client.test", "dee@client.test"]
    assert {t.mail_from for t in transactions} == {acme.admin_email}
    pixels, link_sets = set(), set()
    for transaction in transactions:
        message = parsed(transaction.content)
        assert message["Bcc"] is None
        assert (message["To"], message["Cc"], message["Subject"]) == (
            "ann@client.test, ben@client.test", "cy@client.test", "Proposal")
        html = html_of(transaction.content)
        pixels.add(re.findall(r'/o/[^"]+\.gif', html)[0])
        link_sets.add(tuple(re.findall(r'href="([^"]+/c/[^"]+)"', html)))
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content() == pdf  # type: ignore[attr-defined]
    assert len(pixels) == 4
    assert len(link_sets) == 4

    shown = read_email(app_client, acme.admin_token, sent["email"]["id"])
    assert [(d["recipient"], d["status"], d["attempts"]) for d in shown["deliveries"]] == [
        ("ann@client.test", "SENT", 1), ("ben@client.test", "SENT", 1),
        ("cy@client.test", "SENT", 1), ("dee@client.test", "SENT", 1)]
    assert all(d["sentAt"] for d in shown["deliveries"])
    assert shown["logged"] is True  # R23: the original, with its attachment, on the records
    assert shown["attachments"] == [{"filename": "offer.pdf", "size": len(pdf)}]


def test_a_refused_recipient_fails_with_the_answer_and_the_sender_gets_a_notice(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls,
) -> None:
    # R27: a final failure reaches the sender with the upstream's answer; others still go.
    configure(settings, acme, upstream_sink.endpoint())
    upstream_sink.reply_to_rcpt("gone@client.test", "550 5.1.1 No such user here")
    sent = send(app_client, acme.admin_token, to=["ann@client.test", "gone@client.test"])
    deliver_due(settings, mail_tls, clock)
    shown = read_email(app_client, acme.admin_token, sent["email"]["id"])
    by_recipient = {d["recipient"]: d for d in shown["deliveries"]}
    assert by_recipient["ann@client.test"]["status"] == "SENT"
    failed = by_recipient["gone@client.test"]
    assert failed["status"] == "FAILED"
    assert "550" in failed["lastError"]
    assert "No such user here" in failed["lastError"]
    deliver_due(settings, mail_tls, clock)  # the notice goes out through the same server
    notices = [t for t in upstream_sink.wait_for(2) if t.rcpt_tos == (acme.admin_email,)]
    assert len(notices) == 1
    notice = parsed(notices[0].content)
    assert "Not delivered to gone@client.test" in str(notice["Subject"])
    assert "No such user here" in str(notice.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_upstream_down_is_retried_until_it_is_back(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls,
) -> None:
    # R27: an accepted message is never lost: a temporary failure waits and tries again.
    configure(settings, acme, upstream_sink.endpoint())
    upstream_sink.stop()
    sent = send(app_client, acme.admin_token)
    deliver_due(settings, mail_tls, clock)
    (waiting,) = read_email(app_client, acme.admin_token, sent["email"]["id"])["deliveries"]
    assert waiting["status"] == "RETRYING"
    assert waiting["attempts"] == 1
    assert waiting["nextAttemptAt"] is not None
    assert waiting["lastError"]
    upstream_sink.start()
    assert deliver_due(settings, mail_tls, clock) == 0  # not due yet
    clock.advance(61)
    assert deliver_due(settings, mail_tls, clock) == 1
    (done,) = read_email(app_client, acme.admin_token, sent["email"]["id"])["deliveries"]
    assert (done["status"], done["attempts"], done["nextAttemptAt"]) == ("SENT", 2, None)
    assert upstream_sink.deliveries(recipient="ann@client.test") == 1


def test_the_sent_folder_gets_one_untracked_copy(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls, dovecot: Dovecot,
) -> None:
    # R27 and R9: the sender's own copy carries no pixel, so reading it counts nothing.
    user = f"rep{uuid.uuid4().hex[:8]}"
    dovecot.add_user(user, "secret")
    configure(settings, acme, upstream_sink.endpoint(), dovecot.endpoint(user))
    sent = send(app_client, acme.admin_token, bcc=["dee@client.test"])
    deliver_due(settings, mail_tls, clock)
    assert read_email(app_client, acme.admin_token,
                      sent["email"]["id"])["sentFolderCopy"]["status"] == "SENT"
    (filed,) = dovecot.sent_messages(user)
    assert "/o/" not in html_of(filed)
    assert "/c/" not in html_of(filed)
    assert parsed(filed)["Bcc"] == "dee@client.test"  # the sender's record of whom they told
    upstream = html_of(upstream_sink.wait_for(1)[0].content)
    assert "/o/" in upstream


@pytest.mark.parametrize("files_itself", [True, False])
def test_an_upstream_that_files_sent_mail_itself_gets_no_copy_in_sent(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls, dovecot: Dovecot, files_itself: bool,
) -> None:
    # R27: a Sent folder copy only "when the upstream does not file sent mail itself"
    # (Gmail, Microsoft 365): with the switch on, nothing is filed twice; off, one copy.
    user = f"rep{uuid.uuid4().hex[:8]}"
    dovecot.add_user(user, "secret")
    configure(settings, acme, upstream_sink.endpoint(), dovecot.endpoint(user),
              upstream_files_sent=files_itself)
    sent = send(app_client, acme.admin_token)
    assert deliver_due(settings, mail_tls, clock) == (1 if files_itself else 2)
    assert deliver_due(settings, mail_tls, clock) == 0  # nothing left, nothing retrying
    shown = read_email(app_client, acme.admin_token, sent["email"]["id"])
    assert [d["status"] for d in shown["deliveries"]] == ["SENT"]
    assert upstream_sink.deliveries(recipient="ann@client.test") == 1
    filed = dovecot.sent_messages(user)
    if files_itself:
        assert shown["sentFolderCopy"] is None
        assert filed == []
    else:
        assert shown["sentFolderCopy"]["status"] == "SENT"
        assert len(filed) == 1
        assert "/o/" not in html_of(filed[0])


OWN_LOGIN = """mutation($u: String!, $p: String!) {
  updateOutboundLogin(input: {username: $u, password: $p}) { username } }"""


def test_a_user_with_their_own_login_sends_with_it_and_a_colleague_with_the_accounts(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls,
) -> None:
    # R26: "the account's own mail server (or the sender's own mailbox login)": with
    # per-user logins a rep's copies leave with the login they set; a colleague who set
    # none sends with the account's login (the fallback the schema and the form promise).
    upstream_sink.add_login("uma@mailbox.test", "uma-mailbox-pass")
    configure(settings, acme, upstream_sink.endpoint(), per_user_logins=True)
    own = gql(app_client, OWN_LOGIN, {"u": "uma@mailbox.test", "p": "uma-mailbox-pass"},
              token=acme.user_token)
    assert own.get("errors") is None, own
    check = gql(app_client, CHECK, {"i": {"to": ["ann@client.test"]}},
                token=acme.admin_token)["data"]["composeCheck"]
    assert check["canSend"] is True, check
    by_user = send(app_client, acme.user_token, to=["ann@client.test"], subject="From Uma")
    by_admin = send(app_client, acme.admin_token, to=["ben@client.test"], subject="From Admin")
    assert deliver_due(settings, mail_tls, clock) == 2
    logins = {t.mail_from: (t.login, t.rcpt_tos) for t in upstream_sink.wait_for(2)}
    assert logins == {acme.user_email: ("uma@mailbox.test", ("ann@client.test",)),
                      acme.admin_email: ("alice", ("ben@client.test",))}
    for sent, token in ((by_user, acme.user_token), (by_admin, acme.admin_token)):
        shown = read_email(app_client, token, sent["email"]["id"])
        assert [d["status"] for d in shown["deliveries"]] == ["SENT"]


def test_replies_thread_and_the_compose_check_says_what_applies(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls,
) -> None:
    # R12: a free seat tracks opens only, and the compose window says so before sending.
    configure(settings, acme, upstream_sink.endpoint())
    check = gql(app_client, CHECK, {"i": {"to": ["ann@client.test"]}},
                token=acme.admin_token)["data"]["composeCheck"]
    assert check["canSend"] is True
    assert check["track"] is True
    assert any("Only opens are tracked" in n for n in check["notes"])
    first = send(app_client, acme.admin_token)
    reply = send(app_client, acme.admin_token, subject="Re: Proposal",
                 inReplyTo=first["email"]["id"])
    deliver_due(settings, mail_tls, clock)
    by_subject = {str(parsed(t.content)["Subject"]): parsed(t.content)
                  for t in upstream_sink.wait_for(2)}
    original_id = by_subject["Proposal"]["Message-ID"]
    assert by_subject["Re: Proposal"]["In-Reply-To"] == original_id
    assert original_id in str(by_subject["Re: Proposal"]["References"])
    assert reply["email"]["id"] != first["email"]["id"]


def test_copies_are_dkim_signed_after_rewriting(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls, tmp_path: Path,
) -> None:
    # Issue 13, Build §5: a rewritten copy still verifies with the account's DKIM key.
    from sendtrail.sending import dkim as signing  # noqa: PLC0415

    configure(settings, acme, upstream_sink.endpoint())
    private = signing.new_private_key()
    domain = acme.admin_email.rpartition("@")[2]
    box = secret_box(settings.secrets.keys)

    async def store_key() -> None:
        database = Database(settings.database.url)
        account_id = uuid.UUID(acme.account_id)
        async with database.session(account_id=account_id) as session:
            session.add(DkimKeyRow(
                account_id=account_id, domain=domain, selector="sel1",
                private_key_encrypted=box.encrypt(private, context=DKIM_KEY_CONTEXT),
                public_key_record=signing.public_record(private)))
            await session.commit()
        await database.dispose()

    run(store_key())
    send(app_client, acme.admin_token, to=["ann@client.test", "ben@client.test"])
    deliver_due(settings, mail_tls, clock)
    record = signing.public_record(private).encode()

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"sel1._domainkey.{domain}.".encode() else None

    for transaction in upstream_sink.wait_for(2):
        assert dkim.verify(transaction.content, dnsfunc=dns)
        assert not dkim.verify(transaction.content.replace(b"Proposal", b"Pr0posal"),
                               dnsfunc=dns)


def test_a_send_delayed_past_the_lease_is_not_sent_twice(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, clock: FakeClock,
    upstream_sink: UpstreamSink, mail_tls: MailTls,
) -> None:
    # R27: a copy is attempted again only when the previous attempt was never recorded.
    configure(settings, acme, upstream_sink.endpoint())
    send(app_client, acme.admin_token)
    assert deliver_due(settings, mail_tls, clock) == 1
    clock.advance(timedelta(hours=2).total_seconds())  # long after any lease
    assert deliver_due(settings, mail_tls, clock) == 0
    assert upstream_sink.deliveries(recipient="ann@client.test") == 1


SUBSCRIBE = ("subscription { deliveryNotifications { emailId emailSubject recipient reason "
             "message } }")



def test_a_final_failure_reaches_its_sender_live_and_nobody_else(
    acme: Tenant, database_url: str, settings: Settings, upstream_sink: UpstreamSink,
    mail_tls: MailTls,
) -> None:
    # R27 and R22: the sender hears at once that a copy failed for good; another account's
    # socket hears nothing of it (tenant isolation).
    rival = run(seed_tenant(database_url, "Rival"))
    configure(settings, acme, upstream_sink.endpoint())
    upstream_sink.reply_to_rcpt("gone@client.test", "550 5.1.1 No such user here")
    working = replace(settings, sending=SendingSettings(
        outbound_allow_private=True, outbound_ca_bundle=mail_tls.ca_bundle,
        delivery_poll_seconds=0.2, delivery_timeout_seconds=10))
    with TestClient(create_app(working), base_url="http://testserver.local") as client, \
            subscribed(client, acme.admin_token, SUBSCRIBE) as mine, \
            subscribed(client, rival.admin_token, SUBSCRIBE) as theirs:
        sent = send(client, acme.admin_token, to=["gone@client.test"])
        message = mine.receive_json(timeout=15)
        assert message["type"] == "next", message
        note = message["payload"]["data"]["deliveryNotifications"]
        assert (note["emailId"], note["recipient"]) == (sent["email"]["id"], "gone@client.test")
        assert "No such user here" in note["reason"]
        assert "could not be delivered to gone@client.test" in note["message"]
        with pytest.raises(Empty):
            theirs.receive_json(timeout=1)


TIMELINE = """query($q: String!) { contacts(search: $q) { edges { node { timeline { edges {
  node { __typename ... on Email { id subject } } } } } } } }"""
DIAGNOSE = 'query($id: ID!) { diagnoseEmail(id: $id) { findings } }'


def test_the_logged_copy_explains_the_sent_email(
    app_client: TestClient[Any], acme: Tenant, settings: Settings, upstream_sink: UpstreamSink,
) -> None:
    # R25 and R23: opening the logged copy on a contact's timeline explains the email as
    # sent, not "not found".
    configure(settings, acme, upstream_sink.endpoint())
    sent = send(app_client, acme.admin_token, log=True)
    edges = gql(app_client, TIMELINE, {"q": "ann@"}, token=acme.admin_token)["data"][
        "contacts"]["edges"][0]["node"]["timeline"]["edges"]
    (logged,) = [e["node"] for e in edges if e["node"]["__typename"] == "Email"]
    assert logged["id"] != sent["email"]["id"]
    findings = gql(app_client, DIAGNOSE, {"id": logged["id"]},
                   token=acme.admin_token)["data"]["diagnoseEmail"]["findings"]
    assert findings[0].startswith("This is the logged copy of a tracked email")
    assert findings[1:] == gql(app_client, DIAGNOSE, {"id": sent["email"]["id"]},
                               token=acme.admin_token)["data"]["diagnoseEmail"]["findings"]
