"""Who is calling: API token (``Authorization: Bearer``) or web session cookie (+ CSRF)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import timedelta

from litestar.connection import ASGIConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.types import utcnow
from sendtrail.errors import Forbidden, InvalidInput, Unauthenticated
from sendtrail.i18n import _
from sendtrail.settings import Settings
from sendtrail.tenancy import auth, tokens
from sendtrail.tenancy.values import Principal

__all__ = [
    "ACCOUNT_PARAM", "CSRF_HEADER", "SESSION_COOKIE", "authenticate", "authenticate_link",
    "authenticate_socket",
]

SESSION_COOKIE = "st_session"
CSRF_HEADER = "X-CSRF-Token"
ACCOUNT_HEADER = "X-Sendtrail-Account"
ACCOUNT_PARAM = "account"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def authenticate(
    connection: ASGIConnection,  # type: ignore[type-arg]
    session: AsyncSession,
    settings: Settings,
    *,
    require_csrf: bool,
) -> Principal:
    """The principal of this request, or an error saying how to authenticate."""
    now = utcnow()
    authorization = connection.headers.get("authorization")
    if authorization:
        scheme, _space, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthenticated(_("Send API tokens as 'Authorization: Bearer st_...'."))
        principal = await tokens.authenticate_token(session, credential.strip(), now=now)
    else:
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthenticated(
                _("Sign in, or send an API token as 'Authorization: Bearer st_...'.")
            )
        principal, csrf = await auth.principal_for_session(
            session, cookie, now=now, ttl=timedelta(seconds=settings.auth.session_ttl_seconds)
        )
        method = connection.scope.get("method", "GET")
        if require_csrf and method not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER, "")
            if not secrets.compare_digest(sent.encode(), csrf.encode()):
                raise Forbidden(_(
                    "Missing or wrong {header} header; reload the web admin and retry."
                ).format(header=CSRF_HEADER))
    if principal.is_staff and (key := connection.headers.get(ACCOUNT_HEADER)):
        principal = await auth.support_principal_for(session, principal, key)
    return principal


async def authenticate_link(
    connection: ASGIConnection,  # type: ignore[type-arg]
    session: AsyncSession,
    settings: Settings,
) -> Principal:
    """Who follows a download link (attachment, logged HTML, CSV export): a link carries no
    header, so support staff name the account they inspect with ``?account=<id>`` (as
    ``X-Sendtrail-Account`` does for GraphQL). Anyone else's ``?account=`` must be their
    own account: naming another one is refused, never silently ignored."""
    principal = await authenticate(connection, session, settings, require_csrf=False)
    wanted = connection.query_params.get(ACCOUNT_PARAM)
    if wanted is None:
        return principal
    try:
        account_id = uuid.UUID(wanted)
    except ValueError:
        raise InvalidInput(_("'?{param}=' must be an account id, not {value!r}.").format(
            param=ACCOUNT_PARAM, value=wanted[:40])) from None
    if not principal.is_staff:
        if account_id != principal.account_id:
            raise Forbidden(
                _("This link is for another account; open it from your own pages.")
            )
        return principal
    if principal.account_id is not None and principal.account_id != account_id:
        raise InvalidInput(_("{header} and '?{param}=' name different accounts.").format(
            header=ACCOUNT_HEADER, param=ACCOUNT_PARAM))
    return await auth.support_principal_for(session, principal, str(account_id))


async def authenticate_socket(
    params: Mapping[str, object],
    cookies: Mapping[str, str],
    session: AsyncSession,
    settings: Settings,
) -> Principal:
    """Who opened a GraphQL WebSocket: the ``connection_init`` token, else the session cookie.

    A socket has no CSRF header; the handshake's ``Origin`` check (allowed origins only)
    is what keeps other sites from riding the cookie. An ``account`` parameter naming an
    account other than the credential's is refused, never silently ignored.
    """
    now = utcnow()
    authorization = params.get("authorization")
    if authorization is not None:
        if not isinstance(authorization, str):
            raise Unauthenticated(
                _("connection_init's authorization must be 'Bearer st_...'.")
            )
        scheme, _space, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthenticated(
                _("connection_init's authorization must be 'Bearer st_...'.")
            )
        principal = await tokens.authenticate_token(session, credential.strip(), now=now)
    elif cookie := cookies.get(SESSION_COOKIE):
        principal, _csrf = await auth.principal_for_session(
            session, cookie, now=now, ttl=timedelta(seconds=settings.auth.session_ttl_seconds)
        )
    else:
        raise Unauthenticated(
            _("Send {example} in connection_init, or sign in.").format(
                example='{"authorization": "Bearer st_..."}')
        )
    if principal.is_staff or principal.user_id is None:
        raise Forbidden(_("Live notifications are for the senders of tracked emails."))
    wanted = params.get("account")
    if wanted is not None and str(wanted) != str(principal.account_id):
        raise Forbidden(_("This credential belongs to another account."))
    return principal
