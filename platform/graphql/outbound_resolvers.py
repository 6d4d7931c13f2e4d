"""Mutation fields of outbound mail (the reads hang off Account.outboundMail and
User.outboundLogin in ``types.py``)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from sendtrail.graphql.context import ctx
from sendtrail.graphql.outbound_types import (
    DkimKey,
    OutboundLogin,
    OutboundMail,
    OutboundTest,
    SmtpSecurityEnum,
)
from sendtrail.secretbox import secret_box
from sendtrail.sending import outbound, outbound_dkim
from sendtrail.sending.outbound import KEEP, OutboundChanges

__all__ = ["OutboundMutation"]

KEPT = "Left out: unchanged. null or \"\": cleared."
TEST_TIMEOUT = 20.0
"""Longest one test may take (a person waits for it)."""


@strawberry.input(description="The upstream server; an optional field left out keeps its "
                  "value, null clears it. Passwords are never shown.")
class OutboundMailInput:
    host: str
    port: int
    security: SmtpSecurityEnum  # type: ignore[valid-type]
    username: str | None = strawberry.field(default=UNSET, description=KEPT)
    password: str | None = strawberry.field(
        default=UNSET, description="Left out: the stored password is kept. \"\": cleared.")
    imap_host: str | None = strawberry.field(
        default=UNSET, description="The Sent folder's IMAP server. null or \"\": no copies "
        "are filed (and every imap* field and sentFolder is cleared).")
    imap_port: int | None = strawberry.field(default=UNSET, description="Default: 993 with "
                                             "TLS, else 143.")
    imap_security: SmtpSecurityEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=UNSET, description="Default: TLS.")
    imap_username: str | None = strawberry.field(
        default=UNSET, description="The Sent folder's login (with per-user logins, each user's "
        "own login is used instead).")
    imap_password: str | None = strawberry.field(
        default=UNSET, description="Left out: the stored password is kept. \"\": cleared.")
    sent_folder: str | None = strawberry.field(
        default=UNSET, description="null: the mailbox marked SPECIAL-USE \\Sent.")
    upstream_files_sent: bool | None = strawberry.field(default=UNSET, description=KEPT)
    per_user_logins: bool | None = strawberry.field(default=UNSET, description=KEPT)


@strawberry.input(description="A sending domain's DKIM key.")
class DkimKeyInput:
    domain: str
    selector: str
    private_key_pem: str | None = strawberry.field(
        default=None, description="An RSA private key in PEM; left out: one is generated.")


@strawberry.input(description="Your own upstream login, used with per-user logins.")
class OutboundLoginInput:
    username: str
    password: str


def _given(value: Any) -> Any:
    return KEEP if value is UNSET else value


@strawberry.type
class OutboundMutation:
    @strawberry.mutation(description="Set the account's upstream SMTP server and Sent folder "
                         "(admins).")
    async def update_outbound_mail(self, info: Info, input: OutboundMailInput) -> OutboundMail:
        context = ctx(info)
        principal = await context.actor(info)
        account_id = await context.account_id(info)
        changes = OutboundChanges(**{
            name: _given(getattr(input, name))
            for name in OutboundChanges.__dataclass_fields__
        })
        async with context.db() as session:
            settings = await outbound.update_outbound(
                session, principal, account_id, changes=changes,
                allow_private=context.settings.sending.outbound_allow_private,
                now=context.now(), box=secret_box(context.settings.secrets.keys),
            )
        return OutboundMail.from_settings(settings, account_id)

    @strawberry.mutation(description="Forget the upstream server (admins); false if none was "
                         "set. Users' logins and DKIM keys stay.")
    async def remove_outbound_mail(self, info: Info) -> bool:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            return await outbound.remove_outbound(session, principal,
                                                  await context.account_id(info))

    @strawberry.mutation(description="Try the settings on the real servers without sending: "
                         "connection, TLS, login, sender, Sent folder. Admins; with per-user "
                         "logins, any user (their own login).")
    async def test_outbound_mail(self, info: Info) -> OutboundTest:
        context = ctx(info)
        principal = await context.actor(info)
        sending = context.settings.sending
        async with context.db() as session:
            result = await outbound.test_outbound(
                session, principal, await context.account_id(info),
                helo_name=sending.helo_name,
                timeout=min(sending.delivery_timeout_seconds, TEST_TIMEOUT),
                allow_private=sending.outbound_allow_private,
                ca_bundle=sending.outbound_ca_bundle,
                box=secret_box(context.settings.secrets.keys),
            )
        return OutboundTest.from_value(result)

    @strawberry.mutation(description="Set (or generate) a sending domain's DKIM key (admins).")
    async def set_dkim_key(self, info: Info, input: DkimKeyInput) -> DkimKey:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            key = await outbound_dkim.set_key(
                session, principal, await context.account_id(info), domain=input.domain,
                selector=input.selector, private_key_pem=input.private_key_pem,
                now=context.now(), box=secret_box(context.settings.secrets.keys),
            )
        return DkimKey.from_value(key)

    @strawberry.mutation(description="Stop signing mail from a domain (admins).")
    async def remove_dkim_key(self, info: Info, domain: str) -> bool:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            await outbound_dkim.remove_key(session, principal, await context.account_id(info),
                                           domain=domain)
        return True

    @strawberry.mutation(description="Set your own upstream login (per-user logins).")
    async def update_outbound_login(
        self, info: Info, input: OutboundLoginInput
    ) -> OutboundLogin:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            login = await outbound.set_own_login(
                session, principal, await context.account_id(info), username=input.username,
                password=input.password, now=context.now(),
                box=secret_box(context.settings.secrets.keys),
            )
        return OutboundLogin.from_value(login)

    @strawberry.mutation(description="Remove your own upstream login; false if none was set.")
    async def remove_outbound_login(self, info: Info) -> bool:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            return await outbound.remove_own_login(session, principal,
                                                   await context.account_id(info))
