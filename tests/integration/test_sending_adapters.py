"""The sending adapters against real servers on 127.0.0.1: the account's upstream SMTP
server (aiosmtpd, STARTTLS/SMTPS/none, AUTH), dovecot for the Sent folder, swaks; the
host rules of upstream servers. No database."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from components import free_port
from mail_components import (  # noqa: F401
    Dovecot,
    UpstreamSink,
    UpstreamSinkFactory,
    dovecot_fixture,
    mail_tls_fixture,
    make_mail_tls,
    swaks_path_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)

from sendtrail.errors import InvalidInput
from sendtrail.sending.hosts import check_security, check_upstream_host
from sendtrail.sending.sent_folder import append_to_sent
from sendtrail.sending.sent_folder import test_imap as imap_check
from sendtrail.sending.upstream import (
    STEP_CONNECT,
    STEP_FOLDER,
    STEP_LOGIN,
    STEP_RESOLVE,
    STEP_SENDER,
    STEP_TLS,
    Outcome,
    Step,
    deliver,
)
from sendtrail.sending.upstream import test_smtp as smtp_check
from sendtrail.sending.values import ImapEndpoint, SmtpEndpoint, SmtpSecurity

FROM = "ann@sender.test"
TO = "bob@customer.test"
HELO = "relay.sendtrail.test"


def _message(message_id: str = "<m1@sender.test>") -> bytes:
    return (
        f"From: Ann <{FROM}>\r\nTo: <{TO}>\r\nSubject: Hello\r\nMessage-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n.leading dot\r\n"
    ).encode("latin-1")


async def _deliver(
    endpoint: SmtpEndpoint, ca_bundle: Path | None, content: bytes | None = None,
    recipient: str = TO, timeout: float = 10,
) -> Outcome:
    return await deliver(
        endpoint, mail_from=FROM, recipient=recipient, content=content or _message(),
        helo_name=HELO, timeout=timeout, allow_private=True, ca_bundle=ca_bundle,
    )


async def _steps(
    endpoint: SmtpEndpoint, ca_bundle: Path | None, *, allow_private: bool = True,
    mail_from: str = FROM,
) -> list[Step]:
    return await smtp_check(endpoint, mail_from=mail_from, helo_name=HELO, timeout=10,
                            allow_private=allow_private, ca_bundle=ca_bundle)


def _last(steps: list[Step]) -> Step:
    assert steps, "no steps"
    assert all(step.ok for step in steps[:-1]), steps
    return steps[-1]


# --- deliver -------------------------------------------------------------------------


async def test_deliver_starttls_with_login_sends_exact_bytes(upstream_sink: UpstreamSink) -> None:
    content = _message()
    outcome = await _deliver(upstream_sink.endpoint(), upstream_sink.ca_bundle, content)
    assert outcome.kind == "sent", outcome  # R26: through the account's own server
    assert outcome.code == 250
    assert "250" in outcome.message
    [transaction] = upstream_sink.wait_for(1)
    assert transaction.content == content  # R27: byte for byte (8bit, dot-stuffing undone)
    assert transaction.mail_from == FROM
    assert transaction.rcpt_tos == (TO,)  # R26: one copy per recipient
    assert transaction.login == "alice"
    assert transaction.tls
    assert upstream_sink.deliveries("<m1@sender.test>", TO) == 1


async def test_deliver_over_implicit_tls(upstream_sink_factory: UpstreamSinkFactory) -> None:
    sink = upstream_sink_factory(security="tls")
    outcome = await _deliver(sink.endpoint(), sink.ca_bundle)
    assert outcome.kind == "sent", outcome  # R26
    [transaction] = sink.wait_for(1)
    assert transaction.tls
    assert transaction.login == "alice"


async def test_deliver_without_tls_to_a_private_host(
    upstream_sink_factory: UpstreamSinkFactory,
) -> None:
    sink = upstream_sink_factory(security="none", username=None)
    outcome = await _deliver(sink.endpoint(), None)
    assert outcome.kind == "sent", outcome  # R26: a server on the own network
    assert not sink.wait_for(1)[0].tls


async def test_deliver_without_tls_refused_without_allow_private(
    upstream_sink_factory: UpstreamSinkFactory,
) -> None:
    sink = upstream_sink_factory(security="none", username=None)
    outcome = await deliver(
        sink.endpoint(), mail_from=FROM, recipient=TO, content=_message(), helo_name=HELO,
        timeout=10, allow_private=False, ca_bundle=None,
    )
    assert outcome.kind == "permanent"
    assert "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE" in outcome.message
    assert sink.transactions == []


async def test_deliver_wrong_password_is_permanent(upstream_sink: UpstreamSink) -> None:
    endpoint = replace(upstream_sink.endpoint(), password="wrong")
    outcome = await _deliver(endpoint, upstream_sink.ca_bundle)
    assert outcome.kind == "permanent", outcome  # R27: the sender learns why
    assert outcome.code == 535
    assert "refused the login as alice" in outcome.message
    assert upstream_sink.transactions == []


async def test_deliver_upstream_down_is_temporary_then_sent(upstream_sink: UpstreamSink) -> None:
    upstream_sink.stop()
    outcome = await _deliver(upstream_sink.endpoint(), upstream_sink.ca_bundle)
    assert outcome.kind == "temporary", outcome  # R27: retried, never lost
    assert "Could not connect" in outcome.message
    upstream_sink.start()
    outcome = await _deliver(upstream_sink.endpoint(), upstream_sink.ca_bundle)
    assert outcome.kind == "sent", outcome
    assert upstream_sink.deliveries("<m1@sender.test>", TO) == 1


async def test_deliver_recipient_refused_550_is_permanent(upstream_sink: UpstreamSink) -> None:
    upstream_sink.reply_to_rcpt(TO, "550 5.1.1 No such user here")
    outcome = await _deliver(upstream_sink.endpoint(), upstream_sink.ca_bundle)
    assert outcome.kind == "permanent", outcome  # R27: with the upstream's answer
    assert outcome.code == 550
    assert "No such user here" in outcome.message
    assert TO in outcome.message
    assert upstream_sink.transactions == []


async def test_deliver_recipient_451_is_temporary(upstream_sink: UpstreamSink) -> None:
    upstream_sink.reply_to_rcpt(TO, "451 4.7.1 Greylisted, try again later")
    outcome = await _deliver(upstream_sink.endpoint(), upstream_sink.ca_bundle)
    assert outcome.kind == "temporary", outcome  # R27
    assert outcome.code == 451
    assert "Greylisted" in outcome.message


async def test_deliver_message_refused_at_data(upstream_sink: UpstreamSink) -> None:
    upstream_sink.reply_to_data("554 5.7.1 Message rejected as spam")
    outcome = await _deliver(upstream_sink.endpoint(), upstream_sink.ca_bundle)
    assert outcome.kind == "permanent", outcome
    assert "rejected as spam" in outcome.message


async def test_deliver_untrusted_certificate_is_temporary(
    upstream_sink: UpstreamSink, tmp_path: Path
) -> None:
    other = make_mail_tls(tmp_path / "other")
    outcome = await _deliver(upstream_sink.endpoint(), other.ca_bundle)
    assert outcome.kind == "temporary", outcome
    assert "certificate" in outcome.message
    assert upstream_sink.auth_attempts == 0  # no password without verified TLS


async def test_deliver_unknown_host_is_temporary() -> None:
    endpoint = SmtpEndpoint(host="no-such-upstream.test", port=587,
                            security=SmtpSecurity.STARTTLS, username="a", password="b")
    outcome = await _deliver(endpoint, None)
    assert outcome.kind == "temporary", outcome
    assert "does not resolve" in outcome.message


async def test_deliver_private_host_refused_without_allow_private(
    upstream_sink: UpstreamSink,
) -> None:
    outcome = await deliver(
        upstream_sink.endpoint(), mail_from=FROM, recipient=TO, content=_message(),
        helo_name=HELO, timeout=10, allow_private=False, ca_bundle=upstream_sink.ca_bundle,
    )
    assert outcome.kind == "permanent", outcome
    assert "loopback" in outcome.message


# --- test_smtp ------------------------------------------------------------------------


async def test_smtp_check_all_steps_pass(upstream_sink: UpstreamSink) -> None:
    steps = await _steps(upstream_sink.endpoint(), upstream_sink.ca_bundle)
    assert [s.name for s in steps] == [STEP_RESOLVE, STEP_CONNECT, STEP_TLS, STEP_LOGIN,
                                       STEP_SENDER]
    assert all(s.ok for s in steps), steps
    assert "Logged in as alice" in steps[3].message
    assert upstream_sink.transactions == []  # nothing is sent


async def test_smtp_check_steps_over_implicit_tls_and_without_tls(
    upstream_sink_factory: UpstreamSinkFactory,
) -> None:
    names = [STEP_RESOLVE, STEP_CONNECT, STEP_TLS, STEP_LOGIN, STEP_SENDER]
    sink = upstream_sink_factory(security="tls")
    steps = await _steps(sink.endpoint(), sink.ca_bundle)
    assert [s.name for s in steps] == names
    assert all(s.ok for s in steps), steps
    sink = upstream_sink_factory(security="none", username=None)
    steps = await _steps(sink.endpoint(), None)
    assert [s.name for s in steps] == names
    assert all(s.ok for s in steps), steps
    assert "No encryption" in steps[2].message
    assert "without logging in" in steps[3].message
    step = _last(await _steps(sink.endpoint(), None, allow_private=False))
    assert (step.name, step.ok) == (STEP_RESOLVE, False)  # loopback refused first


async def test_smtp_check_unknown_host_fails_at_resolution() -> None:
    endpoint = SmtpEndpoint(host="no-such-upstream.test", port=587,
                            security=SmtpSecurity.STARTTLS, username=None, password=None)
    step = _last(await _steps(endpoint, None))
    assert (step.name, step.ok) == (STEP_RESOLVE, False)
    assert "no-such-upstream.test does not resolve" in step.message


async def test_smtp_check_closed_port_fails_at_tcp(upstream_sink: UpstreamSink) -> None:
    upstream_sink.stop()
    step = _last(await _steps(upstream_sink.endpoint(), upstream_sink.ca_bundle))
    assert (step.name, step.ok) == (STEP_CONNECT, False)
    assert "Could not connect" in step.message


async def test_smtp_check_wrong_ca_fails_at_tls(
    upstream_sink_factory: UpstreamSinkFactory, tmp_path: Path
) -> None:
    other = make_mail_tls(tmp_path / "other")
    for security in ("starttls", "tls"):
        sink = upstream_sink_factory(security=security)
        step = _last(await _steps(sink.endpoint(), other.ca_bundle))
        assert (step.name, step.ok) == (STEP_TLS, False), security
        assert "certificate" in step.message


async def test_smtp_check_wrong_password_fails_at_login(upstream_sink: UpstreamSink) -> None:
    endpoint = replace(upstream_sink.endpoint(), password="wrong")
    step = _last(await _steps(endpoint, upstream_sink.ca_bundle))
    assert (step.name, step.ok) == (STEP_LOGIN, False)
    assert "535" in step.message


async def test_smtp_check_sender_refused(upstream_sink: UpstreamSink) -> None:
    upstream_sink.reply_to_mail(FROM, "553 5.7.1 Sender address not owned by user alice")
    step = _last(await _steps(upstream_sink.endpoint(), upstream_sink.ca_bundle))
    assert (step.name, step.ok) == (STEP_SENDER, False)
    assert "not owned by user alice" in step.message


# --- hosts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("10.0.0.1", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("localhost", "a loopback address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("[::ffff:10.0.0.1]", "a private address (written as IPv6)"),
    ],
)
async def test_upstream_host_refusals(host: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await check_upstream_host(host, allow_private=False)
    assert words in str(refused.value)
    assert "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE" in str(refused.value)
    await check_upstream_host(host, allow_private=True)  # a server on the own network


async def test_upstream_host_malformed_and_unresolvable() -> None:
    with pytest.raises(InvalidInput, match="not a valid host name"):
        await check_upstream_host("smtp example.com", allow_private=True)
    with pytest.raises(InvalidInput, match="does not resolve"):
        await check_upstream_host("no-such-upstream.test", allow_private=True)
    with pytest.raises(InvalidInput, match="unspecified"):
        await check_upstream_host("0.0.0.0", allow_private=True)  # noqa: S104


async def test_unencrypted_only_to_private_hosts_with_allow_private() -> None:
    await check_security("127.0.0.1", SmtpSecurity.NONE, allow_private=True)
    await check_security("10.1.2.3", SmtpSecurity.NONE, allow_private=True)
    with pytest.raises(InvalidInput, match="a private address"):
        await check_security("10.1.2.3", SmtpSecurity.NONE, allow_private=False)
    with pytest.raises(InvalidInput, match="public internet"):
        await check_security("8.8.8.8", SmtpSecurity.NONE, allow_private=True)
    await check_security("8.8.8.8", SmtpSecurity.STARTTLS, allow_private=False)


# --- swaks ----------------------------------------------------------------------------


def test_swaks_authenticates_over_starttls(upstream_sink: UpstreamSink, swaks_path: str) -> None:
    done = subprocess.run(
        [swaks_path, "--server", f"127.0.0.1:{upstream_sink.port}", "--from", FROM, "--to", TO,
         "--tls", "--tls-verify", "--tls-ca-path", str(upstream_sink.ca_bundle),
         "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret",
         "-S", "2"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [transaction] = upstream_sink.wait_for(1)
    assert transaction.login == "alice"
    assert transaction.tls
    assert upstream_sink.deliveries(transaction.message_id, TO) == 1


# --- the Sent folder (dovecot) ---------------------------------------------------------


async def _file(dovecot: Dovecot, endpoint: ImapEndpoint, content: bytes) -> Outcome:
    return await append_to_sent(endpoint, content, timeout=10, allow_private=True,
                                ca_bundle=dovecot.ca_bundle)


async def _imap_steps(dovecot: Dovecot, endpoint: ImapEndpoint) -> list[Step]:
    return await imap_check(endpoint, timeout=10, allow_private=True,
                            ca_bundle=dovecot.ca_bundle)


@pytest.mark.parametrize("security", [SmtpSecurity.TLS, SmtpSecurity.STARTTLS,
                                      SmtpSecurity.NONE])
async def test_append_to_sent_finds_the_special_use_folder(
    dovecot: Dovecot, security: SmtpSecurity
) -> None:
    user = f"ann-{security.value}"
    dovecot.add_user(user, "pw-ann")
    content = _message(f"<sent-{security.value}@sender.test>")
    outcome = await _file(dovecot, dovecot.endpoint(user, security=security), content)
    assert outcome.kind == "sent", outcome  # R27: one untracked copy in the Sent folder
    assert dovecot.sent_messages(user) == [content]  # byte for byte
    [(flags, _content)] = dovecot.messages(user, "Sent")
    assert b"\\Seen" in flags


async def test_append_to_a_named_folder(dovecot: Dovecot) -> None:
    dovecot.add_user("ann-named", "pw")
    dovecot.create_folder("ann-named", "Gesendete Objekte")
    endpoint = dovecot.endpoint("ann-named", folder="Gesendete Objekte")
    outcome = await _file(dovecot, endpoint, _message())
    assert outcome.kind == "sent", outcome  # R27
    assert dovecot.messages("ann-named", "Gesendete Objekte")[0][1] == _message()
    assert dovecot.sent_messages("ann-named") == []
    steps = await _imap_steps(dovecot, endpoint)
    assert steps[-1].name == STEP_FOLDER
    assert steps[-1].ok
    assert "Gesendete Objekte" in steps[-1].message


async def test_missing_folder_is_permanent_in_words(dovecot: Dovecot) -> None:
    dovecot.add_user("ann-missing", "pw")
    endpoint = dovecot.endpoint("ann-missing", folder="Nope")
    outcome = await _file(dovecot, endpoint, _message())
    assert outcome.kind == "permanent", outcome
    assert "no folder named 'Nope'" in outcome.message
    step = _last(await _imap_steps(dovecot, endpoint))
    assert (step.name, step.ok) == (STEP_FOLDER, False)
    assert "no folder named 'Nope'" in step.message


async def test_imap_check_steps(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.add_user("ann-check", "pw")
    steps = await _imap_steps(dovecot, dovecot.endpoint("ann-check"))
    assert [s.name for s in steps] == [STEP_RESOLVE, STEP_CONNECT, STEP_TLS, STEP_LOGIN,
                                       STEP_FOLDER]
    assert all(s.ok for s in steps), steps
    assert "'Sent'" in steps[-1].message

    wrong = dovecot.endpoint("ann-check", password="wrong")
    step = _last(await _imap_steps(dovecot, wrong))
    assert (step.name, step.ok) == (STEP_LOGIN, False)
    assert "refused the login as ann-check" in step.message
    outcome = await _file(dovecot, wrong, _message())
    assert outcome.kind == "permanent", outcome

    other = make_mail_tls(tmp_path / "other")
    for security in (SmtpSecurity.TLS, SmtpSecurity.STARTTLS):
        endpoint = dovecot.endpoint("ann-check", security=security)
        steps = await imap_check(endpoint, timeout=10, allow_private=True,
                                 ca_bundle=other.ca_bundle)
        step = _last(steps)
        assert (step.name, step.ok) == (STEP_TLS, False), security
        assert "certificate" in step.message
        outcome = await append_to_sent(endpoint, _message(), timeout=10, allow_private=True,
                                       ca_bundle=other.ca_bundle)
        assert outcome.kind == "temporary", outcome

    closed = replace(dovecot.endpoint("ann-check"), port=free_port())
    step = _last(await _imap_steps(dovecot, closed))
    assert (step.name, step.ok) == (STEP_CONNECT, False)
    outcome = await _file(dovecot, closed, _message())
    assert outcome.kind == "temporary", outcome

    unknown = replace(dovecot.endpoint("ann-check"), host="no-such-imap.test")
    step = _last(await _imap_steps(dovecot, unknown))
    assert (step.name, step.ok) == (STEP_RESOLVE, False)
    assert "does not resolve" in step.message
