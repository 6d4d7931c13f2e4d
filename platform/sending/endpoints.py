"""Where one sender's mail goes: the upstream login, the Sent folder and the DKIM keys,
decrypted for one delivery attempt and never kept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.secretbox import SecretBox
from sendtrail.sending.store import (
    DKIM_KEY_CONTEXT,
    PASSWORD_CONTEXT,
    DkimKeyRow,
    OutboundLoginRow,
    OutboundMailRow,
)
from sendtrail.sending.values import ImapEndpoint, SmtpEndpoint, SmtpSecurity

__all__ = ["DkimKey", "Route", "route_for"]


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private_key_pem: bytes


@dataclass(frozen=True)
class Route:
    smtp: SmtpEndpoint
    imap: ImapEndpoint | None
    """``None`` when no Sent folder is set up, or the upstream files sent mail itself."""
    dkim_keys: tuple[DkimKey, ...]

    def dkim_key_for(self, sender: str) -> DkimKey | None:
        """The key of the sender's domain, if the account stored one."""
        domain = sender.rpartition("@")[2].lower()
        return next((key for key in self.dkim_keys if key.domain == domain), None)


async def route_for(
    session: AsyncSession, box: SecretBox, account_id: uuid.UUID, sender_id: uuid.UUID
) -> Route | None:
    """``None`` when the account has no outbound mail. With per-user logins, a sender's own
    login replaces the account's; one who set none sends with the account's."""
    outbound = (await session.exec(select(OutboundMailRow).where(
        OutboundMailRow.account_id == account_id))).one_or_none()
    if outbound is None:
        return None
    username, password = outbound.username, _open(box, outbound.password_encrypted)
    imap_username = outbound.imap_username
    imap_password = _open(box, outbound.imap_password_encrypted)
    if outbound.per_user_logins:
        own = (await session.exec(select(OutboundLoginRow).where(
            OutboundLoginRow.account_id == account_id, OutboundLoginRow.user_id == sender_id,
        ))).one_or_none()
        if own is not None:
            # A rep's own mailbox: the same login sends and files their sent mail.
            username = imap_username = own.username
            password = imap_password = _open(box, own.password_encrypted)
    imap = None
    if (outbound.imap_host and outbound.imap_port and not outbound.upstream_files_sent
            and imap_username and imap_password is not None):
        imap = ImapEndpoint(
            host=outbound.imap_host, port=outbound.imap_port,
            security=SmtpSecurity(outbound.imap_security or SmtpSecurity.TLS.value),
            username=imap_username, password=imap_password, folder=outbound.sent_folder,
        )
    keys = (await session.exec(select(DkimKeyRow).where(
        DkimKeyRow.account_id == account_id))).all()
    return Route(
        smtp=SmtpEndpoint(host=outbound.host, port=outbound.port,
                          security=SmtpSecurity(outbound.security), username=username,
                          password=password),
        imap=imap,
        dkim_keys=tuple(
            DkimKey(key.domain, key.selector,
                    box.decrypt(key.private_key_encrypted, context=DKIM_KEY_CONTEXT))
            for key in keys
        ),
    )


def _open(box: SecretBox, sealed: str | None) -> str | None:
    return None if sealed is None else box.decrypt(sealed, context=PASSWORD_CONTEXT).decode()
