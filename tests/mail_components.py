"""Real mail components on loopback for tests: an upstream SMTP server, dovecot, swaks.

The root conftest lists ``"mail_components"`` in ``pytest_plugins``, so every test may
ask for these fixtures; importing them into a test module also works (``name=`` keeps
ruff's F811 quiet about the parameters that use them)::

    from mail_components import (  # noqa: F401
        dovecot_fixture, mail_tls_fixture, swaks_path_fixture, upstream_sink_factory_fixture,
        upstream_sink_fixture,
    )

- ``mail_tls`` (session): a throwaway self-signed certificate (no CA) for ``localhost``
  and ``127.0.0.1``: ``cert_path``, ``key_path`` and ``ca_bundle`` (the file a client
  trusts: the certificate itself); ``client_context()``, ``server_context()``.
  ``make_mail_tls(directory)`` makes another one (e.g. a *wrong* CA for negative tests).
- ``upstream_sink`` (function): an aiosmtpd server on ``127.0.0.1:<free port>`` playing an
  account's own mail server: STARTTLS (``mail_tls``) and AUTH PLAIN/LOGIN as
  ``alice``/``secret`` (only after STARTTLS; ``add_login`` accepts another user, e.g. a
  rep's own mailbox). It records every accepted transaction
  (``transactions``: mail_from, rcpt_tos, exact bytes, Message-ID, login), counts copies per
  (Message-ID, recipient) (``deliveries()``), answers what it is told for a recipient
  (``reply_to_rcpt("x@example.test", "550 5.1.1 No such user")``) or a sender
  (``reply_to_mail``) or to DATA (``reply_to_data``), can be stopped and started again on
  the SAME port (``stop()``/``start()``: upstream down/up), and ``wait_for(n, timeout)``
  waits for n transactions. ``endpoint()`` is the matching ``SmtpEndpoint``.
- ``upstream_sink_factory`` (function): ``upstream_sink_factory(security="tls"|"starttls"|
  "none", username="alice", password="secret")`` starts more of them (``"tls"`` is
  implicit TLS, SMTPS; ``"none"`` offers AUTH in clear text). ``username=None``: no AUTH.
  All are stopped at the end of the test.
- ``dovecot`` (session): Debian's dovecot with its own configuration (TOOLCHAIN_MAIL.md §1,
  never /etc/dovecot), IMAP (STARTTLS) on ``imap_port`` and IMAPS on ``imaps_port``, a
  ``Sent`` mailbox marked SPECIAL-USE ``\\Sent``. ``add_user(name, password)`` (a fresh
  name per test), ``create_folder(user, name)``, ``messages(user, folder)`` and
  ``sent_messages(user)`` (the exact bytes in the ``\\Sent`` folder; ``messages`` also
  gives the flags), ``endpoint(user,
  security=..., folder=...)`` (an ``ImapEndpoint``). Stopped at the end of the session.
- ``swaks_path`` (session): the ``swaks`` binary.

When a binary is missing the fixtures skip locally and fail under ``CI=true``
(as ``_unavailable`` in tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from components import _spawn, _stop, _unavailable, free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sendtrail.sending.values import ImapEndpoint, SmtpEndpoint, SmtpSecurity

__all__ = [
    "Dovecot",
    "MailTls",
    "SinkSecurity",
    "Transaction",
    "UpstreamSink",
    "UpstreamSinkFactory",
    "dovecot_fixture",
    "mail_tls_fixture",
    "make_mail_tls",
    "swaks_path_fixture",
    "upstream_sink_factory_fixture",
    "upstream_sink_fixture",
]

STARTUP_TIMEOUT = 15.0
SinkSecurity = Literal["tls", "starttls", "none"]


# --- TLS --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailTls:
    cert_path: Path
    key_path: Path

    @property
    def ca_bundle(self) -> Path:
        """What a client trusts to verify this certificate: the self-signed certificate."""
        return self.cert_path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_bundle))


def make_mail_tls(directory: Path, common_name: str = "localhost") -> MailTls:
    """A self-signed certificate and key for localhost, 127.0.0.1 and ::1 in ``directory``."""
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        # Like `openssl req -x509`: its own trust anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    tls = MailTls(directory / "cert.pem", directory / "key.pem")
    tls.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.cert_path.chmod(0o644)
    descriptor = os.open(tls.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
    return tls


@pytest.fixture(scope="session", name="mail_tls")
def mail_tls_fixture(tmp_path_factory: pytest.TempPathFactory) -> MailTls:
    """The session's self-signed certificate for the test mail servers."""
    return make_mail_tls(tmp_path_factory.mktemp("mail-tls"))


