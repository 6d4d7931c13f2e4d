"""A user's own defaults for new emails (R2): they pre-fill track and log when an email
does not say, an explicit choice still wins, ACCOUNT follows the admin's account default,
and a read-only token cannot change them."""

from __future__ import annotations

from typing import Any

from support import Tenant, error_codes, gql, run, seed_tenant

DEFAULTS = """mutation($i: EmailDefaultsInput!) { updateEmailDefaults(input: $i) {
  email defaultTrack defaultLog } }"""
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  openTracking email { logged } } }"""
VIEWER = "{ viewer { defaultTrack defaultLog } }"


def _prepare(client: Any, token: str, **fields: Any) -> tuple[bool, bool]:
    body = gql(client, PREPARE, {"i": {"subject": "Hello", "html": "<p>Hi</p>",
                                       "recipients": [{"address": "ann@client.test"}],
                                       **fields}}, token=token)
    assert body.get("errors") is None, body
    prepared = body["data"]["prepareEmail"]
    return prepared["openTracking"], prepared["email"]["logged"]


def _defaults(client: Any, token: str, **given: str) -> dict[str, str]:
    body = gql(client, DEFAULTS, {"i": given}, token=token)
    assert body.get("errors") is None, body
    answer: dict[str, str] = body["data"]["updateEmailDefaults"]
    return answer


def test_a_users_own_defaults_prefill_new_emails(client: Any, database_url: str) -> None:
    acme: Tenant = run(seed_tenant(database_url, "Acme"))
    gql(client, "mutation { updateAccountSettings(input: {defaultTrack: true, defaultLog: false})"
        " { id } }", token=acme.admin_token)
    assert gql(client, VIEWER, token=acme.user_token)["data"]["viewer"] == {
        "defaultTrack": "ACCOUNT", "defaultLog": "ACCOUNT"}
    assert _prepare(client, acme.user_token) == (True, False)  # the account's defaults

    changed = _defaults(client, acme.user_token, track="OFF", log="ON")
    assert changed == {"email": acme.user_email, "defaultTrack": "OFF", "defaultLog": "ON"}
    assert _prepare(client, acme.user_token) == (False, True)  # the user's own (R2)
    assert _prepare(client, acme.user_token, track=True, log=False) == (True, False)  # said
    assert _prepare(client, acme.admin_token) == (True, False)  # a colleague: unchanged

    assert _defaults(client, acme.user_token, track="ACCOUNT")["defaultLog"] == "ON"  # kept
    assert _prepare(client, acme.user_token) == (True, True)


def test_a_read_only_token_cannot_change_defaults(client: Any, database_url: str) -> None:
    acme: Tenant = run(seed_tenant(database_url, "Acme"))
    created = gql(client, 'mutation { createApiToken(input: {name: "ro", scopes: [READ]}) '
                  "{ secret } }", token=acme.user_token)
    read_only = created["data"]["createApiToken"]["secret"]
    refused = gql(client, DEFAULTS, {"i": {"track": "OFF"}}, token=read_only)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "read-only" in refused["errors"][0]["message"]
    assert gql(client, VIEWER, token=acme.user_token)["data"]["viewer"]["defaultTrack"] == (
        "ACCOUNT")
