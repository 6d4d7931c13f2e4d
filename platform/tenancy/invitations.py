"""Invitations: an invited user sets their password through a single-use, expiring link
(issue 15, defect 3; R19).

The admin's side (``invite``, ``reissue``, ``revoke``) runs in the account's session like
every user change and is audited (``invitation.sent``, ``resent``, ``revoked``). The
invitee's side (``preview``, ``accept``) has no principal: the link's token finds the
account (its SHA-256 is a global lookup, like an API token's), then everything happens in
that account's session. Emailing the link is the sending layer's (``sending.invitations``).

A link is refused in words: unknown (404), used, expired, revoked or replaced by a newer
one (410), or when it cannot apply (409: the user was deactivated, already has a password,
or — when accepting only — their address signs in elsewhere: an address signs in to one
place).
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.engine import Database
from sendtrail.db.tenant import unscoped
from sendtrail.errors import Conflict, Gone, NotFound
from sendtrail.i18n import N_, _
from sendtrail.moments import spoken_moment
from sendtrail.tenancy import audit, users
from sendtrail.tenancy.auth import SignedIn, open_session
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.credentials import hash_password, hash_secret, new_secret
from sendtrail.tenancy.store import AccountRow, InvitationRow, LoginRow, UserRow
from sendtrail.tenancy.values import Principal, Role, Seat

__all__ = [
    "InvitationState",
    "InvitationView",
    "Issued",
    "accept",
    "invite",
    "latest_of_users",
    "preview",
    "record_sending",
    "reissue",
    "revoke",
    "state_of",
]

UNKNOWN_LINK = N_("This invitation link is not known. Check that you opened the whole link "
                  "from the email, or ask an admin of your account to invite you again.")
ALREADY_USED = N_("This invitation link was already used to set a password: it works only "
                  "once. Sign in with your email address and password instead.")


class InvitationState(enum.Enum):
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    REPLACED = "replaced"


def state_of(row: InvitationRow, now: datetime) -> InvitationState:
    if row.closed_reason is not None:
        return InvitationState(row.closed_reason)
    return InvitationState.PENDING if row.expires_at > now else InvitationState.EXPIRED


@dataclass(frozen=True)
class Issued:
    """A new invitation and its token: the token exists only here (only its hash is stored)."""

    row: InvitationRow
    token: str


@dataclass(frozen=True)
class InvitationView:
    """What the link's page shows before the invitee chooses a password."""

    email: str
    name: str | None
    account_name: str
    invited_by: str
    expires_at: datetime


async def _inviter(session: AsyncSession, actor: Principal) -> str:
    """The inviter as the invitee reads them: "Ada Admin (ada@acme.test)" or the address."""
    row = None
    if actor.account_id is not None and actor.user_id is not None:
        row = await session.get(UserRow, (actor.account_id, actor.user_id))
    return f"{row.name} ({actor.email})" if row is not None and row.name else actor.email


async def _open_of(session: AsyncSession, account_id: uuid.UUID,
                   user_id: uuid.UUID) -> InvitationRow | None:
    statement = select(InvitationRow).where(
        InvitationRow.account_id == account_id, InvitationRow.user_id == user_id,
        col(InvitationRow.closed_at).is_(None),
    ).with_for_update()  # two admins resending at once leave one open invitation
    return (await session.exec(statement)).first()


async def _issue(session: AsyncSession, actor: Principal, user: UserRow, *,
                 now: datetime, ttl: timedelta) -> Issued:
    """A new link for ``user``; the open one, if any, stops working (the caller commits)."""
    previous = await _open_of(session, user.account_id, user.id)
    if previous is not None:
        previous.closed_at, previous.closed_reason = now, InvitationState.REPLACED.value
        session.add(previous)
    token = new_secret()
    row = InvitationRow(account_id=user.account_id, user_id=user.id,
                        token_hash=hash_secret(token), invited_by=await _inviter(session, actor),
                        created_at=now, expires_at=now + ttl)
    session.add(row)
    await session.flush()
    return Issued(row, token)


