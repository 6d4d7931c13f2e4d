"""The audit log page read by an admin (issue 15, defect 5), at 1280 and 390 px.

The defect, as seen: after a setting change and two support visits the page showed the raw
code ``account.settings.updated`` and key ``privacy_mode``, "user:admin@…" for the admin,
and one row per support read (8 here) with no way to filter. Expected, and checked here:
sentences with names ("Ada Admin turned privacy mode on"), each visit one entry whose
reads unfold, and filters by person, kind and date. Every test fails on any console error
or failed request (conftest.py)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from browser.conftest import new_tenant
from browser.harness import Site, Ui, sign_in
from playwright.sync_api import Locator, expect
from sqlalchemy import select, update
from support import PASSWORD, STAFF_PASSWORD, Tenant, grant_support_staff

from sendtrail.db.engine import create_sync_engine
from sendtrail.tenancy.store import AuditEntryRow, UserRow

STAFF = "sam@support.sendtrail.test"
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]
LOG_EMAIL = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"""


@dataclass(frozen=True)
class Audited:
    tenant: Tenant
    email_id: str


def _database(site: Site, work: object) -> None:
    engine = create_sync_engine(site.server.env["SENDTRAIL_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            work(conn)  # type: ignore[operator]
    finally:
        engine.dispose()


def _signed_in(site: Site, email: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=site.url, timeout=30)
    answer = client.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return client, answer.json()["csrfToken"]


def _ok(client: httpx.Client, query: str, variables: dict[str, object] | None = None,
        headers: dict[str, str] | None = None) -> None:
    answer = client.post("/graphql", json={"query": query, "variables": variables or {}},
                         headers=headers or {})
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.json()


def _visit(site: Site, tenant: Tenant, email_id: str) -> None:
    """A support visit as the console makes it: the account, an email, the users, emails."""
    staff, csrf = _signed_in(site, STAFF, STAFF_PASSWORD)
    headers = {"X-Sendtrail-Account": tenant.account_id, "X-CSRF-Token": csrf}
    try:
        _ok(staff, "query Overview { account { name } }", headers=headers)
        _ok(staff, "query EmailDetail($id: ID!) { email(id: $id) { subject } }",
            {"id": email_id}, headers)
        _ok(staff, "query Users { users { edges { node { email } } } }", headers=headers)
        _ok(staff, "query Emails { emails(first: 5) { edges { node { id } } } }",
            headers=headers)
    finally:
        staff.close()


@pytest.fixture(scope="module")
def audited(site: Site) -> Audited:
    """An account whose admin, Ada Admin, turned privacy mode on in her web session, and
    which support staff visited twice, two hours apart."""
    tenant = new_tenant(site, "Audited")
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop owns this thread
        pool.submit(grant_support_staff, site.server.env["SENDTRAIL_DATABASE_URL"],
                    STAFF).result()
    users = UserRow.__table__  # type: ignore[attr-defined]
    _database(site, lambda conn: conn.execute(update(users).where(
        users.c.id == uuid.UUID(tenant.admin_id)).values(name="Ada Admin")))
    logged = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {tenant.admin_token}"},
                        json={"query": LOG_EMAIL, "variables": {"i": {
                            "subject": "Proposal", "text": "Hello",
                            "recipients": [{"address": "gil@client.test"}]}}})
    email_id = logged.json()["data"]["logEmail"]["id"]
    admin, csrf = _signed_in(site, tenant.admin_email, PASSWORD)
    try:
        _ok(admin, "mutation { updateAccountSettings(input: {privacyMode: true}) { id } }",
            headers={"X-CSRF-Token": csrf})
    finally:
        admin.close()
    _visit(site, tenant, email_id)

    def earlier(conn: object) -> None:  # the first visit was two hours ago
        rows = conn.execute(select(AUDIT.c.id, AUDIT.c.at).where(  # type: ignore[attr-defined]
            AUDIT.c.account_id == uuid.UUID(tenant.account_id),
            AUDIT.c.actor.like("support:%"))).all()
        for row_id, at in rows:
            conn.execute(update(AUDIT).where(  # type: ignore[attr-defined]
                AUDIT.c.account_id == uuid.UUID(tenant.account_id), AUDIT.c.id == row_id,
            ).values(at=at - timedelta(hours=2)))

    _database(site, earlier)
    _visit(site, tenant, email_id)
    return Audited(tenant, email_id)


def _entries(ui: Ui) -> Locator:
    return ui.page.get_by_role("list", name="Audit log entries").locator("[data-audit-entry]")


def _open_log(ui: Ui, audited: Audited) -> None:
    sign_in(ui, audited.tenant.admin_email)
    ui.goto("/settings/audit")
    expect(ui.page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(_entries(ui).first).to_be_visible()


def test_the_log_speaks_in_sentences_groups_visits_and_filters(
    ui: Ui, site: Site, audited: Audited
) -> None:
    _open_log(ui, audited)
    page = ui.page
    entries = _entries(ui)
    expect(entries.filter(has_text="Ada Admin turned privacy mode on")).to_have_count(1)
    visits = entries.filter(has_text=f"Support staff ({STAFF}) viewed the email 'Proposal' "
                                     "and 3 other things")
    expect(visits).to_have_count(2)  # two visits, not eight rows
    log = page.get_by_role("list", name="Audit log entries")
    for raw in ("account.settings.updated", "privacy_mode", "support.read", "user:",
                audited.email_id):
        expect(log).not_to_contain_text(raw)
    ui.snap("sentences")

    first = visits.first
    first.get_by_role("button", name="Show what they viewed (4)").click()
    viewed = first.get_by_role("list", name="What they viewed")
    expect(viewed.get_by_role("listitem")).to_have_count(4)
    expect(viewed).to_contain_text("the email 'Proposal'")
    expect(first).to_contain_text("Viewed 4 things:")
    ui.snap("visit-open")

    page.get_by_role("combobox", name="What").click()
    page.get_by_role("option", name="Support access").click()
    expect(entries).to_have_count(2)
    expect(page).to_have_url(f"{site.url}/settings/audit?kind=SUPPORT")
    page.get_by_role("combobox", name="What").click()
    page.get_by_role("option", name="Settings").click()
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Ada Admin turned privacy mode on")

    page.get_by_role("combobox", name="Who").click()
    page.get_by_role("option", name=f"Support staff ({STAFF})").click()
    expect(page.get_by_text("No entries match")).to_be_visible()
    ui.snap("filtered-nothing")

    ui.goto(f"/settings/audit?actor=user%3A{audited.tenant.admin_email}")
    expect(entries.filter(has_text="Ada Admin turned privacy mode on")).to_have_count(1)
    expect(entries.filter(has_text="Support staff")).to_have_count(0)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page.get_by_label("From", exact=True).fill(tomorrow)
    expect(page.get_by_text("No entries match")).to_be_visible()
    page.get_by_label("From", exact=True).fill(date.today().isoformat())
    expect(entries.filter(has_text="Ada Admin turned privacy mode on")).to_have_count(1)


def test_the_log_fits_a_phone_and_a_visit_unfolds(phone_ui: Ui, audited: Audited) -> None:
    ui = phone_ui
    _open_log(ui, audited)
    entries = _entries(ui)
    expect(entries.filter(has_text="Ada Admin turned privacy mode on")).to_have_count(1)
    visits = entries.filter(has_text=f"Support staff ({STAFF}) viewed")
    expect(visits).to_have_count(2)
    ui.assert_fits()
    ui.snap("audit-log")
    visits.first.get_by_role("button", name="Show what they viewed (4)").click()
    expect(visits.first.get_by_role("list", name="What they viewed")
           .get_by_role("listitem")).to_have_count(4)
    ui.assert_fits()
    ui.snap("visit-open")
