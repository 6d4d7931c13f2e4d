"""``/auth/*``: web-admin sign-in and sign-out.

Both set or clear the session cookie, so both refuse other sites' pages, and sign-in takes
JSON only (``web.same_site``: login CSRF, issue 12 defect 2).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from msgspec import Struct

from sendtrail.client_ip import scope_client_ip
from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.settings import Settings
from sendtrail.tenancy import auth
from sendtrail.web.principal import CSRF_HEADER, SESSION_COOKIE, authenticate
from sendtrail.web.same_site import json_body_only, same_site_only

__all__ = ["describe_session", "session_info", "sign_in", "sign_out"]


class SignInBody(Struct):
    email: str
    password: str


def describe_session(principal: Any, csrf: str) -> dict[str, Any]:
    return {
        "email": principal.email,
        "isStaff": principal.is_staff,
        "accountId": str(principal.account_id) if principal.account_id else None,
        "role": principal.role.value.upper() if principal.role else None,
        "csrfToken": csrf,
        "csrfHeader": CSRF_HEADER,
    }


# Guards run before the body is read: a refused form is never parsed.
@post("/auth/login", status_code=200, guards=[same_site_only, json_body_only])
async def sign_in(request: Request[Any, Any, State], data: SignInBody) -> Response[Any]:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    ip = scope_client_ip(request.scope, settings.http.trusted_proxies)
    async with database.session(account_id=None) as session:
        result = await auth.sign_in(
            session,
            email=data.email,
            password=data.password,
            ip=ip,
            now=request.app.state.clock(),
            limits=settings.auth,
            ttl=timedelta(seconds=settings.auth.session_ttl_seconds),
        )
    return Response(
        describe_session(result.principal, result.csrf_token),
        cookies=[
            Cookie(
                key=SESSION_COOKIE,
                value=result.session_secret,
                httponly=True,
                secure=settings.auth.session_cookie_secure,
                samesite="lax",
                path="/",
                max_age=settings.auth.session_ttl_seconds,
            )
        ],
    )


@post("/auth/logout", status_code=200, guards=[same_site_only])
async def sign_out(request: Request[Any, Any, State]) -> Response[Any]:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with database.session(account_id=None) as session:
            # Signing out needs the CSRF header too, or any site could sign users out.
            await authenticate(request, session, settings, require_csrf=True)
            await auth.sign_out(session, cookie)
    response: Response[Any] = Response({"signedOut": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/auth/session")
async def session_info(request: Request[Any, Any, State]) -> dict[str, Any]:
    """Who is signed in, and the CSRF token the web admin must echo."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    async with database.session(account_id=None) as session:
        principal = await authenticate(request, session, settings, require_csrf=False)
        cookie = request.cookies.get(SESSION_COOKIE, "")
        _, csrf = await auth.principal_for_session(
            session, cookie, now=utcnow(), ttl=timedelta(seconds=settings.auth.session_ttl_seconds)
        ) if cookie else (principal, "")
    return describe_session(principal, csrf)