async def invite(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    email: str, name: str | None, role: Role, seat: Seat, now: datetime, ttl: timedelta,
) -> tuple[UserRow, Issued]:
    """Add an invited user and their link in one transaction (admins)."""
    user = await users.invite_user(session, actor, account_id, email=email, name=name,
                                   role=role, seat=seat, commit=False)
    issued = await _issue(session, actor, user, now=now, ttl=ttl)
    await session.commit()
    return user, issued


async def _login_of(session: AsyncSession, user: UserRow) -> LoginRow | None:
    """The user's own login; ``None`` when their address signs in elsewhere (users.py)."""
    statement = select(LoginRow).where(LoginRow.account_id == user.account_id,
                                       LoginRow.user_id == user.id)
    return (await session.exec(statement)).one_or_none()


async def reissue(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    user_id: uuid.UUID, now: datetime, ttl: timedelta,
) -> tuple[UserRow, Issued]:
    """A new link for a user who never set a password (admins); the old link stops working.
    A user whose invitation was revoked is reactivated first (their seat is checked)."""
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.WRITE)
    user = await users.get_user(session, actor, account_id, user_id)
    login = await _login_of(session, user)
    if login is not None and login.password_hash is not None:
        raise Conflict(_("{email} has set a password and signs in already; there is "
                         "no invitation to send.").format(email=user.email))
    if not user.active:
        user = await users.update_user(session, actor, account_id, user_id=user.id,
                                       changes=users.UserChanges(active=True))
    issued = await _issue(session, actor, user, now=now, ttl=ttl)
    await session.commit()
    return user, issued


async def record_sending(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, issued: Issued, *,
    sent_at: datetime | None, problem: str | None, action: str,
) -> InvitationRow:
    """What became of emailing ``issued``, audited as ``action`` (invitation.sent/resent)."""
    row = await session.get(InvitationRow, (account_id, issued.row.id))
    if row is None:  # cannot happen: invitations are never deleted
        raise NotFound(_("The invitation no longer exists."))
    row.sent_at, row.email_problem = sent_at, problem
    user = await session.get(UserRow, (account_id, row.user_id))
    audit.record(session, actor, account_id, action=action,
                 target=f"user:{user.email}" if user is not None else None,
                 after={"emailed": sent_at is not None, "expiresAt": row.expires_at.isoformat()})
    await session.commit()
    return row


async def revoke(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    user_id: uuid.UUID, now: datetime,
) -> UserRow:
    """The user's link stops working and they are deactivated, so their seat is free (admins)."""
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.WRITE)
    user = await users.get_user(session, actor, account_id, user_id)
    row = await _open_of(session, account_id, user.id)
    if row is None:
        raise Conflict(_("{email} has no pending invitation to revoke; deactivate them "
                         "instead.").format(email=user.email))
    row.closed_at, row.closed_reason = now, InvitationState.REVOKED.value
    user.active = False
    session.add_all([row, user])
    audit.record(session, actor, account_id, action="invitation.revoked",
                 target=f"user:{user.email}", before={"active": True}, after={"active": False})
    await session.commit()
    return user


async def latest_of_users(
    session: AsyncSession, account_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, InvitationRow]:
    """Each user's newest invitation, in one statement (a DataLoader's batch)."""
    rows = await session.exec(select(InvitationRow).where(
        InvitationRow.account_id == account_id, col(InvitationRow.user_id).in_(user_ids),
    ).order_by(col(InvitationRow.created_at), col(InvitationRow.id)))
    return {row.user_id: row for row in rows.all()}  # later rows overwrite earlier ones


# --- the invitee's side -----------------------------------------------------------------


async def _find(database: Database, token: str) -> InvitationRow:
    """The invitation behind a token, from any account (the link names none)."""
    if not token or len(token) > 200:
        raise NotFound(_(UNKNOWN_LINK))
    async with database.session(account_id=None) as session:
        row = (await session.exec(unscoped(select(InvitationRow).where(
            InvitationRow.token_hash == hash_secret(token))))).one_or_none()
    if row is None:
        raise NotFound(_(UNKNOWN_LINK))
    return row


