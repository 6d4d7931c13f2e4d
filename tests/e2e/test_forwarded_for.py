"""Forwarded addresses (issue 12, defect 3): only ``SENDTRAIL_TRUSTED_PROXIES`` decides
whether ``X-Forwarded-For`` is believed, in a real ``sendtrail serve`` (uvicorn would
otherwise believe it from 127.0.0.1 by default, whatever we configure).

The client here always connects from 127.0.0.1 and claims another address each time: with
no trusted proxy the per-address sign-in limit still adds those attempts up and a pixel
hit is stored with 127.0.0.1; with 127.0.0.1 trusted (nginx on the same host) the claimed
addresses are the clients'.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from e2e.processes import Server, _free_port
from sqlalchemy import text
from support import Tenant, run, seed_tenant

from sendtrail.db.engine import create_sync_engine

PER_ADDRESS_LIMIT = 20
"""Failed sign-ins allowed per client address per window (AuthSettings' default)."""
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "sendtrail.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def tenant(sqlite_url: str) -> Tenant:
    return run(seed_tenant(sqlite_url, "Acme"))


@pytest.fixture
def serve(sqlite_url: str, tmp_path: Path, stopped: list[Server]) -> Callable[[str], Server]:
    """Start `sendtrail serve` with the given SENDTRAIL_TRUSTED_PROXIES (stopped after)."""
    def start(trusted_proxies: str) -> Server:
        port = _free_port()
        env = {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": sqlite_url,
               "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": "0",
               "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "SENDTRAIL_TRUSTED_PROXIES": trusted_proxies, "SENDTRAIL_DOMAIN_WORKER": "false",
               "SENDTRAIL_WEBHOOK_DISPATCHER": "false"}
        env.pop("FORWARDED_ALLOW_IPS", None)  # uvicorn's own default, as in production
        server = Server(env, port=port)
        stopped.append(server)
        server.start()
        return server

    return start


def _failed_sign_ins(server: Server, claimed: list[str]) -> list[int]:
    """One wrong sign-in per claimed address (each for another email, so only the
    per-address limit can apply); the status codes."""
    statuses = []
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for number, address in enumerate(claimed):
            answer = client.post("/auth/login", json={
                "email": f"nobody{number}@acme.test", "password": "wrong"},
                headers={"X-Forwarded-For": address})
            statuses.append(answer.status_code)
    return statuses


def _stored_hit_address(server: Server, tenant: Tenant, sqlite_url: str, claimed: str) -> str:
    """Prepare an email, open its pixel claiming ``claimed``; the address stored."""
    answer = httpx.post(f"{server.base_url}/graphql", headers={
        "Authorization": f"Bearer {tenant.admin_token}"}, json={"query": """mutation {
        prepareEmail(input: {subject: "Hi", html: "<p>Hi</p>",
                             recipients: [{address: "ann@client.test"}]}) {
          messages { html } } }"""}, timeout=30)
    html = answer.json()["data"]["prepareEmail"]["messages"][0]["html"]
    pixel = re.search(r'src="(http://[^"]+/o/[^"]+\.gif)"', html)
    assert pixel, html
    hit = httpx.get(pixel.group(1), headers={"X-Forwarded-For": claimed, "User-Agent": CHROME})
    assert hit.status_code == 200
    # The raw hit is stored before it is answered; its engagement is derived a moment later.
    engine = create_sync_engine(sqlite_url)
    try:
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as conn:
                found = conn.execute(text("SELECT ip FROM engagement")).scalars().all()
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        engine.dispose()
    (address,) = found
    return str(address)


def test_without_trusted_proxies_a_claimed_x_forwarded_for_changes_nothing(
    serve: Callable[[str], Server], tenant: Tenant, sqlite_url: str
) -> None:
    server = serve("")
    claimed = [f"198.51.100.{n}" for n in range(PER_ADDRESS_LIMIT + 1)]
    statuses = _failed_sign_ins(server, claimed)
    assert statuses == [401] * PER_ADDRESS_LIMIT + [429], (
        "spoofed X-Forwarded-For values got around the per-address sign-in limit")
    assert _stored_hit_address(server, tenant, sqlite_url, "203.0.113.9") == "127.0.0.1"


def test_with_the_proxy_trusted_its_x_forwarded_for_is_the_client(
    serve: Callable[[str], Server], tenant: Tenant, sqlite_url: str
) -> None:
    server = serve("127.0.0.1")
    claimed = [f"198.51.100.{n}" for n in range(PER_ADDRESS_LIMIT + 1)]
    assert _failed_sign_ins(server, claimed) == [401] * (PER_ADDRESS_LIMIT + 1)
    assert _stored_hit_address(server, tenant, sqlite_url, "203.0.113.9") == "203.0.113.9"
