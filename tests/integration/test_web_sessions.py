"""Web-admin sign-in over HTTP: session cookie, CSRF, sign-out, rate limits, bad input."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from support import PASSWORD, Tenant, error_codes, gql, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.db.engine import Database
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import set_password

WRONG = {"error": {"code": "UNAUTHENTICATED", "message": "Wrong email or password."}}
VIEWER = "{ viewer { email } }"


def post_login(client: Any, email: str, password: str = PASSWORD) -> Any:
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code != 500, response.text
    return response


def sign_in(client: Any, email: str) -> tuple[str, str]:
    """Sign in and return (session cookie, CSRF token), leaving the client's jar empty."""
    response = post_login(client, email)
    assert response.status_code == 200, response.text
    cookie = response.cookies["st_session"]
    client.cookies.clear()
    return cookie, response.json()["csrfToken"]


def cookie_header(cookie: str, csrf: str | None = None) -> dict[str, str]:
    headers = {"Cookie": f"st_session={cookie}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


def set_cookie_header(response: Any) -> str:
    values = [v for v in response.headers.get_list("set-cookie") if v.startswith("st_session=")]
    assert len(values) == 1, response.headers
    return values[0]


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


def test_login_sets_a_lax_httponly_cookie_and_returns_csrf(client: Any, tenant: Tenant) -> None:
    response = post_login(client, tenant.admin_email)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == tenant.admin_email
    assert body["role"] == "ADMIN"
    assert body["csrfHeader"] == "X-CSRF-Token"
    assert isinstance(body["csrfToken"], str)
    assert len(body["csrfToken"]) >= 20
    cookie = set_cookie_header(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes
    assert body["csrfToken"] not in cookie  # the CSRF token is not the session secret


def test_secure_cookie_when_configured(settings: Settings, tenant: Tenant) -> None:
    secure = replace(settings, auth=replace(settings.auth, session_cookie_secure=True))
    with TestClient(create_app(secure), base_url="http://testserver.local") as secure_client:
        response = post_login(secure_client, tenant.admin_email)
    assert response.status_code == 200, response.text
    attributes = [part.strip().lower() for part in set_cookie_header(response).split(";")]
    assert "secure" in attributes
    assert "httponly" in attributes


def test_cookie_needs_the_csrf_header_for_graphql_posts(client: Any, tenant: Tenant) -> None:
    cookie, csrf = sign_in(client, tenant.admin_email)
    refused = gql(client, VIEWER, headers=cookie_header(cookie))
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "X-CSRF-Token" in refused["errors"][0]["message"]
    wrong = gql(client, VIEWER, headers=cookie_header(cookie, "not-the-token"))
    assert error_codes(wrong) == ["FORBIDDEN"]
    allowed = gql(client, VIEWER, headers=cookie_header(cookie, csrf))
    assert allowed.get("errors") is None
    assert allowed["data"]["viewer"]["email"] == tenant.admin_email


def test_cookie_jar_round_trip_works_like_a_browser(client: Any, tenant: Tenant) -> None:
    response = post_login(client, tenant.admin_email)
    csrf = response.json()["csrfToken"]
    body = gql(client, VIEWER, headers={"X-CSRF-Token": csrf})
    assert body["data"]["viewer"]["email"] == tenant.admin_email


def test_get_queries_work_with_the_cookie_without_csrf(client: Any, tenant: Tenant) -> None:
    cookie, _ = sign_in(client, tenant.admin_email)
    response = client.get("/graphql", params={"query": "{viewer{email}}"},
                          headers=cookie_header(cookie))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["email"] == tenant.admin_email


def test_mutation_over_get_is_refused_and_not_executed(client: Any, tenant: Tenant) -> None:
    cookie, _ = sign_in(client, tenant.admin_email)
    mutation = "mutation{updateAccountSettings(input:{trackingEnabled:false}){id}}"
    response = client.get("/graphql", params={"query": mutation}, headers=cookie_header(cookie))
    assert 400 <= response.status_code < 500, response.text
    settings = gql(client, "{ account { settings { trackingEnabled } } }",
                   token=tenant.admin_token)
    assert settings["data"]["account"]["settings"]["trackingEnabled"] is True


def test_session_endpoint_describes_the_signed_in_user(client: Any, tenant: Tenant) -> None:
    cookie, csrf = sign_in(client, tenant.admin_email)
    response = client.get("/auth/session", headers=cookie_header(cookie))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == tenant.admin_email
    assert body["csrfToken"] == csrf
    anonymous = client.get("/auth/session")
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["error"]["code"] == "UNAUTHENTICATED"


def test_logout_needs_csrf_and_ends_the_session(client: Any, tenant: Tenant) -> None:
    cookie, csrf = sign_in(client, tenant.admin_email)
    forged = client.post("/auth/logout", headers=cookie_header(cookie))
    assert forged.status_code == 403, forged.text
    assert forged.json()["error"]["code"] == "FORBIDDEN"
    still = gql(client, VIEWER, headers=cookie_header(cookie, csrf))
    assert still["data"]["viewer"]["email"] == tenant.admin_email

    response = client.post("/auth/logout", headers=cookie_header(cookie, csrf))
    assert response.status_code == 200, response.text
    assert response.json() == {"signedOut": True}
    client.cookies.clear()
    ended = gql(client, VIEWER, headers=cookie_header(cookie, csrf))
    assert error_codes(ended) == ["UNAUTHENTICATED"]
    assert "sign in again" in ended["errors"][0]["message"]
    session = client.get("/auth/session", headers=cookie_header(cookie))
    assert session.status_code == 401, session.text


def test_wrong_password_and_unknown_email_look_the_same(client: Any, tenant: Tenant) -> None:
    wrong = post_login(client, tenant.admin_email, "not the password")
    assert wrong.status_code == 401
    assert wrong.json() == WRONG
    unknown = post_login(client, "nobody@acme.test", "not the password")
    assert unknown.status_code == 401
    assert unknown.json() == WRONG
    invalid = post_login(client, "not-an-email", PASSWORD)
    assert invalid.status_code == 401
    assert invalid.json() == WRONG
    assert "st_session" not in client.cookies


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[]",
        b'{"email": "admin@acme.test"}',
        b'{"password": "x"}',
        b'{"email": 5, "password": "correct horse battery"}',
    ],
    ids=["malformed", "empty", "array", "no-password", "no-email", "number-email"],
)
def test_bad_login_bodies_get_a_400_json_error(
    client: Any, tenant: Tenant, content: bytes
) -> None:
    response = client.post("/auth/login", content=content,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BAD_REQUEST"
    assert error["message"]


def test_deactivated_user_cannot_sign_in_or_use_tokens_or_sessions(
    client: Any, database_url: str, tenant: Tenant
) -> None:
    async def give_password() -> None:
        database = Database(database_url)
        try:
            async with database.session(account_id=None) as session:
                await set_password(session, email=tenant.user_email, password=PASSWORD)
        finally:
            await database.dispose()

    run(give_password())
    cookie, csrf = sign_in(client, tenant.user_email)
    assert gql(client, VIEWER, token=tenant.user_token)["data"]["viewer"]["email"] == (
        tenant.user_email)

    body = gql(client, "mutation($id: ID!) { updateUser(input: {id: $id, active: false}) "
               "{ active } }", {"id": tenant.user_id}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    assert body["data"]["updateUser"]["active"] is False

    refused = post_login(client, tenant.user_email)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    assert "deactivated" in refused.json()["error"]["message"]
    via_token = gql(client, VIEWER, token=tenant.user_token)
    assert error_codes(via_token) == ["UNAUTHENTICATED"]
    assert "deactivated" in via_token["errors"][0]["message"]
    via_session = gql(client, VIEWER, headers=cookie_header(cookie, csrf))
    assert error_codes(via_session) == ["UNAUTHENTICATED"]
