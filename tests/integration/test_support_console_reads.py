"""What the support console reads (R25, issue 15 defect 2): an account's tracking domains,
webhooks with their deliveries, users, and the links of an email's page (attachment,
logged HTML, CSV export) that staff follow with ``?account=<id>``. Every staff read is
audited in the inspected account's log; secrets are never shown; another account's ids
are NOT_FOUND; and nobody but staff may name another account in a link."""

from __future__ import annotations

import base64
from typing import Any

from support import (
    Tenant,
    error_codes,
    gql,
    gql_data,
    grant_support_staff,
    run,
    seed_tenant,
    sign_in_as_staff,
)

STAFF_EMAIL = "console-reads@support.sendtrail.test"
HOOK_URL = "https://93.184.215.14/hooks"  # public: creation accepts it; nothing is sent here
DIAGNOSE = """query SupportDiagnose {
  trackingDomains { hostname status dnsRecords { type name value } }
  webhookEndpoints { id url active signingSecretCount
    deliveries(first: 5) { edges { node { id eventType status payload } } } }
  users { edges { node { email role seat active } } }
}"""
AUDIT_LOG = ("{ auditLog(first: 50) { edges { node { actor action target "
             "reads { action target } } } } }")
LOG_EMAIL = """mutation($i: LogEmailInput!) { logEmail(input: $i) {
  id htmlUrl attachments { id downloadUrl } } }"""


def _staff_reads(client: Any, tenant: Tenant) -> list[str]:
    """The targets of the support reads in ``tenant``'s audit log, as its admin sees them,
    newest first (a support visit is one entry holding its reads, oldest first)."""
    entries = gql_data(client, AUDIT_LOG, token=tenant.admin_token, field="auditLog")["edges"]
    return [read["target"] for e in entries if e["node"]["actor"] == f"support:{STAFF_EMAIL}"
            for read in reversed(e["node"]["reads"]) if read["action"] == "support.read"]


