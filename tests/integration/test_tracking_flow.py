"""Tracking end to end through real HTTP: prepare → pixel/click with real user agents →
engagements, verdicts, reasons, attribution and contact properties over GraphQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from support import (
    FakeClock,
    FromAddress,
    Tenant,
    engagement_nodes,
    error_codes,
    give_admin_a_paid_seat,
    gql,
    gql_data,
    link_paths,
    pixel_path,
    run,
    seed_tenant,
)

from sendtrail.app import create_app
from sendtrail.db.engine import create_sync_engine
from sendtrail.settings import Settings

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
APPLE_MPP = "Mozilla/5.0"
GMAIL_PROXY = ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
               "(via ggpht.com GoogleImageProxy)")
HTML = ('<html><body><p>Hi,</p><p>See <a href="https://shop.test/pricing?plan=pro&amp;x=1">'
        'our pricing</a> and <a href="https://www.shop.test">www.shop.test</a>.</p>'
        '<p><a href="mailto:sales@shop.test">Write to us</a></p></body></html>')
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  openTracking clickTracking notTrackedReasons
  email { id messageId deliveryMode }
  messages { recipients messageId html text } senderCopy { html } } }"""
EMAIL = """query($id: ID!, $v: [Verdict!]) { email(id: $id) { links { url clicks }
  recipients { address openCount clickCount firstOpenedAt hints
               contact { address lastSalesEmailOpenedAt lastSalesEmailClickedAt lastClickedAt } }
  engagements(filter: {verdicts: $v}) { edges { node {
    type verdict category reasons attribution inferred inferredFrom countsInReports
    recipient { address } contact { address } link { url clicks } } } } } }"""


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


def _paid_sender(client: Any, database_url: str) -> Tenant:
    tenant = run(seed_tenant(database_url, "Paid", seats={}))
    give_admin_a_paid_seat(client, database_url, tenant)
    return tenant


