"""Fixtures shared by the integration tests of records (logging, timelines, erasure)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from support import Tenant, run, seed_tenant


@pytest.fixture
def app(app_client: TestClient[Any]) -> TestClient[Any]:
    """The app with a movable clock (``clock``)."""
    return app_client


@pytest.fixture
def acme(database_url: str) -> Tenant:
    """An account without paid seats: the one the test acts in."""
    return run(seed_tenant(database_url, "Acme", seats={}))


@pytest.fixture
def rival(database_url: str) -> Tenant:
    """Another account, which must never see or touch ``acme``'s data."""
    return run(seed_tenant(database_url, "Rival", seats={}))
