"""The GraphQL core over HTTP: viewer, account, settings (R18, R16, R9, R3, R12, R2)."""

from __future__ import annotations

from typing import Any

from support import Tenant, error_codes, gql, run, seed_tenant


def test_token_from_seed_answers_viewer_and_account(client: Any, database_url: str) -> None:
    tenant: Tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, "{ viewer { email role seat account { name slug region } } }",
               token=tenant.admin_token)
    assert body.get("errors") is None
    assert body["data"]["viewer"] == {
        "email": "admin@acme.test", "role": "ADMIN", "seat": "FREE",
        "account": {"name": "Acme", "slug": "acme", "region": "na1"},
    }


def test_new_account_has_documented_default_settings(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, "{ account { settings { trackingEnabled privacyMode selfOpenSuppression "
               "marketingTracking marketingLinkTracking defaultTrack defaultLog } } }",
               token=tenant.user_token)
    assert body["data"]["account"]["settings"] == {
        "trackingEnabled": True, "privacyMode": False, "selfOpenSuppression": True,
        "marketingTracking": True, "marketingLinkTracking": True,
        "defaultTrack": True, "defaultLog": True,
    }


def test_admin_turns_tracking_off_and_it_persists_with_an_audit_entry(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, "mutation { updateAccountSettings(input: {trackingEnabled: false, "
               "privacyMode: true}) { settings { trackingEnabled privacyMode } } }",
               token=tenant.admin_token)
    assert body["data"]["updateAccountSettings"]["settings"] == {
        "trackingEnabled": False, "privacyMode": True}
    again = gql(client, "{ account { settings { trackingEnabled } } }", token=tenant.user_token)
    assert again["data"]["account"]["settings"]["trackingEnabled"] is False
    log = gql(client, "{ auditLog(first: 5) { edges { node { action actor before after } } } }",
              token=tenant.admin_token)
    newest = log["data"]["auditLog"]["edges"][0]["node"]
    assert newest["action"] == "account.settings.updated"
    assert newest["actor"] == "user:admin@acme.test (API token)"
    assert newest["before"] == {"tracking_enabled": True, "privacy_mode": False}
    assert newest["after"] == {"tracking_enabled": False, "privacy_mode": True}


def test_plain_user_cannot_change_settings(client: Any, database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, "mutation { updateAccountSettings(input: {trackingEnabled: false}) "
               "{ id } }", token=tenant.user_token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert "ask an admin" in body["errors"][0]["message"]


LOG_TO_MANY = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"""
BAD_CURSOR_IN_A_LIST = """{ emails(orderBy: SENT) { edges { node {
  kind tracked logged openedRecipients
  recipients { contact { name trackingConsent
    timeline(first: 1900, after: "") { edges { node { ... on Engagement { category } } } }
    legalBasisHistory { after } } }
  attachments { sha256 } } } } }"""


def test_one_failing_list_item_is_a_field_error_not_a_server_error(
    app: Any, acme: Tenant
) -> None:
    """graphql-core cancels a failing list's other items; a sibling stopped mid-statement
    used to leave the request's database connection unusable, so the bad cursor came back
    as INTERNAL_SERVER_ERROR (or an HTTP 500) instead of the error the integrator can fix."""
    for subject in ("One", "Two"):
        body = gql(app, LOG_TO_MANY, {"i": {"subject": subject, "recipients": [
            {"address": f"person{n}@client.test"} for n in range(8)]}}, token=acme.user_token)
        assert body.get("errors") is None, body
    for _ in range(3):
        body = gql(app, BAD_CURSOR_IN_A_LIST, token=acme.user_token)
        assert "INTERNAL_SERVER_ERROR" not in error_codes(body), body
        assert set(error_codes(body)) == {"BAD_USER_INPUT"}, body
        # And the same request's later statements still run: the list around it is answered.
        assert body["data"]["emails"]["edges"], body
