"""API tokens: created for a user, shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.tenant import unscoped
from sendtrail.errors import InvalidInput, NotFound, Unauthenticated
from sendtrail.i18n import _
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import authorizer
from sendtrail.tenancy.credentials import check_token_shape, hash_secret, new_api_token
from sendtrail.tenancy.permissions import AuthzAction, AuthzObject, new_token_expiry
from sendtrail.tenancy.store import ApiTokenRow, LoginRow, UserRow
from sendtrail.tenancy.values import Principal, Role, Scope

__all__ = [
    "authenticate_token",
    "create_api_token",
    "list_api_tokens",
    "parse_scopes",
    "revoke_api_token",
]

#: ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value.strip().lower()))
        except ValueError:
            known = ", ".join(scope.value for scope in Scope)
            raise InvalidInput(_("Unknown token scope {value!r}; use one of: {known}.").format(
                value=value, known=known)) from None
    if not scopes:
        raise InvalidInput(_("Give a token at least one scope (read, write or admin)."))
    return frozenset(scopes)


def _scopes_text(scopes: frozenset[Scope]) -> str:
    return ",".join(sorted(scope.value for scope in scopes))


async def create_api_token(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    name: str,
    scopes: frozenset[Scope],
    user_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    now: datetime,
) -> tuple[ApiTokenRow, str]:
    """Return the stored token and its secret; the secret is never retrievable again.

    The token holds no more than ``actor``'s credential (``new_token_expiry``): a token made
    with an expiring token and no ``expires_at`` expires with it.
    """
    owner_id = user_id or actor.user_id
    mine = owner_id == actor.user_id
    # Permission first: support staff (no user of their own) are told they cannot write.
    authorizer().require(
        actor, account_id,
        AuthzObject.API_TOKENS_OWN if mine else AuthzObject.API_TOKENS_ALL, AuthzAction.WRITE,
    )
    if owner_id is None:
        raise InvalidInput(_("Say which user the token acts as (userId)."))
    owner = (
        await session.exec(
            select(UserRow).where(UserRow.account_id == account_id, UserRow.id == owner_id)
        )
    ).one_or_none()
    if owner is None:
        raise NotFound(_("No user with id {id} in this account.").format(id=owner_id))
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(_("Give the token a name of 1 to 200 characters (what it is for)."))
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInput(_("Give {what} with a timezone, e.g. 2030-01-31T00:00:00Z.").format(
            what="expiresAt"))
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(_("A token's expiry must be in the future."))
    expires_at = new_token_expiry(
        actor, owner_role=Role(owner.role), scopes=scopes, expires_at=expires_at
    )
    secret = new_api_token()
    row = ApiTokenRow(
        account_id=account_id,
        user_id=owner.id,
        name=name,
        token_hash=hash_secret(secret),
        display_prefix=secret[:8],
        scopes=_scopes_text(scopes),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    audit.record(
        session,
        actor,
        account_id,
        action="api_token.created",
        target=f"api token {name!r} of {owner.email}",
        after={"scopes": row.scopes, "expiresAt": expires_at.isoformat() if expires_at else None},
    )
    await session.commit()
    return row, secret


async def _may_manage_all(actor: Principal, account_id: uuid.UUID, act: AuthzAction) -> bool:
    return authorizer().allowed(actor, account_id, AuthzObject.API_TOKENS_ALL, act)


async def list_api_tokens(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> list[ApiTokenRow]:
    """Admins (and support) see every token of the account; users see their own."""
    statement = select(ApiTokenRow).where(ApiTokenRow.account_id == account_id)
    if not await _may_manage_all(actor, account_id, AuthzAction.READ):
        authorizer().require(actor, account_id, AuthzObject.API_TOKENS_OWN, AuthzAction.READ)
        statement = statement.where(ApiTokenRow.user_id == actor.user_id)
    rows = await session.exec(statement.order_by(col(ApiTokenRow.created_at).desc()))
    return list(rows.all())


async def revoke_api_token(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    token_id: uuid.UUID,
    now: datetime,
) -> ApiTokenRow:
    statement = select(ApiTokenRow).where(
        ApiTokenRow.account_id == account_id, ApiTokenRow.id == token_id
    )
    if not await _may_manage_all(actor, account_id, AuthzAction.WRITE):
        authorizer().require(actor, account_id, AuthzObject.API_TOKENS_OWN, AuthzAction.WRITE)
        statement = statement.where(ApiTokenRow.user_id == actor.user_id)
    row = (await session.exec(statement)).one_or_none()
    if row is None:
        raise NotFound(_("No API token with id {id}.").format(id=token_id))
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(
            session,
            actor,
            account_id,
            action="api_token.revoked",
            target=f"api token {row.name!r} ({row.display_prefix}…)",
        )
        await session.commit()
    return row


async def authenticate_token(session: AsyncSession, token: str, *, now: datetime) -> Principal:
    """The principal a bearer token stands for, or ``Unauthenticated`` saying why not."""
    check_token_shape(token)
    # Authentication finds the tenant from the credential, so this lookup is cross-tenant.
    row = (
        await session.exec(
            unscoped(select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_secret(token)))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated(
            _("This API token is not valid; create a new one in the web admin.")
        )
    if row.revoked_at is not None:
        raise Unauthenticated(_("This API token was revoked on {date}.").format(
            date=f"{row.revoked_at:%Y-%m-%d}"))
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated(_("This API token expired on {date}.").format(
            date=f"{row.expires_at:%Y-%m-%d}"))
    user = (
        await session.exec(
            unscoped(
                select(UserRow).where(
                    UserRow.account_id == row.account_id, UserRow.id == row.user_id
                )
            )
        )
    ).one_or_none()
    if user is None or not user.active:
        raise Unauthenticated(_("The user this API token belongs to is deactivated."))
    login = (
        await session.exec(select(LoginRow).where(LoginRow.user_id == user.id))
    ).one_or_none()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.add(row)
        await session.commit()
    return Principal(
        # A user invited with an address that signs in elsewhere has no login of their own
        # (users.add_user_row); their tokens still act as them, like any user's.
        login_id=login.id if login is not None else user.id,
        email=user.email,
        account_id=user.account_id,
        user_id=user.id,
        role=Role(user.role),
        scopes=frozenset(Scope(scope) for scope in row.scopes.split(",")),
        via_token=True,
        expires_at=row.expires_at,
    )
