"""Login CSRF (issue 12, defect 2): the routes that set or clear the session cookie take
JSON only and refuse other sites' pages, so a cross-site form can neither sign a victim
into the attacker's account nor sign them out. Requests without ``Origin`` (curl, scripts)
keep working. Allowed origins: ``SENDTRAIL_PUBLIC_URL``'s and ``SENDTRAIL_ALLOWED_ORIGINS``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from litestar.testing import TestClient
from support import PASSWORD, Tenant, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.errors import InvalidInput
from sendtrail.settings import NotificationSettings, Settings

VIEWER = "{ viewer { email } }"
DEV_SERVER = "http://localhost:5173"


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    """The app with one extra allowed origin (a Vite dev server), as SENDTRAIL_ALLOWED_ORIGINS."""
    configured = replace(settings, notifications=NotificationSettings(
        webhook_dispatcher=False, allowed_origins=(DEV_SERVER,)))
    with TestClient(create_app(configured), base_url="http://testserver.local") as test_client:
        yield test_client


def _session_cookies(response: Any) -> list[str]:
    return [value for value in response.headers.get_list("set-cookie")
            if value.startswith("st_session=")]


def _login_json(tenant: Tenant) -> dict[str, str]:
    return {"email": tenant.admin_email, "password": PASSWORD}


JSON_TEXT = json.dumps({"email": "admin@acme.test", "password": PASSWORD})


@pytest.mark.parametrize(("content_type", "body"), [
    # What an HTML form can send across sites without a preflight.
    ("text/plain", JSON_TEXT),
    ("application/x-www-form-urlencoded",
     urlencode({"email": "admin@acme.test", "password": PASSWORD})),
    ("multipart/form-data; boundary=x",
     '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nadmin@acme.test\r\n--x--\r\n'),
    (None, JSON_TEXT),
], ids=["text-plain", "form-urlencoded", "multipart", "no-content-type"])
def test_sign_in_takes_json_only_so_a_form_cannot_sign_anyone_in(
    client: TestClient[Any], tenant: Tenant, content_type: str | None, body: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/auth/login", content=body.encode(), headers=headers)
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json" in error["message"]
    assert _session_cookies(response) == []


@pytest.mark.parametrize("headers", [
    {"Origin": "https://attacker.test"},
    {"Origin": "http://testserver.local.attacker.test"},
    {"Origin": "https://testserver.local"},  # another scheme is another origin
    {"Origin": "null"},  # sandboxed frames and some redirects
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://testserver.local", "Sec-Fetch-Site": "cross-site"},
], ids=["foreign", "look-alike", "other-scheme", "null", "fetch-metadata", "both-disagree"])
def test_sign_in_from_another_site_is_refused_in_words(
    client: TestClient[Any], tenant: Tenant, headers: dict[str, str]
) -> None:
    response = client.post("/auth/login", json=_login_json(tenant), headers=headers)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN"
    assert "another site" in error["message"]
    assert _session_cookies(response) == []


@pytest.mark.parametrize("headers", [
    {},  # curl, scripts
    {"Origin": "http://testserver.local", "Sec-Fetch-Site": "same-origin"},
    {"Origin": "HTTP://TestServer.Local:80"},  # the same origin, spelt differently
    {"Origin": DEV_SERVER, "Sec-Fetch-Site": "same-site"},  # SENDTRAIL_ALLOWED_ORIGINS
], ids=["no-origin", "same-origin", "default-port", "allowed-origin"])
def test_sign_in_from_our_own_pages_and_from_scripts_works(
    client: TestClient[Any], tenant: Tenant, headers: dict[str, str]
) -> None:
    response = client.post("/auth/login", json=_login_json(tenant),
                           headers={**headers, "Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200, response.text
    assert len(_session_cookies(response)) == 1


def test_sign_out_from_another_site_is_refused_and_the_session_stays(
    client: TestClient[Any], tenant: Tenant
) -> None:
    signed_in = client.post("/auth/login", json=_login_json(tenant))
    assert signed_in.status_code == 200, signed_in.text
    csrf = signed_in.json()["csrfToken"]
    for headers in ({"Origin": "https://attacker.test"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = client.post("/auth/logout", headers={**headers, "X-CSRF-Token": csrf})
        assert refused.status_code == 403, refused.text
        assert "another site" in refused.json()["error"]["message"]
        assert _session_cookies(refused) == []  # the cookie is not cleared
    still = client.post("/graphql", json={"query": VIEWER}, headers={"X-CSRF-Token": csrf})
    assert still.json()["data"]["viewer"]["email"] == tenant.admin_email
    signed_out = client.post("/auth/logout", headers={"Origin": "http://testserver.local",
                                                      "X-CSRF-Token": csrf})
    assert signed_out.status_code == 200, signed_out.text
    assert _session_cookies(signed_out)  # cleared


@pytest.mark.parametrize("value", ["localhost:5173", "http://localhost:5173/app", "*"])
def test_an_allowed_origin_that_is_not_an_origin_stops_the_start_in_words(
    tmp_path: Path, value: str
) -> None:
    # It could never match a browser's Origin: sign-in from there would fail, unexplained.
    with pytest.raises(InvalidInput, match="is not an origin"):
        Settings.from_env({"SENDTRAIL_DATA_DIR": str(tmp_path),
                           "SENDTRAIL_ALLOWED_ORIGINS": value})
    settings = Settings.from_env({"SENDTRAIL_DATA_DIR": str(tmp_path),
                                  "SENDTRAIL_ALLOWED_ORIGINS": f"{DEV_SERVER}/, https://a.test"})
    assert settings.notifications.allowed_origins == (DEV_SERVER, "https://a.test")
