"""Tracking accuracy through the real pixel and click endpoints (issue 12, defects 11 and 12).

Each test prepares an email over GraphQL, sends the hits a real mail client or fetcher would
send, and reads back over GraphQL what was stored and what counts, on both backends.
"""

from __future__ import annotations

import re
from typing import Any

from support import (
    FakeClock,
    Tenant,
    engagement_nodes,
    give_admin_a_paid_seat,
    gql,
    gql_data,
    pixel_path,
    run,
    seed_tenant,
)

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  openTracking clickTracking email { id } messages { recipients html } } }"""
EMAIL = """query($id: ID!, $v: [Verdict!]) { email(id: $id) { links { url clicks }
  recipients { address openCount clickCount firstOpenedAt
               contact { lastSalesEmailOpenedAt lastSalesEmailClickedAt lastClickedAt } }
  engagements(filter: {verdicts: $v}) { edges { node {
    type verdict category reasons countsInReports link { url } } } } } }"""
FEED = "{ activityFeed { edges { node { type verdict } } } }"

GMAIL_PREFETCH = (  # what Gmail sends when a message arrives while its user has Gmail open
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0"
)
GMAIL_PROXY = (  # what Gmail's image proxy sends when the recipient opens the message
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
EDGE = (  # Outlook for Windows opens a clicked link in the default browser
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)
DEMO = "https://shop.test/demo?utm_source=email&utm_medium=button"
BUTTON = f"""<html><body><p>Hi Gus,</p>
<div><!--[if mso]>
  <v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:w="urn:schemas-microsoft-com:office:word" href="{DEMO.replace("&", "&amp;")}" \
style="height:40px;v-text-anchor:middle;width:200px;" arcsize="10%" strokecolor="#1e3650" \
fillcolor="#556270">
    <w:anchorlock/>
    <center style="color:#ffffff;font-family:sans-serif;font-size:13px;">Book a demo</center>
  </v:roundrect>
