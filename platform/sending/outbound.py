"""Outbound mail per account, as its admins manage it (R26, R27).

Use cases (``(session, actor, account_id, *, ...)``, each a transaction, admin changes
audited without any password): read and update the upstream SMTP server and the optional
IMAP Sent folder, remove them, a user's own upstream login (per-user logins), DKIM keys per
sending domain, and a test of the settings against the real servers. Passwords and private
keys are stored encrypted (``secretbox``) and never returned: an update that leaves a
password out keeps it, an empty one clears it. Hosts are checked by
``hosts.check_upstream_host``; security NONE is only for a private or loopback host that
SENDTRAIL_OUTBOUND_ALLOW_PRIVATE allows. ``endpoints.route_for`` hands the decrypted
endpoints to the delivery side (and to the test here).

Who: admins read and write; support staff read; a user reads only whether outbound mail is
configured (``configured`` needs ``emails`` read) and manages their own login (``emails``
write).
"""

from __future__ import annotations

import enum
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.errors import Forbidden, InvalidInput, OutboundNotConfigured
from sendtrail.i18n import N_, _
from sendtrail.secretbox import SecretBox
from sendtrail.sending import hosts, sent_folder, upstream
from sendtrail.sending.endpoints import route_for
from sendtrail.sending.store import PASSWORD_CONTEXT, OutboundLoginRow, OutboundMailRow
from sendtrail.sending.values import SmtpSecurity
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.permissions import refuse_lasting_grant
from sendtrail.tenancy.values import Principal

__all__ = [
    "KEEP",
    "OutboundChanges",
    "OutboundLogin",
    "OutboundSettings",
    "OutboundTestResult",
    "OutboundView",
    "get_outbound",
    "get_own_login",
    "remove_outbound",
    "remove_own_login",
    "set_own_login",
    "test_outbound",
    "update_outbound",
]

OBJECT = AuthzObject.OUTBOUND_MAIL
MAX_PASSWORD = 1000
MAX_FOLDER = 200
SENDS_THROUGH = N_("choose the server the account's mail is sent through")
_HOST = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}|\[?[0-9a-f:.]+\]?")
"""A DNS name or an IPv4 / IPv6 literal (``check_upstream_host`` decides the rest)."""
IMAP_PORTS = {SmtpSecurity.TLS: 993, SmtpSecurity.STARTTLS: 143, SmtpSecurity.NONE: 143}


class Keep(enum.Enum):
    """An update's field left out: the stored value stays."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class OutboundChanges:
    """An update: host, port and security always; any other field left ``KEEP`` stays,
    ``None`` (or an empty string) clears it. A password is never read back."""

    host: str
    port: int
    security: SmtpSecurity
    username: str | Keep | None = KEEP
    password: str | Keep | None = KEEP
    imap_host: str | Keep | None = KEEP
    imap_port: int | Keep | None = KEEP
    imap_security: SmtpSecurity | Keep | None = KEEP
    imap_username: str | Keep | None = KEEP
    imap_password: str | Keep | None = KEEP
    sent_folder: str | Keep | None = KEEP
    upstream_files_sent: bool | Keep | None = KEEP
    per_user_logins: bool | Keep | None = KEEP


@dataclass(frozen=True)
class OutboundSettings:
    """What an admin sees of the settings: everything but the passwords."""

    host: str
    port: int
    security: SmtpSecurity
    username: str | None
    password_set: bool
    imap_host: str | None
    imap_port: int | None
    imap_security: SmtpSecurity | None
    imap_username: str | None
    imap_password_set: bool
    sent_folder: str | None
    upstream_files_sent: bool
    per_user_logins: bool
    updated_at: datetime

    @classmethod
    def of(cls, row: OutboundMailRow) -> OutboundSettings:
        return cls(
            host=row.host, port=row.port, security=SmtpSecurity(row.security),
            username=row.username, password_set=row.password_encrypted is not None,
            imap_host=row.imap_host, imap_port=row.imap_port,
            imap_security=SmtpSecurity(row.imap_security) if row.imap_security else None,
            imap_username=row.imap_username,
            imap_password_set=row.imap_password_encrypted is not None,
            sent_folder=row.sent_folder, upstream_files_sent=row.upstream_files_sent,
            per_user_logins=row.per_user_logins, updated_at=row.updated_at,
        )


@dataclass(frozen=True)
class OutboundView:
    """Whether outbound mail is configured, and the settings if the caller may read them."""

    configured: bool
    settings: OutboundSettings | None
    refusal: str | None
    """Why the caller may not read the settings (``None`` when they may)."""


@dataclass(frozen=True)
class OutboundLogin:
    username: str
    updated_at: datetime


async def _row(session: AsyncSession, account_id: uuid.UUID) -> OutboundMailRow | None:
    return (await session.exec(
        select(OutboundMailRow).where(OutboundMailRow.account_id == account_id)
    )).one_or_none()


async def get_outbound(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> OutboundView:
    """Anyone who reads the account's emails learns whether outbound mail is configured."""
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    row = await _row(session, account_id)
    refusal = authorizer().refusal(actor, account_id, OBJECT, AuthzAction.READ)
    settings = OutboundSettings.of(row) if row is not None and refusal is None else None
    return OutboundView(configured=row is not None, settings=settings, refusal=refusal)


