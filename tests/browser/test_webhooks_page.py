"""Settings → Webhooks in real Chromium: an admin adds an endpoint and sees its signing
secret once, sends a test event (a PENDING delivery), rotates the secret (two signing
secrets), edits an endpoint and deletes it. The site's server runs no webhook dispatcher
(see conftest.py), so nothing is sent to the public addresses used here: IP literals, as
the server resolves a host name when it is saved, and a `.test` name does not resolve.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from browser.conftest import DESKTOP, PHONE
from browser.harness import Site, Ui, sign_in
from playwright.sync_api import expect

URL = "https://1.1.1.1/hooks/sendtrail"
CREATE = """mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) { endpoint { id } } }"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"


def _api(site: Site, query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(f"{site.url}/graphql", timeout=30,
                        headers={"Authorization": f"Bearer {site.tenant.admin_token}"},
                        json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.json()
    return answer.json()["data"]


def test_admin_adds_tests_rotates_and_deletes_a_webhook_endpoint(ui: Ui, site: Site) -> None:
    ui.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(ui, site.tenant.admin_email)
    ui.page.get_by_role("link", name="Webhooks").click()
    expect(ui.page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(ui.page.get_by_text("No webhook endpoints yet")).to_be_visible()

    form = ui.page.get_by_role("form", name="Add an endpoint")
    form.get_by_label("Endpoint URL").fill(URL)
    form.get_by_label("Description").fill("CRM sync")
    form.get_by_role("checkbox", name=re.compile(r"^Replied")).uncheck()
    # R30: a verdict that changes is offered, and chosen, by default.
    expect(form.get_by_role("checkbox", name=re.compile(r"^Reclassified"))).to_be_checked()
    form.get_by_role("button", name="Add endpoint").click()

    notice = ui.page.get_by_role("status").filter(has_text=f"Copy the signing secret for {URL}")
    expect(notice).to_contain_text("can't be shown again")
    secret = notice.get_by_label("Signing secret").inner_text().strip()
    assert secret.startswith("whsec_"), secret
    notice.get_by_role("button", name="Copy secret").click()
    expect(notice.get_by_role("button", name="Copied")).to_be_visible()
    assert ui.page.evaluate("navigator.clipboard.readText()") == secret

    card = ui.page.get_by_role("article", name=URL)
    expect(card).to_contain_text("CRM sync")
    expect(card).to_contain_text("Opened, Clicked, Reclassified, human activity only")
    expect(card).to_contain_text("1 signing secret")
    expect(card.get_by_role("switch", name=f"Active: {URL}")).to_be_checked()
    ui.snap("endpoint-added")
    notice.get_by_role("button", name="I've stored it").click()
    expect(ui.page.get_by_text(secret)).to_have_count(0)  # shown once only

    card.get_by_role("button", name="Send test event").click()
    deliveries = card.get_by_role("table", name=f"Deliveries to {URL}")
    row = deliveries.get_by_role("row").filter(has_text="webhook.test")
    expect(row).to_have_count(1)
    expect(row.get_by_label("Status: Pending")).to_be_visible()
    expect(row).to_contain_text("msg_")
    row.get_by_role("button", name=re.compile(r"^Show attempts of msg_")).click()
    expect(deliveries).to_contain_text("Not attempted yet.")
    ui.snap("test-event-pending")

    card.get_by_role("button", name="Rotate secret").click()
    rotated = ui.page.get_by_role("status").filter(has_text=f"new signing secret for {URL}")
    expect(rotated).to_contain_text("The old secret keeps signing until")
    new_secret = rotated.get_by_label("Signing secret").inner_text().strip()
    assert new_secret.startswith("whsec_"), new_secret
    assert new_secret != secret
    expect(card).to_contain_text("2 signing secrets")
    rotated.get_by_role("button", name="I've stored it").click()

    ui.page.set_viewport_size(PHONE)
    expect(card).to_be_visible()
    # A card per delivery on a phone: its status stays on screen (issue 15, item 9).
    delivery = card.get_by_role("list", name=f"Deliveries to {URL}").get_by_role(
        "listitem").filter(has_text="msg_")
    expect(delivery).to_have_count(1)
    ui.assert_on_screen(delivery.get_by_label("Status: Pending"))
    ui.assert_on_screen(delivery.get_by_role("button", name=re.compile(r"attempts of msg_")))
    ui.assert_fits()
    ui.snap("endpoint-phone")
    ui.page.set_viewport_size(DESKTOP)

    card.get_by_role("button", name=f"Delete {URL}").click()
    dialog = ui.page.get_by_role("dialog", name="Delete this endpoint?")
    expect(dialog).to_contain_text("can't be undone")
    ui.snap("delete-confirm")
    dialog.get_by_role("button", name="Delete endpoint").click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_count(0)
    expect(ui.page.get_by_text("No webhook endpoints yet")).to_be_visible()


def test_admin_edits_an_endpoint_and_it_stays_edited_after_a_reload(ui: Ui, site: Site) -> None:
    ui.expect_graphql_error("BAD_USER_INPUT")  # the bad URL this test saves
    old, new = "https://1.1.1.1/hooks/crm", "https://1.0.0.1/hooks/crm-v2"
    created = _api(site, CREATE, {"i": {
        "url": old, "eventTypes": ["engagement.opened", "engagement.clicked"]}})
    endpoint_id = created["createWebhookEndpoint"]["endpoint"]["id"]
    sign_in(ui, site.tenant.admin_email)
    ui.goto("/settings/webhooks")
    ui.page.get_by_role("article", name=old).get_by_role("button", name=f"Edit {old}").click()
    dialog = ui.page.get_by_role("dialog", name="Edit endpoint")
    expect(dialog.get_by_label("Endpoint URL")).to_have_value(old)

    dialog.get_by_label("Endpoint URL").fill("ftp://x.test")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_role("alert")).to_contain_text(
        "A webhook URL must start with https:// (or http://).")  # the API's words
    ui.snap("bad-url")

    dialog.get_by_label("Endpoint URL").fill(new)
    dialog.get_by_label("Description").fill("CRM v2")
    dialog.get_by_role("checkbox", name=re.compile(r"^Clicked")).uncheck()
    dialog.get_by_role("switch", name="Active").uncheck()
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    expect(ui.page.get_by_role("article", name=old)).to_have_count(0)  # the list is refreshed

    ui.page.reload()
    card = ui.page.get_by_role("article", name=new)
    expect(card).to_contain_text("CRM v2")
    expect(card).to_contain_text("Opened, human activity only")
    expect(card).to_contain_text("Disabled by")  # paused by a person, who is named
    expect(card.get_by_role("switch", name=f"Active: {new}")).not_to_be_checked()
    ui.snap("endpoint-edited")
    _api(site, DELETE, {"id": endpoint_id})
