"""The activity feed's arguments (issue 15, item 7): filtered by type and by email, paged
past its first page by cursor, people named when known (R4); another account's email is
NOT_FOUND, never an empty feed that would confirm nothing (tenant isolation)."""

from __future__ import annotations

from typing import Any

from support import (
    FakeClock,
    Tenant,
    error_codes,
    give_admin_a_paid_seat,
    gql,
    gql_data,
    link_paths,
    pixel_path,
    run,
    seed_tenant,
)

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html messageId } } }"""
FEED = """query($first: Int, $after: String, $filter: ActivityFilterInput) {
  activityFeed(first: $first, after: $after, filter: $filter) {
    edges { node { id type email { id subject } recipient { address name }
                   contact { name } } }
    pageInfo { hasNextPage endCursor } } }"""
LOG_REPLY = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"


def _prepare(client: Any, tenant: Tenant, subject: str) -> dict[str, Any]:
    prepared: dict[str, Any] = gql_data(client, PREPARE, {"i": {
        "subject": subject, "deliveryMode": "PER_RECIPIENT",
        "html": '<p>See <a href="https://shop.test/pricing">pricing</a></p>',
        "recipients": [{"address": "ann@client.test", "name": "Ann Archer"},
                       {"address": "ben@client.test"}],
    }}, token=tenant.admin_token, field="prepareEmail")
    return prepared


def _open(client: Any, prepared: dict[str, Any], recipient: int) -> None:
    html = prepared["messages"][recipient]["html"]
    assert client.get(pixel_path(html), headers={"User-Agent": CHROME}).status_code == 200


def _click(client: Any, prepared: dict[str, Any], recipient: int) -> None:
    html = prepared["messages"][recipient]["html"]
    answer = client.get(link_paths(html)[0], headers={"User-Agent": CHROME},
                        follow_redirects=False)
    assert answer.status_code == 302


def _feed(client: Any, tenant: Tenant, **variables: Any) -> dict[str, Any]:
    feed: dict[str, Any] = gql_data(client, FEED, variables, token=tenant.admin_token,
                                    field="activityFeed")
    return feed


def _nodes(feed: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in feed["edges"]]


def _engaged_account(client: Any, database_url: str, clock: FakeClock) -> tuple[
        Tenant, dict[str, Any], dict[str, Any]]:
    """Two emails: "Pricing" opened by Ann and Ben, clicked by Ann, replied to by Ann;
    "Demo" opened by Ben."""
    acme = run(seed_tenant(database_url, "Acme", seats={}))
    give_admin_a_paid_seat(client, database_url, acme)  # clicks are tracked (R12)
    pricing, demo = _prepare(client, acme, "Pricing"), _prepare(client, acme, "Demo")
    clock.advance(90)  # a person, not a scanner opening at once (R10)
    for hit in (lambda: _open(client, pricing, 0), lambda: _open(client, pricing, 1),
                lambda: _click(client, pricing, 0), lambda: _open(client, demo, 1)):
        clock.advance(60)
        hit()
    clock.advance(60)
    gql_data(client, LOG_REPLY, {"i": {
        "subject": "Re: Pricing", "text": "Yes please", "from": {"address": "ann@client.test"},
        "recipients": [{"address": acme.admin_email}],
        "inReplyTo": pricing["messages"][0]["messageId"]}}, token=acme.admin_token,
        field="logEmail")
    return acme, pricing, demo


def test_the_feed_filters_by_type_and_by_email_and_names_people(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    acme, pricing, demo = _engaged_account(app_client, database_url, clock)
    everything = _nodes(_feed(app_client, acme))
    assert sorted(node["type"] for node in everything) == ["CLICK", "OPEN", "OPEN", "OPEN",
                                                           "REPLY"]

    clicks = _nodes(_feed(app_client, acme, filter={"type": "CLICK"}))
    assert [(n["type"], n["email"]["subject"]) for n in clicks] == [("CLICK", "Pricing")]
    # Named when known: the contact's name, from the name the email gave Ann (R4).
    assert clicks[0]["contact"] == {"name": "Ann Archer"}
    assert clicks[0]["recipient"] == {"address": "ann@client.test", "name": "Ann Archer"}
    replies = _nodes(_feed(app_client, acme, filter={"type": "REPLY"}))
    assert [n["email"]["subject"] for n in replies] == ["Pricing"]

    demo_id = demo["email"]["id"]
    of_demo = _nodes(_feed(app_client, acme, filter={"emailId": demo_id}))
    assert [(n["type"], n["recipient"]["address"]) for n in of_demo] == [
        ("OPEN", "ben@client.test")]
    assert of_demo[0]["contact"] == {"name": None}  # Ben was given no name: his address shows
    both = _feed(app_client, acme, filter={"emailId": pricing["email"]["id"], "type": "OPEN"})
    assert sorted(n["recipient"]["address"] for n in _nodes(both)) == [
        "ann@client.test", "ben@client.test"]
    assert _nodes(_feed(app_client, acme, filter={"emailId": demo_id, "type": "CLICK"})) == []


def test_the_feed_pages_on_by_cursor_with_its_filter(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    acme, _, _ = _engaged_account(app_client, database_url, clock)
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = _feed(app_client, acme, first=2, after=after, filter={"type": "OPEN"})
        seen += [node["id"] for node in _nodes(page) if node["type"] == "OPEN"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == 3  # every open once, over two pages, nothing else
    assert len(set(seen)) == 3
    assert page["pageInfo"]["hasNextPage"] is False


def test_another_accounts_email_is_not_found_in_the_feed_filter(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    acme, pricing, _ = _engaged_account(app_client, database_url, clock)
    rival = run(seed_tenant(database_url, "Rival", seats={}))
    theirs = _prepare(app_client, rival, "Rival pricing")["email"]["id"]

    for viewer, email_id in ((acme, theirs), (rival, pricing["email"]["id"])):
        body = gql(app_client, FEED, {"filter": {"emailId": email_id}},
                   token=viewer.admin_token)
        assert error_codes(body) == ["NOT_FOUND"], body
        assert body["data"] is None
    # Acme's colleague has a feed of their own: Acme's admin's email is no activity of theirs.
    colleague = gql(app_client, FEED, {"filter": {"emailId": pricing["email"]["id"]}},
                    token=acme.user_token)
    assert colleague.get("errors") is None, colleague
    assert colleague["data"]["activityFeed"]["edges"] == []

    # An id that names nothing is not found either, in a sentence (as parse_id says it).
    malformed = gql(app_client, FEED, {"filter": {"emailId": "not-an-id"}},
                    token=acme.admin_token)
    assert error_codes(malformed) == ["NOT_FOUND"], malformed
    assert malformed["errors"][0]["message"] == "No email with id 'not-an-id'."