def _text(value: str | None, what: str, limit: int) -> str | None:
    """``what`` names the field (an ``N_()`` sentence, translated when shown)."""
    value = (value or "").strip()
    if len(value) > limit:
        raise InvalidInput(_("The {what} may be at most {limit} characters.").format(
            what=_(what), limit=limit))
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise InvalidInput(_("The {what} may not contain control characters (such as line "
                             "breaks, tabs or NUL).").format(what=_(what)))
    return value or None


_HOST_FIELDS = {"SMTP": N_("SMTP host"), "IMAP": N_("IMAP host")}


def _encodable(value: str) -> bool:
    """Whether ``value`` is text UTF-8 can carry (no lone surrogates)."""
    return not any(unicodedata.category(char) == "Cs" for char in value)


def _port(port: int, what: str) -> int:
    if not 1 <= port <= 65535:
        raise InvalidInput(_("The {what} port must be between 1 and 65535 (587 for STARTTLS "
                             "submission, 465 for TLS).").format(what=what))
    return port


async def _host(host: str, security: SmtpSecurity, what: str, *, allow_private: bool) -> str:
    """The host, once ``hosts`` accepts it with this security (NONE: private hosts only)."""
    host = (_text(host, _HOST_FIELDS[what], 253) or "").lower().rstrip(".")
    if not host:
        raise InvalidInput(_("Give the {what} server's host name.").format(what=what))
    if not _HOST.fullmatch(host):
        raise InvalidInput(_("The {what} host is a name such as smtp.example.com (an "
                             "internationalised one in its xn-- form) or an IP address."
                             ).format(what=what))
    await hosts.check_security(host, security, allow_private=allow_private)
    return host


def _password(value: str | Keep | None, stored: str | None, box: SecretBox) -> str | None:
    if value is KEEP:
        return stored
    if not value:
        return None
    if len(value) > MAX_PASSWORD or "\x00" in value or not _encodable(value):
        raise InvalidInput(_("A password may be at most {limit} characters of text, "
                             "without NUL.").format(limit=MAX_PASSWORD))
    return box.encrypt(value.encode(), context=PASSWORD_CONTEXT)


def _snapshot(row: OutboundMailRow | None) -> dict[str, Any] | None:
    """For the audit log: what is set, never a password."""
    if row is None:
        return None
    return {
        "host": row.host, "port": row.port, "security": row.security,
        "username": row.username, "passwordSet": row.password_encrypted is not None,
        "imapHost": row.imap_host, "imapPort": row.imap_port,
        "imapSecurity": row.imap_security, "imapUsername": row.imap_username,
        "imapPasswordSet": row.imap_password_encrypted is not None,
        "sentFolder": row.sent_folder, "upstreamFilesSent": row.upstream_files_sent,
        "perUserLogins": row.per_user_logins,
    }


def _kept(value: Any, stored: Any) -> Any:
    return stored if value is KEEP else value


