"""The emails list: found by part of the subject or of a recipient's address in any case,
narrowed by kind and sender, and never showing another account's emails."""

from __future__ import annotations

from typing import Any

from support import Tenant, gql, run, seed_tenant

PREPARE = "mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) { email { id } } }"
LIST = """query($f: EmailFilterInput) { emails(filter: $f) { edges { node { subject } } } }"""


def _send(client: Any, token: str, subject: str, address: str, kind: str = "SALES") -> None:
    body = gql(client, PREPARE, {"i": {"subject": subject, "kind": kind, "html": "<p>Hi</p>",
                                       "recipients": [{"address": address}]}}, token=token)
    assert body.get("errors") is None, body


def _subjects(client: Any, tenant: Tenant, **given: Any) -> list[str]:
    body = gql(client, LIST, {"f": given}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    return sorted(edge["node"]["subject"] for edge in body["data"]["emails"]["edges"])


def test_search_kind_and_sender_narrow_the_list(client: Any, database_url: str) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    rival = run(seed_tenant(database_url, "Rival"))
    _send(client, acme.admin_token, "Q3 Pricing", "ann@northwind.test")
    _send(client, acme.admin_token, "100% off_today", "ben@contoso.test", kind="MARKETING")
    _send(client, acme.user_token, "Renewal", "cy@northwind.test")
    _send(client, rival.admin_token, "Q3 pricing too", "dee@northwind.test")

    assert _subjects(client, acme, search="  pRiCiNg ") == ["Q3 Pricing"]
    assert _subjects(client, acme, search="NORTHWIND") == ["Q3 Pricing", "Renewal"]
    assert _subjects(client, acme, search="100%") == ["100% off_today"]
    assert _subjects(client, acme, search="%") == ["100% off_today"]  # text, not a pattern
    assert _subjects(client, acme, search="f_t") == ["100% off_today"]
    assert _subjects(client, acme, search="f_x") == []
    assert _subjects(client, acme, search="") == ["100% off_today", "Q3 Pricing", "Renewal"]
    assert _subjects(client, acme, search="northwind", kind="SALES",
                     senderId=acme.user_id) == ["Renewal"]
    assert _subjects(client, acme, kind="MARKETING") == ["100% off_today"]
    assert _subjects(client, rival, search="pricing") == ["Q3 pricing too"]


LOG = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"
PAGE = """query($first: Int, $after: String, $f: EmailFilterInput) {
  emails(first: $first, after: $after, filter: $f) {
    edges { node { id subject tracked logged sender { email } recipients { address } } }
    pageInfo { hasNextPage endCursor } } }"""


def _log(client: Any, token: str, subject: str, address: str, sent_at: str) -> str:
    body = gql(client, LOG, {"i": {
        "subject": subject, "text": "Notes", "sentAt": sent_at,
        "recipients": [{"address": address}]}}, token=token)
    assert body.get("errors") is None, body
    logged_id: str = body["data"]["logEmail"]["id"]
    return logged_id


def _all_pages(client: Any, tenant: Tenant, first: int, **given: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = gql(client, PAGE, {"first": first, "after": after, "f": given},
                   token=tenant.admin_token)
        assert body.get("errors") is None, body
        connection = body["data"]["emails"]
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


def test_emails_only_logged_are_listed_with_the_tracked_ones_newest_first(
    client: Any, database_url: str,
) -> None:
    """Issue 15, defect 4: an email logged by BCC or logEmail (R1, R23) never appeared in
    Emails. A tracked email that was also logged (R2) is still listed once."""
    acme = run(seed_tenant(database_url, "Acme"))
    rival = run(seed_tenant(database_url, "Rival"))
    _log(client, acme.admin_token, "Call notes (old)", "ann@northwind.test",
         "2020-01-02T09:00:00Z")
    _send(client, acme.admin_token, "Q3 Pricing", "ann@northwind.test")
    notes = _log(client, acme.user_token, "Call notes", "ben@contoso.test",
                 "2020-03-04T09:00:00Z")
    _log(client, rival.admin_token, "Rival notes", "cy@northwind.test", "2020-03-05T09:00:00Z")
    for first in (1, 2, 50):  # the same list whatever the page size
        listed = _all_pages(client, acme, first)
        assert [(n["subject"], n["tracked"], n["logged"]) for n in listed] == [
            ("Q3 Pricing", True, True),  # prepared now: newest
            ("Call notes", False, True),
            ("Call notes (old)", False, True),
        ]
    logged = _all_pages(client, acme, 50, search="call")
    assert [n["id"] for n in logged][:1] == [notes]
    assert logged[0]["recipients"] == [{"address": "ben@contoso.test"}]
    assert logged[0]["sender"]["email"] == acme.user_email
    assert [n["subject"] for n in _all_pages(client, acme, 50, search="contoso")] == [
        "Call notes"]
    assert [n["subject"] for n in _all_pages(client, acme, 50, senderId=acme.user_id)] == [
        "Call notes"]
    assert [n["subject"] for n in _all_pages(client, acme, 50, until="2020-03-01T00:00:00Z",
                                             since="2020-01-01T00:00:00Z")] == [
        "Call notes (old)"]
    assert _all_pages(client, acme, 50, kind="MARKETING") == []  # logging is for sales (R23)
    assert [n["subject"] for n in _all_pages(client, rival, 50)] == ["Rival notes"]
