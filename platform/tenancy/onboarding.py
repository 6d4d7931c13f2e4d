"""Creating an account together with its first admin (CLI, demo, tests)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.tenancy import audit
from sendtrail.tenancy.accounts import create_account_row
from sendtrail.tenancy.credentials import hash_password
from sendtrail.tenancy.store import AccountRow, UserRow
from sendtrail.tenancy.users import add_user_row
from sendtrail.tenancy.values import Role, Seat

__all__ = ["create_account"]


async def create_account(
    session: AsyncSession,
    *,
    name: str,
    admin_email: str,
    admin_name: str | None = None,
    admin_password: str | None = None,
    admin_seat: Seat = Seat.FREE,
    seats: Mapping[Seat, int] | None = None,
    actor: str = "cli",
) -> tuple[AccountRow, UserRow]:
    """A new account with default settings, its seat purchases and its first admin."""
    password_hash = hash_password(admin_password) if admin_password is not None else None
    account = await create_account_row(session, name=name, seats=seats or {})
    await session.flush()
    # From here on this session works inside the new tenant, under the usual scope guard.
    session.info["account_id"] = account.id
    admin = await add_user_row(
        session,
        account.id,
        email=admin_email,
        name=admin_name,
        role=Role.ADMIN,
        seat=admin_seat,
        password_hash=password_hash,
    )
    audit.record(
        session,
        actor,
        account.id,
        action="account.created",
        target=f"account:{account.slug}",
        after={
            "name": account.name,
            "admin": admin.email,
            "seats": {seat.value: count for seat, count in (seats or {}).items()},
        },
    )
    await session.commit()
    return account, admin
