"""The SMTP client towards an account's own mail server (R26): one copy, one recipient.

``deliver`` sends one recipient's copy and returns an ``Outcome`` in words; it never raises
for the upstream's behaviour. 2xx is ``sent``; 4xx, network, DNS, TLS and timeout
failures are ``temporary`` (the worker retries); 5xx, including a refused login or a host
that settings forbid, is ``permanent``. A recipient refused at RCPT is that copy's outcome.

``test_smtp`` walks the same path for the admin's "test connection" and reports each step
in words: name resolution, TCP connection, TLS, login, sender accepted (MAIL FROM, then
RSET and QUIT; nothing is sent).

The connection goes to an address checked by ``hosts.resolve_upstream_host``; the host
name is kept for TLS (SNI and certificate check). Certificates are verified against
``ca_bundle`` when given (``SENDTRAIL_OUTBOUND_CA_BUNDLE``), else the system store.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aiosmtplib

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.sending.hosts import (
    HostRefused,
    HostUnresolvable,
    normalize_host,
    resolve_upstream_host,
    unencrypted_refusal,
)
from sendtrail.sending.values import SmtpEndpoint, SmtpSecurity

__all__ = [
    "MAX_MESSAGE_LENGTH",
    "STEP_CONNECT",
    "STEP_FOLDER",
    "STEP_LOGIN",
    "STEP_RESOLVE",
    "STEP_SENDER",
    "STEP_TLS",
    "Outcome",
    "OutcomeKind",
    "Step",
    "deliver",
    "test_smtp",
    "tls_context",
    "tls_failure",
]

MAX_MESSAGE_LENGTH = 500
STEP_RESOLVE = "Name resolution"
STEP_CONNECT = "TCP connection"
STEP_TLS = "TLS"
STEP_LOGIN = "Login"
STEP_SENDER = "Sender accepted"
STEP_FOLDER = "Sent folder"
OutcomeKind = Literal["sent", "temporary", "permanent"]


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: ``message`` is the upstream's answer in words."""

    kind: OutcomeKind
    code: int | None
    message: str


@dataclass(frozen=True)
class Step:
    """One step of a connection test, in words."""

    name: str
    ok: bool
    message: str


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_LENGTH else text[: MAX_MESSAGE_LENGTH - 1] + "…"


def _kind_of(code: int | None) -> OutcomeKind:
    if code is not None and 200 <= code < 300:
        return "sent"
    return "permanent" if code is not None and 500 <= code < 600 else "temporary"


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verifying TLS client context: ``ca_bundle`` when given, else the system store."""
    if ca_bundle is not None:
        return ssl.create_default_context(cafile=str(ca_bundle))
    return ssl.create_default_context()


def tls_failure(error: BaseException) -> str | None:
    """The TLS error somewhere in ``error``'s chain, in words, or ``None``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return _("the certificate was not accepted: {why}").format(
                why=current.verify_message)
        if isinstance(current, ssl.SSLError):
            return _("the TLS handshake failed: {why}").format(why=current.reason or current)
        current = current.__cause__ or current.__context__
    return None