# --- the upstream SMTP server (aiosmtpd) -------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """One accepted SMTP transaction."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    """The exact (dot-unstuffed) bytes received after DATA."""
    message_id: str | None
    """The Message-ID header as written (``<...>``), or ``None``."""
    login: str | None
    """The user name it authenticated as, or ``None``."""
    tls: bool
    """Whether the session was encrypted (STARTTLS or implicit TLS)."""
    helo: str | None = None
    """The name the client gave in EHLO/HELO (which node sent it)."""


def _message_id(content: bytes) -> str | None:
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
    value = headers.get("Message-ID")
    return str(value).strip() if value is not None else None


def _reply(reply: str) -> str:
    if not re.match(r"^[2-5][0-9][0-9] ", reply):
        raise ValueError(f"an SMTP reply starts with a 3-digit code and a space: {reply!r}")
    return reply


class _Handler:
    def __init__(self, sink: UpstreamSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:
        reply = self.sink.mail_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.sink.rcpt_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope,
    ) -> str:
        if self.sink.data_reply is not None:
            return self.sink.data_reply
        content = envelope.original_content or b""
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self.sink._record(Transaction(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            content=content,
            message_id=_message_id(content),
            login=login.decode("utf-8", "replace") if login is not None else None,
            tls=server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None,
            helo=session.host_name,
        ))
        return "250 2.0.0 OK queued"


@dataclass
class UpstreamSink:
    """An account's own mail server, as far as Sendtrail can tell (aiosmtpd in a thread)."""

    tls: MailTls
    security: SinkSecurity = "starttls"
    username: str | None = "alice"
    password: str | None = "secret"
    host: str = "127.0.0.1"
    port: int = 0
    data_size_limit: int = 10 * 1024 * 1024
    transactions: list[Transaction] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    mail_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    other_logins: dict[str, str] = field(default_factory=dict)
    """Logins accepted besides ``username``/``password`` (``add_login``)."""
    auth_attempts: int = 0
    _controller: Controller | None = field(default=None, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def ca_bundle(self) -> Path:
        return self.tls.ca_bundle

    @property
    def running(self) -> bool:
        return self._controller is not None

    def endpoint(self) -> SmtpEndpoint:
        """The endpoint reaching this server; ``dataclasses.replace`` it for negative tests."""
        security = {"tls": SmtpSecurity.TLS, "starttls": SmtpSecurity.STARTTLS,
                    "none": SmtpSecurity.NONE}[self.security]
        return SmtpEndpoint(host=self.host, port=self.port, security=security,
                            username=self.username, password=self.password)

    # what it answers

    def reply_to_rcpt(self, recipient: str, reply: str | None) -> None:
        """Answer ``reply`` (e.g. ``"550 5.1.1 No such user"``) to RCPT TO this address;
        ``None`` accepts it again."""
        if reply is None:
            self.rcpt_replies.pop(recipient.lower(), None)
        else:
            self.rcpt_replies[recipient.lower()] = _reply(reply)

    def reply_to_mail(self, sender: str, reply: str | None) -> None:
        """Answer ``reply`` to MAIL FROM this address; ``None`` accepts it again."""
        if reply is None:
            self.mail_replies.pop(sender.lower(), None)
        else:
            self.mail_replies[sender.lower()] = _reply(reply)

    def reply_to_data(self, reply: str | None) -> None:
        """Answer ``reply`` after every DATA (nothing is recorded); ``None`` accepts again."""
        self.data_reply = _reply(reply) if reply is not None else None

    def add_login(self, username: str, password: str) -> None:
        """Accept this login too (``Transaction.login`` tells which one a copy came with)."""
        self.other_logins[username] = password

    # what it received

    def _record(self, transaction: Transaction) -> None:
        with self._changed:
            self.transactions.append(transaction)
            self._changed.notify_all()

    def deliveries(self, message_id: str | None = None, recipient: str | None = None) -> int:
        """How many copies were accepted for (Message-ID, recipient); ``None`` = any."""
        return self.delivery_counts()[(message_id, recipient)] if (
            message_id is not None and recipient is not None
        ) else sum(
            1 for t in list(self.transactions) for r in t.rcpt_tos
            if message_id in (None, t.message_id)
            and (recipient is None or r.lower() == recipient.lower())
        )

    def delivery_counts(self) -> Counter[tuple[str | None, str]]:
        """Accepted copies per (Message-ID, recipient)."""
        counts: Counter[tuple[str | None, str]] = Counter()
        for transaction in list(self.transactions):
            for recipient in transaction.rcpt_tos:
                counts[(transaction.message_id, recipient)] += 1
        return counts

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Transaction]:
        """Block until at least ``count`` transactions were accepted; AssertionError if not."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.transactions) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"upstream sink: {len(self.transactions)} of {count} transactions "
                        f"after {timeout} s"
                    )
                self._changed.wait(left)
            return list(self.transactions)

    # up and down

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        self.auth_attempts += 1
        accepted = dict(self.other_logins)
        if self.username is not None and self.password is not None:
            accepted[self.username] = self.password
        ok = isinstance(auth_data, LoginPassword) and any(
            auth_data.login == name.encode() and auth_data.password == password.encode()
            for name, password in accepted.items()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> None:
        """Listen (again) on ``port`` (a free one the first time)."""
        if self._controller is not None:
            return
        if not self.port:
            self.port = free_port()
        kwargs: dict[str, Any] = {}
        if self.username is not None:
            kwargs["authenticator"] = self._authenticate
        if self.security == "starttls":
            kwargs.update(tls_context=self.tls.server_context(), require_starttls=True,
                          auth_require_tls=True)
        elif self.security == "tls":
            kwargs.update(ssl_context=self.tls.server_context(), auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, server_hostname="localhost",
            data_size_limit=self.data_size_limit, ready_timeout=STARTUP_TIMEOUT, **kwargs,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections to ``port`` are refused until ``start()``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


UpstreamSinkFactory = Callable[..., UpstreamSink]


@pytest.fixture(name="upstream_sink_factory")
def upstream_sink_factory_fixture(mail_tls: MailTls) -> Iterator[UpstreamSinkFactory]:
    """``upstream_sink_factory(security=..., username=..., password=...) -> UpstreamSink``."""
    started: list[UpstreamSink] = []

    def make(
        security: SinkSecurity = "starttls", username: str | None = "alice",
        password: str | None = "secret", **kwargs: Any,  # noqa: S107
    ) -> UpstreamSink:
        sink = UpstreamSink(tls=mail_tls, security=security, username=username,
                            password=password, **kwargs)
        started.append(sink)
        for attempt in range(3):  # a "free" port may be taken between probe and bind
            try:
                sink.start()
                break
            except (OSError, RuntimeError):
                if attempt == 2:
                    raise
                sink.port = 0
        return sink

    try:
        yield make
    finally:
        for sink in started:
            sink.stop()


@pytest.fixture(name="upstream_sink")
def upstream_sink_fixture(upstream_sink_factory: UpstreamSinkFactory) -> UpstreamSink:
    """STARTTLS + AUTH (alice/secret) on a free port, stopped after the test."""
    return upstream_sink_factory()


# --- swaks ------------------------------------------------------------------------------


def _binary(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
    if path is None:
        _unavailable(f"`{name}` is not installed (apt-get install {package})")
        raise AssertionError("unreachable: _unavailable skips or fails")
    return path


@pytest.fixture(scope="session", name="swaks_path")
def swaks_path_fixture() -> str:
    return _binary("swaks", "swaks")


# --- dovecot ----------------------------------------------------------------------------


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
"""


