"""``/auth/invitation``: what an invitation link shows, and accepting it (issue 15, defect 3).

The web admin's page ``/invitation#<token>`` keeps the token in the fragment, which no
browser sends; it passes the token in a header (GET) or the JSON body (POST), so the token
never appears in a URL, a server log or a Referer. Accepting sets the session cookie like
signing in, so it refuses other sites' pages and takes JSON only (``web.same_site``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import CacheControlHeader, Cookie, State
from msgspec import Struct

from sendtrail.client_ip import scope_client_ip
from sendtrail.db.engine import Database
from sendtrail.settings import Settings
from sendtrail.tenancy import invitations
from sendtrail.web.auth_routes import describe_session
from sendtrail.web.principal import SESSION_COOKIE
from sendtrail.web.same_site import json_body_only, same_site_only

__all__ = ["INVITATION_HEADER", "accept_invitation", "show_invitation"]

INVITATION_HEADER = "X-Sendtrail-Invitation"


class AcceptBody(Struct):
    token: str
    password: str


# Every link is asked for at the same URL (the token is a header): nothing may be cached.
@get("/auth/invitation", cache_control=CacheControlHeader(no_store=True))
async def show_invitation(request: Request[Any, Any, State]) -> dict[str, Any]:
    """Who invited the link's holder to which account; 404/410/409 with a sentence."""
    database: Database = request.app.state.database
    view = await invitations.preview(database, request.headers.get(INVITATION_HEADER, ""),
                                     now=request.app.state.clock())
    return {"email": view.email, "name": view.name, "accountName": view.account_name,
            "invitedBy": view.invited_by, "expiresAt": view.expires_at.isoformat()}


@post("/auth/invitation/accept", status_code=200, guards=[same_site_only, json_body_only])
async def accept_invitation(request: Request[Any, Any, State], data: AcceptBody) -> Response[Any]:
    """Set the password and sign in: the session cookie and CSRF token, as ``/auth/login``."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    result = await invitations.accept(
        database, data.token, password=data.password,
        ip=scope_client_ip(request.scope, settings.http.trusted_proxies),
        now=request.app.state.clock(),
        session_ttl=timedelta(seconds=settings.auth.session_ttl_seconds),
    )
    return Response(
        describe_session(result.principal, result.csrf_token),
        cookies=[Cookie(key=SESSION_COOKIE, value=result.session_secret, httponly=True,
                        secure=settings.auth.session_cookie_secure, samesite="lax", path="/",
                        max_age=settings.auth.session_ttl_seconds)],
    )
