"""Reads that stay fast as accounts grow (issue 14): a page's SQL statement count does not
depend on what is on the page. The web admin's own queries (EmailPage, Emails, Activity)
are sent through the real app, and every statement the request runs is counted."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from support import (
    FakeClock,
    Tenant,
    give_admin_a_paid_seat,
    gql_data,
    link_paths,
    pixel_path,
    run,
    seed_tenant,
)

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
HTML = ('<html><body><p>See <a href="https://shop.test/pricing">pricing</a> and '
        '<a href="https://shop.test/demo">a demo</a>.</p></body></html>')
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""

# The web admin's queries (web-admin/src/features/emails/EmailPage.tsx, EmailsPage.tsx,
# activity/ActivityPage.tsx), as the browser sends them.
EMAIL_PAGE = """query EmailPage($id: ID!, $first: Int!) { email(id: $id) {
  id subject kind sentAt tracked logged openTracking clickTracking notTrackedReasons fromAddress
  sender { id name email }
  recipients { id address name field openCount clickCount firstOpenedAt lastOpenedAt hints }
  links { index url clicks }
  engagements(first: $first, filter: { verdicts: [HUMAN, MACHINE, SELF] }) {
    edges { node { id type occurredAt attribution inferred inferredFrom verdict category
                   reasons countsInReports recipient { id address } link { index url } } }
    pageInfo { hasNextPage } } } }"""
EMAILS = """query Emails($first: Int!, $after: String, $filter: EmailFilterInput) {
  emails(first: $first, after: $after, filter: $filter) {
    edges { node { id subject kind sentAt tracked logged sender { id name email }
                   recipients { id } } }
    pageInfo { hasNextPage endCursor } } }"""
TIMELINE = """query ContactTimeline($id: ID!, $first: Int!, $after: String) {
  contact(id: $id) { id timeline(first: $first, after: $after) { edges { cursor node {
    __typename
    ... on Email { id subject kind sentAt fromAddress text htmlUrl
                   recipients { id address field }
                   attachments { id filename contentType size downloadUrl } }
    ... on Engagement { id type occurredAt verdict category reasons inferred attribution
                        email { id subject } link { url } }
    ... on LegalBasisChange { id at actor before after } } }
    pageInfo { hasNextPage endCursor } } } }"""
LOG = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"""
SET_BASIS = """mutation($c: ID!) { setContactLegalBasis(contactId: $c, basis: CONSENT) {
  legalBasis } }"""
CONTACTS = """query($s: String) { contacts(search: $s) { edges { node { id address } } } }"""
ACTIVITY = """query Activity($first: Int!, $after: String, $filter: ActivityFilterInput) {
  activityFeed(first: $first, after: $after, filter: $filter) { edges { node { id type
    occurredAt inferred inferredFrom recipient { id address name } contact { id name }
    email { id subject } link { url } } }
    pageInfo { hasNextPage endCursor } } }"""

_COUNTING: ContextVar[bool] = ContextVar("counting_statements", default=False)


@contextmanager
def statements(client: Any) -> Iterator[list[str]]:
    """The SQL statements run on behalf of the requests sent inside the block.

    The flag travels with the request into the app (its context is copied from the test's
    thread), so background work of the app (ingestion, retention, domains) is not counted.
    """
    seen: list[str] = []
    engine = client.app.state.database.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _COUNTING.get():
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    token = _COUNTING.set(True)
    try:
        yield seen
    finally:
        _COUNTING.reset(token)
        event.remove(engine, "before_cursor_execute", count)


def _prepare(client: Any, token: str, subject: str, people: list[str],
             **fields: Any) -> dict[str, Any]:
    prepared: dict[str, Any] = gql_data(client, PREPARE, {"i": {
        "subject": subject, "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": address} for address in people], **fields,
    }}, token=token, field="prepareEmail")
    return prepared


def _engage(client: Any, clock: FakeClock, prepared: dict[str, Any], hits: int) -> None:
    """``hits`` opens and clicks spread over the email's recipients and links."""
    messages = prepared["messages"]
    for number in range(hits):
        clock.advance(97)
        html = messages[number % len(messages)]["html"]
        if number % 4 == 3:
            links = link_paths(html)
            response = client.get(links[number % len(links)], headers={"User-Agent": CHROME},
                                  follow_redirects=False)
            assert response.status_code == 302
        else:
            response = client.get(pixel_path(html), headers={"User-Agent": OUTLOOK})
            assert response.status_code == 200


def _sender_with_clicks(client: Any, database_url: str) -> Tenant:
    tenant = run(seed_tenant(database_url, "Acme", seats={}))
    give_admin_a_paid_seat(client, database_url, tenant)
    return tenant