def _prepare(client: Any, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    payload = {"subject": "Pricing", "html": HTML, "text": "See https://shop.test/pricing",
               "recipients": [{"address": "ann@client.test", "name": "Ann"},
                              {"address": "ben@client.test", "field": "CC"}], **fields}
    body = gql(client, PREPARE, {"i": payload}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    prepared: dict[str, Any] = body["data"]["prepareEmail"]
    return prepared


def _email(client: Any, tenant: Tenant, email_id: str, *verdicts: str) -> dict[str, Any]:
    email: dict[str, Any] = gql_data(client, EMAIL, {"id": email_id, "v": list(verdicts) or None},
                                     token=tenant.admin_token, field="email")
    return email


def test_per_recipient_opens_and_clicks_are_attributed_with_reasons(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _paid_sender(app_client, database_url)
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    assert (prepared["openTracking"], prepared["clickTracking"]) == (True, True)
    ann, ben = prepared["messages"]
    assert (ann["recipients"], ben["recipients"]) == (["ann@client.test"], ["ben@client.test"])
    assert ann["text"] == "See https://shop.test/pricing"  # R13: plain text untouched
    assert len(link_paths(ann["html"])) == 1  # R13: www. text link and mailto: not rewritten
    assert 'href="mailto:sales@shop.test"' in ann["html"]
    email_id = prepared["email"]["id"]
    clock.advance(120)

    for message, agent in ((ann, OUTLOOK), (ben, APPLE_MPP)):
        hit = app_client.get(pixel_path(message["html"]), headers={"User-Agent": agent})
        assert hit.status_code == 200
    clock.advance(30)
    click = app_client.get(link_paths(ben["html"])[0], headers={"User-Agent": CHROME},
                           follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] == "https://shop.test/pricing?plan=pro&x=1"  # R11

    email = _email(app_client, tenant, email_id)
    nodes = engagement_nodes(email)
    assert [(n["type"], n["recipient"]["address"], n["inferred"]) for n in nodes] == [
        ("CLICK", "ben@client.test", False), ("OPEN", "ben@client.test", True),
        ("OPEN", "ann@client.test", False)]
    assert all(n["verdict"] == "HUMAN" and n["attribution"] == "RECIPIENT"
               and n["countsInReports"] for n in nodes)
    assert nodes[1]["inferredFrom"] == "CLICK"  # R7
    assert nodes[0]["link"] == {"url": "https://shop.test/pricing?plan=pro&x=1", "clicks": 1}
    assert email["links"] == [{"url": "https://shop.test/pricing?plan=pro&x=1", "clicks": 1}]
    assert "Outlook" in " ".join(nodes[2]["reasons"])
    by_address = {r["address"]: r for r in email["recipients"]}
    assert by_address["ann@client.test"]["openCount"] == 1
    assert by_address["ben@client.test"]["clickCount"] == 1
    ben_contact = by_address["ben@client.test"]["contact"]
    assert ben_contact["lastSalesEmailClickedAt"] is not None  # R16
    assert ben_contact["lastClickedAt"] is not None
    assert by_address["ann@client.test"]["contact"]["lastSalesEmailOpenedAt"] is not None
    assert by_address["ann@client.test"]["contact"]["lastClickedAt"] is None

    machine = engagement_nodes(_email(app_client, tenant, email_id, "MACHINE"))  # R10: kept, apart
    assert [(n["type"], n["countsInReports"]) for n in machine] == [("OPEN", False)]
    assert "Apple Mail Privacy Protection" in " ".join(machine[0]["reasons"])


def test_shared_pixel_is_someone_and_sender_copy_is_self(
    app_client: Any, tenant: Tenant, clock: FakeClock
) -> None:
    prepared = _prepare(app_client, tenant)  # SINGLE_MESSAGE to two recipients
    (message,) = prepared["messages"]
    assert message["recipients"] == ["ann@client.test", "ben@client.test"]
    assert prepared["clickTracking"] is False  # R12: a free seat gets opens only
    assert any("Free seat" in reason for reason in prepared["notTrackedReasons"])
    assert link_paths(message["html"]) == []
    clock.advance(300)
    app_client.get(pixel_path(message["html"]), headers={"User-Agent": GMAIL_PROXY})
    app_client.get(pixel_path(prepared["senderCopy"]["html"]), headers={"User-Agent": OUTLOOK})
    email_id = prepared["email"]["id"]

    (someone,) = engagement_nodes(_email(app_client, tenant, email_id))
    assert (someone["verdict"], someone["attribution"], someone["countsInReports"]) == (
        "HUMAN", "SOMEONE", False)  # R15, R17
    assert someone["recipient"] is None
    assert someone["contact"] is None
    assert "Gmail" in " ".join(someone["reasons"])
    (own,) = engagement_nodes(_email(app_client, tenant, email_id, "SELF"))  # R9
    assert own["verdict"] == "SELF"
    recipients = _email(app_client, tenant, email_id)["recipients"]
    assert all(r["openCount"] == 0 and r["contact"]["lastSalesEmailOpenedAt"] is None
               for r in recipients)  # R17: 'Someone' counts nowhere
    findings = gql(app_client, 'query($id: ID!) { diagnoseEmail(id: $id) { findings } }',
                   {"id": email_id}, token=tenant.admin_token)["data"]["diagnoseEmail"]
    text_ = " ".join(findings["findings"])
    assert "shared pixel" in text_
    assert "Free seat" in text_
    assert "by the sender" in text_


def test_privacy_mode_without_legal_basis_falls_back_to_the_exempt_purpose(
    app_client: Any, tenant: Tenant, clock: FakeClock, database_url: str
) -> None:
    gql(app_client, "mutation { updateAccountSettings(input: {privacyMode: true}) { id } }",
        token=tenant.admin_token)
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    ann, ben = prepared["messages"]
    engine = create_sync_engine(database_url)
    with engine.begin() as conn:  # Ben consented (setContactLegalBasis comes with records)
        conn.execute(text("UPDATE contact SET legal_basis = 'consent' "
                          "WHERE address = 'ben@client.test'"))
    engine.dispose()
    clock.advance(60)
    for message in (ann, ben):
        app_client.get(pixel_path(message["html"]), headers={"User-Agent": OUTLOOK})
    email = _email(app_client, tenant, prepared["email"]["id"])
    attribution = {(n["recipient"] or {}).get("address"): n["attribution"]
                   for n in engagement_nodes(email)}
    # R16 and R28: Ann has no legal basis, so her open is only counted (the account's
    # exempt purpose, aggregate by default), never stored as anyone's, not even 'Someone'.
    assert attribution == {"ben@client.test": "RECIPIENT"}
    contacts = {r["address"]: r["contact"] for r in email["recipients"]}
    assert contacts["ann@client.test"]["lastSalesEmailOpenedAt"] is None
    assert contacts["ben@client.test"]["lastSalesEmailOpenedAt"] is not None


def test_head_requests_and_instant_hits_never_count(
    app_client: Any, tenant: Tenant, clock: FakeClock
) -> None:
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    pixel = pixel_path(prepared["messages"][0]["html"])
    head = app_client.head(pixel, headers={"User-Agent": OUTLOOK})
    assert head.status_code == 200
    assert head.headers["content-type"] == "image/gif"
    app_client.get(pixel, headers={"User-Agent": OUTLOOK})  # no time has passed since sending
    email_id = prepared["email"]["id"]
    assert engagement_nodes(_email(app_client, tenant, email_id)) == []
    machine = engagement_nodes(_email(app_client, tenant, email_id, "MACHINE"))
    assert len(machine) == 2
    assert any("HEAD" in " ".join(n["reasons"]) for n in machine)


def test_a_browser_prefetch_of_a_link_is_no_click(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _paid_sender(app_client, database_url)
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    link = link_paths(prepared["messages"][0]["html"])[0]
    clock.advance(1800)
    # Chrome's speculation rules fetch the page ahead of time and say so (issue 17, R10).
    answer = app_client.get(link, headers={"User-Agent": CHROME, "Sec-Purpose": "prefetch"},
                            follow_redirects=False)
    assert answer.status_code in (302, 307)  # the fetch still gets its redirect
    email_id = prepared["email"]["id"]
    assert engagement_nodes(_email(app_client, tenant, email_id)) == []
    (machine,) = engagement_nodes(_email(app_client, tenant, email_id, "MACHINE"))
    assert (machine["type"], machine["category"]) == ("CLICK", "prefetch")
    assert "(sec-purpose: prefetch)" in machine["reasons"][0]
    clock.advance(60)
    app_client.get(link, headers={"User-Agent": CHROME}, follow_redirects=False)
    (human,) = [n for n in engagement_nodes(_email(app_client, tenant, email_id))
                if n["type"] == "CLICK"]
    assert human["verdict"] == "HUMAN"  # the person's own click afterwards counts


def test_multiple_opens_are_counted_and_explained(
    office_client: Any, tenant: Tenant, clock: FakeClock
) -> None:
    app_client = office_client  # every open from 192.0.2.10
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    pixel = pixel_path(prepared["messages"][0]["html"])
    for seconds in (60, 10, 3600):
        clock.advance(seconds)
        app_client.get(pixel, headers={"User-Agent": OUTLOOK})
    ann = _email(app_client, tenant, prepared["email"]["id"])["recipients"][0]
    assert ann["openCount"] == 3  # R8
    hints = " ".join(ann["hints"])
    assert "3 times" in hints
    assert "preview pane" in hints


def test_tracking_off_adds_nothing(app_client: Any, tenant: Tenant) -> None:
    gql(app_client, "mutation { updateAccountSettings(input: {trackingEnabled: false}) { id } }",
        token=tenant.admin_token)
    prepared = _prepare(app_client, tenant)
    assert (prepared["openTracking"], prepared["clickTracking"]) == (False, False)  # R18
    assert "/o/" not in prepared["messages"][0]["html"]
    assert any("turned off" in reason for reason in prepared["notTrackedReasons"])


def test_plain_text_email_is_not_trackable(app_client: Any, tenant: Tenant) -> None:
    prepared = _prepare(app_client, tenant, html=None)
    assert prepared["openTracking"] is False  # R6
    assert any("Plain-text" in reason for reason in prepared["notTrackedReasons"])
    assert prepared["messages"][0]["html"] is None


def test_bad_tokens_get_a_gif_or_a_404_never_an_error(app_client: Any) -> None:
    pixel = app_client.get("/o/not-a-token.gif")
    assert (pixel.status_code, pixel.headers["content-type"]) == (200, "image/gif")
    assert pixel.headers["cache-control"].startswith("no-store")
    click = app_client.get("/c/not-a-token", follow_redirects=False)
    assert click.status_code == 404
    assert "not valid" in click.text


def test_prepare_rejects_bad_input_clearly(app_client: Any, tenant: Tenant) -> None:
    for fields, message in (
        ({"recipients": []}, "at least one recipient"),
        ({"recipients": [{"address": "nope"}]}, "not a valid email address"),
        ({"subject": "  "}, "subject"),
        ({"senderId": "00000000-0000-0000-0000-000000000000"}, "No user"),
    ):
        payload = {"subject": "Hi", "html": HTML,
                   "recipients": [{"address": "ann@client.test"}], **fields}
        body = gql(app_client, PREPARE, {"i": payload}, token=tenant.admin_token)
        assert error_codes(body) in (["BAD_USER_INPUT"], ["NOT_FOUND"]), body
        assert message in body["errors"][0]["message"]


THREE_LINKS = ('<p><a href="https://shop.test/a">A</a> <a href="https://shop.test/b">B</a> '
               '<a href="https://shop.test/c">C</a></p>')


def test_a_scanner_clicking_every_link_at_once_is_a_machine(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _paid_sender(app_client, database_url)
    prepared = _prepare(app_client, tenant, html=THREE_LINKS, deliveryMode="PER_RECIPIENT")
    links = link_paths(prepared["messages"][0]["html"])
    assert len(links) == 3
    clock.advance(600)
    for link in links:  # a real browser user agent, but every link within a second (R10)
        clock.advance(0.3)
        assert app_client.get(link, headers={"User-Agent": CHROME},
                              follow_redirects=False).status_code == 302
    email_id = prepared["email"]["id"]
    assert engagement_nodes(_email(app_client, tenant, email_id)) == []
    machine = engagement_nodes(_email(app_client, tenant, email_id, "MACHINE"))
    assert sorted(n["type"] for n in machine) == ["CLICK", "CLICK", "CLICK", "OPEN"]
    assert all(n["category"] == "click_burst" for n in machine)
    contact = _email(app_client, tenant, email_id)["recipients"][0]["contact"]
    assert contact["lastClickedAt"] is not None  # moved before the burst showed; kept honest:
    # the properties record activity seen at the time; reports and lists exclude the burst.



@pytest.fixture
def office_client(settings: Settings, clock: FakeClock) -> Iterator[TestClient[Any]]:
    app = FromAddress(create_app(settings, clock=clock), "192.0.2.10")
    with TestClient(app, base_url="http://testserver.local") as client:  # type: ignore[arg-type]
        yield client


def test_the_senders_own_opens_and_clicks_are_self(
    office_client: Any, database_url: str, clock: FakeClock
) -> None:
    app_client = office_client
    tenant = _paid_sender(app_client, database_url)
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    email_id = prepared["email"]["id"]
    clock.advance(60)
    # R14: the sender clicks the link in their Sent folder; the tracking host remembers them.
    own_link = link_paths(prepared["senderCopy"]["html"])[0]
    first = app_client.get(own_link, headers={"User-Agent": CHROME}, follow_redirects=False)
    assert "st_self=" in first.headers["set-cookie"]
    clock.advance(60)
    recipients_link = link_paths(prepared["messages"][0]["html"])[0]
    app_client.get(recipients_link, headers={"User-Agent": CHROME}, follow_redirects=False)
    # R9: signed in to the web admin from this address, the sender previews the email.
    app_client.cookies.clear()
    signed_in = app_client.post("/auth/login", json={"email": tenant.admin_email,
                                                     "password": "correct horse battery"})
    assert signed_in.status_code == 200
    app_client.get(pixel_path(prepared["messages"][1]["html"]), headers={"User-Agent": OUTLOOK})
    assert engagement_nodes(_email(app_client, tenant, email_id)) == []
    own = engagement_nodes(_email(app_client, tenant, email_id, "SELF"))
    assert sorted(n["type"] for n in own) == ["CLICK", "CLICK", "OPEN"]
    assert all(not n["countsInReports"] for n in own)


def test_engagements_filter_and_page(app_client: Any, tenant: Tenant, clock: FakeClock) -> None:
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    clock.advance(60)
    for message in prepared["messages"]:
        for _ in range(2):
            clock.advance(120)
            app_client.get(pixel_path(message["html"]), headers={"User-Agent": OUTLOOK})
    query = """query($after: String) { engagements(first: 3, after: $after,
      filter: {type: OPEN}) { edges { node { id occurredAt } }
      pageInfo { hasNextPage endCursor } } }"""
    first = gql(app_client, query, token=tenant.admin_token)["data"]["engagements"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = gql(app_client, query, {"after": first["pageInfo"]["endCursor"]},
                 token=tenant.admin_token)["data"]["engagements"]
    assert second["pageInfo"]["hasNextPage"] is False
    times = [e["node"]["occurredAt"] for e in first["edges"] + second["edges"]]
    assert len(times) == 4
    assert times == sorted(times, reverse=True)  # newest first
    clicks = gql(app_client, "{ engagements(filter: {type: CLICK}) { edges { node { id } } } }",
                 token=tenant.admin_token)["data"]["engagements"]["edges"]
    assert clicks == []


def test_truncated_ips_and_retention_forget_hit_details(
    office_client: Any, tenant: Tenant, clock: FakeClock, database_url: str
) -> None:
    """Truncated IPs keep only the network; past the retention window the hit is folded
    into the hourly totals and its row deleted (issue 16, item 4, R28). This test used to
    find the row kept with its address and user agent blanked: retention now deletes the
    whole row, since the row alone still tied a recipient and contact to a time
    (tests/integration/test_retention.py checks the totals are kept)."""
    app_client = office_client  # requests come from 192.0.2.10
    import anyio  # noqa: PLC0415

    from sendtrail.db.engine import Database  # noqa: PLC0415
    from sendtrail.tracking.retention import fold_old_engagements  # noqa: PLC0415

    body = gql(app_client, "mutation { updateAccountSettings(input: {truncateIps: true, "
               "hitDetailRetentionDays: 30}) { settings { truncateIps hitDetailRetentionDays } } }",
               token=tenant.admin_token)
    assert body["data"]["updateAccountSettings"]["settings"] == {
        "truncateIps": True, "hitDetailRetentionDays": 30}
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    clock.advance(60)
    app_client.get(pixel_path(prepared["messages"][0]["html"]), headers={"User-Agent": OUTLOOK})
    engine = create_sync_engine(database_url)
    with engine.connect() as conn:
        (ip, agent), = conn.execute(text("SELECT ip, user_agent FROM engagement")).all()
    assert ip == "192.0.2.0"  # the network, never the full address
    assert agent == OUTLOOK

    async def purge(days_later: int) -> int:
        database = Database(database_url)
        try:
            return await fold_old_engagements(
                database.engine, now=clock.now + __import__("datetime").timedelta(days=days_later))
        finally:
            await database.dispose()

    assert anyio.run(purge, 10) == 0
    assert anyio.run(purge, 31) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ip, user_agent FROM engagement")).all() == []
    engine.dispose()
    bad = gql(app_client, "mutation { updateAccountSettings(input: {hitDetailRetentionDays: 0}) "
              "{ id } }", token=tenant.admin_token)
    assert error_codes(bad) == ["BAD_USER_INPUT"]


def test_activity_feed_shows_the_senders_human_activity(
    app_client: Any, tenant: Tenant, clock: FakeClock
) -> None:
    prepared = _prepare(app_client, tenant, deliveryMode="PER_RECIPIENT")
    clock.advance(90)
    app_client.get(pixel_path(prepared["messages"][0]["html"]), headers={"User-Agent": OUTLOOK})
    app_client.get(pixel_path(prepared["messages"][1]["html"]), headers={"User-Agent": APPLE_MPP})
    feed = gql(app_client, "{ activityFeed { edges { node { type verdict recipient { address } "
               "email { subject } } } } }", token=tenant.admin_token)["data"]["activityFeed"]
    assert [e["node"] for e in feed["edges"]] == [{  # R4; the Apple proxy is no activity (R10)
        "type": "OPEN", "verdict": "HUMAN", "recipient": {"address": "ann@client.test"},
        "email": {"subject": "Pricing"}}]
    others = gql(app_client, "{ activityFeed { edges { node { id } } } }",
                 token=tenant.user_token)["data"]["activityFeed"]["edges"]
    assert others == []  # another user's feed has none of it
