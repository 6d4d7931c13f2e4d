"""``sendtrail demo``: a demo account with an admin and users on free and paid seats."""

from __future__ import annotations

from sqlmodel import select

from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import set_password
from sendtrail.tenancy.onboarding import create_account
from sendtrail.tenancy.store import AccountRow, UserRow
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.users import add_user_row, login_for_email
from sendtrail.tenancy.values import Principal, Role, Scope, Seat

__all__ = ["DEMO_ADMIN", "DEMO_PASSWORD", "ensure_demo"]

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin@demo.sendtrail.test"
# A local demo only: the password is printed anyway, and reset to this on every run.
DEMO_PASSWORD = "sendtrail-demo"  # noqa: S105
DEMO_USERS = (
    ("sam@demo.sendtrail.test", "Sam Starter", Seat.SALES_STARTER),
    ("fran@demo.sendtrail.test", "Fran Free", Seat.FREE),
)


async def ensure_demo(database: Database, settings: Settings) -> list[str]:
    """Create the demo account once; always print fresh credentials for it."""
    async with database.session(account_id=None) as session:
        account = (
            await session.exec(select(AccountRow).where(AccountRow.slug == DEMO_SLUG))
        ).one_or_none()
        if account is None:
            account, _ = await create_account(
                session,
                name="Demo",
                admin_email=DEMO_ADMIN,
                admin_name="Ada Admin",
                admin_password=DEMO_PASSWORD,
                admin_seat=Seat.SALES_PROFESSIONAL,
                seats={Seat.SALES_STARTER: 2, Seat.SALES_PROFESSIONAL: 2},
                actor="demo",
            )
            async with database.session(account_id=account.id) as tenant:
                for email, name, seat in DEMO_USERS:
                    await add_user_row(
                        tenant, account.id, email=email, name=name, role=Role.USER, seat=seat
                    )
                await tenant.commit()
        else:
            await set_password(session, email=DEMO_ADMIN, password=DEMO_PASSWORD)
        login = await login_for_email(session, DEMO_ADMIN)
        if login is None or login.user_id is None:
            raise RuntimeError("the demo admin's login is missing; remove var/ and retry")
        account_id = account.id
    async with database.session(account_id=account_id) as tenant:
        admin = (await tenant.exec(select(UserRow).where(UserRow.id == login.user_id))).one()
        actor = Principal(login_id=login.id, email=admin.email, account_id=account_id,
                          user_id=admin.id, role=Role.ADMIN)
        _, token = await create_api_token(
            tenant, actor, account_id, name="demo token",
            scopes=frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}), now=utcnow(),
        )
    return [
        f"web admin: {settings.http.public_url}/",
        f"login: {DEMO_ADMIN}",
        f"password: {DEMO_PASSWORD}",
        f"token: {token}",
    ]