def _people(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{number}@client.test" for number in range(count)]


def test_the_email_page_runs_as_many_statements_for_100_engagements_as_for_10(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _sender_with_clicks(app_client, database_url)
    quiet = _prepare(app_client, tenant.admin_token, "Quiet", _people("q", 3))
    busy = _prepare(app_client, tenant.admin_token, "Busy", _people("b", 7))
    _engage(app_client, clock, quiet, 10)
    _engage(app_client, clock, busy, 110)

    def email_page(prepared: dict[str, Any]) -> tuple[dict[str, Any], int]:
        with statements(app_client) as seen:
            email: dict[str, Any] = gql_data(
                app_client, EMAIL_PAGE, {"id": prepared["email"]["id"], "first": 100},
                token=tenant.admin_token, field="email")
        return email, len(seen)

    email_page(quiet)  # the token's last use is written once a minute: not in a count below
    small, small_count = email_page(quiet)
    large, large_count = email_page(busy)
    assert len(small["engagements"]["edges"]) == 10
    assert len(large["engagements"]["edges"]) == 100
    assert large["engagements"]["pageInfo"]["hasNextPage"] is True
    assert sum(r["openCount"] for r in large["recipients"]) > sum(
        r["openCount"] for r in small["recipients"])
    assert {n["node"]["recipient"]["address"] for n in large["engagements"]["edges"]
            if n["node"]["recipient"]} == set(_people("b", 7))
    assert small_count == large_count, (small_count, large_count)


def _counted_page(client: Any, query: str, first: int, tenant: Tenant, *,
                  field: str) -> tuple[list[dict[str, Any]], int]:
    """The first ``first`` nodes of a connection, and the SQL statements the request ran."""
    with statements(client) as seen:
        page: dict[str, Any] = gql_data(client, query, {"first": first},
                                        token=tenant.admin_token, field=field)
    return [edge["node"] for edge in page["edges"]], len(seen)


def test_the_emails_list_runs_as_many_statements_for_12_emails_as_for_2(
    app_client: Any, database_url: str
) -> None:
    tenant = _sender_with_clicks(app_client, database_url)
    for number in range(12):
        # Two senders, and different recipients: the page's rows point at different rows.
        token = tenant.admin_token if number % 2 else tenant.user_token
        _prepare(app_client, token, f"Email {number}", _people(f"e{number}-", 1 + number % 4))

    def emails_page(first: int) -> tuple[list[dict[str, Any]], int]:
        return _counted_page(app_client, EMAILS, first, tenant, field="emails")

    emails_page(1)
    two, two_count = emails_page(2)
    twelve, twelve_count = emails_page(12)
    assert len(two) == 2
    assert len(twelve) == 12
    assert {node["sender"]["email"] for node in twelve} == {tenant.admin_email,
                                                           tenant.user_email}
    assert sum(len(node["recipients"]) for node in twelve) == 3 * (1 + 2 + 3 + 4)
    assert two_count == twelve_count, (two_count, twelve_count)


def test_the_activity_feed_runs_as_many_statements_for_60_rows_as_for_3(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _sender_with_clicks(app_client, database_url)
    for number in range(4):
        prepared = _prepare(app_client, tenant.admin_token, f"Offer {number}",
                            _people(f"a{number}-", 2 + number))
        _engage(app_client, clock, prepared, 16)

    def activity(first: int) -> tuple[list[dict[str, Any]], int]:
        return _counted_page(app_client, ACTIVITY, first, tenant, field="activityFeed")

    activity(1)
    few, few_count = activity(3)
    many, many_count = activity(60)
    assert len(few) == 3
    assert len(many) == 60
    assert len({node["email"]["subject"] for node in many}) == 4
    assert any(node["link"] for node in many)
    assert few_count == many_count, (few_count, many_count)


def test_a_contacts_timeline_runs_as_many_statements_for_40_items_as_for_12(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _sender_with_clicks(app_client, database_url)
    ann = "ann@client.test"
    for number in range(4):
        kind = "MARKETING" if number % 2 else "SALES"  # a sales email's logged copy is listed
        prepared = _prepare(app_client, tenant.admin_token, f"{kind} {number}", [ann],
                            kind=kind, log=kind == "SALES")
        _engage(app_client, clock, prepared, 8)
        gql_data(app_client, LOG, {"i": {  # a logged email with an attachment, other people
            "subject": f"Notes {number}", "text": "See attached.",
            "recipients": [{"address": ann}, *({"address": a} for a in _people("o", number))],
            "attachments": [{"filename": f"notes-{number}.txt",
                             "contentBase64": base64.b64encode(b"notes").decode()}],
        }}, token=tenant.user_token, field="logEmail")
        clock.advance(60)
    contacts = gql_data(app_client, CONTACTS, {"s": ann}, token=tenant.admin_token,
                        field="contacts")
    (contact,) = [edge["node"]["id"] for edge in contacts["edges"]]
    gql_data(app_client, SET_BASIS, {"c": contact}, token=tenant.admin_token,
             field="setContactLegalBasis")

    def timeline(first: int) -> tuple[list[dict[str, Any]], int]:
        with statements(app_client) as seen:
            page: dict[str, Any] = gql_data(app_client, TIMELINE, {"id": contact, "first": first},
                                            token=tenant.admin_token, field="contact")
        return [edge["node"] for edge in page["timeline"]["edges"]], len(seen)

    def kinds(items: list[dict[str, Any]]) -> set[str]:
        """What the page shows: each kind of item asks its own loaders."""
        return {"logged email" if item.get("fromAddress") else
                "tracked email" if item["__typename"] == "Email" else
                "click" if item.get("link") else item["__typename"] for item in items}

    timeline(1)
    few, few_count = timeline(12)
    many, many_count = timeline(40)
    assert len(few) == 12
    assert len(many) == 40
    assert kinds(few) == kinds(many) == {"logged email", "tracked email", "Engagement", "click",
                                         "LegalBasisChange"}
    assert sum(len(item.get("attachments") or []) for item in many) == 4
    assert few_count == many_count, (few_count, many_count)