def _log_email(client: Any, tenant: Tenant) -> dict[str, Any]:
    body = gql(client, LOG_EMAIL, {"i": {
        "subject": "Contract", "html": "<p>Signed copy attached</p>",
        "recipients": [{"address": "gil@client.test"}],
        "attachments": [{"filename": "contract.pdf",
                         "contentBase64": base64.b64encode(b"%PDF-1.7").decode()}]}},
        token=tenant.admin_token)
    assert body.get("errors") is None, body
    logged: dict[str, Any] = body["data"]["logEmail"]
    return logged


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_staff_see_domains_webhooks_with_deliveries_and_users_audited_without_secrets(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    grant_support_staff(database_url, STAFF_EMAIL)
    gql_data(client, 'mutation { addTrackingDomain(input: {hostname: "links.acme.example"}) '
             "{ id } }", token=acme.admin_token, field="addTrackingDomain")
    created = gql_data(client, """mutation($u: String!) { createWebhookEndpoint(input: {
        url: $u, eventTypes: ["engagement.opened"]}) { endpoint { id } secret } }""",
                       {"u": HOOK_URL}, token=acme.admin_token, field="createWebhookEndpoint")
    endpoint_id = created["endpoint"]["id"]
    gql_data(client, "mutation($e: ID!) { sendTestWebhook(endpointId: $e) { id } }",
             {"e": endpoint_id}, token=acme.admin_token, field="sendTestWebhook")

    staff = {**sign_in_as_staff(client, STAFF_EMAIL), "X-Sendtrail-Account": acme.account_id}
    body = gql(client, DIAGNOSE, headers=staff)
    assert body.get("errors") is None, body
    (domain,) = body["data"]["trackingDomains"]
    assert domain["hostname"] == "links.acme.example"
    assert domain["dnsRecords"], "the DNS records staff ask the customer to check"
    (endpoint,) = body["data"]["webhookEndpoints"]
    assert endpoint["url"] == HOOK_URL
    assert [d["node"]["eventType"] for d in endpoint["deliveries"]["edges"]] == ["webhook.test"]
    assert {u["node"]["email"] for u in body["data"]["users"]["edges"]} == {
        acme.admin_email, acme.user_email}
    assert created["secret"] not in str(body), "the signing secret is shown only once, to admins"
    # R25: one audited read per operation, naming what was read.
    assert _staff_reads(client, acme) == [
        "GraphQL query SupportDiagnose { trackingDomains, webhookEndpoints, users }"]


def test_staff_follow_an_emails_links_with_the_account_named_and_each_is_audited(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    grant_support_staff(database_url, STAFF_EMAIL)
    logged = _log_email(client, acme)
    (attachment,) = logged["attachments"]
    sign_in_as_staff(client, STAFF_EMAIL)  # a link sends the cookie, never a header
    account = {"account": acme.account_id}

    download = client.get(_path(attachment["downloadUrl"]), params=account)
    assert download.status_code == 200, download.text
    assert download.content == b"%PDF-1.7"
    html = client.get(_path(logged["htmlUrl"]), params=account)
    assert html.status_code == 200, html.text
    assert "Signed copy attached" in html.text
    export = client.get("/exports/emails.csv", params=account)
    assert export.status_code == 200, export.text
    assert "Contract" in export.text
    assert _staff_reads(client, acme) == [
        "emails export", f"logged email {logged['id']} HTML", f"attachment {attachment['id']}"]

    # Without the account named, staff are asked to choose one: nothing is read.
    unnamed = client.get(_path(attachment["downloadUrl"]))
    assert unnamed.status_code == 404
    assert "Choose an account" in unnamed.text


def test_staff_inspecting_one_account_find_nothing_of_another(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    globex = run(seed_tenant(database_url, "Globex"))
    grant_support_staff(database_url, STAFF_EMAIL)
    logged = _log_email(client, acme)
    (attachment,) = logged["attachments"]
    endpoint = gql_data(client, """mutation($u: String!) { createWebhookEndpoint(input: {
        url: $u, eventTypes: ["engagement.opened"]}) { endpoint { id } } }""",
                        {"u": HOOK_URL}, token=acme.admin_token,
                        field="createWebhookEndpoint")["endpoint"]["id"]
    staff = sign_in_as_staff(client, STAFF_EMAIL)

    in_globex = {**staff, "X-Sendtrail-Account": globex.account_id}
    for query, variables in (
        ("query($id: ID!) { email(id: $id) { subject } }", {"id": logged["id"]}),
        ("query($id: ID!) { webhookEndpoint(id: $id) { url } }", {"id": endpoint}),
        ("query($id: ID!) { user(id: $id) { email } }", {"id": acme.admin_id}),
    ):
        assert error_codes(gql(client, query, variables, headers=in_globex)) == ["NOT_FOUND"]
    for path in (_path(attachment["downloadUrl"]), _path(logged["htmlUrl"])):
        answer = client.get(path, params={"account": globex.account_id})
        assert answer.status_code == 404, (path, answer.text)
    # Two names for the account in one request is a mistake said in words, not a guess.
    both = client.get(_path(attachment["downloadUrl"]), params={"account": acme.account_id},
                      headers=in_globex)
    assert both.status_code == 400
    assert "different accounts" in both.text


def test_only_staff_name_another_account_in_a_link(client: Any, database_url: str) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    globex = run(seed_tenant(database_url, "Globex"))
    logged = _log_email(client, acme)
    (attachment,) = logged["attachments"]
    bearer = {"Authorization": f"Bearer {globex.admin_token}"}
    for path in (_path(attachment["downloadUrl"]), "/exports/emails.csv"):
        refused = client.get(path, params={"account": acme.account_id}, headers=bearer)
        assert refused.status_code == 403, (path, refused.text)
        assert "another account" in refused.text
    own = client.get(_path(attachment["downloadUrl"]), params={"account": acme.account_id},
                     headers={"Authorization": f"Bearer {acme.admin_token}"})
    assert own.content == b"%PDF-1.7"
    garbled = client.get("/exports/emails.csv", params={"account": "acme"}, headers=bearer)
    assert garbled.status_code == 400
    assert "account id" in garbled.text


def test_the_session_probe_tells_staff_they_are_no_user(client: Any, database_url: str) -> None:
    """The web admin asks ``viewer`` to learn whether someone is signed in: staff are, as no
    user of any account, with or without an account chosen (FORBIDDEN, not BAD_USER_INPUT)."""
    acme = run(seed_tenant(database_url, "Acme"))
    grant_support_staff(database_url, STAFF_EMAIL)
    staff = sign_in_as_staff(client, STAFF_EMAIL)
    for headers in (staff, {**staff, "X-Sendtrail-Account": acme.account_id}):
        body = gql(client, "query SessionProbe { viewer { id } }", headers=headers)
        assert error_codes(body) == ["FORBIDDEN"], body
        assert "not users of an account" in body["errors"][0]["message"]
    assert _staff_reads(client, acme) == []  # refused before anything was read
