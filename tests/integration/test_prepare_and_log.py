"""prepareEmail(log: ...) keeps (or not) a copy on the recipients' records (R1, R2, R23)."""

from __future__ import annotations

import base64
from typing import Any

from support import gql, run, seed_tenant

PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id tracked logged attachments { filename size } } } }"""
TIMELINE = """query($q: String!) { contacts(search: $q) { edges { node { address
  timeline { edges { node { __typename ... on Email { id subject logged text } } } } } } } }"""


def _prepare(client: Any, token: str, **fields: Any) -> dict[str, Any]:
    payload = {"subject": "Proposal", "html": "<p>See attached</p>", "text": "See attached",
               "recipients": [{"address": "fay@client.test"}], **fields}
    body = gql(client, PREPARE, {"i": payload}, token=token)
    assert body.get("errors") is None, body
    email: dict[str, Any] = body["data"]["prepareEmail"]["email"]
    return email


def _timeline(client: Any, token: str) -> list[dict[str, Any]]:
    edges = gql(client, TIMELINE, {"q": "fay@"}, token=token)["data"]["contacts"]["edges"]
    return [e["node"] for e in edges[0]["node"]["timeline"]["edges"]] if edges else []


def test_logging_a_tracked_email_keeps_the_original_with_attachments(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    pdf = b"%PDF-1.7 proposal"
    email = _prepare(client, tenant.admin_token, log=True, attachments=[
        {"filename": "proposal.pdf", "contentType": "application/pdf",
         "contentBase64": base64.b64encode(pdf).decode()}])
    assert (email["tracked"], email["logged"]) == (True, True)
    assert email["attachments"] == [{"filename": "proposal.pdf", "size": len(pdf)}]
    (logged,) = _timeline(client, tenant.admin_token)
    assert (logged["__typename"], logged["subject"], logged["text"]) == (
        "Email", "Proposal", "See attached")


def test_account_default_decides_when_the_email_does_not_say(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    gql(client, "mutation { updateAccountSettings(input: {defaultLog: false}) { id } }",
        token=tenant.admin_token)
    email = _prepare(client, tenant.admin_token)  # R2: no `log` given
    assert email["logged"] is False
    assert _timeline(client, tenant.admin_token) == []  # R1: tracking alone keeps no copy
