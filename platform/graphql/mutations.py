"""Mutation root: one ``input`` per mutation, thin resolvers over the tenancy services."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from sendtrail.graphql.context import ctx
from sendtrail.graphql.types import (
    Account,
    ApiToken,
    CreatedApiToken,
    EmailDefaultEnum,
    RoleEnum,
    ScopeEnum,
    SeatEnum,
    TrackingPurposeEnum,
    User,
)
from sendtrail.secretbox import secret_box
from sendtrail.sending.invitations import invite_and_email
from sendtrail.tenancy import accounts, tokens, users
from sendtrail.tenancy.users import UserChanges, parse_id
from sendtrail.tenancy.values import Role, Scope, Seat

__all__ = ["Mutation"]


@strawberry.input
class EmailDefaultsInput:
    track: EmailDefaultEnum | None = None  # type: ignore[valid-type]
    log: EmailDefaultEnum | None = None  # type: ignore[valid-type]


@strawberry.input
class AccountSettingsInput:
    tracking_enabled: bool | None = None
    privacy_mode: bool | None = None
    self_open_suppression: bool | None = None
    marketing_tracking: bool | None = None
    marketing_link_tracking: bool | None = None
    default_track: bool | None = None
    default_log: bool | None = None
    truncate_ips: bool | None = strawberry.field(
        default=None, description="Store hit addresses cut to their network (/24, /48)."
    )
    hit_detail_retention_days: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Delete opens and clicks (with their addresses and user agents) this "
        "many days after they happened, keeping their hourly counts; null keeps them.",
    )
    tracking_purpose: TrackingPurposeEnum | None = None  # type: ignore[valid-type]
    exempt_purpose: TrackingPurposeEnum | None = None  # type: ignore[valid-type]
    withdrawal_link: bool | None = None
    withdrawal_link_text: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The withdrawal link's wording (at most 200 characters); null or empty: "
        "the default, in the reader's language.",
    )


@strawberry.input
class InviteUserInput:
    email: str
    name: str | None = None
    role: RoleEnum = Role.USER  # type: ignore[valid-type]
    seat: SeatEnum = Seat.FREE  # type: ignore[valid-type]


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    role: RoleEnum | None = None  # type: ignore[valid-type]
    seat: SeatEnum | None = None  # type: ignore[valid-type]
    active: bool | None = None


@strawberry.input
class CreateApiTokenInput:
    name: str
    scopes: list[ScopeEnum] = strawberry.field(  # type: ignore[valid-type]
        default_factory=lambda: [Scope.READ],
        description="At most what the credential creating it holds (ADMIN includes WRITE, "
        "WRITE includes READ), and ADMIN only for an admin's token.",
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user the token acts as; you by default (admins: anyone)."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="Never, when left out; but a token created with an expiring API token "
        "expires with it when left out, and may not expire later.",
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Change account-wide tracking and privacy settings (admins).")
    async def update_account_settings(self, info: Info, input: AccountSettingsInput) -> Account:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        changes = {
            name: value for name, value in vars(input).items()
            if value is not strawberry.UNSET
            and (value is not None
                 or name in ("hit_detail_retention_days", "withdrawal_link_text"))
        }
        async with context.db() as session:
            await accounts.update_settings(session, principal, account_id, changes=changes)
            row = await accounts.get_account(session, principal, account_id)
        return Account.from_row(row, logging_domain=context.settings.smtp.logging_domain)

    @strawberry.mutation(description="Add a user to the account and email them an "
                         "invitation through the account's outbound mail; the reply's "
                         "invitation.link is theirs to copy, shown this once (admins).")
    async def invite_user(self, info: Info, input: InviteUserInput) -> User:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            sent = await invite_and_email(
                session, context.settings, secret_box(context.settings.secrets.keys),
                principal, await context.account_id(info), email=input.email,
                name=input.name, role=input.role, seat=input.seat, now=context.now(),
            )
        user = User.from_row(sent.user)
        user.issued = (sent.invitation, sent.link)
        return user

    @strawberry.mutation(description="Change a user's role, seat or active state (admins).")
    async def update_user(self, info: Info, input: UpdateUserInput) -> User:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await users.update_user(
                session,
                principal,
                await context.account_id(info),
                user_id=parse_id(input.id, "user"),
                changes=UserChanges(role=input.role, seat=input.seat, active=input.active),
            )
        return User.from_row(row)

    @strawberry.mutation(description="Your own defaults for new emails (R2); null keeps one.")
    async def update_email_defaults(self, info: Info, input: EmailDefaultsInput) -> User:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await users.set_email_defaults(
                session, principal, track=input.track, log=input.log
            )
        return User.from_row(row)

    @strawberry.mutation(description="Create an API token; its secret is shown only in this reply.")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreatedApiToken:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row, secret = await tokens.create_api_token(
                session,
                principal,
                await context.account_id(info),
                name=input.name,
                scopes=tokens.parse_scopes(str(scope) for scope in input.scopes),
                user_id=parse_id(input.user_id, "user") if input.user_id else None,
                expires_at=input.expires_at,
                now=context.now(),
            )
        return CreatedApiToken(api_token=ApiToken.from_row(row), secret=secret)

    @strawberry.mutation(description="Revoke an API token at once (your own; admins: any).")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiToken:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await tokens.revoke_api_token(
                session,
                principal,
                await context.account_id(info),
                token_id=parse_id(id, "API token"),
                now=context.now(),
            )
        return ApiToken.from_row(row)
