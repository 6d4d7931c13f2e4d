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
