"""Web-admin sign-in: passwords, sessions with CSRF tokens, login backoff, support staff."""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.tenant import unscoped
from sendtrail.db.types import utcnow
from sendtrail.errors import Conflict, Forbidden, InvalidInput, RateLimited, Unauthenticated
from sendtrail.i18n import N_, _
from sendtrail.settings import AuthSettings
from sendtrail.tenancy import audit
from sendtrail.tenancy.credentials import (
    hash_password,
    hash_secret,
    new_secret,
    password_needs_rehash,
    verify_password,
)
from sendtrail.tenancy.store import (
    AccountRow,
    InvitationRow,
    LoginAttemptRow,
    LoginRow,
    SessionRow,
)
from sendtrail.tenancy.users import login_for_email, normalize_email, user_for_login
from sendtrail.tenancy.values import Principal, Role

__all__ = [
    "SignedIn",
    "backoff_seconds",
    "grant_support",
    "open_session",
    "principal_for_session",
    "record_support_read",
    "set_password",
    "sign_in",
    "sign_out",
    "support_principal_for",
]

WRONG_CREDENTIALS = N_("Wrong email or password.")


@dataclass(frozen=True)
class SignedIn:
    session_secret: str
    """Goes in the HttpOnly cookie; only its hash is stored."""
    csrf_token: str
    """Sent back by the web admin in the ``X-CSRF-Token`` header of every GraphQL POST."""
    principal: Principal
    expires_at: datetime


def backoff_seconds(failures: int, limits: AuthSettings) -> int:
    """How long after the last of an address's recent ``failures`` its next attempt waits.

    Doubling from ``login_backoff_seconds`` once the free failures are used, capped so an
    attacker who knows an address can slow its owner down by a minute at most, never lock
    them out (issue 12, defect 6).
    """
    extra = failures - limits.login_free_failures
    if extra < 0:
        return 0
    doubled = limits.login_backoff_seconds << min(extra, 32)  # no giant integers
    return min(limits.login_backoff_max_seconds, doubled)


async def _failures(
    session: AsyncSession, column: Any, value: str, *, since: datetime,
    besides: uuid.UUID | None,
) -> tuple[int, datetime | None, datetime | None]:
    """Failed attempts in the window: how many, the oldest and the latest."""
    statement = select(
        func.count(), func.min(LoginAttemptRow.at), func.max(LoginAttemptRow.at)
    ).where(column == value, LoginAttemptRow.at > since)
    if besides is not None:
        statement = statement.where(LoginAttemptRow.id != besides)
    count, oldest, latest = (await session.exec(statement)).one()
    return count, oldest, latest


async def _check_rate_limit(
    session: AsyncSession, *, email: str, ip: str, now: datetime, limits: AuthSettings,
    besides: uuid.UUID | None = None,
) -> None:
    """Refuse while the address must wait, or when the client address used up its failures
    (``besides``: this request's own attempt, already recorded)."""
    window = timedelta(seconds=limits.login_window_seconds)
    count, oldest, _latest = await _failures(
        session, LoginAttemptRow.ip, ip, since=now - window, besides=besides
    )
    if count >= limits.login_max_failures_per_ip and oldest is not None:
        wait = math.ceil((oldest + window - now).total_seconds())
        raise RateLimited(
            _("Too many failed sign-ins from your network. Try again in {count} "
              "minute(s).").format(count=max(1, math.ceil(wait / 60))),
            retry_after_seconds=max(1, wait),
        )
    count, _oldest, latest = await _failures(
        session, LoginAttemptRow.email, email, since=now - window, besides=besides
    )
    delay = backoff_seconds(count, limits)
    if delay and latest is not None and now < latest + timedelta(seconds=delay):
        wait = max(1, math.ceil((latest + timedelta(seconds=delay) - now).total_seconds()))
        raise RateLimited(
            _("Too many failed sign-ins. Try again in {count} second(s).").format(count=wait),
            retry_after_seconds=wait,
        )


async def _principal_for_login(session: AsyncSession, login: LoginRow) -> Principal:
    if login.is_staff:
        return Principal(login_id=login.id, email=login.email, account_id=None, is_staff=True)
    user = await user_for_login(session, login)
    if user is None or not user.active:
        raise Unauthenticated(_("This user is deactivated; ask an admin of your account."))
    return Principal(
        login_id=login.id,
        email=user.email,
        account_id=user.account_id,
        user_id=user.id,
        role=Role(user.role),
    )


