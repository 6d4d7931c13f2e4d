"""Users of an account: invite, change role/seat/active (R19), list; seat counting in one place."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.addresses import normalize_email
from sendtrail.db.pagination import Page, keyset_page
from sendtrail.db.tenant import unscoped
from sendtrail.errors import Conflict, EntitlementRequired, Forbidden, InvalidInput, NotFound
from sendtrail.i18n import N_, _
from sendtrail.tenancy import audit
from sendtrail.tenancy.accounts import purchased_seats, seats_in_use
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.permissions import refuse_lasting_grant
from sendtrail.tenancy.store import LoginRow, SeatPurchaseRow, UserRow
from sendtrail.tenancy.values import EmailDefault, Principal, Role, Scope, Seat

__all__ = [
    "UserChanges",
    "add_user_row",
    "get_user",
    "invite_user",
    "list_users",
    "normalize_email",
    "parse_id",
    "update_user",
    "users_by_id",
]


@dataclass(frozen=True)
class UserChanges:
    role: Role | None = None
    seat: Seat | None = None
    active: bool | None = None


def parse_id(value: str, what: str) -> uuid.UUID:
    """An id from the API; malformed ids are simply not found (no hint about formats)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(
            _("No {what} with id {value!r}.").format(what=_(what), value=value)
        ) from None


# What parse_id's callers name, in the reader's language ("No user with id ...").
ID_NOUNS = (N_("user"), N_("email"), N_("contact"), N_("webhook endpoint"),
            N_("tracking domain"), N_("API token"), N_("attachment"))


def _snapshot(user: UserRow) -> dict[str, Any]:
    return {"role": user.role, "seat": user.seat, "active": user.active}


async def _ensure_seat_available(
    session: AsyncSession, account_id: uuid.UUID, seat: Seat
) -> None:
    """Refuse to hand out more paid seats than the account bought (R19)."""
    if not seat.is_paid:
        return
    # Lock the purchase row on PostgreSQL so two concurrent assignments cannot both
    # take the last seat (SQLite serialises writers anyway).
    await session.exec(
        select(SeatPurchaseRow)
        .where(SeatPurchaseRow.account_id == account_id, SeatPurchaseRow.seat == seat.value)
        .with_for_update()
    )
    purchased = (await purchased_seats(session, account_id)).get(seat, 0)
    used = (await seats_in_use(session, account_id)).get(seat, 0)
    if used >= purchased:
        raise EntitlementRequired(_(
            "All {count} {seat} seat(s) of this account are in use. Free one by "
            "changing another user's seat or deactivating them, or buy more {seat} "
            "seats."
        ).format(count=purchased, seat=seat.label))


async def _signs_in(session: AsyncSession, email: str) -> bool:
    """Whether ``email`` has a login anywhere (sign-in finds the account from the email)."""
    statement = select(LoginRow.id).where(LoginRow.email == email)
    return (await session.exec(statement)).first() is not None


async def _in_account(session: AsyncSession, account_id: uuid.UUID, email: str) -> bool:
    statement = select(UserRow.id).where(UserRow.account_id == account_id, UserRow.email == email)
    return (await session.exec(statement)).first() is not None


async def add_user_row(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    email: str,
    name: str | None,
    role: Role,
    seat: Seat,
    password_hash: str | None = None,
    discreet: bool = False,
) -> UserRow:
    """Add a user and their login after the checks every path shares (caller commits).

    An address signs in to one place only (logins are global). With ``discreet`` (an
    admin's invite), an address that already signs in elsewhere, to another account or
    as support staff, is still added here, without a login of its own, so that the
    answer reveals nothing about other accounts (issue 12, defect 5). Operators (the
    CLI, onboarding) are told instead, since their new user must be able to sign in.
    """
    email = normalize_email(email)
    if name is not None and len(name) > 200:
        raise InvalidInput(_("A name can be at most 200 characters."))
    if await _in_account(session, account_id, email):
        raise Conflict(_("A user with the email address {email} already exists in this "
                         "account.").format(email=email))
    signs_in_elsewhere = await _signs_in(session, email)
    if signs_in_elsewhere and not discreet:
        raise Conflict(_("{email} already signs in to Sendtrail (another account or "
                         "support).").format(email=email))
    await _ensure_seat_available(session, account_id, seat)
    user = UserRow(account_id=account_id, email=email, name=name, role=role.value, seat=seat.value)
    session.add(user)
    if not signs_in_elsewhere:
        session.add(LoginRow(email=email, account_id=account_id, user_id=user.id,
                             password_hash=password_hash))
    await session.flush()
    return user


async def invite_user(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    email: str,
    name: str | None = None,
    role: Role = Role.USER,
    seat: Seat = Seat.FREE,
    commit: bool = True,
) -> UserRow:
    """Add an invited user; ``commit=False`` leaves the transaction open for the invitation
    (``tenancy.invitations.invite``), so the user and their link are stored together."""
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.WRITE)
    if role is Role.ADMIN:
        refuse_lasting_grant(actor, what=N_("make someone an admin"))
    user = await add_user_row(
        session, account_id, email=email, name=name, role=role, seat=seat, discreet=True
    )
    audit.record(
        session,
        actor,
        account_id,
        action="user.invited",
        target=f"user:{user.email}",
        after={"email": user.email, "name": user.name, **_snapshot(user)},
    )
    if commit:
        await session.commit()
    return user


