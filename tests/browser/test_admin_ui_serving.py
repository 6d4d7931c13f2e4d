"""The web admin is served at ``/`` without shadowing the API (no browser needed).

Runs against a stand-in build in a temporary folder, so it needs neither node nor chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from sendtrail.app import create_app
from sendtrail.settings import (
    DatabaseSettings,
    DomainSettings,
    HttpSettings,
    NotificationSettings,
    SecretSettings,
    Settings,
    SmtpSettings,
    TrackingSettings,
)
from sendtrail.web import admin_ui

INDEX = b"<!doctype html><title>admin</title><script type=module src=/assets/app-1a2b.js></script>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "app-1a2b.js").write_text("console.log('hi')")
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return folder


def _app(sqlite_template: Path, tmp_path: Path, dist: Path,
         monkeypatch: pytest.MonkeyPatch) -> Litestar:
    monkeypatch.setattr(admin_ui, "DIST", dist)
    monkeypatch.setattr(admin_ui.admin_ui_router, "__defaults__", (dist,))
    database = tmp_path / "sendtrail.db"
    database.write_bytes(sqlite_template.read_bytes())
    return create_app(Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=f"sqlite:///{database}"),
        secrets=SecretSettings(keys=("k" * 40,)),
        http=HttpSettings(public_url="http://testserver.local"),
        tracking=TrackingSettings(base_url="http://testserver.local"),
        smtp=SmtpSettings(port=0),
        notifications=NotificationSettings(webhook_dispatcher=False),
        domains=DomainSettings(worker=False),
        dns_nameservers=("127.0.0.1:9",),
    ))


@pytest.fixture
def client(sqlite_template: Path, tmp_path: Path, dist: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient[Any]]:
    app = _app(sqlite_template, tmp_path, dist, monkeypatch)
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.mark.parametrize("path", [
    "/", "/settings/tracking", "/sign-in", "/no/such/page",
    # Begin like the tracking mounts /c and /o but are the browser's (a reload of a contact).
    "/contacts", "/contacts/3f1c9a52-1c0e-4f55-9f43-0d0c8f6f2b11", "/cx", "/overview-of/o",
])
def test_client_side_routes_get_the_page_never_cached_with_a_strict_csp(
    client: TestClient[Any], path: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.content == INDEX
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp  # no inline scripts
    assert "connect-src 'self' ws: wss:" in csp
    assert "frame-ancestors 'none'" in csp


def test_hashed_assets_are_immutable_and_missing_ones_are_404(client: TestClient[Any]) -> None:
    answer = client.get("/assets/app-1a2b.js")
    assert answer.status_code == 200
    assert answer.text == "console.log('hi')"
    assert "javascript" in answer.headers["content-type"]
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/assets/app-0000.js").status_code == 404
    assert client.get("/assets/..%2Findex.html").status_code == 404
    assert client.get("/missing.js").status_code == 404  # never the page as a script
    favicon = client.get("/favicon.svg")
    assert favicon.status_code == 200
    assert favicon.headers["cache-control"] == "public, max-age=3600"


def test_api_routes_are_not_shadowed_by_the_page(client: TestClient[Any]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ok"
    # Ours, not the page: the test client is not this machine (issue 12, defect 7).
    assert client.get("/metrics").json()["error"]["code"] == "FORBIDDEN"
    graphql = client.post("/graphql", json={"query": "{ viewer { id } }"})
    assert graphql.headers["content-type"].startswith("application/json")
    session = client.get("/auth/session")
    assert session.status_code == 401
    assert session.json()["error"]["code"] == "UNAUTHENTICATED"
    assert client.get("/o/not-a-token").headers["content-type"] == "image/gif"
    assert client.get("/c/not-a-token").status_code == 404
    assert client.get("/o").headers["content-type"] == "image/gif"  # the pixel's mount
    assert client.get("/c/").status_code == 404
    assert client.get("/contacts.js").status_code == 404  # a file, never the page
    for path in ("/auth/nothing", "/graphql/extra", "/records/nothing",
                 "/.well-known/security.txt", "/metrics/x", "/auth/login"):
        answer = client.get(path)
        assert answer.status_code in {404, 405}, path
        assert answer.json()["error"]["code"] == "BAD_REQUEST", path


def test_without_a_build_the_page_says_how_to_make_one(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(sqlite_template, tmp_path, tmp_path / "not-built", monkeypatch)
    with TestClient(app, base_url="http://testserver.local") as test_client:
        for path in ("/", "/settings/tracking", "/assets/app-1a2b.js"):
            answer = test_client.get(path)
            assert answer.status_code == 503, path
            assert "The web admin is not built: run make run" in answer.text
        assert test_client.get("/healthz").status_code == 200