@dataclass
class Dovecot:
    """A dovecot IMAP server with its own configuration in ``root`` (never /etc/dovecot)."""

    binary: str
    tls: MailTls
    root: Path
    host: str = "127.0.0.1"
    imap_port: int = 0
    imaps_port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ca_bundle(self) -> Path:
        return self.tls.ca_bundle

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _ids(self) -> tuple[int, int]:
        # As root the mail processes run as nobody (uid 0 is refused); otherwise as us.
        return (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())

    def start(self) -> None:
        self.imap_port, self.imaps_port = free_port(), free_port()
        (self.root / "mail").mkdir(exist_ok=True)
        uid, gid = self._ids()
        if os.getuid() == 0:
            os.chown(self.root / "mail", uid, gid)
            users = ("dovenull", "dovecot", "dovecot")
        else:
            users = (pwd.getpwuid(os.getuid()).pw_name, pwd.getpwuid(os.getuid()).pw_name,
                     grp.getgrgid(os.getgid()).gr_name)
        # One passwd-file per user: a file dovecot has never read cannot be stale in its
        # cache (one shared file, rewritten within the same second, can be).
        (self.root / "users").mkdir(exist_ok=True)
        config = self.root / "dovecot.conf"
        config.write_text(_CONFIG.format(
            root=self.root, cert=self.tls.cert_path, key=self.tls.key_path,
            login_user=users[0], internal_user=users[1], internal_group=users[2],
            uid=uid, gid=gid, imap_port=self.imap_port, imaps_port=self.imaps_port,
        ))
        with (self.root / "dovecot.stdout").open("ab") as log:
            self.process = _spawn([self.binary, "-F", "-c", str(config)], log)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n"
                                   f"{self.logs()}")
            # Wait for the greeting, not connect(): the master accepts TCP even when its
            # login process cannot start (TOOLCHAIN_MAIL.md §1).
            if self._greets(self.imap_port, tls=False) and self._greets(self.imaps_port, tls=True):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not greet in {STARTUP_TIMEOUT} s:\n{self.logs()}")

    def _greets(self, port: int, *, tls: bool) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=1) as raw:
                if tls:
                    context = self.tls.client_context()
                    with context.wrap_socket(raw, server_hostname="localhost") as wrapped:
                        return wrapped.recv(256).startswith(b"* OK")
                return raw.recv(256).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM and wait for the exit (shutdown takes about a second)."""
        if self.process is not None:
            _stop(self.process)
            self.process = None

    # users and mailboxes

    def add_user(self, name: str, password: str) -> None:
        """Create a user (a new name each time; dovecot rereads the passwd-file)."""
        if not re.fullmatch(r"[A-Za-z0-9._@+-]+", name) or ":" in password or "\n" in password:
            raise ValueError(f"unsuitable test user {name!r}")
        uid, gid = self._ids()
        home = self.root / "mail" / name
        with self._lock:
            if name in self.passwords:
                raise ValueError(f"dovecot user {name!r} exists already")
            home.mkdir()
            if os.getuid() == 0:
                os.chown(home, uid, gid)
            (self.root / "users" / name).write_text(
                f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{home}\n"
            )
            self.passwords[name] = password

    def endpoint(
        self, user: str, *, security: SmtpSecurity = SmtpSecurity.TLS,
        folder: str | None = None, password: str | None = None,
    ) -> ImapEndpoint:
        """An ``ImapEndpoint`` for ``user`` (IMAPS by default; STARTTLS/NONE on the IMAP port)."""
        port = self.imaps_port if security is SmtpSecurity.TLS else self.imap_port
        return ImapEndpoint(
            host=self.host, port=port, security=security, username=user,
            password=password if password is not None else self.passwords[user], folder=folder,
        )

    def connect(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4_SSL(self.host, self.imaps_port,
                                   ssl_context=self.tls.client_context(), timeout=10)
        try:
            client.login(user, self.passwords[user])
        except BaseException:
            client.shutdown()
            raise
        return client

    def create_folder(self, user: str, folder: str) -> None:
        client = self.connect(user)
        try:
            typ, data = client.create(_quote(folder))
            if typ != "OK":
                raise AssertionError(f"CREATE {folder}: {typ} {data!r}")
        finally:
            client.logout()

    def sent_folder(self, user: str) -> str:
        """The name of the mailbox marked SPECIAL-USE \\Sent."""
        client = self.connect(user)
        try:
            typ, data = client._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
            typ, data = client._untagged_response(typ, data, "LIST")
            for line in data:
                if isinstance(line, bytes) and b"\\Sent" in line:
                    return line.rsplit(b" ", 1)[-1].decode().strip('"')
        finally:
            client.logout()
        raise AssertionError(f"no \\Sent folder for {user}: {data!r}")

    def messages(self, user: str, folder: str) -> list[tuple[bytes, bytes]]:
        """Every message in ``folder`` as (flags, exact bytes), oldest first."""
        client = self.connect(user)
        try:
            typ, data = client.select(_quote(folder), readonly=True)
            if typ != "OK":
                raise AssertionError(f"SELECT {folder}: {typ} {data!r}")
            typ, data = client.search(None, "ALL")
            numbers = data[0].split() if data and data[0] else []
            found: list[tuple[bytes, bytes]] = []
            for number in numbers:
                typ, parts = client.fetch(number, "(FLAGS BODY.PEEK[])")
                for part in parts:
                    if isinstance(part, tuple):
                        flags = re.search(rb"FLAGS \(([^)]*)\)", part[0])
                        found.append((flags.group(1) if flags else b"", part[1]))
            return found
        finally:
            client.logout()

    def sent_messages(self, user: str) -> list[bytes]:
        """The exact bytes of every message in the user's \\Sent folder, oldest first."""
        return [content for _flags, content in self.messages(user, self.sent_folder(user))]


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session", name="dovecot")
def dovecot_fixture(mail_tls: MailTls) -> Iterator[Dovecot]:
    """The session's dovecot (tests use their own user names: ``add_user``)."""
    binary = _binary("dovecot", "dovecot-imapd")
    if not Path("/usr/lib/dovecot/imap").exists():
        _unavailable("dovecot's IMAP server is not installed (apt-get install dovecot-imapd)")
    # Not under pytest's 0700 temp root: as root the mail processes run as nobody and
    # must reach their home directories.
    root = Path(tempfile.mkdtemp(prefix="sendtrail-dovecot-"))
    root.chmod(0o755)
    server = Dovecot(binary=binary, tls=mail_tls, root=root)
    for attempt in range(3):
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
