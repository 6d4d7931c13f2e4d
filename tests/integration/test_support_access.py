"""Support staff: read-only access to every account, each read written to its audit log."""

from __future__ import annotations

from typing import Any

from support import error_codes, gql, grant_support_staff, run, seed_tenant, sign_in_as_staff

STAFF_EMAIL = "helper@support.sendtrail.test"


def test_support_reads_any_account_and_each_read_is_audited(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    globex = run(seed_tenant(database_url, "Globex"))
    grant_support_staff(database_url, STAFF_EMAIL)
    headers = sign_in_as_staff(client, STAFF_EMAIL)

    for tenant in (acme, globex):
        body = gql(client, "query Inspect { account { name } users { edges { node { email } } } }",
                   headers={**headers, "X-Sendtrail-Account": tenant.account_id})
        assert body.get("errors") is None, body
        assert tenant.admin_email in [e["node"]["email"] for e in body["data"]["users"]["edges"]]

    for tenant in (acme, globex):
        log = gql(client, "{ auditLog(first: 10) { edges { node { actor action target } } } }",
                  token=tenant.admin_token)
        reads = [e["node"] for e in log["data"]["auditLog"]["edges"]
                 if e["node"]["action"] == "support.read"]
        assert reads == [{"actor": f"support:{STAFF_EMAIL}", "action": "support.read",
                          "target": "GraphQL query Inspect { account, users }"}]


def test_support_cannot_change_anything(client: Any, database_url: str) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    grant_support_staff(database_url, STAFF_EMAIL)
    headers = {**sign_in_as_staff(client, STAFF_EMAIL), "X-Sendtrail-Account": acme.account_id}
    for mutation in (
        "mutation { updateAccountSettings(input: {trackingEnabled: false}) { id } }",
        'mutation { inviteUser(input: {email: "new@acme.test"}) { id } }',
        f'mutation {{ updateUser(input: {{id: "{acme.user_id}", role: ADMIN}}) {{ id }} }}',
    ):
        body = gql(client, mutation, headers=headers)
        assert error_codes(body) == ["FORBIDDEN"], mutation
        assert "read-only" in body["errors"][0]["message"]
    check = gql(client, "{ account { settings { trackingEnabled } } users { edges { node "
                "{ email role } } } }", token=acme.admin_token)
    assert check["data"]["account"]["settings"]["trackingEnabled"] is True
    assert {e["node"]["email"] for e in check["data"]["users"]["edges"]} == {
        acme.admin_email, acme.user_email}


def test_support_must_choose_an_account(client: Any, database_url: str) -> None:
    run(seed_tenant(database_url, "Acme"))
    grant_support_staff(database_url, STAFF_EMAIL)
    headers = sign_in_as_staff(client, STAFF_EMAIL)
    body = gql(client, "{ account { name } }", headers=headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "X-Sendtrail-Account" in body["errors"][0]["message"]
    unknown = gql(client, "{ account { name } }",
                  headers={**headers, "X-Sendtrail-Account": "not-an-id"})
    assert error_codes(unknown) == ["BAD_USER_INPUT"]


def test_account_users_cannot_use_the_support_header(client: Any, database_url: str) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    globex = run(seed_tenant(database_url, "Globex"))
    body = gql(client, "{ account { name } }", token=acme.admin_token,
               headers={"X-Sendtrail-Account": globex.account_id})
    assert body["data"]["account"]["name"] == "Acme"


def test_support_downloads_are_audited_too(client: Any, database_url: str) -> None:
    import base64  # noqa: PLC0415

    acme = run(seed_tenant(database_url, "Acme"))
    grant_support_staff(database_url, STAFF_EMAIL)
    logged = gql(client, """mutation($i: LogEmailInput!) { logEmail(input: $i) {
      attachments { id downloadUrl } } }""", {"i": {
        "subject": "Contract", "recipients": [{"address": "gil@client.test"}],
        "attachments": [{"filename": "contract.pdf",
                         "contentBase64": base64.b64encode(b"%PDF-1.7").decode()}]}},
        token=acme.admin_token)
    (attachment,) = logged["data"]["logEmail"]["attachments"]
    headers = {**sign_in_as_staff(client, STAFF_EMAIL), "X-Sendtrail-Account": acme.account_id}
    download = client.get(f"/records/attachments/{attachment['id']}", headers=headers)
    assert download.content == b"%PDF-1.7"
    log = gql(client, "{ auditLog(first: 10) { edges { node { actor action target } } } }",
              token=acme.admin_token)
    assert {"actor": f"support:{STAFF_EMAIL}", "action": "support.read",
            "target": f"attachment {attachment['id']}"} in [
        e["node"] for e in log["data"]["auditLog"]["edges"]]
