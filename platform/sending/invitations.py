"""Invitation emails through the account's own mail server (issue 15, defect 3; R26).

An invitation is one plain email from the inviting admin to the invitee, untracked, sent
while the admin waits (like "Test connection"): the answer says at once whether it went
out, and why not in words. Without outbound mail, or when the server refuses, nothing is
queued: the admin copies the link, which the reply carries once (only its hash is
stored). The link's token sits after ``#`` (``/invitation#token``): browsers never send a
fragment, so it reaches no server log and no Referer.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.secretbox import SecretBox
from sendtrail.sending.core.compose import compose_message
from sendtrail.sending.core.message import Party
from sendtrail.sending.dkim import sign_message
from sendtrail.sending.endpoints import Route, route_for
from sendtrail.sending.upstream import deliver
from sendtrail.settings import Settings
from sendtrail.tenancy import invitations
from sendtrail.tenancy.invitation_email import invitation_wording
from sendtrail.tenancy.invitations import Issued
from sendtrail.tenancy.store import AccountRow, InvitationRow, UserRow
from sendtrail.tenancy.values import Principal, Role, Seat

__all__ = ["InvitationSent", "invitation_link", "invite_and_email", "resend_and_email"]

SEND_TIMEOUT = 20.0
"""Longest the admin waits for the mail server (the link is theirs to copy either way)."""
NO_OUTBOUND = ("No email was sent: this account has no outbound mail set up (Settings → "
               "Outbound mail). Copy the link and send it to them yourself.")


@dataclass(frozen=True)
class InvitationSent:
    """The invited user, their invitation as stored, and the link (shown once, to admins)."""

    user: UserRow
    invitation: InvitationRow
    link: str


def invitation_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/invitation#{token}"


def _message(*, inviter: Party, invitee: UserRow, account: str, link: str,
             expires_at: datetime, now: datetime) -> bytes:
    words = invitation_wording(who=inviter.name or inviter.address,
                               inviter_address=inviter.address, invitee_name=invitee.name,
                               account=account, link=link, expires_at=expires_at)
    return compose_message(
        sender=inviter, to=(Party(invitee.email, invitee.name),), cc=(), bcc=(),
        subject=words.subject, html=words.html, text=words.text,
        attachments=(), message_id=f"<{uuid.uuid4()}@sendtrail.invitation>", date=now,
        in_reply_to=None, references=(),
    )


def _signed(content: bytes, route: Route, sender: str) -> bytes:
    key = route.dkim_key_for(sender)
    if key is None:
        return content
    return sign_message(content, domain=key.domain, selector=key.selector,
                        private_key_pem=key.private_key_pem)


async def _email(
    session: AsyncSession, *, settings: Settings, box: SecretBox, actor: Principal,
    user: UserRow, issued: Issued, link: str, now: datetime,
) -> tuple[datetime | None, str | None]:
    """Send the invitation from the inviting admin: (sent at, None) or (None, why not)."""
    if actor.user_id is None:
        return None, "No email was sent: only an account's user can send invitations. " \
            "Copy the link and send it to them yourself."
    route = await route_for(session, box, user.account_id, actor.user_id)
    if route is None:
        return None, NO_OUTBOUND
    inviter = await session.get(UserRow, (user.account_id, actor.user_id))
    account = await session.get(AccountRow, user.account_id)
    sender = Party(actor.email, inviter.name if inviter is not None else None)
    content = _message(inviter=sender, invitee=user, account=account.name if account else "",
                       link=link, expires_at=issued.row.expires_at, now=now)
    content = await asyncio.to_thread(_signed, content, route, actor.email)
    await session.commit()  # end the read transaction: no snapshot held while SMTP talks
    sending = settings.sending
    outcome = await deliver(
        route.smtp, mail_from=actor.email, recipient=user.email, content=content,
        helo_name=sending.helo_name,
        timeout=min(SEND_TIMEOUT, sending.delivery_timeout_seconds),
        allow_private=sending.outbound_allow_private, ca_bundle=sending.outbound_ca_bundle,
    )
    if outcome.kind == "sent":
        return now, None
    return None, (f"The invitation email was not sent: {outcome.message} Copy the link and "
                  "send it yourself, or resend it once the mail server accepts it.")


async def _send_and_record(
    session: AsyncSession, *, settings: Settings, box: SecretBox, actor: Principal,
    user: UserRow, issued: Issued, email: bool, action: str, now: datetime,
) -> InvitationSent:
    link = invitation_link(settings.http.public_url, issued.token)
    if email:
        sent_at, problem = await _email(session, settings=settings, box=box, actor=actor,
                                        user=user, issued=issued, link=link, now=now)
    else:
        sent_at, problem = None, ("Not emailed, as asked: copy the link and send it yourself. "
                                  "Any link sent before no longer works.")
    row = await invitations.record_sending(session, actor, user.account_id, issued,
                                           sent_at=sent_at, problem=problem, action=action)
    return InvitationSent(user, row, link)


async def invite_and_email(
    session: AsyncSession, settings: Settings, box: SecretBox, actor: Principal,
    account_id: uuid.UUID, *, email: str, name: str | None, role: Role, seat: Seat,
    now: datetime,
) -> InvitationSent:
    """Add the user with a new link (one transaction), then email it (admins)."""
    ttl = timedelta(hours=settings.auth.invitation_ttl_hours)
    user, issued = await invitations.invite(session, actor, account_id, email=email, name=name,
                                            role=role, seat=seat, now=now, ttl=ttl)
    return await _send_and_record(session, settings=settings, box=box, actor=actor, user=user,
                                  issued=issued, email=True, action="invitation.sent", now=now)


async def resend_and_email(
    session: AsyncSession, settings: Settings, box: SecretBox, actor: Principal,
    account_id: uuid.UUID, *, user_id: uuid.UUID, email: bool, now: datetime,
) -> InvitationSent:
    """A new link that replaces the old one, emailed unless the admin only copies it."""
    ttl = timedelta(hours=settings.auth.invitation_ttl_hours)
    user, issued = await invitations.reissue(session, actor, account_id, user_id=user_id,
                                             now=now, ttl=ttl)
    return await _send_and_record(session, settings=settings, box=box, actor=actor, user=user,
                                  issued=issued, email=email, action="invitation.resent",
                                  now=now)
