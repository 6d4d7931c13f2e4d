"""The inbound SMTP logging address (aiosmtpd, in the server's own event loop).

Each account has a secret address ``<secret>@<logging domain>``. Mail BCC'd to it is logged
on its recipients' records; mail forwarded to it logs the forwarded message. Refusals:
unknown addresses at RCPT (550), senders who are not active users of that account at RCPT
(550: nobody can log into an account they do not belong to), messages over the size limit
at DATA (552, by aiosmtpd), unreadable or hostile messages at DATA (554, with the reason).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import select

from sendtrail.db.engine import Database
from sendtrail.db.tenant import unscoped
from sendtrail.db.types import utcnow
from sendtrail.errors import SendtrailError
from sendtrail.records.blobs import BlobStore
from sendtrail.records.forwarding import forwarded_original
from sendtrail.records.logbook import log_email, log_input_from_message
from sendtrail.records.mime import MessageLimits, MessageRefused, parse_message
from sendtrail.tenancy.store import AccountRow, UserRow
from sendtrail.tenancy.values import Principal, Role

__all__ = ["LoggingHandler", "start_smtp_server"]

log = logging.getLogger("sendtrail.smtp")


@dataclass
class LoggingHandler:
    database: Database
    blobs: BlobStore
    logging_domain: str
    limits: MessageLimits

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
            sender = (envelope.mail_from or "").lower()
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

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        account_id: uuid.UUID = envelope.sendtrail_account  # type: ignore[attr-defined]
        user: UserRow = envelope.sendtrail_user  # type: ignore[attr-defined]
        raw = envelope.original_content or b""
        try:
            message = parse_message(raw if isinstance(raw, bytes) else raw.encode(), self.limits)
            original = forwarded_original(message)
            ignore = frozenset(address.lower() for address in envelope.rcpt_tos)
            entry = (
                log_input_from_message(original, source="forward", ignore=ignore)
                if original is not None
                else log_input_from_message(message, source="bcc", ignore=ignore)
            )
            actor = Principal(login_id=uuid.uuid4(), email=user.email, account_id=account_id,
                              user_id=user.id, role=Role(user.role))
            async with self.database.session(account_id=account_id) as db:
                await log_email(db, actor, account_id, entry, blobs=self.blobs, now=utcnow(),
                                limits=self.limits)
        except MessageRefused as refusal:
            return f"554 5.6.0 {refusal.message}"
        except SendtrailError as error:
            return f"550 5.6.0 {error.message}"
        except Exception:
            log.exception("could not log a message for account %s", account_id)
            return "451 4.3.0 Could not log the message now; try again later"
        return "250 2.0.0 Message logged"


async def start_smtp_server(
    handler: LoggingHandler, *, host: str, port: int, hostname: str
) -> asyncio.Server:
    def protocol() -> Any:
        return SMTP(handler, data_size_limit=handler.limits.max_bytes, enable_SMTPUTF8=True,
                    hostname=hostname, ident="Sendtrail logging")

    return await asyncio.get_running_loop().create_server(protocol, host=host, port=port)
