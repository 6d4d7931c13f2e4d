"""The demo a newcomer sees after `make run`, in real Chromium (Build §6): `sendtrail demo`
runs on the site's database before `sendtrail serve`, as `make run` does, and the demo login
finds the story on Overview, Emails (an email's opens and clicks, people and machines, and a
"Someone" row, R10, R15), Activity (R4, R7) and a contact's page (R16, R23, R24)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser.harness import SCREENSHOTS, Site, Ui, open_contact, sign_in
from e2e.processes import SENDTRAIL, Server, _free_port
from playwright.sync_api import expect
from support import run, seed_tenant

from sendtrail.demo import DEMO_ADMIN, DEMO_PASSWORD, ORDER_FORM, REPLY

PROPOSAL = "Proposal for Northwind: Q1 rollout"
KICKOFF = "Contoso kickoff: agenda for Thursday"
PRIYA = "priya.patel@northwind.example.test"


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`sendtrail demo`, then `sendtrail serve`, on one SQLite database (as `make run`)."""
    data_dir = tmp_path_factory.mktemp("browser-demo")
    database = data_dir / "sendtrail.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    neighbour = run(seed_tenant(url, f"Neighbour {uuid.uuid4().hex[:6]}"))
    port = _free_port()
    env = {**os.environ, "PYTHONSAFEPATH": "1", "SENDTRAIL_DATABASE_URL": url,
           "SENDTRAIL_DATA_DIR": str(data_dir), "SENDTRAIL_SMTP_PORT": "0",
           "SENDTRAIL_SECRET_KEYS": "browser-tests-secret-key-0123456789abcdef",
           "SENDTRAIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "SENDTRAIL_DOMAIN_WORKER": "false", "SENDTRAIL_WEBHOOK_DISPATCHER": "false",
           "SENDTRAIL_DNS_NAMESERVERS": "127.0.0.1:9"}
    demo = subprocess.run([SENDTRAIL, "demo"], env=env, check=True, capture_output=True,
                          text=True, timeout=120)
    assert f"login: {DEMO_ADMIN}" in demo.stdout, demo.stdout
    server = Server(env, port=port)
    try:
        server.start()
        yield Site(server, neighbour, "Demo", neighbour)
    finally:
        server.kill(signal.SIGTERM)


def test_the_demo_login_sees_the_story_on_every_page(ui: Ui, site: Site) -> None:
    page = ui.page
    sign_in(ui, DEMO_ADMIN, DEMO_PASSWORD)
    for label in ("Human opens", "Machine opens", "Human clicks", "Machine clicks"):
        card = page.get_by_role("group", name=label, exact=True)
        expect(card.locator("[data-stat-value]")).not_to_have_text("0")
    expect(page.get_by_role("region", name="Top emails")).to_contain_text(PROPOSAL)
    ui.snap("overview")

    page.get_by_role("link", name="Emails", exact=True).click()
    table = page.get_by_role("table", name="Emails")
    for subject in (PROPOSAL, KICKOFF):
        expect(table).to_contain_text(subject)
    ui.snap("emails")
    table.get_by_role("link", name=PROPOSAL, exact=True).click()
    expect(page.get_by_role("heading", name=PROPOSAL, level=1)).to_be_visible()
    hits = page.get_by_role("table", name="Opens and clicks")
    human = hits.locator("tr[data-verdict=HUMAN]")
    machine = hits.locator("tr[data-verdict=MACHINE]")
    expect(human.filter(has_text=PRIYA).first).to_be_visible()  # named: per-recipient copies
    expect(machine).to_have_count(4)  # the scanner's two clicks and the open they implied,
    expect(machine.first).to_contain_text("Not counted in reports")  # and Apple's preload
    ui.snap("email")

    page.get_by_role("link", name="Emails", exact=True).click()
    table.get_by_role("link", name=KICKOFF, exact=True).click()
    expect(page.get_by_role("heading", name=KICKOFF, level=1)).to_be_visible()
    expect(hits.locator("tr[data-verdict=HUMAN]").first).to_contain_text("Someone")  # R15
    ui.snap("email-someone")

    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    rows = page.get_by_test_id("activity-row")
    expect(rows.filter(has_text=PRIYA).first).to_be_visible()
    expect(rows.filter(has_text="Someone").first).to_be_visible()
    expect(rows.filter(has_text="Inferred open").first).to_be_visible()  # R7
    ui.snap("activity")

    open_contact(ui, PRIYA)
    expect(page.get_by_role("article", name=f"Email: {ORDER_FORM}")).to_be_visible()
    expect(page.get_by_role("article", name=f"Email: {REPLY}")).to_be_visible()
    expect(page.get_by_role("link", name="northwind-order-form.pdf")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Contract")  # the legal basis (R16)
    # Not ``ui.snap``: a page showing a logged email's sandboxed frame may never report
    # network idle to Playwright (see test_contacts.py, ``_snap_with_frame``).
    page.wait_for_load_state("load")
    ui.shots += 1
    page.screenshot(path=str(SCREENSHOTS / f"{ui.name}--{ui.shots:02d}-contact-1280px.png"),
                    full_page=True, animations="disabled")
    page.get_by_role("link", name="Overview").click()  # away from the frame, for teardown
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
