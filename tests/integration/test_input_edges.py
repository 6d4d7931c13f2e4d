"""Edge inputs found in review: each answered clearly, none a server error, nothing half-saved."""

from __future__ import annotations

import base64
import threading
import uuid
from typing import Any

from support import error_codes, gql, run, seed_tenant

from sendtrail.tenancy.authz import Authorizer
from sendtrail.tenancy.permissions import AuthzAction, AuthzObject
from sendtrail.tenancy.values import Principal, Role

EMAILS = "{ emails { edges { node { id logged } } } }"


def test_an_email_only_to_colleagues_is_prepared_and_not_logged(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, """mutation($to: String!) { prepareEmail(input: {subject: "Lunch?",
      html: "<p>12:30</p>", recipients: [{address: $to}]}) { email { id logged } } }""",
               {"to": tenant.user_email}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    assert body["data"]["prepareEmail"]["email"]["logged"] is False
    explicit = gql(client, """mutation($to: String!) { prepareEmail(input: {subject: "Lunch?",
      html: "<p>12:30</p>", log: true, recipients: [{address: $to}]}) { email { id } } }""",
                   {"to": tenant.user_email}, token=tenant.admin_token)
    assert error_codes(explicit) == ["BAD_USER_INPUT"]
    emails = gql(client, EMAILS, token=tenant.admin_token)["data"]["emails"]["edges"]
    assert len(emails) == 1  # the refused one was not stored half-way


def test_long_names_and_message_ids_are_kept_short_not_refused(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    long_name = "N" * 300
    body = gql(client, """mutation($n: String!, $m: String!) { logEmail(input: {subject: "s",
      messageId: $m, recipients: [{address: "a@client.test", name: $n}]}) { id } }""",
               {"n": long_name, "m": "<" + "m" * 1200 + "@x.test>"}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    prepared = gql(client, """mutation($n: String!) { prepareEmail(input: {subject: "s",
      html: "<p>x</p>", recipients: [{address: "b@client.test", name: $n}]}) { email { id } } }""",
                   {"n": long_name}, token=tenant.admin_token)
    assert prepared.get("errors") is None, prepared


def test_date_times_without_a_timezone_are_refused_with_a_reason(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    for query in (
        '{ engagements(filter: {since: "2024-01-01T00:00:00"}) { edges { cursor } } }',
        '{ emails(filter: {until: "2024-01-01T00:00:00"}) { edges { cursor } } }',
        'mutation { logEmail(input: {subject: "s", sentAt: "2024-01-01T00:00:00", '
        'recipients: [{address: "a@client.test"}]}) { id } }',
    ):
        body = gql(client, query, token=tenant.admin_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert "timezone" in body["errors"][0]["message"]


def test_an_attachment_content_type_cannot_inject_headers(
    client: Any, database_url: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, """mutation { logEmail(input: {subject: "s",
      recipients: [{address: "a@client.test"}], attachments: [{filename: "a.txt",
      contentBase64: "aGk=", contentType: "text/html\\r\\nSet-Cookie: x=1"}]}) {
      attachments { id contentType } } }""", token=tenant.admin_token)
    (attachment,) = body["data"]["logEmail"]["attachments"]
    assert attachment["contentType"] == "application/octet-stream"
    download = client.get(f"/records/attachments/{attachment['id']}",
                          headers={"Authorization": f"Bearer {tenant.admin_token}"})
    assert download.status_code == 200
    assert "set-cookie" not in download.headers
    assert download.content == base64.b64decode("aGk=")


def test_authorization_checks_from_several_threads_stay_correct() -> None:
    authz = Authorizer()
    account = uuid.uuid4()
    admin = Principal(login_id=uuid.uuid4(), email="a@x.test", account_id=account,
                      user_id=uuid.uuid4(), role=Role.ADMIN)
    user = Principal(login_id=uuid.uuid4(), email="u@x.test", account_id=account,
                     user_id=uuid.uuid4(), role=Role.USER)
    wrong: list[str] = []

    def check(principal: Principal, expected: bool) -> None:
        for _ in range(2000):
            allowed = authz.allowed(principal, account, AuthzObject.SETTINGS, AuthzAction.WRITE)
            if allowed is not expected:
                wrong.append(principal.email)

    threads = [threading.Thread(target=check, args=(admin, True)) for _ in range(2)]
    threads += [threading.Thread(target=check, args=(user, False)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
