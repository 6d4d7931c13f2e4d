"""The SMTP submission relay (R26): any mail client sends through Sendtrail (aiosmtpd).

A client logs in with AUTH PLAIN or LOGIN: the user name is the user's email address, the
password an API token whose scopes hold ``send`` and whose user is that address's active
user; anything else is ``535 5.7.8``, never saying which part was wrong. AUTH is offered
only after STARTTLS (when a certificate is configured), except on a loopback listener,
where clear text never leaves the machine. Then, one SMTP answer per rule:

- MAIL without AUTH: 530; MAIL FROM another address than the user's own: 553; more than
  ``sends_per_hour`` submissions by the user in the last hour (counted in the database,
  so the limit holds across nodes): 451.
- RCPT: an address ``sendtrail.addresses`` refuses: 553; beyond ``max_recipients``: 452;
  the same address twice: one copy.
- DATA: larger than ``max_message_bytes`` (announced as SIZE): 552 (aiosmtpd); a From
  header that is not the user's own address: 550; then ``service.submit`` stores the
  submission and its copies, and only once it has returned (committed) the client hears
  ``250 2.0.0 Queued as <id>``. Outbound mail not configured: 550; a message refused in
  words: 554; anything unexpected: 451 (logged; the client tries again later).

The relay runs on its own thread, event loop and database engine, like the SMTP logging
listener (``records/smtp.py``): reading a 25 MB message never delays a pixel.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sendtrail.addresses import valid_address
from sendtrail.db.engine import Database
from sendtrail.errors import InvalidInput, OutboundNotConfigured, RateLimited, SendtrailError
from sendtrail.sending.core.message import read_message
from sendtrail.sending.service import SendContext, sends_in_last_hour, submit
from sendtrail.tenancy.tokens import authenticate_token
from sendtrail.tenancy.values import Principal, Scope

__all__ = ["RelayHandler", "RelayLimits", "SubmissionRelay", "is_loopback"]

log = logging.getLogger("sendtrail.relay")

BAD_LOGIN = "535 5.7.8 Authentication credentials invalid"


@dataclass(frozen=True)
class RelayLimits:
    max_message_bytes: int
    max_recipients: int
    sends_per_hour: int


def is_loopback(host: str) -> bool:
    """Whether a listener bound to ``host`` is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _accept_for_checking(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    # aiosmtpd calls its authenticator synchronously; the token check needs the database,
    # so this only hands the decoded login on, and RelayHandler.auth_* decide (awaiting).
    return AuthResult(success=True, handled=False, auth_data=auth_data)


@dataclass
class RelayHandler:
    database: Database
    context: SendContext
    limits: RelayLimits
    clock: Callable[[], datetime]

    # AUTH: aiosmtpd's own PLAIN and LOGIN parse the exchange; the login is checked here.
    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._checked(await server.auth_PLAIN(server, args))

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._checked(await server.auth_LOGIN(server, args))

    async def _checked(self, parsed: AuthResult) -> AuthResult:
        if not parsed.success or not isinstance(parsed.auth_data, LoginPassword):
            return parsed  # aiosmtpd already answered (501, aborted) or will say 535
        login: LoginPassword = parsed.auth_data
        try:
            principal = await self._principal(login.login, login.password)
        except Exception:  # the database, not the client: say so, and let it retry
            log.exception("could not check a relay login")
            return AuthResult(success=False, handled=False,
                              message="454 4.7.0 Cannot check the login now; try again later")
        if principal is None:
            return AuthResult(success=False, handled=False, message=BAD_LOGIN)
        return AuthResult(success=True, handled=False, auth_data=principal)

    async def _principal(self, user: bytes, password: bytes) -> Principal | None:
        """The token's principal when the login is this user's token with ``send``."""
        try:
            email, token = user.decode().strip().lower(), password.decode().strip()
        except UnicodeDecodeError:
            return None
        try:
            async with self.database.session(account_id=None) as db:
                principal = await authenticate_token(db, token, now=self.clock())
        except SendtrailError as error:
            log.info("relay login refused for %r: %s", email[:100], error.message)
            return None
        if principal.email.lower() != email or Scope.SEND not in principal.held_scopes:
            log.info("relay login refused for %r: the token is another user's or lacks the "
                     "send scope", email[:100])
            return None
        return principal

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:
        principal = _logged_in(session)
        if principal is None:
            return "530 5.7.0 Authentication required: log in with your email and an API token"
        if valid_address(address) != principal.email.lower():
            return (f"553 5.7.1 You may send only as yourself: use {principal.email} as the "
                    "sender")
        try:
            sent = await self._hourly_count(principal)
        except Exception:
            log.exception("could not count the submissions of %s", principal.email)
            return "451 4.3.0 Cannot take messages now; try again later"
        if sent >= self.limits.sends_per_hour:
            return (f"451 4.7.1 You sent {self.limits.sends_per_hour} messages in the last "
                    "hour, the most allowed; try again later")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def _hourly_count(self, principal: Principal) -> int:
        if principal.account_id is None or principal.user_id is None:
            return 0  # a relay login is always a user's token (``_principal``)
        async with self.database.session(account_id=principal.account_id) as db:
            return await sends_in_last_hour(db, principal.account_id, principal.user_id,
                                            self.clock())

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        recipient = valid_address(address) if len(address) <= 320 else None
        if recipient is None:
            return f"553 5.1.3 The recipient {address[:100]!r} is not a valid email address"
        if recipient in {valid_address(given) for given in envelope.rcpt_tos}:
            return "250 2.1.5 OK (already a recipient: one copy)"
        if len(envelope.rcpt_tos) >= self.limits.max_recipients:
            return (f"452 4.5.3 Too many recipients: send to at most "
                    f"{self.limits.max_recipients} per message")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: PLR0911  (one SMTP answer per outcome)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        principal = _logged_in(session)
        if principal is None or principal.account_id is None:  # MAIL saw to it
            return "530 5.7.0 Authentication required"
        content = envelope.original_content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        try:
            # Parsing a large message is CPU: not on the loop that reads other clients.
            sender = await asyncio.to_thread(_header_sender, raw)
        except SendtrailError as error:
            return f"554 5.6.0 {error.message}"
        except Exception:
            log.exception("could not read a submitted message of %s", principal.email)
            return "554 5.6.0 The message could not be read as an email"
        if sender != principal.email.lower():
            return (f"550 5.7.1 The From header must be your own address, {principal.email}; "
                    "you may send only as yourself")
        try:
            async with self.database.session(account_id=principal.account_id) as db:
                submission = await submit(
                    db, principal, principal.account_id, raw,
                    envelope_from=envelope.mail_from or principal.email,
                    envelope_recipients=list(envelope.rcpt_tos), source="relay",
                    context=self.context, now=self.clock(),
                )
        except OutboundNotConfigured as error:
            return f"550 5.3.5 {error.message}"
        except InvalidInput as error:
            return f"554 5.6.0 {error.message}"
        except RateLimited as error:  # another node's submissions counted meanwhile
            return f"451 4.7.1 {error.message}"
        except SendtrailError as error:
            return f"550 5.7.1 {error.message}"
        except Exception:
            log.exception("could not queue a message of %s", principal.email)
            return "451 4.3.0 Could not queue the message now; try again later"
        reply = f"250 2.0.0 Queued as {submission.outgoing_id}"
        if submission.not_tracked_reasons:
            reply += "; not tracked: " + " ".join(submission.not_tracked_reasons)
        return reply[:500]


def _logged_in(session: Session) -> Principal | None:
    principal = session.auth_data if session.authenticated else None
    return principal if isinstance(principal, Principal) else None


def _header_sender(raw: bytes) -> str | None:
    """The From address of ``raw``, canonical; None when there is none, or several (a
    second address in From would send as someone else too)."""
    facts = read_message(raw)
    if facts.sender is None:
        return None
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    if len(getaddresses(headers.get_all("From", failobj=[]))) != 1:
        return None
    return valid_address(facts.sender.address)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side of STARTTLS from a PEM certificate chain and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class SubmissionRelay:
    """The relay on its own thread, event loop and database engine."""

    def __init__(
        self, *, database_url: str, context: SendContext, limits: RelayLimits, host: str,
        port: int, server_name: str, tls: ssl.SSLContext | None,
        clock: Callable[[], datetime],
    ) -> None:
        if tls is None and not is_loopback(host):
            log.warning("the submission relay on %s has no TLS certificate: it refuses AUTH, "
                        "so no mail client can send; set SENDTRAIL_SUBMISSION_TLS_CERT and "
                        "_KEY", host)
        self._database = Database(database_url)  # used only from the relay thread's loop
        handler = RelayHandler(database=self._database, context=context, limits=limits,
                               clock=clock)
        self._controller = Controller(
            handler, hostname=host, port=port, server_hostname=server_name,
            data_size_limit=limits.max_message_bytes, enable_SMTPUTF8=True,
            ident="Sendtrail submission", tls_context=tls,
            # Clear-text AUTH only where it cannot be overheard: a loopback listener.
            auth_require_tls=not is_loopback(host), authenticator=_accept_for_checking,
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        disposed = asyncio.run_coroutine_threadsafe(
            self._database.dispose(), self._controller.loop
        )
        with contextlib.suppress(Exception):
            disposed.result(timeout=5)
        self._controller.stop()