def _refuse_unusable(row: InvitationRow, account: AccountRow, now: datetime) -> None:
    state = state_of(row, now)
    if state is InvitationState.ACCEPTED:
        raise Gone(_(ALREADY_USED))
    if state is InvitationState.REVOKED:
        raise Gone(_("An admin of {account} withdrew this invitation. Ask them whether "
                     "you should still join.").format(account=account.name))
    if state is InvitationState.REPLACED:
        raise Gone(_("A newer invitation replaced this link. Use the link in the most recent "
                     "invitation email."))
    if state is InvitationState.EXPIRED:
        raise Gone(_("This invitation link expired on {moment} UTC. Ask {inviter} to send "
                     "you a new one.").format(moment=spoken_moment(row.expires_at),
                                              inviter=row.invited_by))


async def _usable(session: AsyncSession, row: InvitationRow,
                  now: datetime) -> tuple[AccountRow, UserRow, LoginRow | None]:
    """The account, user and login the invitation sets a password for, or the refusal.

    The login is ``None`` when the address signs in elsewhere: only accepting says so (the
    inviting admin holds the link too, and opening it must not tell them whether an address
    uses Sendtrail elsewhere, issue 12 defect 5)."""
    account = await session.get(AccountRow, row.account_id)
    user = await session.get(UserRow, (row.account_id, row.user_id))
    if account is None or user is None:
        raise NotFound(_(UNKNOWN_LINK))
    _refuse_unusable(row, account, now)
    if not user.active:
        raise Conflict(_("Your user in {account} is deactivated, so this invitation "
                         "cannot be used. Ask {inviter} to reactivate you.").format(
                             account=account.name, inviter=row.invited_by))
    login = await _login_of(session, user)
    if login is not None and login.password_hash is not None:
        raise Conflict(_("{email} already has a password. Sign in with it instead.").format(
            email=user.email))
    return account, user, login


async def preview(database: Database, token: str, *, now: datetime) -> InvitationView:
    """Who invited whom to which account, or why the link cannot be used."""
    row = await _find(database, token)
    async with database.session(account_id=row.account_id) as session:
        account, user, _login = await _usable(session, row, now)
    return InvitationView(email=user.email, name=user.name, account_name=account.name,
                          invited_by=row.invited_by, expires_at=row.expires_at)


async def accept(
    database: Database, token: str, *, password: str, ip: str, now: datetime,
    session_ttl: timedelta,
) -> SignedIn:
    """Set the invitee's password and sign them in; the link never works again."""
    row = await _find(database, token)
    # Deliberately slow CPU work, off the event loop; a too-short password is refused here.
    password_hash = await asyncio.to_thread(hash_password, password)
    async with database.session(account_id=row.account_id) as session:
        _account, user, login = await _usable(session, row, now)
        if login is None:
            raise Conflict(_("{email} already signs in to Sendtrail elsewhere (another "
                             "account or support), and an address signs in to one place "
                             "only. Ask {inviter} to invite another address of yours.").format(
                                 email=user.email, inviter=row.invited_by))
        used = await session.exec(update(InvitationRow).where(
            col(InvitationRow.account_id) == row.account_id, col(InvitationRow.id) == row.id,
            col(InvitationRow.closed_at).is_(None),
        ).values(closed_at=now, closed_reason=InvitationState.ACCEPTED.value))
        if used.rowcount != 1:  # another tab accepted it a moment ago: single use
            await session.rollback()
            raise Gone(_(ALREADY_USED))
        login.password_hash = password_hash
        session.add(login)
        audit.record(session, f"user:{user.email}", row.account_id,
                     action="invitation.accepted", target=f"user:{user.email}")
        principal = Principal(login_id=login.id, email=user.email, account_id=user.account_id,
                              user_id=user.id, role=Role(user.role))
        signed_in = open_session(session, login, principal, ip=ip, now=now, ttl=session_ttl)
        await session.commit()
    return signed_in