<![endif]--><a href="{DEMO.replace("&", "&amp;")}" style="background-color:#556270;\
border-radius:4px;color:#ffffff;display:inline-block;line-height:40px;text-align:center;\
text-decoration:none;width:200px;mso-hide:all;">Book a demo</a></div>
</body></html>"""


def _prepare(client: Any, tenant: Tenant, html: str) -> dict[str, Any]:
    payload = {"subject": "Proposal", "html": html, "deliveryMode": "PER_RECIPIENT",
               "recipients": [{"address": "gus@client.test", "name": "Gus"}]}
    body = gql(client, PREPARE, {"i": payload}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    prepared: dict[str, Any] = body["data"]["prepareEmail"]
    return prepared


def _email(client: Any, tenant: Tenant, email_id: str, *verdicts: str) -> dict[str, Any]:
    email: dict[str, Any] = gql_data(client, EMAIL, {"id": email_id, "v": list(verdicts) or None},
                                     token=tenant.admin_token, field="email")
    return email


def test_gmail_receipt_prefetch_is_stored_as_machine_and_counts_nowhere(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:  # issue 12, defect 11; R10, R17
    tenant = run(seed_tenant(database_url, "Gmail Prefetch", seats={}))
    prepared = _prepare(app_client, tenant, "<html><body><p>Hello Gus</p></body></html>")
    (message,) = prepared["messages"]
    email_id = prepared["email"]["id"]
    clock.advance(40)  # the message reaches Gmail while Gus has it open in a tab
    hit = app_client.get(pixel_path(message["html"]), headers={"User-Agent": GMAIL_PREFETCH})
    assert (hit.status_code, hit.headers["content-type"]) == (200, "image/gif")

    email = _email(app_client, tenant, email_id)
    assert engagement_nodes(email) == []
    (gus,) = email["recipients"]
    assert (gus["openCount"], gus["firstOpenedAt"]) == (0, None)
    assert gus["contact"]["lastSalesEmailOpenedAt"] is None
    assert gql(app_client, FEED, token=tenant.admin_token)["data"]["activityFeed"]["edges"] == []
    (machine,) = engagement_nodes(_email(app_client, tenant, email_id, "MACHINE"))
    assert (machine["type"], machine["verdict"], machine["countsInReports"]) == (
        "OPEN", "MACHINE", False)
    reasons = " ".join(machine["reasons"])
    assert "receipt-time prefetch" in reasons
    assert "Microsoft Edge" not in reasons

    clock.advance(600)  # Gus opens it: Gmail's proxy fetches the image again (R10: a person)
    app_client.get(pixel_path(message["html"]), headers={"User-Agent": GMAIL_PROXY})
    (person,) = engagement_nodes(_email(app_client, tenant, email_id))
    assert (person["verdict"], person["category"], person["countsInReports"]) == (
        "HUMAN", "image_proxy", True)
    (gus,) = _email(app_client, tenant, email_id)["recipients"]
    assert gus["openCount"] == 1
    assert gus["contact"]["lastSalesEmailOpenedAt"] is not None


def test_click_on_outlooks_vml_button_is_recorded_on_its_link(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:  # issue 12, defect 12; R11
    tenant = run(seed_tenant(database_url, "Vml Button", seats={}))
    give_admin_a_paid_seat(app_client, database_url, tenant)  # R12: clicks need a paid seat
    prepared = _prepare(app_client, tenant, BUTTON)
    assert prepared["clickTracking"] is True
    (message,) = prepared["messages"]
    html = message["html"]
    outlook_only = html[html.index("<!--[if mso]>") : html.index("<![endif]-->")]
    (vml,) = re.findall(r'<v:roundrect [^>]*href="http://testserver\.local(/c/[^"]+)"',
                        outlook_only)
    (fallback,) = re.findall(r'<a href="http://testserver\.local(/c/[^"]+)"', html)
    assert vml == fallback  # one link, whichever button the client shows
    assert DEMO.replace("&", "&amp;") not in html
    clock.advance(300)

    click = app_client.get(vml, headers={"User-Agent": EDGE}, follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] == DEMO  # R11: the destination, unchanged

    email = _email(app_client, tenant, prepared["email"]["id"])
    assert email["links"] == [{"url": DEMO, "clicks": 1}]
    clicks = [n for n in engagement_nodes(email) if n["type"] == "CLICK"]
    assert [(n["verdict"], n["countsInReports"], n["link"]) for n in clicks] == [
        ("HUMAN", True, {"url": DEMO})]
    (gus,) = email["recipients"]
    assert gus["clickCount"] == 1
    assert gus["contact"]["lastSalesEmailClickedAt"] is not None


def test_click_on_an_outlook_only_link_is_recorded_and_a_pasted_pixel_removed(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:  # issue 12, defect 12; R8, R11
    tenant = run(seed_tenant(database_url, "Outlook Only", seats={}))
    give_admin_a_paid_seat(app_client, database_url, tenant)  # R12: clicks need a paid seat
    earlier = _prepare(app_client, tenant, "<html><body><p>Last week</p></body></html>")
    (old_message,) = earlier["messages"]
    old_pixel = pixel_path(old_message["html"])
    (old_img,) = re.findall(r"<img [^>]*/>", old_message["html"])
    desktop = "https://shop.test/desktop?x=1&y=2"
    body = f"""<html><body><p>Hi Gus,</p>
<!--[if mso | IE]><table role="presentation"><tr><td><a href="{desktop.replace("&", "&amp;")}" \
style="color:#1a73e8;">Get the Outlook add-in</a>{old_img}</td></tr></table><![endif]-->
<p><a href="https://shop.test/web">Read online</a></p>
</body></html>"""
    prepared = _prepare(app_client, tenant, body)  # pasted from last week's email (R8)
    assert prepared["clickTracking"] is True
    (message,) = prepared["messages"]
    html = message["html"]
    assert old_pixel not in html
    assert len(re.findall(r"/o/[A-Za-z0-9_-]+\.gif", html)) == 1  # this email's pixel only
    outlook_only = html[html.index("<!--[if mso | IE]>") : html.index("<![endif]-->")]
    (path,) = re.findall(r'<a href="http://testserver\.local(/c/[^"]+)"', outlook_only)
    assert desktop.replace("&", "&amp;") not in html
    clock.advance(300)

    click = app_client.get(path, headers={"User-Agent": EDGE}, follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] == desktop  # R11: the destination, unchanged

    email = _email(app_client, tenant, prepared["email"]["id"])
    assert email["links"] == [{"url": desktop, "clicks": 1},
                              {"url": "https://shop.test/web", "clicks": 0}]
    clicks = [n for n in engagement_nodes(email) if n["type"] == "CLICK"]
    assert [(n["verdict"], n["countsInReports"], n["link"]) for n in clicks] == [
        ("HUMAN", True, {"url": desktop})]
    (gus,) = email["recipients"]
    assert gus["clickCount"] == 1
    assert gus["contact"]["lastSalesEmailClickedAt"] is not None
