"""The sender's untracked copy in their Sent folder, over IMAP (R27).

``append_to_sent`` logs in to the sender's mailbox (IMAPS, STARTTLS or, towards a private
host with ``SENDTRAIL_OUTBOUND_ALLOW_PRIVATE``, no TLS), finds the folder - the one named
in the settings, else the one marked SPECIAL-USE ``\\Sent`` (RFC 6154) - and APPENDs the
copy marked ``\\Seen``. Outcomes are those of ``upstream.deliver``: a NO or BAD from the
server is ``permanent`` with its text, network, DNS, TLS and timeouts are ``temporary``.
``test_imap`` reports the steps in words (name resolution, TCP connection, TLS, login,
Sent folder). imaplib is blocking: it runs in a thread (``asyncio.to_thread``), connected
to the address ``hosts.resolve_upstream_host`` checked, the name kept for TLS.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import imaplib
import re
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.sending.hosts import (
    HostRefused,
    HostUnresolvable,
    normalize_host,
    resolve_upstream_host,
    unencrypted_refusal,
)
from sendtrail.sending.upstream import (
    MAX_MESSAGE_LENGTH,
    STEP_CONNECT,
    STEP_FOLDER,
    STEP_LOGIN,
    STEP_RESOLVE,
    STEP_TLS,
    Outcome,
    OutcomeKind,
    Step,
    logged_in,
    login_refused,
    secured_words,
    tls_context,
    tls_failure,
)
from sendtrail.sending.values import ImapEndpoint, SmtpSecurity

__all__ = ["append_to_sent", "test_imap"]

_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<sep>NIL|"(?:[^"\\]|\\.)*") (?P<name>.*)$')


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_LENGTH else text[: MAX_MESSAGE_LENGTH - 1] + "…"


class _Failed(Exception):  # internal control flow, never escapes
    def __init__(self, kind: OutcomeKind, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, _clip(message)


@dataclass
class _Steps:
    steps: list[Step]
    current: str = STEP_RESOLVE

    def begin(self, name: str) -> None:
        self.current = name

    def ok(self, message: str) -> None:
        self.steps.append(Step(self.current, True, _clip(message)))

    def fail(self, message: str) -> None:
        self.steps.append(Step(self.current, False, _clip(message)))


def _words(error: BaseException | bytes | str) -> str:
    """A server's answer (imaplib passes ``str(bytes)``) as plain text."""
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    if re.fullmatch(r"b(['\"]).*\1", text, re.DOTALL):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
    return text


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _encode_mailbox(name: str) -> str:
    """The IMAP modified UTF-7 form of a mailbox name (RFC 3501 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _pinned_imap(
    host: str, *, address: str, port: int, security: SmtpSecurity, context: ssl.SSLContext,
    timeout: float, steps: _Steps,
) -> imaplib.IMAP4:
    """A connected client: TCP to ``address``, TLS checked against ``host``."""

    def connect(client_timeout: float | None) -> socket.socket:
        steps.begin(STEP_CONNECT)
        try:
            sock = socket.create_connection((address, port), client_timeout)
        except OSError as error:
            raise _Failed("temporary", _("Could not connect to {host} port {port}: {reason}."
                                         ).format(host=host, port=port,
                                                  reason=error.strerror or error)) from error
        steps.ok(_("Connected to {address} port {port}.").format(address=address, port=port))
        if security is not SmtpSecurity.TLS:
            return sock
        steps.begin(STEP_TLS)
        try:
            return context.wrap_socket(sock, server_hostname=host)
        except (ssl.SSLError, OSError) as error:
            sock.close()
            problem = tls_failure(error) or str(error)
            raise _Failed("temporary", _tls_failed(_where(host, port), problem)) from error

    class Plain(imaplib.IMAP4):
        def _create_socket(self, timeout: float | None) -> socket.socket:
            return connect(timeout)

    class Secure(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout: float | None) -> socket.socket:
            return connect(timeout)

    if security is SmtpSecurity.TLS:
        return Secure(host, port, ssl_context=context, timeout=timeout)
    return Plain(host, port, timeout=timeout)


def _session(
    endpoint: ImapEndpoint, address: str, ca_bundle: Path | None, timeout: float,
    steps: _Steps,
) -> imaplib.IMAP4:
    host = normalize_host(endpoint.host)
    where = _where(host, endpoint.port)
    context = tls_context(ca_bundle)
    try:
        client = _pinned_imap(host, address=address, port=endpoint.port,
                              security=endpoint.security, context=context, timeout=timeout,
                              steps=steps)
    except _Failed:
        raise
    except (imaplib.IMAP4.error, OSError) as error:
        raise _Failed("temporary", _("{where} did not greet: {problem}.").format(
            where=where, problem=_words(error))) from error
    try:
        steps.begin(STEP_TLS)
        if endpoint.security is SmtpSecurity.STARTTLS:
            try:
                client.starttls(ssl_context=context)
            except (ssl.SSLError, OSError) as error:
                problem = tls_failure(error) or str(error)
                raise _Failed("temporary", _tls_failed(where, problem)) from error
            except imaplib.IMAP4.error as error:
                raise _Failed("temporary", _(
                    "{where} does not offer STARTTLS; no password is sent without encryption "
                    "({answer}).").format(where=where, answer=_words(error))) from error
            steps.ok(secured_words(endpoint.security, _tls_version(client), host))
        elif endpoint.security is SmtpSecurity.TLS:
            steps.ok(secured_words(endpoint.security, _tls_version(client), host))
        else:
            steps.ok(_("No encryption (allowed for a mail server on your own network)."))
        steps.begin(STEP_LOGIN)
        try:
            client.login(endpoint.username, endpoint.password)
        except imaplib.IMAP4.abort as error:
            raise _Failed("temporary", _("{where} dropped the connection at login: {answer}"
                                         ).format(where=where, answer=_words(error))) from error
        except imaplib.IMAP4.error as error:
            raise _Failed("permanent", login_refused(where, endpoint.username, _words(error))
                          ) from error
        steps.ok(logged_in(endpoint.username))
    except BaseException:
        _logout(client)
        raise
    return client


def _tls_version(client: imaplib.IMAP4) -> str:
    sock = client.sock
    version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
    return version or "TLS"


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (imaplib.IMAP4.error, OSError):
        client.shutdown()


def _mailbox_names(lines: list[bytes | tuple[bytes, bytes] | None]) -> list[tuple[str, str]]:
    """(flags, name) of each LIST answer line."""
    found: list[tuple[str, str]] = []
    for line in lines:
        if line is None:
            continue
        if isinstance(line, tuple):  # a literal name: (b'(\\Sent) "/" {4}', b'Sent')
            match = _LIST_LINE.match(line[0].rstrip() + b" x")
            if match:
                found.append((match["flags"].decode(), line[1].decode("utf-8", "replace")))
            continue
        match = _LIST_LINE.match(line)
        if not match:
            continue
        raw = match["name"].decode("utf-8", "replace")
        if raw.startswith('"') and raw.endswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        found.append((match["flags"].decode(), raw))
    return found


def _find_folder(client: imaplib.IMAP4, endpoint: ImapEndpoint, where: str) -> str:
    """The (wire form of the) mailbox to APPEND to; ``_Failed`` in words if there is none."""
    if endpoint.folder:
        wire = _encode_mailbox(endpoint.folder)
        typ, data = client.list('""', _quote(wire))
        if typ == "OK" and any(name == wire for _f, name in _mailbox_names(list(data))):
            return wire
        raise _Failed("permanent", _("{username} has no folder named {folder} at {where}."
                                     ).format(username=endpoint.username,
                                              folder=repr(endpoint.folder), where=where))
    try:
        typ, data = client._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
        typ, data = client._untagged_response(typ, data, "LIST")
        special_use = typ == "OK"
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:  # BAD: no LIST-EXTENDED
        special_use = False
    if not special_use:  # RFC 6154 servers still mark \Sent in a plain LIST
        typ, data = client.list('""', '"*"')
    for flags, name in _mailbox_names(list(data)) if typ == "OK" else []:
        if "\\sent" in flags.lower().split():
            return name
    raise _Failed("permanent", _(
        "No folder of {username} at {where} is marked as the Sent folder (SPECIAL-USE "
        "\\Sent); name the folder in the IMAP settings.").format(
            username=endpoint.username, where=where))


def _append(endpoint: ImapEndpoint, address: str, content: bytes, ca_bundle: Path | None,
            timeout: float) -> Outcome:
    where = _where(endpoint.host, endpoint.port)
    steps = _Steps([])
    client = _session(endpoint, address, ca_bundle, timeout, steps)
    try:
        folder = _find_folder(client, endpoint, where)
        typ, data = client.append(_quote(folder), r"(\Seen)",
                                  imaplib.Time2Internaldate(time.time()), content)
        answer = _words(data[0] if data and data[0] is not None else b"")
        if typ != "OK":
            raise _Failed("permanent", _("{where} refused to file the copy in {folder}: "
                                         "{answer}").format(where=where, folder=repr(folder),
                                                            answer=f"{typ} {answer}"))
        return Outcome("sent", None, _clip(_("Filed in {folder} at {where}: {answer}").format(
            folder=repr(folder), where=where, answer=answer)))
    except imaplib.IMAP4.abort as error:
        raise _Failed("temporary", _("{where} dropped the connection: {answer}").format(
            where=where, answer=_words(error))) from error
    except imaplib.IMAP4.error as error:
        raise _Failed("permanent", _refused(where, error)) from error
    finally:
        _logout(client)


def _where(host: str, port: int) -> str:
    return _("{host} port {port}").format(host=host, port=port)


def _tls_failed(where: str, problem: object) -> str:
    return _("TLS with {where} failed: {problem}.").format(where=where, problem=problem)


def _refused(where: str, error: BaseException) -> str:
    return _("{where} refused: {answer}").format(where=where, answer=_words(error))


def _check(endpoint: ImapEndpoint, address: str, ca_bundle: Path | None, timeout: float,
           steps: _Steps) -> None:
    where = _where(endpoint.host, endpoint.port)
    client = _session(endpoint, address, ca_bundle, timeout, steps)
    try:
        steps.begin(STEP_FOLDER)
        folder = _find_folder(client, endpoint, where)
        steps.ok(_("Copies are filed in {folder}.").format(folder=repr(folder)))
    except imaplib.IMAP4.error as error:
        raise _Failed("permanent", _refused(where, error)) from error
    finally:
        _logout(client)


async def _resolve(endpoint: ImapEndpoint, allow_private: bool, steps: _Steps) -> str:
    """The checked address to connect to (the resolution step)."""
    steps.begin(STEP_RESOLVE)
    try:
        addresses = await resolve_upstream_host(endpoint.host, allow_private=allow_private,
                                                port=endpoint.port)
    except HostUnresolvable as error:
        raise _Failed("temporary", str(error)) from error
    except (HostRefused, InvalidInput) as error:
        raise _Failed("permanent", str(error)) from error
    name = normalize_host(endpoint.host)
    steps.ok(_("{host} is an IP address: nothing to look up.").format(host=name)
             if addresses == [name] else
             _("{host} resolves to {addresses}.").format(host=name,
                                                          addresses=", ".join(addresses)))
    if endpoint.security is SmtpSecurity.NONE:
        refusal = unencrypted_refusal(name, addresses, allow_private=allow_private)
        if refusal is not None:
            steps.begin(STEP_TLS)
            raise _Failed("permanent", refusal)
    return addresses[0]


def _temporary(error: BaseException, endpoint: ImapEndpoint) -> _Failed:
    where = _where(endpoint.host, endpoint.port)
    if isinstance(error, _Failed):
        return error
    if isinstance(error, TimeoutError):
        return _Failed("temporary", _("{where} did not answer in time.").format(where=where))
    problem = tls_failure(error)
    if problem is not None:
        return _Failed("temporary", _tls_failed(where, problem))
    return _Failed("temporary", _("The connection to {where} failed: {problem}.").format(
        where=where, problem=_words(error)))


async def append_to_sent(
    endpoint: ImapEndpoint, content: bytes, *, timeout: float, allow_private: bool,
    ca_bundle: Path | None,
) -> Outcome:
    """File ``content`` (marked \\Seen) in the sender's Sent folder (R27); never raises for
    what the server, the network or DNS do."""
    steps = _Steps([])
    try:
        async with asyncio.timeout(timeout):
            address = await _resolve(endpoint, allow_private, steps)
            return await asyncio.to_thread(_append, endpoint, address, content, ca_bundle,
                                           timeout)
    except Exception as error:  # every failure becomes an outcome
        failed = _temporary(error, endpoint)
        return Outcome(failed.kind, None, failed.message)


async def test_imap(
    endpoint: ImapEndpoint, *, timeout: float, allow_private: bool, ca_bundle: Path | None,
) -> list[Step]:
    """Each step towards the sender's mailbox, in words, up to the first that fails."""
    steps = _Steps([])
    try:
        async with asyncio.timeout(timeout):
            address = await _resolve(endpoint, allow_private, steps)
            await asyncio.to_thread(_check, endpoint, address, ca_bundle, timeout, steps)
    except Exception as error:  # every failure becomes a step
        steps.fail(_temporary(error, endpoint).message)
    return steps.steps


test_imap.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
