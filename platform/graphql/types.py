"""GraphQL object types of tenancy, built from the services' results."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

import strawberry
from strawberry.types import Info

from sendtrail.db.pagination import Page
from sendtrail.graphql.context import ctx
from sendtrail.graphql.invitation_types import Invitation, UserStatusEnum, user_status
from sendtrail.graphql.outbound_types import OutboundLogin, OutboundMail
from sendtrail.notifications.rules import NotificationPreference
from sendtrail.sending import outbound
from sendtrail.tenancy import accounts
from sendtrail.tenancy.accounts import SeatUsage as SeatUsageValue
from sendtrail.tenancy.store import AccountRow, ApiTokenRow, InvitationRow, UserRow
from sendtrail.tenancy.values import AccountSettingsValue, EmailDefault, Role, Scope, Seat
from sendtrail.tenancy.values import Role as RoleValue
from sendtrail.tracking.core.purposes import TrackingPurpose

__all__ = [
    "Account",
    "AccountSettings",
    "ApiToken",
    "CreatedApiToken",
    "RoleEnum",
    "ScopeEnum",
    "SeatEnum",
    "SeatUsage",
    "TrackingPurposeEnum",
    "User",
    "UserConnection",
]

SeatEnum = strawberry.enum(Seat, name="Seat")
RoleEnum = strawberry.enum(Role, name="Role")
EmailDefaultEnum = strawberry.enum(
    EmailDefault, name="EmailDefault",
    description="ACCOUNT: follow the account's default. ON or OFF: the user's own choice.",
)
TrackingPurposeEnum = strawberry.enum(
    TrackingPurpose, name="TrackingPurpose", description="What tracking is for (R28).")
ScopeEnum = strawberry.enum(Scope, name="TokenScope", description="What an API token may do.")
NotificationPreferenceEnum = strawberry.enum(
    NotificationPreference, name="NotificationPreference",
    description="Which live notifications a sender gets (R22): HUMAN opens and/or clicks.",
)

N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    node: N
    cursor: str


R = TypeVar("R")


def relay_parts(page: Page[R], build: Callable[[R], N]) -> tuple[list[Edge[N]], PageInfo]:
    """The edges and page info of a connection, from a page of rows."""
    return (
        [Edge(node=build(row), cursor=cursor) for row, cursor in page.items],
        PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )


@strawberry.type
class AccountSettings:
    tracking_enabled: bool = strawberry.field(description="R18: off = no tracking for any user.")
    privacy_mode: bool = strawberry.field(description="R16: contacts with neither a legal basis "
                                          "nor tracking consent fall back to the exempt "
                                          "purpose (R28).")
    self_open_suppression: bool = strawberry.field(description="R9: the sender's own opens "
                                                   "and clicks never notify them.")
    marketing_tracking: bool = strawberry.field(description="R3: marketing emails are tracked.")
    marketing_link_tracking: bool = strawberry.field(description="R12: links in marketing "
                                                     "emails are tracked.")
    default_track: bool = strawberry.field(description="R2: new emails are tracked by default.")
    default_log: bool = strawberry.field(description="R2: new emails are logged by default.")
    truncate_ips: bool = strawberry.field(description="Hit addresses are stored cut to their "
                                          "network (/24, /48).")
    hit_detail_retention_days: int | None = strawberry.field(
        description="Opens and clicks (with their addresses and user agents) are deleted "
        "this many days after they happened; their hourly counts stay."
    )
    tracking_purpose: TrackingPurposeEnum = strawberry.field(  # type: ignore[valid-type]
        description="R28: what tracking is for: each recipient (INDIVIDUAL), counts per "
        "email, link and hour (AGGREGATE), each contact's last-open day (DELIVERABILITY), "
        "or nothing (OFF).")
    exempt_purpose: TrackingPurposeEnum = strawberry.field(  # type: ignore[valid-type]
        description="R28: what a contact without consent falls back to under INDIVIDUAL "
        "(AGGREGATE, DELIVERABILITY or OFF).")
    withdrawal_link: bool = strawberry.field(
        description="R29: every tracked email carries a link to stop tracking its reader.")
    withdrawal_link_text: str | None = strawberry.field(
        description="The account's wording of that link; null: the default, in the "
        "reader's language.")

    @classmethod
    def from_value(cls, value: AccountSettingsValue) -> AccountSettings:
        return cls(**value.__dict__)


@strawberry.type
class SeatUsage:
    seat: SeatEnum  # type: ignore[valid-type]
    purchased: int | None = strawberry.field(description="Null for free seats (unlimited).")
    used: int

    @strawberry.field(description="Seats still assignable; null for free seats.")
    def available(self) -> int | None:
        return None if self.purchased is None else max(0, self.purchased - self.used)

    @classmethod
    def from_value(cls, value: SeatUsageValue) -> SeatUsage:
        return cls(seat=value.seat, purchased=value.purchased, used=value.used)


@strawberry.type
class Account:
    id: strawberry.ID
    name: str
    slug: str
    region: str
    logging_address: str = strawberry.field(description="BCC or forward mail here to log it.")

    @strawberry.field
    async def settings(self, info: Info) -> AccountSettings:
        async with ctx(info).db() as session:
            value = await accounts.get_settings(session, uuid.UUID(self.id))
        return AccountSettings.from_value(value)

    @strawberry.field(description="Seats per type: purchased and in use by active users.")
    async def seats(self, info: Info) -> list[SeatUsage]:
        async with ctx(info).db() as session:
            usage = await accounts.seat_usage(session, uuid.UUID(self.id))
        return [SeatUsage.from_value(item) for item in usage]

    @strawberry.field(description="The upstream server mail is sent through (R26).")
    async def outbound_mail(self, info: Info) -> OutboundMail:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            view = await outbound.get_outbound(session, principal, uuid.UUID(self.id))
        return OutboundMail.from_view(view, uuid.UUID(self.id))

    @classmethod
    def from_row(cls, row: AccountRow, *, logging_domain: str) -> Account:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            slug=row.slug,
            region=row.region,
            logging_address=f"{row.logging_secret}@{logging_domain}",
        )


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    name: str | None
    role: RoleEnum  # type: ignore[valid-type]
    seat: SeatEnum  # type: ignore[valid-type]
    active: bool
    created_at: datetime
    notification_preference: NotificationPreferenceEnum  # type: ignore[valid-type]
    default_track: EmailDefaultEnum = strawberry.field(  # type: ignore[valid-type]
        description="R2: whether the user's new emails are tracked unless they say otherwise.")
    default_log: EmailDefaultEnum = strawberry.field(  # type: ignore[valid-type]
        description="R2: whether the user's new emails are logged unless they say otherwise.")
    account_id: strawberry.Private[uuid.UUID]
    issued: strawberry.Private[tuple[InvitationRow, str] | None] = None
    """The invitation just made and its link (inviteUser, resendInvitation)."""

    async def _invitation_row(self, info: Info) -> InvitationRow | None:
        if self.issued is not None:
            return self.issued[0]
        loaders = await ctx(info).loaders(info, self.account_id)
        return await loaders.invitation.load(uuid.UUID(self.id))

    @strawberry.field(description="The user's newest invitation; null when never invited.")
    async def invitation(self, info: Info) -> Invitation | None:
        row = await self._invitation_row(info)
        if row is None:
            return None
        link = self.issued[1] if self.issued is not None else None
        return Invitation.from_row(row, ctx(info).now(), link)

    @strawberry.field(description="Whether the user signs in, is invited, or is deactivated.")
    async def status(self, info: Info) -> UserStatusEnum:  # type: ignore[valid-type]
        return user_status(self.active, await self._invitation_row(info), ctx(info).now())

    @strawberry.field
    async def account(self, info: Info) -> Account:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await accounts.get_account(session, principal, self.account_id)
        return Account.from_row(row, logging_domain=context.settings.smtp.logging_domain)

    @strawberry.field(description="The user's own upstream login (per-user logins): the "
                      "viewer's own, or anyone's for admins; null otherwise or when none.")
    async def outbound_login(self, info: Info) -> OutboundLogin | None:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            login = await outbound.get_own_login(session, principal, self.account_id,
                                                 user_id=uuid.UUID(self.id))
        return None if login is None else OutboundLogin.from_value(login)

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            name=row.name,
            role=RoleValue(row.role),
            seat=Seat(row.seat),
            active=row.active,
            created_at=row.created_at,
            notification_preference=NotificationPreference(row.notification_preference),
            default_track=EmailDefault.of(row.default_track),
            default_log=EmailDefault.of(row.default_log),
            account_id=row.account_id,
        )


@strawberry.type
class UserConnection:
    edges: list[Edge[User]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[UserRow]) -> UserConnection:
        edges, page_info = relay_parts(page, User.from_row)
        return cls(edges=edges, page_info=page_info)


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    scopes: list[ScopeEnum]  # type: ignore[valid-type]
    prefix: str = strawberry.field(description="The first characters, to recognise the token.")
    user_id: strawberry.ID
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @strawberry.field
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def from_row(cls, row: ApiTokenRow) -> ApiToken:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            scopes=[Scope(scope) for scope in row.scopes.split(",")],
            prefix=row.display_prefix,
            user_id=strawberry.ID(str(row.user_id)),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class CreatedApiToken:
    api_token: ApiToken
    secret: str = strawberry.field(
        description="The token itself. Shown only now: store it, it cannot be read again."
    )
