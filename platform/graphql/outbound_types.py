"""GraphQL types of outbound mail: upstream settings, DKIM keys, logins, the test (R26, R27).

No password or private key ever appears here: ``passwordSet`` / ``imapPasswordSet`` say
whether one is stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from sendtrail.errors import Forbidden
from sendtrail.graphql.context import ctx
from sendtrail.sending import outbound_dkim
from sendtrail.sending.outbound import (
    OutboundLogin as OutboundLoginValue,
)
from sendtrail.sending.outbound import (
    OutboundSettings,
    OutboundTestResult,
    OutboundView,
)
from sendtrail.sending.values import SmtpSecurity

__all__ = [
    "DkimKey",
    "OutboundLogin",
    "OutboundMail",
    "OutboundTest",
    "OutboundTestStep",
    "SmtpSecurityEnum",
]

SmtpSecurityEnum = strawberry.enum(
    SmtpSecurity, name="SmtpSecurity",
    description="TLS: encrypted from the first byte (port 465, IMAP 993). STARTTLS: "
    "upgraded before any login (port 587, IMAP 143). NONE: unencrypted, only for a private "
    "or loopback server with SENDTRAIL_OUTBOUND_ALLOW_PRIVATE.")


@strawberry.type(description="A DKIM key of a sending domain: publish dnsRecord as a TXT "
                 "record at dnsName. The private key is never shown.")
class DkimKey:
    domain: str
    selector: str
    dns_name: str = strawberry.field(description="<selector>._domainkey.<domain>")
    dns_record: str = strawberry.field(description="The TXT record's value.")
    created_at: datetime

    @classmethod
    def from_value(cls, value: outbound_dkim.DkimKey) -> DkimKey:
        return cls(domain=value.domain, selector=value.selector, dns_name=value.dns_name,
                   dns_record=value.dns_record, created_at=value.created_at)


@strawberry.type(description="A user's own upstream login (per-user logins); never the "
                 "password.")
class OutboundLogin:
    username: str
    updated_at: datetime

    @classmethod
    def from_value(cls, value: OutboundLoginValue) -> OutboundLogin:
        return cls(username=value.username, updated_at=value.updated_at)


@strawberry.type(description="The account's upstream SMTP server and Sent folder. Every "
                 "user reads `configured`; the rest is for admins and support staff.")
class OutboundMail:
    configured: bool = strawberry.field(
        description="Whether mail can be sent (an upstream SMTP server is set).")
    account_id: strawberry.Private[uuid.UUID]
    settings: strawberry.Private[OutboundSettings | None]
    refusal: strawberry.Private[str | None]

    def _read(self) -> OutboundSettings | None:
        if self.refusal is not None:
            raise Forbidden(self.refusal)
        return self.settings

    @strawberry.field
    def host(self) -> str | None:
        settings = self._read()
        return settings.host if settings else None

    @strawberry.field
    def port(self) -> int | None:
        settings = self._read()
        return settings.port if settings else None

    @strawberry.field
    def security(self) -> SmtpSecurityEnum | None:  # type: ignore[valid-type]
        settings = self._read()
        return settings.security if settings else None

    @strawberry.field
    def username(self) -> str | None:
        settings = self._read()
        return settings.username if settings else None

    @strawberry.field(description="Whether an SMTP password is stored (it is never shown).")
    def password_set(self) -> bool:
        settings = self._read()
        return bool(settings and settings.password_set)

    @strawberry.field(description="IMAP server of the Sent folder; null: no copies filed.")
    def imap_host(self) -> str | None:
        settings = self._read()
        return settings.imap_host if settings else None

    @strawberry.field
    def imap_port(self) -> int | None:
        settings = self._read()
        return settings.imap_port if settings else None

    @strawberry.field
    def imap_security(self) -> SmtpSecurityEnum | None:  # type: ignore[valid-type]
        settings = self._read()
        return settings.imap_security if settings else None

    @strawberry.field(description="The Sent folder's login (with per-user logins, each "
                      "user's own login is used instead).")
    def imap_username(self) -> str | None:
        settings = self._read()
        return settings.imap_username if settings else None

    @strawberry.field(description="Whether an IMAP password is stored (it is never shown).")
    def imap_password_set(self) -> bool:
        settings = self._read()
        return bool(settings and settings.imap_password_set)

    @strawberry.field(description="Mailbox for sent copies; null: the one marked \\Sent.")
    def sent_folder(self) -> str | None:
        settings = self._read()
        return settings.sent_folder if settings else None

    @strawberry.field(description="The upstream files sent mail itself (Gmail, Microsoft "
                      "365): Sendtrail never adds a copy.")
    def upstream_files_sent(self) -> bool:
        settings = self._read()
        return bool(settings and settings.upstream_files_sent)

    @strawberry.field(description="Each user sends with their own upstream login "
                      "(updateOutboundLogin); the account's login is the fallback.")
    def per_user_logins(self) -> bool:
        settings = self._read()
        return bool(settings and settings.per_user_logins)

    @strawberry.field
    def updated_at(self) -> datetime | None:
        settings = self._read()
        return settings.updated_at if settings else None

    @strawberry.field(description="DKIM keys of the sending domains, by domain.")
    async def dkim_keys(self, info: Info) -> list[DkimKey]:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            keys = await outbound_dkim.list_keys(session, principal, self.account_id)
        return [DkimKey.from_value(key) for key in keys]

    @classmethod
    def from_view(cls, view: OutboundView, account_id: uuid.UUID) -> OutboundMail:
        return cls(configured=view.configured, account_id=account_id, settings=view.settings,
                   refusal=view.refusal)

    @classmethod
    def from_settings(cls, settings: OutboundSettings, account_id: uuid.UUID) -> OutboundMail:
        return cls(configured=True, account_id=account_id, settings=settings, refusal=None)


@strawberry.type(description="One check of testOutboundMail (DNS, connection, TLS, login, "
                 "sender, Sent folder), in words.")
class OutboundTestStep:
    name: str
    ok: bool
    message: str


@strawberry.type
class OutboundTest:
    ok: bool
    message: str = strawberry.field(description="What works, or the first failed step and "
                                    "why, in words.")
    steps: list[OutboundTestStep]

    @classmethod
    def from_value(cls, value: OutboundTestResult) -> OutboundTest:
        return cls(ok=value.ok, message=value.message, steps=[
            OutboundTestStep(name=step.name, ok=step.ok, message=step.message)
            for step in value.steps
        ])
