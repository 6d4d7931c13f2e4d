"""Support staff find the account to inspect (R25): staff only, and audited per account."""

from __future__ import annotations

from typing import Any

from support import error_codes, gql, run, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.tenancy.auth import grant_support

STAFF_EMAIL = "finder@support.sendtrail.test"
STAFF_PASSWORD = "support-staff-password"
FIND = "query Find($s: String) { supportAccounts(search: $s) { id name slug } }"
LOG = "{ auditLog(first: 20) { edges { node { actor action target } } } }"


async def _grant(url: str) -> None:
    database = Database(url)
    try:
        async with database.session(account_id=None) as session:
            await grant_support(session, email=STAFF_EMAIL, password=STAFF_PASSWORD)
    finally:
        await database.dispose()


def _staff_headers(client: Any) -> dict[str, str]:
    response = client.post("/auth/login", json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrfToken"]}


def _searches(client: Any, token: str) -> list[dict[str, str]]:
    log = gql(client, LOG, token=token)
    return [e["node"] for e in log["data"]["auditLog"]["edges"]
            if e["node"]["action"] == "support.search"]


def test_support_finds_accounts_by_name_and_each_found_account_logs_it(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme Widgets"))
    globex = run(seed_tenant(database_url, "Globex"))
    run(_grant(database_url))
    headers = _staff_headers(client)  # no X-Sendtrail-Account: no account chosen yet

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