async def sign_in(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    ip: str,
    now: datetime,
    limits: AuthSettings,
    ttl: timedelta,
) -> SignedIn:
    try:
        email = normalize_email(email)
    except InvalidInput:
        raise Unauthenticated(_(WRONG_CREDENTIALS)) from None
    await _check_rate_limit(session, email=email, ip=ip, now=now, limits=limits)
    # Record this attempt before checking the password, then check again without it: of
    # parallel guesses that all passed the first check, none may skip the wait.
    attempt = LoginAttemptRow(email=email, ip=ip, at=now)
    session.add(attempt)
    await session.commit()
    try:
        await _check_rate_limit(
            session, email=email, ip=ip, now=now, limits=limits, besides=attempt.id
        )
    except RateLimited:
        # Refused before any password was tested, so it is no failure: waiting attempts
        # never lengthen the wait.
        await session.delete(attempt)
        await session.commit()
        raise
    login = await login_for_email(session, email)
    password_hash = login.password_hash if login else None
    # verify_password hashes even when there is no login, so timing reveals no accounts;
    # argon2 is deliberately slow CPU work, so it runs off the event loop.
    verified = await asyncio.to_thread(verify_password, password_hash, password)
    if not verified or login is None or password_hash is None:
        raise Unauthenticated(_(WRONG_CREDENTIALS))
    await session.delete(attempt)  # a successful sign-in is no failed attempt
    principal = await _principal_for_login(session, login)
    if password_needs_rehash(password_hash):
        login.password_hash = hash_password(password)
    signed_in = open_session(session, login, principal, ip=ip, now=now, ttl=ttl)
    await session.commit()
    return signed_in


def open_session(
    session: AsyncSession, login: LoginRow, principal: Principal, *,
    ip: str, now: datetime, ttl: timedelta,
) -> SignedIn:
    """A new web-admin session for ``login`` (the caller commits): signing in, or accepting
    an invitation."""
    secret, csrf = new_secret(), new_secret()
    expires_at = now + ttl
    session.add(
        SessionRow(
            id_hash=hash_secret(secret),
            login_id=login.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires_at,
            ip=ip,
        )
    )
    return SignedIn(secret, csrf, principal, expires_at)


async def sign_out(session: AsyncSession, session_secret: str) -> None:
    await session.exec(
        delete(SessionRow).where(col(SessionRow.id_hash) == hash_secret(session_secret))
    )
    await session.commit()


async def principal_for_session(
    session: AsyncSession, session_secret: str, *, now: datetime, ttl: timedelta
) -> tuple[Principal, str]:
    """The principal and CSRF token of a live session (sliding expiry)."""
    row = await session.get(SessionRow, hash_secret(session_secret))
    if row is None or row.expires_at <= now:
        raise Unauthenticated(_("Your session has ended; sign in again."))
    login = await session.get(LoginRow, row.login_id)
    if login is None:
        raise Unauthenticated(_("Your session has ended; sign in again."))
    principal = await _principal_for_login(session, login)
    if row.expires_at - now < ttl / 2:  # extend at most every half-TTL, not on every request
        row.expires_at = now + ttl
        await session.commit()
    return principal, row.csrf_token


async def set_password(session: AsyncSession, *, email: str, password: str) -> None:
    login = await login_for_email(session, normalize_email(email))
    if login is None:
        raise InvalidInput(f"No user or support login with the email {email!r}.")
    login.password_hash = hash_password(password)
    await session.exec(delete(SessionRow).where(col(SessionRow.login_id) == login.id))
    if login.account_id is not None and login.user_id is not None:
        # An operator gave an invited user a password: their invitation is done with.
        await session.exec(unscoped(update(InvitationRow).where(
            col(InvitationRow.account_id) == login.account_id,
            col(InvitationRow.user_id) == login.user_id, col(InvitationRow.closed_at).is_(None),
        ).values(closed_at=utcnow(), closed_reason="accepted")))
    await session.commit()


async def grant_support(session: AsyncSession, *, email: str, password: str) -> LoginRow:
    """Create a platform support-staff login (not a member of any account)."""
    email = normalize_email(email)
    if await login_for_email(session, email) is not None:
        raise Conflict(f"{email} already has a login; support staff need their own address.")
    login = LoginRow(email=email, password_hash=hash_password(password), is_staff=True)
    session.add(login)
    await session.commit()
    return login


async def support_principal_for(
    session: AsyncSession, staff: Principal, account_key: str
) -> Principal:
    """Support staff acting on the account whose id is ``account_key`` (read-only)."""
    try:
        account_id = uuid.UUID(account_key)
    except ValueError:
        raise InvalidInput(_("X-Sendtrail-Account must be an account id.")) from None
    if await session.get(AccountRow, account_id) is None:
        raise InvalidInput(_("No account with id {id}.").format(id=account_key))
    return Principal(
        login_id=staff.login_id, email=staff.email, account_id=account_id, is_staff=True
    )


async def record_support_read(
    session: AsyncSession, staff: Principal, *, what: str
) -> None:
    """Write 'support read X' to the inspected account's audit log, before answering."""
    if not staff.is_staff or staff.account_id is None:
        raise Forbidden(_("Only support staff inspecting an account make support reads."))
    audit.record(session, staff, staff.account_id, action="support.read", target=what)
    await session.commit()
