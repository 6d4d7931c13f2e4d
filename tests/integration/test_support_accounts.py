"""Support staff find the account to inspect (R25): staff only, and audited per account."""

from __future__ import annotations

from typing import Any

from support import error_codes, gql, grant_support_staff, run, seed_tenant, sign_in_as_staff

STAFF_EMAIL = "finder@support.sendtrail.test"
FIND = "query Find($s: String) { supportAccounts(search: $s) { id name slug } }"
LOG = "{ auditLog(first: 20) { edges { node { actor action target } } } }"


def _searches(client: Any, token: str) -> list[dict[str, str]]:
    log = gql(client, LOG, token=token)
    return [e["node"] for e in log["data"]["auditLog"]["edges"]
            if e["node"]["action"] == "support.search"]


def test_support_finds_accounts_by_name_and_each_found_account_logs_it(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme Widgets"))
    globex = run(seed_tenant(database_url, "Globex"))
    grant_support_staff(database_url, STAFF_EMAIL)
    headers = sign_in_as_staff(client, STAFF_EMAIL)  # no X-Sendtrail-Account: no account chosen yet

    body = gql(client, FIND, {"s": "  WIDG "}, headers=headers)
    assert body.get("errors") is None, body
    assert body["data"]["supportAccounts"] == [
        {"id": acme.account_id, "name": "Acme Widgets", "slug": acme.slug}]
    assert _searches(client, acme.admin_token) == [{
        "actor": f"support:{STAFF_EMAIL}", "action": "support.search",
        "target": 'Account search "widg"'}]
    assert _searches(client, globex.admin_token) == []  # not listed, not logged

    everything = gql(client, FIND, headers=headers)["data"]["supportAccounts"]
    assert [a["name"] for a in everything] == ["Acme Widgets", "Globex"]
    assert _searches(client, globex.admin_token)[0]["target"] == "Account list"
    assert gql(client, FIND, {"s": "%"}, headers=headers)["data"]["supportAccounts"] == \
        everything  # wildcards are literal noise, not patterns


def test_only_support_staff_may_look_up_accounts(client: Any, database_url: str) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    for token in (acme.admin_token, acme.user_token):
        body = gql(client, FIND, token=token)
        assert error_codes(body) == ["FORBIDDEN"]
        assert "support staff" in body["errors"][0]["message"]
    assert error_codes(gql(client, FIND)) == ["UNAUTHENTICATED"]