def _os_error_words(error: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        current = current.__cause__ or current.__context__
    return str(error) or type(error).__name__


class _Failed(Exception):  # internal control flow, never escapes
    def __init__(self, kind: OutcomeKind, code: int | None, message: str) -> None:
        super().__init__(message)
        self.kind, self.code, self.message = kind, code, _clip(message)


@dataclass
class _Steps:
    """The steps so far and the one under way (a timeout is reported against it)."""

    steps: list[Step] = field(default_factory=list)
    current: str = STEP_RESOLVE

    def begin(self, name: str) -> None:
        self.current = name

    def ok(self, message: str) -> None:
        self.steps.append(Step(self.current, True, _clip(message)))

    def fail(self, message: str) -> None:
        self.steps.append(Step(self.current, False, _clip(message)))


async def _resolve(host: str, port: int, *, allow_private: bool, steps: _Steps) -> list[str]:
    steps.begin(STEP_RESOLVE)
    try:
        addresses = await resolve_upstream_host(host, allow_private=allow_private, port=port)
    except HostUnresolvable as error:
        raise _Failed("temporary", None, str(error)) from error
    except (HostRefused, InvalidInput) as error:
        raise _Failed("permanent", None, str(error)) from error
    name = normalize_host(host)
    if addresses == [name]:
        steps.ok(_("{host} is an IP address: nothing to look up.").format(host=name))
    else:
        steps.ok(_("{host} resolves to {addresses}.").format(
            host=name, addresses=", ".join(addresses)))
    return addresses


async def _tcp_connect(
    host: str, addresses: list[str], port: int, *, steps: _Steps
) -> tuple[socket.socket, str]:
    """A connected non-blocking socket to the first address that answers."""
    steps.begin(STEP_CONNECT)
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
        except OSError as error:
            sock.close()
            last = error
            continue
        except BaseException:
            sock.close()
            raise
        return sock, address
    reason = last.strerror if last is not None and last.strerror else str(last)
    raise _Failed("temporary", None, _("Could not connect to {host} port {port}: {reason}."
                                       ).format(host=host, port=port, reason=reason))


def _response_words(error: aiosmtplib.SMTPResponseException) -> str:
    return f"{error.code} {error.message}".strip()


async def _open_smtp(
    endpoint: SmtpEndpoint, *, helo_name: str, timeout: float, allow_private: bool,
    ca_bundle: Path | None, steps: _Steps,
) -> aiosmtplib.SMTP:
    """Resolve, connect, secure and log in: the session, ready for MAIL FROM."""
    host = normalize_host(endpoint.host) if endpoint.host else endpoint.host
    addresses = await _resolve(endpoint.host, endpoint.port, allow_private=allow_private,
                               steps=steps)
    sock, address = await _tcp_connect(host, addresses, endpoint.port, steps=steps)
    where = _where(host, endpoint.port)
    implicit = endpoint.security is SmtpSecurity.TLS
    if endpoint.security is SmtpSecurity.NONE:
        refusal = unencrypted_refusal(host, addresses, allow_private=allow_private)
        if refusal is not None:
            sock.close()
            steps.begin(STEP_TLS)
            raise _Failed("permanent", None, refusal)
    smtp = aiosmtplib.SMTP(
        hostname=host, sock=sock, use_tls=implicit, start_tls=False,
        tls_context=tls_context(ca_bundle), local_hostname=helo_name, timeout=timeout,
    )
    try:
        if implicit:
            steps.ok(_("Connected to {address} port {port}.").format(
                address=address, port=endpoint.port))
        steps.begin(STEP_TLS if implicit else STEP_CONNECT)
        try:
            await smtp.connect()
        except aiosmtplib.SMTPConnectResponseError as error:
            raise _Failed(_kind_of(error.code), error.code,
                          _("{where} refused the connection: {answer}").format(
                              where=where, answer=_response_words(error))) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            problem = tls_failure(error)
            if problem is not None:
                raise _Failed("temporary", None, _tls_failed(where, problem)) from error
            raise _Failed("temporary", None, _("{where} did not greet: {problem}.").format(
                where=where, problem=_os_error_words(error))) from error
        if not implicit:
            steps.ok(_("Connected to {address} port {port}; the server greets.").format(
                address=address, port=endpoint.port))
        await _secure(smtp, endpoint, where=where, steps=steps)
        await _login(smtp, endpoint, where=where, steps=steps)
    except BaseException:
        transport_made = smtp.transport is not None
        await _quit(smtp)
        if not transport_made:
            sock.close()
        raise
    return smtp


async def _secure(
    smtp: aiosmtplib.SMTP, endpoint: SmtpEndpoint, *, where: str, steps: _Steps
) -> None:
    steps.begin(STEP_TLS)
    if endpoint.security is SmtpSecurity.STARTTLS:
        try:
            await smtp.ehlo()
            if not smtp.supports_extension("starttls"):
                raise _Failed("temporary", None, _(
                    "{where} does not offer STARTTLS; no password or message is sent "
                    "without encryption.").format(where=where))
            await smtp.starttls()
        except aiosmtplib.SMTPResponseException as error:
            raise _Failed(_kind_of(error.code), error.code,
                          _("{where} refused STARTTLS: {answer}").format(
                              where=where, answer=_response_words(error))) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            problem = tls_failure(error) or _os_error_words(error)
            raise _Failed("temporary", None, _tls_failed(where, problem)) from error
    if endpoint.security is SmtpSecurity.NONE:
        steps.ok(_("No encryption (allowed for a mail server on your own network)."))
        return
    ssl_object = smtp.get_transport_info("ssl_object")
    version = ssl_object.version() if isinstance(ssl_object, ssl.SSLObject) else "TLS"
    steps.ok(secured_words(endpoint.security, str(version), str(smtp.hostname)))


async def _login(
    smtp: aiosmtplib.SMTP, endpoint: SmtpEndpoint, *, where: str, steps: _Steps
) -> None:
    steps.begin(STEP_LOGIN)
    if not endpoint.username:
        steps.ok(_("No user name configured: the server is used without logging in."))
        return
    try:
        await smtp.ehlo()
        if not smtp.supports_extension("auth"):
            raise _Failed("permanent", None, _(
                "{where} does not offer a login (SMTP AUTH) on this connection.").format(
                    where=where))
        await smtp.login(endpoint.username, endpoint.password or "")
    except aiosmtplib.SMTPResponseException as error:
        raise _Failed(_kind_of(error.code), error.code,
                      login_refused(where, endpoint.username, _response_words(error))
                      ) from error
    except aiosmtplib.SMTPException as error:
        raise _Failed("permanent", None,
                      login_refused(where, endpoint.username, str(error))) from error
    steps.ok(logged_in(endpoint.username))


def _where(host: str, port: int) -> str:
    return _("{host} port {port}").format(host=host, port=port)


def _tls_failed(where: str, problem: str) -> str:
    return _("TLS with {where} failed: {problem}.").format(where=where, problem=problem)


def secured_words(security: SmtpSecurity, version: str, host: str) -> str:
    """The TLS step's sentence (SMTP and IMAP alike)."""
    sentence = (_("STARTTLS: {version}, the certificate is valid for {host}.")
                if security is SmtpSecurity.STARTTLS else
                _("TLS from the start: {version}, the certificate is valid for {host}."))
    return sentence.format(version=version, host=host)


def login_refused(where: str, username: str, answer: str) -> str:
    return _("{where} refused the login as {username}: {answer}").format(
        where=where, username=username, answer=answer)


def logged_in(username: str) -> str:
    return _("Logged in as {username}.").format(username=username)


def _failure_from(error: BaseException, where: str) -> _Failed:
    """A failure for an error outside the named steps (network, timeout, ...)."""
    if isinstance(error, _Failed):
        return error
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _Failed(_kind_of(error.code), error.code,
                       _("{where} answered {answer}").format(
                           where=where, answer=_response_words(error)))
    if isinstance(error, (TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return _Failed("temporary", None, _("{where} did not answer in time.").format(
            where=where))
    problem = tls_failure(error)
    if problem is not None:
        return _Failed("temporary", None, _tls_failed(where, problem))
    return _Failed("temporary", None, _("The connection to {where} failed: {problem}.").format(
        where=where, problem=_os_error_words(error)))


async def deliver(
    endpoint: SmtpEndpoint, *, mail_from: str, recipient: str, content: bytes,
    helo_name: str, timeout: float, allow_private: bool, ca_bundle: Path | None,
) -> Outcome:
    """Send ``content`` to ``recipient`` through the account's server (R26); never raises
    for what the server, the network or DNS do."""
    where = _where(endpoint.host, endpoint.port)
    steps = _Steps()
    smtp: aiosmtplib.SMTP | None = None
    try:
        async with asyncio.timeout(timeout):
            smtp = await _open_smtp(endpoint, helo_name=helo_name, timeout=timeout,
                                    allow_private=allow_private, ca_bundle=ca_bundle,
                                    steps=steps)
            try:
                await smtp.mail(mail_from)
            except aiosmtplib.SMTPResponseException as error:
                raise _Failed(_kind_of(error.code), error.code,
                              _sender_refused(where, mail_from or "<>", error)) from error
            try:
                await smtp.rcpt(recipient)
            except aiosmtplib.SMTPResponseException as error:
                raise _Failed(_kind_of(error.code), error.code,
                              _("{where} refused the recipient {recipient}: {answer}").format(
                                  where=where, recipient=recipient,
                                  answer=_response_words(error))) from error
            try:
                response = await smtp.data(content)
            except aiosmtplib.SMTPResponseException as error:
                raise _Failed(_kind_of(error.code), error.code,
                              _("{where} refused the message: {answer}").format(
                                  where=where, answer=_response_words(error))) from error
    except Exception as error:  # every failure becomes an outcome or a step
        failed = _failure_from(error, where)
        return Outcome(failed.kind, failed.code, failed.message)
    finally:
        if smtp is not None:
            await _quit(smtp)
    return Outcome("sent", response.code, _clip(_("{where} accepted it: {answer}").format(
        where=where, answer=f"{response.code} {response.message}")))


def _sender_refused(where: str, sender: str, error: aiosmtplib.SMTPResponseException) -> str:
    return _("{where} refused the sender {sender}: {answer}").format(
        where=where, sender=sender, answer=_response_words(error))


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    transport = smtp.transport
    try:
        async with asyncio.timeout(2):
            if smtp.is_connected:
                await smtp.quit()
    except Exception:  # noqa: S110 (the outcome is known; QUIT is a courtesy)
        pass
    finally:
        smtp.close()
    # A TLS transport closes its socket only after the TLS shutdown: give it a moment,
    # then cut it (never leave a socket behind).
    raw = transport.get_extra_info("socket") if transport is not None else None
    for _attempt in range(100):
        if raw is None or raw.fileno() == -1:
            return
        await asyncio.sleep(0.01)
    if isinstance(transport, asyncio.Transport):
        transport.abort()


async def test_smtp(
    endpoint: SmtpEndpoint, *, mail_from: str, helo_name: str, timeout: float,
    allow_private: bool, ca_bundle: Path | None,
) -> list[Step]:
    """Each step towards the account's server, in words, up to the first that fails."""
    where = _where(endpoint.host, endpoint.port)
    steps = _Steps()
    smtp: aiosmtplib.SMTP | None = None
    try:
        async with asyncio.timeout(timeout):
            smtp = await _open_smtp(endpoint, helo_name=helo_name, timeout=timeout,
                                    allow_private=allow_private, ca_bundle=ca_bundle,
                                    steps=steps)
            steps.begin(STEP_SENDER)
            try:
                response = await smtp.mail(mail_from)
            except aiosmtplib.SMTPResponseException as error:
                raise _Failed(_kind_of(error.code), error.code,
                              _sender_refused(where, mail_from, error)) from error
            steps.ok(_("{where} accepts mail from {sender}: {answer}").format(
                where=where, sender=mail_from, answer=f"{response.code} {response.message}"))
            await smtp.rset()
    except Exception as error:  # every failure becomes an outcome or a step
        steps.fail(_failure_from(error, where).message)
    finally:
        if smtp is not None:
            await _quit(smtp)
    return steps.steps


test_smtp.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