async def _load(session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID) -> UserRow:
    user = (
        await session.exec(
            select(UserRow).where(UserRow.account_id == account_id, UserRow.id == user_id)
        )
    ).one_or_none()
    if user is None:
        raise NotFound(_("No user with id {id} in this account.").format(id=user_id))
    return user


async def get_user(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, user_id: uuid.UUID
) -> UserRow:
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.READ)
    return await _load(session, account_id, user_id)


async def users_by_id(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID,
    user_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, UserRow]:
    """The account's users among ``user_ids``, in one statement; unknown ids are left out."""
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.READ)
    if not user_ids:
        return {}
    rows = await session.exec(select(UserRow).where(
        UserRow.account_id == account_id, col(UserRow.id).in_(user_ids)
    ))
    return {row.id: row for row in rows.all()}


async def _active_admins(session: AsyncSession, account_id: uuid.UUID) -> int:
    rows = await session.exec(
        select(UserRow.id).where(
            UserRow.account_id == account_id,
            UserRow.role == Role.ADMIN.value,
            col(UserRow.active).is_(True),
        ).with_for_update()  # two admins demoting each other at once cannot both win
    )
    return len(rows.all())


async def update_user(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    changes: UserChanges,
) -> UserRow:
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.WRITE)
    user = await _load(session, account_id, user_id)
    before = _snapshot(user)
    new_role = changes.role.value if changes.role is not None else user.role
    new_seat = changes.seat.value if changes.seat is not None else user.seat
    new_active = changes.active if changes.active is not None else user.active
    was_admin = user.role == Role.ADMIN.value and user.active
    if new_role == Role.ADMIN.value and new_active and not was_admin:
        # Promoting, or reactivating an admin: a role that would outlast an expiring token.
        refuse_lasting_grant(actor, what=N_("make someone an admin"))
    takes_seat = new_active and (new_seat != user.seat or not user.active)
    if takes_seat:
        await _ensure_seat_available(session, account_id, Seat(new_seat))
    loses_admin = user.role == Role.ADMIN.value and user.active
    if (
        loses_admin
        and (new_role != Role.ADMIN.value or not new_active)
        and await _active_admins(session, account_id) <= 1
    ):
        raise Conflict(
            _("An account needs at least one active admin; promote another user first.")
        )
    user.role, user.seat, user.active = new_role, new_seat, new_active
    after = _snapshot(user)
    if after != before:
        audit.record(
            session,
            actor,
            account_id,
            action="user.updated",
            target=f"user:{user.email}",
            before={key: before[key] for key in before if before[key] != after[key]},
            after={key: after[key] for key in after if before[key] != after[key]},
        )
    await session.commit()
    return user


async def list_users(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    first: int | None,
    after: str | None,
) -> Page[UserRow]:
    authorizer().require(actor, account_id, AuthzObject.USERS, AuthzAction.READ)
    return await keyset_page(
        session,
        select(UserRow).where(UserRow.account_id == account_id),
        keys=[UserRow.email, UserRow.id],  # type: ignore[list-item]
        descending=False,
        first=first,
        after=after,
    )


async def login_for_email(session: AsyncSession, email: str) -> LoginRow | None:
    return (await session.exec(select(LoginRow).where(LoginRow.email == email))).one_or_none()


async def user_for_login(session: AsyncSession, login: LoginRow) -> UserRow | None:
    """The account user behind a login (authentication runs before any tenant is known)."""
    if login.account_id is None or login.user_id is None:
        return None
    statement = select(UserRow).where(
        UserRow.account_id == login.account_id, UserRow.id == login.user_id
    )
    return (await session.exec(unscoped(statement))).one_or_none()


# What callers outside tenancy name of a profile (notifications), for ``_(what)`` below.
PROFILE_PARTS = (N_("notification preferences"),)


async def own_profile(session: AsyncSession, actor: Principal, what: str) -> UserRow:
    """The actor's own user, to change ``what`` of their profile (any role, a write token)."""
    if actor.account_id is None or actor.user_id is None:
        raise Forbidden(_("Only account users have {what}.").format(what=_(what)))
    if Scope.WRITE not in actor.held_scopes:
        raise Forbidden(_("This API token is read-only; use a token with the write scope."))
    user = await session.get(UserRow, (actor.account_id, actor.user_id))
    if user is None:
        raise NotFound(_("Your user no longer exists in this account."))
    return user


async def set_email_defaults(
    session: AsyncSession, actor: Principal, *,
    track: EmailDefault | None, log: EmailDefault | None,
) -> UserRow:
    """Change the actor's own defaults for new emails (R2): their own profile, any role."""
    user = await own_profile(session, actor, N_("defaults for new emails"))
    if track is not None:
        user.default_track = track.stored
    if log is not None:
        user.default_log = log.stored
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return user
