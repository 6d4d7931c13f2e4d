"""``GET /metrics`` of a real ``sendtrail serve`` (issue 12, defect 7): by default only a
scrape made on the same machine (loopback, not forwarded by a proxy) is answered, so
``make run`` and a local Prometheus keep working while the internet, even through nginx
on the same host, gets nothing; with ``SENDTRAIL_METRICS_TOKEN``, only its bearer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
from e2e.processes import Server

TOKEN = "metrics-token-0123456789abcdef"


def _serve(sqlite_template: Path, tmp_path: Path, stopped: list[Server],
           **env: str) -> Server:
    shutil.copyfile(sqlite_template, tmp_path / "sendtrail.db")
    server = Server({**os.environ, "PYTHONSAFEPATH": "1",
                     "SENDTRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'sendtrail.db'}",
                     "SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_SMTP_PORT": "0",
                     "SENDTRAIL_DOMAIN_WORKER": "false", **env})
    stopped.append(server)
    server.start()
    return server


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"], ids=["no-proxy", "proxy-trusted"])
def test_by_default_only_this_machine_reads_the_metrics(
    sqlite_template: Path, tmp_path: Path, stopped: list[Server], trusted: str
) -> None:
    server = _serve(sqlite_template, tmp_path, stopped, SENDTRAIL_TRUSTED_PROXIES=trusted)
    local = httpx.get(f"{server.base_url}/metrics")
    assert local.status_code == 200, local.text
    assert "sendtrail_" in local.text
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
                   {"X-Real-IP": "203.0.113.9"}):  # what a proxy on this host adds
        proxied = httpx.get(f"{server.base_url}/metrics", headers=header)
        assert proxied.status_code == 403, (header, proxied.text)
        assert "sendtrail_" not in proxied.text


def test_with_a_token_even_this_machine_must_bear_it(
    sqlite_template: Path, tmp_path: Path, stopped: list[Server]
) -> None:
    server = _serve(sqlite_template, tmp_path, stopped, SENDTRAIL_METRICS_TOKEN=TOKEN)
    assert httpx.get(f"{server.base_url}/metrics").status_code == 401
    scrape = httpx.get(f"{server.base_url}/metrics",
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert scrape.status_code == 200, scrape.text
    assert "sendtrail_" in scrape.text