async def _apply_imap(
    row: OutboundMailRow, changes: OutboundChanges, box: SecretBox, *, allow_private: bool
) -> None:
    imap_host = _kept(changes.imap_host, row.imap_host)
    imap_host = _text(imap_host, _HOST_FIELDS["IMAP"], 253)
    if imap_host is None:
        row.imap_host = row.imap_port = row.imap_security = row.imap_username = None
        row.imap_password_encrypted = row.sent_folder = None
        return
    security = _kept(changes.imap_security, row.imap_security)
    security = SmtpSecurity(security) if security else SmtpSecurity.TLS
    port = _kept(changes.imap_port, row.imap_port) or IMAP_PORTS[security]
    row.imap_host = await _host(imap_host, security, "IMAP", allow_private=allow_private)
    row.imap_port, row.imap_security = _port(port, "IMAP"), security.value
    row.imap_username = _text(_kept(changes.imap_username, row.imap_username),
                              N_("IMAP username"), 320)
    row.imap_password_encrypted = _password(changes.imap_password,
                                            row.imap_password_encrypted, box)
    row.sent_folder = _text(_kept(changes.sent_folder, row.sent_folder), N_("Sent folder"),
                            MAX_FOLDER)


async def update_outbound(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    changes: OutboundChanges,
    allow_private: bool,
    now: datetime,
    box: SecretBox,
) -> OutboundSettings:
    """Configure (or change) the account's upstream server and Sent folder."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.WRITE)
    refuse_lasting_grant(actor, what=SENDS_THROUGH)
    row = await _row(session, account_id)
    before = _snapshot(row)
    stored = (row.password_encrypted, row.imap_password_encrypted) if row else (None, None)
    host = await _host(changes.host, changes.security, "SMTP", allow_private=allow_private)
    port = _port(changes.port, "SMTP")
    if row is None:
        row = OutboundMailRow(account_id=account_id, host=host, port=port,
                              security=changes.security.value)
    row.host, row.port, row.security = host, port, changes.security.value
    row.username = _text(_kept(changes.username, row.username), N_("username"), 320)
    row.password_encrypted = _password(changes.password, row.password_encrypted, box)
    await _apply_imap(row, changes, box, allow_private=allow_private)
    row.upstream_files_sent = bool(_kept(changes.upstream_files_sent, row.upstream_files_sent))
    row.per_user_logins = bool(_kept(changes.per_user_logins, row.per_user_logins))
    after = _snapshot(row) or {}
    for name, old, new in (("passwordChanged", stored[0], row.password_encrypted),
                           ("imapPasswordChanged", stored[1], row.imap_password_encrypted)):
        if old != new:  # says that it changed, never what it is
            after[name] = True
    if after != before:
        row.updated_at, row.updated_by = now, actor.user_id
        session.add(row)
        audit.record(session, actor, account_id, action="outbound_mail.updated",
                     target=f"outbound mail via {row.host}", before=before, after=after)
        await session.commit()
        await session.refresh(row)
    return OutboundSettings.of(row)


async def remove_outbound(session: AsyncSession, actor: Principal, account_id: uuid.UUID) -> bool:
    """Forget the upstream server (users' logins and DKIM keys stay); False if none was set."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.WRITE)
    row = await _row(session, account_id)
    if row is None:
        return False
    audit.record(session, actor, account_id, action="outbound_mail.removed",
                 target=f"outbound mail via {row.host}", before=_snapshot(row))
    await session.delete(row)
    await session.commit()
    return True


def _own(actor: Principal, account_id: uuid.UUID, act: AuthzAction) -> uuid.UUID:
    authorizer().require(actor, account_id, AuthzObject.EMAILS, act)
    if actor.user_id is None:
        raise Forbidden(_("Support staff have no upstream login of their own."))
    return actor.user_id


async def _login_row(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> OutboundLoginRow | None:
    return (await session.exec(select(OutboundLoginRow).where(
        OutboundLoginRow.account_id == account_id, OutboundLoginRow.user_id == user_id,
    ))).one_or_none()


async def get_own_login(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *, user_id: uuid.UUID
) -> OutboundLogin | None:
    """A user's upstream login: their own, or anyone's for admins and support; else None."""
    if user_id != actor.user_id and not authorizer().allowed(actor, account_id, OBJECT,
                                                             AuthzAction.READ):
        return None
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    row = await _login_row(session, account_id, user_id)
    return None if row is None else OutboundLogin(row.username, row.updated_at)


async def set_own_login(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    username: str, password: str, now: datetime, box: SecretBox,
) -> OutboundLogin:
    """The caller's own upstream login, used when the account has per-user logins on."""
    user_id = _own(actor, account_id, AuthzAction.WRITE)
    name = _text(username, N_("username"), 320)
    if name is None or not password:
        raise InvalidInput(_("Give your upstream username and password (both)."))
    encrypted = _password(password, None, box) or ""  # not empty: checked above
    row = await _login_row(session, account_id, user_id)
    if row is None:
        row = OutboundLoginRow(account_id=account_id, user_id=user_id, username=name,
                               password_encrypted=encrypted)
    row.username, row.password_encrypted, row.updated_at = name, encrypted, now
    session.add(row)
    audit.record(session, actor, account_id, action="outbound_login.updated",
                 target=f"upstream login of {actor.email}", after={"username": name})
    await session.commit()
    return OutboundLogin(name, now)


async def remove_own_login(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> bool:
    user_id = _own(actor, account_id, AuthzAction.WRITE)
    row = await _login_row(session, account_id, user_id)
    if row is None:
        return False
    audit.record(session, actor, account_id, action="outbound_login.removed",
                 target=f"upstream login of {actor.email}", before={"username": row.username})
    await session.delete(row)
    await session.commit()
    return True


@dataclass(frozen=True)
class OutboundTestResult:
    ok: bool
    message: str
    """One sentence: what works, or the first step that failed and why."""
    steps: list[upstream.Step]


async def test_outbound(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    helo_name: str, timeout: float, allow_private: bool, ca_bundle: Path | None,
    box: SecretBox,
) -> OutboundTestResult:
    """Try the settings on the real servers: DNS, connection, TLS, login, the caller's
    address as sender, and (when a Sent folder is set and the upstream does not file sent
    mail itself) the IMAP login and folder. Sends nothing. Admins test the account's
    settings; with per-user logins, any user tests their own login."""
    refusal = authorizer().refusal(actor, account_id, OBJECT, AuthzAction.WRITE)
    row = await _row(session, account_id)
    if refusal is not None and not (row is not None and row.per_user_logins):
        raise Forbidden(refusal)
    user_id = _own(actor, account_id, AuthzAction.WRITE)
    if row is None:
        raise OutboundNotConfigured(_(
            "Outbound mail is not configured for this account: set the upstream SMTP server "
            "first (Settings → Outbound mail)."))
    if refusal is not None and await _login_row(session, account_id, user_id) is None:
        raise OutboundNotConfigured(_(
            "Set your own upstream login first (updateOutboundLogin): only an admin tests "
            "the account's shared login, which sends for users who have none."))
    route = await route_for(session, box, account_id, user_id)
    if route is None:  # removed meanwhile
        raise OutboundNotConfigured(_("Outbound mail is not configured for this account."))
    smtp, imap = route.smtp, route.imap  # what this user's mail goes through
    steps = await upstream.test_smtp(smtp, mail_from=actor.email, helo_name=helo_name,
                                     timeout=timeout, allow_private=allow_private,
                                     ca_bundle=ca_bundle)
    if imap is not None and all(step.ok for step in steps):
        steps += await sent_folder.test_imap(imap, timeout=timeout, allow_private=allow_private,
                                             ca_bundle=ca_bundle)
    failed = next((step for step in steps if not step.ok), None)
    if failed is not None:
        return OutboundTestResult(False, failed.message, steps)
    sentence = {
        (True, True): N_("Sendtrail can send through {host}:{port} as {username} and files a "
                         "copy in the Sent folder."),
        (True, False): N_("Sendtrail can send through {host}:{port} as {username}."),
        (False, True): N_("Sendtrail can send through {host}:{port} and files a copy in the "
                          "Sent folder."),
        (False, False): N_("Sendtrail can send through {host}:{port}."),
    }[bool(smtp.username), imap is not None]
    return OutboundTestResult(True, _(sentence).format(
        host=smtp.host, port=smtp.port, username=smtp.username), steps)


test_outbound.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
