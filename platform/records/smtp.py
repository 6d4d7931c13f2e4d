"""The inbound SMTP logging address (aiosmtpd, in the server's own event loop).

Each account has a secret address ``<secret>@<logging domain>``. Mail BCC'd to it is logged
on its recipients' records; mail forwarded to it logs the forwarded message. Refusals:
unknown addresses at RCPT (550), senders who are not active users of that account at RCPT
(550: nobody can log into an account they do not belong to), messages over the size limit
at DATA (552, by aiosmtpd), unreadable or hostile messages at DATA (554, with the reason).

Addresses follow the API's one rule (``sendtrail.addresses``): an envelope sender it refuses
is refused at RCPT (553); header addresses it refuses are left out of the logged copy and
named in the 250 reply, never made contacts; a message with no valid participant outside
the account is refused at DATA (550, naming the addresses skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import select

from sendtrail.addresses import valid_address
from sendtrail.db.engine import Database
from sendtrail.db.tenant import unscoped
from sendtrail.db.types import utcnow
from sendtrail.errors import SendtrailError
from sendtrail.records.blobs import BlobStore
from sendtrail.records.forwarding import forwarded_original
from sendtrail.records.logbook import LogInput, log_email, log_input_from_message
from sendtrail.records.mime import MessageLimits, MessageRefused, parse_message
from sendtrail.tenancy.store import AccountRow, UserRow
from sendtrail.tenancy.values import Principal, Role
from sendtrail.tracking.stream import EventSink

__all__ = ["LoggingHandler", "SmtpListener"]

log = logging.getLogger("sendtrail.smtp")


@dataclass
class LoggingHandler:
    database: Database
    blobs: BlobStore
    logging_domain: str
    limits: MessageLimits
    sinks: Sequence[EventSink] = ()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        local, _, domain = address.lower().rpartition("@")
        if domain != self.logging_domain.lower() or not local:
            return "550 5.1.1 This server only accepts mail for logging addresses"
        async with self.database.session(account_id=None) as db:
            account = (await db.exec(
                select(AccountRow).where(AccountRow.logging_secret == local)
            )).one_or_none()
            if account is None:
                return "550 5.1.1 No such logging address"
            known: uuid.UUID | None = getattr(envelope, "sendtrail_account", None)
            if known is not None and known != account.id:
                return "452 4.5.3 Send to one account's logging address per message"
            written = envelope.mail_from or ""
            sender = valid_address(written) if len(written) <= 320 else None
            if sender is None:
                return (f"553 5.1.7 The sender {written[:100]!r} is not a valid email "
                        "address")
            user = (await db.exec(unscoped(select(UserRow).where(
                UserRow.account_id == account.id, UserRow.email == sender,
            )))).one_or_none()
        if user is None or not user.active:
            return (f"550 5.7.1 {sender or 'The sender'} is not a user of this account; only "
                    "its users can log email here")
        envelope.sendtrail_account = account.id  # type: ignore[attr-defined]
        envelope.sendtrail_user = user  # type: ignore[attr-defined]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: PLR0911  (one SMTP answer per outcome)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        account_id: uuid.UUID = envelope.sendtrail_account  # type: ignore[attr-defined]
        user: UserRow = envelope.sendtrail_user  # type: ignore[attr-defined]
        raw = envelope.original_content or b""
        ignore = frozenset(address.lower() for address in envelope.rcpt_tos)
        try:
            # Parsing a large message is seconds of CPU: not on the loop that answers pixels.
            entry = await asyncio.to_thread(
                _entry_of, raw if isinstance(raw, bytes) else raw.encode(), self.limits, ignore
            )
        except MessageRefused as refusal:
            return f"554 5.6.0 {refusal.message}"
        except SendtrailError as error:
            return f"550 5.6.0 {error.message}"
        except Exception:  # a message we cannot read stays unreadable: refuse, don't defer
            log.exception("could not read a message for account %s", account_id)
            return "554 5.6.0 The message could not be read as an email"
        try:
            actor = Principal(login_id=uuid.uuid4(), email=user.email, account_id=account_id,
                              user_id=user.id, role=Role(user.role))
            async with self.database.session(account_id=account_id) as db:
                await log_email(db, actor, account_id, entry, blobs=self.blobs, now=utcnow(),
                                limits=self.limits, sinks=self.sinks)
        except MessageRefused as refusal:
            return f"554 5.6.0 {refusal.message}"
        except SendtrailError as error:
            return f"550 5.6.0 {error.message}"
        except Exception:
            log.exception("could not log a message for account %s", account_id)
            return "451 4.3.0 Could not log the message now; try again later"
        if entry.skipped:
            log.info("logged a message for account %s without %d invalid addresses",
                     account_id, len(entry.skipped))
            return ("250 2.0.0 Message logged; skipped addresses that are not valid: "
                    + ", ".join(entry.skipped))[:500]
        return "250 2.0.0 Message logged"


def _entry_of(raw: bytes, limits: MessageLimits, ignore: frozenset[str]) -> LogInput:
    message = parse_message(raw, limits)
    original = forwarded_original(message)
    if original is not None:
        return log_input_from_message(original, source="forward", ignore=ignore)
    return log_input_from_message(message, source="bcc", ignore=ignore)


class SmtpListener:
    """The SMTP server on its own thread and event loop, with its own database engine:
    reading and parsing a 25 MB message never delays a pixel or an API answer."""

    def __init__(
        self, *, database_url: str, blobs: BlobStore, logging_domain: str,
        limits: MessageLimits, host: str, port: int, sinks: Sequence[EventSink] = (),
    ) -> None:
        self._database = Database(database_url)  # used only from the SMTP thread's loop
        handler = LoggingHandler(database=self._database, blobs=blobs,
                                 logging_domain=logging_domain, limits=limits, sinks=sinks)
        self._controller = Controller(
            handler, hostname=host, port=port, server_hostname=logging_domain,
            data_size_limit=limits.max_bytes, enable_SMTPUTF8=True, ident="Sendtrail logging",
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
