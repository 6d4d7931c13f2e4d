"""Who may read ``GET /metrics`` (issue 12, defect 7): with ``SENDTRAIL_METRICS_TOKEN`` set,
only a request bearing it; without one, only requests made on the server's own machine
(the TestClient's peer is not such a request: a real loopback scrape is in
tests/e2e/test_metrics_access.py). Not storage: SQLite only."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from sendtrail.app import create_app
from sendtrail.settings import MetricsSettings, Settings

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "sendtrail.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def with_token(settings: Settings) -> Iterator[TestClient[Any]]:
    configured = replace(settings, metrics=MetricsSettings(token=TOKEN))
    with TestClient(create_app(configured), base_url="http://testserver.local") as client:
        yield client


def test_with_a_token_metrics_are_served_to_its_bearer(with_token: TestClient[Any]) -> None:
    answer = with_token.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert "sendtrail_" in answer.text


@pytest.mark.parametrize("authorization", [
    None, f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", TOKEN,
], ids=["none", "shorter", "longer", "basic", "empty", "no-scheme"])
def test_with_a_token_anything_else_is_a_401_in_words(
    with_token: TestClient[Any], authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = with_token.get("/metrics", headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"].startswith("Bearer")
    error = answer.json()["error"]
    assert error["code"] == "UNAUTHENTICATED"
    assert "SENDTRAIL_METRICS_TOKEN" in error["message"]
    assert "sendtrail_" not in answer.text


def test_without_a_token_other_machines_are_refused_in_words(client: TestClient[Any]) -> None:
    answer = client.get("/metrics")
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "FORBIDDEN"
    assert "only on this machine" in error["message"]
    assert "SENDTRAIL_METRICS_TOKEN" in error["message"]


@pytest.mark.parametrize(("value", "accepted"), [
    ("", None), ("short", False), (TOKEN, True)])
def test_the_token_setting_is_read_from_the_environment(
    tmp_path: Path, value: str, accepted: bool | None
) -> None:
    from sendtrail.errors import InvalidInput  # noqa: PLC0415

    env = {"SENDTRAIL_DATA_DIR": str(tmp_path), "SENDTRAIL_METRICS_TOKEN": value}
    if accepted is False:
        with pytest.raises(InvalidInput, match="at least 16 characters"):
            Settings.from_env(env)
        return
    assert Settings.from_env(env).metrics.token == (value or None)
