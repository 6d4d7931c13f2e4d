"""Shared fixtures: every storage test runs once on SQLite and once on PostgreSQL.

PostgreSQL is the machine's server (``SENDTRAIL_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``). The suite creates its own database
beside ``test``, migrates it once and truncates it between tests. When PostgreSQL is
unreachable, its tests are skipped locally and **fail** under ``CI=true``.

``make test`` runs the suite in parallel (pytest-xdist): see tests/parallel.py.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import parallel
import psycopg
import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from support import FakeClock

from sendtrail.app import create_app
from sendtrail.migrations import register_all_tables, upgrade
from sendtrail.settings import (
    DatabaseSettings,
    DomainSettings,
    HttpSettings,
    NotificationSettings,
    SecretSettings,
    SendingSettings,
    Settings,
    SmtpSettings,
    TrackingSettings,
)

# Real DNS server and ACME CA fixtures (challtestsrv, pebble, pebble_factory), and mail
# components (mail_tls, upstream_sink, upstream_sink_factory, dovecot, swaks_path), for any test.
pytest_plugins = ["components", "mail_components"]

BACKENDS = ("sqlite", "postgresql")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_SERVER_URL = os.environ.get(
    "SENDTRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
_backend_counts: Counter[str] = Counter()
register_all_tables()  # so the PostgreSQL fixture truncates every table


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent without pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` (``--dist load``, xdist's default) hands out ``parallel.scope``'s scopes."""
    return parallel.make_scheduler(config, log) if config.getvalue("dist") == "load" else None


def pytest_itemcollected(item: pytest.Item) -> None:
    if parallel.is_alone(item.nodeid):
        item.add_marker(pytest.mark.alone)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    with parallel.exclusion(item):
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    # Run coroutine tests on asyncio through anyio's plugin (litestar already needs anyio).
    # Marking the function before collection keeps other parametrisations (database_url).
    if name.startswith("test") and inspect.iscoroutinefunction(obj):
        pytest.mark.anyio(obj)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for backend in BACKENDS:
            if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid:
                _backend_counts[backend] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _backend_counts:
        counts = ", ".join(f"{_backend_counts[b]} on {b}" for b in BACKENDS)
        terminalreporter.write_line(f"storage/GraphQL tests passed per backend: {counts}")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _admin_connection() -> psycopg.Connection[Any]:
    server = make_url(PG_SERVER_URL)
    return psycopg.connect(
        host=server.host, port=server.port or 5432, user=server.username,
        password=server.password, dbname=server.database, autocommit=True, connect_timeout=3,
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly created and migrated database for this test session (and xdist worker),
    dropped at its end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"sendtrail_test_{worker}_{os.getpid()}"
    try:
        admin = _admin_connection()
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL at {PG_SERVER_URL} is unreachable: {error}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_SERVER_URL).set(drivername="postgresql", database=name).render_as_string(
        hide_password=False
    )
    upgrade(url)
    yield url
    # Every run (and every xdist worker) makes one: do not leave them on the shared server.
    with contextlib.suppress(psycopg.Error), _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_postgres(url: str) -> None:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "sendtrail.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        url: str = request.getfixturevalue("postgres_url")
        _truncate_postgres(url)
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url),
        secrets=SecretSettings(keys=("k" * 40,)),
        http=HttpSettings(public_url="http://testserver.local"),
        # A test's next read sees its hit's engagement (the two-stage path, answering before
        # derivation, is what tests/integration/test_deriver.py and the e2e tests run).
        tracking=TrackingSettings(base_url="http://testserver.local",
                                  answer_after_derivation=True),
        smtp=SmtpSettings(port=0),
        # No test delivers webhooks by accident; the webhook tests run their own dispatcher.
        notifications=NotificationSettings(webhook_dispatcher=False),
        # Domain tests run their own worker against their own DNS server and Pebble.
        domains=DomainSettings(worker=False),
        # Sending tests run the delivery worker by hand (tests/integration/test_sending.py).
        sending=SendingSettings(delivery_worker=False),
        dns_nameservers=("127.0.0.1:9",),  # nothing answers: no test asks a real resolver
    )


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock in tests that move time (see ``app_client``)."""
    return FakeClock()


@pytest.fixture
def app_client(settings: Settings, clock: FakeClock) -> Iterator[TestClient[Any]]:
    """Like ``client``, with the app reading time from ``clock``."""
    with TestClient(create_app(settings, clock=clock),
                    base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    """A litestar TestClient around the real app on the parametrised backend."""
    with TestClient(create_app(settings), base_url="http://testserver.local") as test_client:
        yield test_client
