"""Browser fixtures: the built web admin served by a real `sendtrail serve`, driven by
Debian's chromium through Playwright (never `playwright install`).

- ``web_admin``: ``web-admin/dist``, rebuilt (``npm ci`` / ``npm run build``) when older
  than its sources, under a file lock; ``make test`` has built it already.
- ``site``: one server on a SQLite copy of the migrated template, with a new tenant (its
  admin and user both sign in with ``support.PASSWORD``) and a ``busy`` one that has sent
  an email.
- ``new_tenant(site, name)``: another account on the site, for a test that changes
  account-wide settings (outbound mail, privacy mode, tracking).
- ``ui``: a fresh browser context and page at 1280 px that fails the test at teardown on
  any console error, page error, failed request or 4xx/5xx answer the test did not
  ``expect``, and saves a full-page screenshot of each page the test ``snap``s into
  ``tests/browser/screenshots/`` (gitignored).

Without node/npm or chromium these tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from browser.harness import SCREENSHOTS, Site, Ui
from components import ChallTestSrv
from e2e.processes import Server, _free_port
from playwright.sync_api import Browser, ViewportSize, sync_playwright
from support import PASSWORD, Tenant, run, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.tenancy.auth import set_password

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web-admin"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
IN_CI = os.environ.get("CI", "").lower() == "true"
PREPARE = "mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) { email { id } } }"
SOURCES = ("src", "public", "index.html", "schema.graphql", "package.json", "package-lock.json",
           "vite.config.ts", "codegen.ts", "tsconfig.json")


def _unavailable(reason: str) -> None:
    # As in tests/conftest.py: skipped locally, a failure under CI=true.
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = WEB / name
        files = [path] if path.is_file() else [
            p for p in path.rglob("*") if p.is_file() and "gql" not in p.relative_to(path).parts
        ]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def _npm(npm: str, *args: str) -> None:
    done = subprocess.run([npm, *args], cwd=WEB, capture_output=True, text=True, timeout=600,
                          check=False)
    if done.returncode != 0:
        pytest.fail(f"npm {' '.join(args)} failed in {WEB}:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


@pytest.fixture(scope="session")
def web_admin() -> Path:
    """``web-admin/dist``, built from the current sources."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        _unavailable("node and npm build the web admin (Debian: nodejs)")
    assert npm is not None
    digest = hashlib.sha256(str(WEB).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"sendtrail-web-admin-{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = WEB / "node_modules" / ".package-lock.json"
        if not installed.exists() or (
            installed.stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime
        ):
            _npm(npm, "ci", "--no-audit", "--no-fund")
        index = WEB / "dist" / "index.html"
        if not index.exists() or index.stat().st_mtime < _newest_source():
            _npm(npm, "run", "build")
    return WEB / "dist"


async def _seed(url: str, name: str) -> Tenant:
    tenant = await seed_tenant(url, name)
    database = Database(url)
    try:  # seed_tenant gives only the admin a password; the user signs in too
        async with database.session(account_id=None) as session:
            await set_password(session, email=tenant.user_email, password=PASSWORD)
    finally:
        await database.dispose()
    return tenant


def new_tenant(site: Site, name: str) -> Tenant:
    """Another account on ``site`` (its admin and user sign in with ``support.PASSWORD``),
    for a test that changes account-wide settings. Seeded from a thread of its own:
    Playwright's loop owns this one."""
    url = site.server.env["SENDTRAIL_DATABASE_URL"]
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: run(_seed(url, f"{name} {uuid.uuid4().hex[:6]}"))).result()


def _prepare_email(server: Server, token: str, subject: str) -> None:
    answer = httpx.post(f"{server.base_url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": PREPARE, "variables": {"i": {
                            "subject": subject, "html": "<p>Hi</p>",
                            "recipients": [{"address": "pat@customer.test"}]}}})
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.json()


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:  # per module, as browser
    """`sendtrail serve` with the built web admin and a seeded tenant."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory)


def serve_site(sqlite_template: Path, challtestsrv: ChallTestSrv,
               tmp_path_factory: pytest.TempPathFactory,
               settings: dict[str, str] | None = None) -> Iterator[Site]:
    """What ``site`` yields, with more ``SENDTRAIL_*`` settings (a module overriding
    ``site``, e.g. for an upstream mail server on loopback)."""
    data_dir = tmp_path_factory.mktemp("browser-site")
    database = data_dir / "sendtrail.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    name = f"Browser {uuid.uuid4().hex[:6]}"
    tenant = run(_seed(url, name))
    busy = run(_seed(url, f"Busy {uuid.uuid4().hex[:6]}"))
    port = _free_port()
    server = Server({**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": url,
                     "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SMTP_PORT": "0",
                     "SENDTRAIL_SECRET_KEYS": "browser-tests-secret-key-0123456789abcdef",
                     "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
                     # The site is also opened as localhost: an operator serving the admin
                     # under a second name lists it, or sign-in refuses that origin (issue
                     # 12, defect 2).
                     "SENDTRAIL_ALLOWED_ORIGINS": f"http://localhost:{port}",
                     "SENDTRAIL_DOMAIN_WORKER": "false",
                     # "Verify now" asks the test DNS server on loopback, never real DNS.
                     "SENDTRAIL_DNS_NAMESERVERS": challtestsrv.dns_address,
                     # No webhook leaves the machine: deliveries stay PENDING.
                     "SENDTRAIL_WEBHOOK_DISPATCHER": "false", **(settings or {})}, port=port)
    try:
        server.start()
        _prepare_email(server, busy.admin_token, "Pricing for Q3")
        yield Site(server, tenant, name, busy)
    finally:
        server.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    """Debian's chromium, per module: Playwright's sync API keeps an event loop running in
    this thread until it stops, and later tests call ``asyncio.run`` (``site`` seeds first
    for the same reason)."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} drives the web admin tests (Debian: chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _test_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


def open_ui(browser: Browser, site: Site, name: str, viewport: ViewportSize,
            locale: str = "en-US") -> Iterator[Ui]:
    # English unless a test asks otherwise, whatever the machine's own language.
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    ui = Ui(page, site, name)
    page.on("console", ui.on_console)
    page.on("pageerror", lambda error: ui.problems.append(f"page error: {error}"))
    page.on("response", ui.on_response)
    page.on("requestfailed", ui.on_request_failed)
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}--*.png"):
        old.unlink()
    try:
        yield ui
        page.wait_for_load_state("networkidle")
        ui.check_key_columns()
    finally:
        context.close()
    assert not ui.problems, "the page reported problems:\n" + "\n".join(ui.problems)


@pytest.fixture
def ui(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Ui]:
    yield from open_ui(browser, site, _test_name(request), DESKTOP)


@pytest.fixture
def phone_ui(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Ui]:
    yield from open_ui(browser, site, _test_name(request), PHONE)
