"""Issue 16, item 3 (R29): a recipient withdraws from the footer link of an email they got
yesterday, in real Chromium, and that old email's pixel then records nothing individual.

The server's clock is real, so "yesterday" is the email's stored send time, aged in the
database (its tokens keep the time it was prepared: only the deriver's scanner rule reads
that, and the test waits past it). A GET of the page (what a mail scanner sends) is checked
to change nothing before the person clicks.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from browser.conftest import new_tenant
from browser.harness import CHROME, TOO_SOON, Site, Ui, load_pixel, wait_until_derived
from playwright.sync_api import expect
from sqlalchemy import text

from sendtrail.db.engine import create_sync_engine

SETTINGS = """mutation { updateAccountSettings(input: {withdrawalLink: true}) { id } }"""
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
CONTACT = """{ contacts(first: 10) { edges { node { address trackingConsent
  trackingConsentHistory { consent source actor } } } } }"""
ENGAGEMENTS = """query($id: ID!) { email(id: $id) { engagements(first: 50,
  filter: {verdicts: [HUMAN, MACHINE, SELF]}) { edges { node { type verdict
  recipient { address } contact { address } } } } } }"""
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) {
  totals { humanOpens } } }"""
PAT = "pat@customer.test"


def _api(site: Site, token: str, query: str, variables: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"query": query, "variables": variables or {}})
    body: dict[str, Any] = answer.json()
    assert answer.status_code == 200, body
    assert not body.get("errors"), body
    return body["data"]


def _age(site: Site, email_id: str) -> None:
    """The email as sent yesterday (see the module docstring)."""
    engine = create_sync_engine(site.server.env["SENDTRAIL_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            # SQLite keeps UUIDs as 32 hex digits (SQLAlchemy's Uuid type).
            done = conn.execute(text("UPDATE tracked_email SET sent_at = :at WHERE id = :id"),
                                {"at": datetime.now(UTC) - timedelta(days=1),
                                 "id": email_id.replace("-", "")})
            assert done.rowcount == 1
    finally:
        engine.dispose()


def _individual(site: Site, token: str, email_id: str) -> list[tuple[str, str | None]]:
    """The email's engagements that name someone: (type, recipient or contact)."""
    edges = _api(site, token, ENGAGEMENTS, {"id": email_id})["email"]["engagements"]["edges"]
    named = []
    for edge in edges:
        node = edge["node"]
        who = (node["recipient"] or {}).get("address") or (node["contact"] or {}).get("address")
        if who:
            named.append((node["type"], who))
    return named


def _pat(site: Site, token: str) -> dict[str, Any]:
    edges = _api(site, token, CONTACT)["contacts"]["edges"]
    (pat,) = [edge["node"] for edge in edges if edge["node"]["address"] == PAT]
    return pat


def _human_opens(site: Site, token: str) -> int:
    now = datetime.now(UTC)
    window = {"scope": "ACCOUNT", "since": (now - timedelta(days=2)).isoformat(),
              "until": (now + timedelta(days=1)).isoformat()}
    opens: int = _api(site, token, REPORT, {"i": window})["engagementReport"]["totals"][
        "humanOpens"]
    return opens


def test_a_recipient_withdraws_from_yesterdays_email_and_its_pixel_then_names_nobody(
    site: Site, ui: Ui
) -> None:
    tenant = new_tenant(site, "Withdrawal")
    token = tenant.admin_token
    _api(site, token, SETTINGS)
    prepared = _api(site, token, PREPARE, {"i": {
        "subject": "Your quote", "html": "<p>Hi Pat, your quote is attached.</p>",
        "recipients": [{"address": PAT}]}})["prepareEmail"]
    email_id = prepared["email"]["id"]
    html = prepared["messages"][0]["html"]
    pixel = re.search(r'src="(https?://[^"]+/o/[^"]+\.gif)"', html)
    link = re.search(r'<a href="(https?://[^"]+/w/[^"]+)"[^>]*>Stop tracking whether I open '
                     r"this</a>", html)
    assert pixel, html
    assert link, html
    _age(site, email_id)

    # Yesterday, before withdrawing, Pat's open was Pat's (individual tracking, R28).
    time.sleep(TOO_SOON)  # a person's hits come later than a gateway's
    load_pixel(pixel.group(1), CHROME)
    wait_until_derived(site, token, email_id, ["HUMAN"])
    assert _individual(site, token, email_id) == [("OPEN", PAT)]
    assert _human_opens(site, token) == 1

    ui.page.goto(link.group(1))
    expect(ui.page.get_by_role("heading", name="Stop tracking your opens?")).to_be_visible()
    button = ui.page.get_by_role("button", name="Stop tracking me")
    expect(button).to_be_visible()
    ui.snap("asked")
    # R29: showing the page (as a scanner's GET would) changed nothing.
    assert _pat(site, token)["trackingConsent"] == "UNKNOWN"
    button.click()
    expect(ui.page.get_by_role("heading", name="Your opens are no longer tracked")
           ).to_be_visible()
    expect(ui.page.get_by_text("no email this sender has already sent you")).to_be_visible()
    ui.snap("confirmed")
    pat = _pat(site, token)
    assert pat["trackingConsent"] == "WITHDRAWN"
    assert pat["trackingConsentHistory"] == [
        {"consent": "WITHDRAWN", "source": "EMAIL_LINK", "actor": "recipient (email link)"}]

    # The same old email opened again: counted for the report, naming nobody (R28, R29).
    load_pixel(pixel.group(1), CHROME)
    deadline = time.monotonic() + 15
    while _human_opens(site, token) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _human_opens(site, token) == 2  # the deriver has seen the second open
    assert _individual(site, token, email_id) == [("OPEN", PAT)]  # only yesterday's, first
