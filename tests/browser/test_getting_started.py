"""Issue 15, item 8: a first run that leads somewhere (R19, R21, R26).

A brand-new account (one admin, nothing else) sees a "Get started" checklist on the
Overview: connect outbound mail, point a mail client at the relay (the exact server, port
and login to copy, per client, and a relay password made on the spot), send a first
tracked email, invite a colleague, add a tracking domain. Each step is then really taken —
outbound mail through GraphQL to a loopback upstream, a message through the relay with
Python's smtplib and the password the page showed, ``sendEmail``, an invitation, a domain —
and ticks itself on the next visit; when all are done the checklist is gone. A user who is
not an admin reads who takes the admin's steps. At 1280 and 390 px.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser.conftest import PHONE, serve_site
from browser.harness import Site, Ui, sign_in
from browser.test_sending import sending_settings
from components import ChallTestSrv
from e2e.processes import _free_port
from mail_components import (  # noqa: F401
    MailTls,
    UpstreamSink,
    mail_tls_fixture,
    upstream_sink_factory_fixture,
    upstream_sink_fixture,
)
from playwright.sync_api import Locator, expect
from support import PASSWORD, run

from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.tenancy.onboarding import create_account
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.values import Principal, Role, Scope, Seat

RELAY_PORT = _free_port()
OUTBOUND = "mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) { configured } }"
SEND = "mutation($i: SendEmailInput!) { sendEmail(input: $i) { email { id } } }"
INVITE = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }"
ADD_DOMAIN = "mutation($i: AddTrackingDomainInput!) { addTrackingDomain(input: $i) { id } }"
STEPS = ("OUTBOUND_MAIL", "MAIL_CLIENT", "FIRST_EMAIL", "INVITE_COLLEAGUE", "TRACKING_DOMAIN")


@pytest.fixture(scope="module")
def site(web_admin: Path, sqlite_template: Path, challtestsrv: ChallTestSrv,
         tmp_path_factory: pytest.TempPathFactory, mail_tls: MailTls) -> Iterator[Site]:
    """The usual site, sending to a loopback upstream, with the relay on loopback."""
    yield from serve_site(sqlite_template, challtestsrv, tmp_path_factory, {
        **sending_settings(mail_tls), "SENDTRAIL_SUBMISSION_PORT": str(RELAY_PORT),
        "SENDTRAIL_SUBMISSION_HOST": "127.0.0.1"})


async def _lone_admin(url: str) -> tuple[str, str]:
    """A new account whose only user is its admin (on a paid seat): email and API token."""
    database = Database(url)
    slug = f"first-run-{uuid.uuid4().hex[:6]}"
    try:
        async with database.session(account_id=None) as session:
            account, admin = await create_account(
                session, name=f"First run {slug}", admin_email=f"ada@{slug}.test",
                admin_name="Ada Admin", admin_password=PASSWORD,
                admin_seat=Seat.SALES_STARTER, seats={Seat.SALES_STARTER: 1})
        async with database.session(account_id=account.id) as session:
            actor = Principal(login_id=uuid.uuid4(), email=admin.email, account_id=account.id,
                              user_id=admin.id, role=Role.ADMIN)
            _, token = await create_api_token(
                session, actor, account.id, name="test",
                scopes=frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}), now=utcnow())
            await session.commit()
        return admin.email, token
    finally:
        await database.dispose()


def lone_admin(site: Site) -> tuple[str, str]:
    url = site.server.env["SENDTRAIL_DATABASE_URL"]
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop owns this thread
        return pool.submit(lambda: run(_lone_admin(url))).result()


def _api(site: Site, token: str, query: str, variables: dict[str, Any]) -> None:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    assert not answer.json().get("errors"), answer.json()


def _open_overview(ui: Ui) -> Locator:
    ui.goto("/")
    expect(ui.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    checklist = ui.page.get_by_role("region", name="Get started")
    expect(checklist).to_be_visible()
    return checklist


def _expect_done(checklist: Locator, done: set[str]) -> None:
    for step in STEPS:
        expect(checklist.locator(f"li[data-step={step}]")).to_have_attribute(
            "data-done", "true" if step in done else "false")
    expect(checklist).to_contain_text(f"{len(done)} of {len(STEPS)} done")


def _through_the_relay(sender: str, password: str) -> None:
    message = EmailMessage()
    message["From"], message["To"] = sender, "pat@client.test"
    message["Subject"] = "Sent from my mail client"
    message.set_content("Hello Pat")
    message.add_alternative("<p>Hello Pat</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", RELAY_PORT, timeout=30) as smtp:
        smtp.login(sender, password)  # loopback: no TLS needed (R26)
        smtp.send_message(message)


def test_a_new_account_is_led_through_its_first_run(
    ui: Ui, site: Site, upstream_sink: UpstreamSink
) -> None:
    email, token = lone_admin(site)
    sign_in(ui, email)
    checklist = _open_overview(ui)
    _expect_done(checklist, set())
    relay = checklist.locator("li[data-step=MAIL_CLIENT]")
    login = relay.get_by_role("table", name="Relay sign-in")
    expect(login.get_by_role("row", name="Server")).to_contain_text("127.0.0.1")
    expect(login.get_by_role("row", name="Port")).to_contain_text(str(RELAY_PORT))
    expect(login.get_by_role("row", name="User name")).to_contain_text(email)
    relay.get_by_role("tab", name="Outlook").click()
    expect(relay.get_by_role("tabpanel")).to_contain_text(
        f"outgoing server (SMTP) 127.0.0.1, port {RELAY_PORT}")
    relay.get_by_role("button", name="Create a relay password").click()
    password = relay.get_by_label("Relay password", exact=True).inner_text().strip()
    assert password.startswith("st_")
    ui.snap("getting-started")

    endpoint = upstream_sink.endpoint()
    _api(site, token, OUTBOUND, {"i": {
        "host": endpoint.host, "port": endpoint.port, "security": endpoint.security.name,
        "username": endpoint.username, "password": endpoint.password}})
    _through_the_relay(email, password)
    checklist = _open_overview(ui)
    _expect_done(checklist, {"OUTBOUND_MAIL", "MAIL_CLIENT"})

    ui.page.set_viewport_size(PHONE)
    _api(site, token, SEND, {"i": {"to": ["ria@client.test"], "subject": "First tracked",
                                   "html": "<p>Hello Ria</p>", "track": True}})
    _api(site, token, INVITE, {"i": {"email": f"bob-{uuid.uuid4().hex[:6]}@client.test"}})
    checklist = _open_overview(ui)
    _expect_done(checklist, {"OUTBOUND_MAIL", "MAIL_CLIENT", "FIRST_EMAIL", "INVITE_COLLEAGUE"})
    expect(checklist.locator("li[data-step=TRACKING_DOMAIN]").get_by_role(
        "link", name="Add a domain")).to_have_attribute("href", "/settings/domains")
    ui.assert_fits()
    ui.snap("getting-started-phone")

    _api(site, token, ADD_DOMAIN, {"i": {"hostname": f"t{uuid.uuid4().hex[:6]}.client.test"}})
    ui.goto("/")
    expect(ui.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(ui.page.get_by_role("region", name="Get started")).to_have_count(0)


def test_a_user_reads_who_takes_the_admins_steps_and_can_hide_the_list(
    ui: Ui, site: Site
) -> None:
    sign_in(ui, site.tenant.user_email)
    checklist = _open_overview(ui)
    expect(checklist.locator("li[data-step=OUTBOUND_MAIL]")).to_contain_text(
        "An admin connects the account's mail server")
    expect(checklist.get_by_role("link", name="Set up outbound mail")).to_have_count(0)
    checklist.get_by_role("button", name="Hide the checklist").click()
    expect(ui.page.get_by_role("region", name="Get started")).to_have_count(0)
    ui.page.reload()
    expect(ui.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(ui.page.get_by_role("region", name="Get started")).to_have_count(0)
