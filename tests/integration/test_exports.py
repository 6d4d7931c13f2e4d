"""CSV exports of the emails list and of engagements (issue 15, item 10), through real HTTP
on both backends: the list's filters apply, reps export their own emails only (admins
everyone's), a subject that a spreadsheet would run as a formula is written as text, bad
filters are 400s that say what to fix, and nothing of another account is ever in a file."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from litestar.testing import TestClient
from support import (
    FakeClock,
    Tenant,
    give_admin_a_paid_seat,
    gql,
    grant_support_staff,
    pixel_path,
    run,
    seed_tenant,
    sign_in_as_staff,
)

from sendtrail.db.engine import Database
from sendtrail.db.pagination import keyset_batches
from sendtrail.records.listing import account_email_sources
from sendtrail.tracking.emails import EmailFilter

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { recipients html } } }"""
LOG = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"


def _prepare(client: TestClient[Any], token: str, subject: str, *addresses: str) -> dict[str, Any]:
    body = gql(client, PREPARE, {"i": {
        "subject": subject, "html": '<p>Hi <a href="https://a.example.test/x">x</a></p>',
        "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": address} for address in addresses]}}, token=token)
    assert body.get("errors") is None, body
    prepared: dict[str, Any] = body["data"]["prepareEmail"]
    return prepared


def _log(client: TestClient[Any], token: str, subject: str, address: str) -> None:
    body = gql(client, LOG, {"i": {"subject": subject, "text": "Notes",
                                   "recipients": [{"address": address}]}}, token=token)
    assert body.get("errors") is None, body


def _csv(client: TestClient[Any], path: str, token: str, **params: str) -> list[dict[str, str]]:
    answer = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_the_emails_list_exports_with_its_filters_and_reps_get_their_own(
    app_client: TestClient[Any], acme: Tenant, clock: FakeClock, database_url: str,
) -> None:
    rival = run(seed_tenant(database_url, "Rival"))
    _prepare(app_client, acme.admin_token, "=HYPERLINK(\"https://evil.test\")", "ann@client.test",
             "ben@client.test")
    _log(app_client, acme.admin_token, "Call notes", "cy@client.test")
    _prepare(app_client, acme.user_token, "Rep's offer", "dee@client.test")
    _prepare(app_client, rival.admin_token, "Rival offer", "eve@client.test")

    rows = _csv(app_client, "/exports/emails.csv", acme.admin_token)
    by_subject = {row["subject"]: row for row in rows}
    assert set(by_subject) == {"'=HYPERLINK(\"https://evil.test\")", "Call notes", "Rep's offer"}
    formula = by_subject["'=HYPERLINK(\"https://evil.test\")"]  # text, never a formula
    assert (formula["recipients"], formula["tracked"], formula["logged"]) == (
        "ann@client.test; ben@client.test", "yes", "yes")
    assert (formula["recipients_who_opened"], formula["sender"]) == ("0", acme.admin_email)
    notes = by_subject["Call notes"]
    assert (notes["tracked"], notes["logged"], notes["recipients"]) == ("no", "yes",
                                                                        "cy@client.test")
    assert [r["subject"] for r in _csv(app_client, "/exports/emails.csv", acme.admin_token,
                                       q="NOTES")] == ["Call notes"]
    assert [r["subject"] for r in _csv(app_client, "/exports/emails.csv", acme.admin_token,
                                       kind="marketing")] == []
    # A rep exports their own emails only, and is told so if they ask for someone else's.
    assert [r["subject"] for r in _csv(app_client, "/exports/emails.csv", acme.user_token)] == [
        "Rep's offer"]
    refused = app_client.get("/exports/emails.csv", params={"sender": acme.admin_id},
                             headers={"Authorization": f"Bearer {acme.user_token}"})
    assert refused.status_code == 403
    assert "your own emails" in refused.text
    assert [r["subject"] for r in _csv(app_client, "/exports/emails.csv", rival.admin_token)] == [
        "Rival offer"]


def test_engagements_export_who_opened_what_and_bad_filters_say_what_to_fix(
    app_client: TestClient[Any], acme: Tenant, clock: FakeClock, database_url: str,
) -> None:
    give_admin_a_paid_seat(app_client, database_url, acme)
    prepared = _prepare(app_client, acme.admin_token, "Pricing", "ann@client.test",
                        "ben@client.test")
    copies = {m["recipients"][0]: m["html"] for m in prepared["messages"]}
    clock.advance(600)
    answer = app_client.get(pixel_path(copies["ben@client.test"]), headers={"User-Agent": CHROME})
    assert answer.status_code == 200
    email_id = prepared["email"]["id"]

    rows = _csv(app_client, "/exports/engagements.csv", acme.admin_token, email=email_id)
    assert [(r["type"], r["verdict"], r["recipient"], r["email_subject"]) for r in rows] == [
        ("OPEN", "HUMAN", "ben@client.test", "Pricing")]
    assert rows[0]["reasons"]  # why it is HUMAN, in words (R10)
    assert _csv(app_client, "/exports/engagements.csv", acme.admin_token, type="click") == []
    assert _csv(app_client, "/exports/engagements.csv", acme.user_token) == []  # not theirs
    rival = run(seed_tenant(database_url, "Rival"))
    assert _csv(app_client, "/exports/engagements.csv", rival.admin_token) == []

    for params, words in (({"type": "bounce"}, "'type' must be one of OPEN, CLICK, REPLY"),
                          ({"since": "yesterday"}, "'since' must be a date and time"),
                          ({"since": "2030-01-01T00:00:00"}, "with a timezone"),
                          ({"verdicts": "HUMAN,ROBOT"}, "'verdicts' must be one of")):
        bad = app_client.get("/exports/engagements.csv", params=params,
                             headers={"Authorization": f"Bearer {acme.admin_token}"})
        assert bad.status_code == 400, (params, bad.status_code, bad.text)
        assert words in bad.text
    unknown = app_client.get("/exports/engagements.csv", params={"email": "not-an-id"},
                             headers={"Authorization": f"Bearer {acme.admin_token}"})
    assert unknown.status_code == 404  # as the API answers an id that names nothing
    assert "No email with id 'not-an-id'" in unknown.text
    unsigned = app_client.get("/exports/emails.csv")
    assert unsigned.status_code == 401
    assert "Sign in" in unsigned.text


def test_batches_hold_every_email_once_in_order_across_both_tables(
    client: TestClient[Any], acme: Tenant, database_url: str,
) -> None:
    """An export reads a batch at a time, merging tracked and logged emails: none is lost
    or repeated at a batch's edge, whatever the batch size."""
    for n in range(4):
        _prepare(client, acme.admin_token, f"Tracked {n}", f"t{n}@client.test")
        _log(client, acme.admin_token, f"Logged {n}", f"l{n}@client.test")
    account_id = uuid.UUID(acme.account_id)

    async def subjects(batch: int) -> list[list[str]]:
        database = Database(database_url)
        try:
            return [[row.subject for row in rows] async for rows in keyset_batches(
                lambda: database.session(account_id=account_id),
                account_email_sources(account_id, EmailFilter()), descending=True,
                batch=batch)]
        finally:
            await database.dispose()

    newest_first = [subject for n in reversed(range(4))
                    for subject in (f"Logged {n}", f"Tracked {n}")]
    for batch in (1, 3, 8, 50):
        batches = run(subjects(batch))
        assert [subject for rows in batches for subject in rows] == newest_first
        assert all(len(rows) <= batch for rows in batches)


def test_support_staff_export_an_account_and_the_audit_log_says_so(
    client: TestClient[Any], acme: Tenant, database_url: str,
) -> None:
    staff = "helper@support.sendtrail.test"
    grant_support_staff(database_url, staff)
    _log(client, acme.admin_token, "Call notes", "cy@client.test")
    headers = {**sign_in_as_staff(client, staff), "X-Sendtrail-Account": acme.account_id}
    answer = client.get("/exports/emails.csv", headers=headers)
    assert answer.status_code == 200, answer.text
    assert [r["subject"] for r in csv.DictReader(io.StringIO(answer.text))] == ["Call notes"]
    log = gql(client, "{ auditLog(first: 10) { edges { node { actor action target } } } }",
              token=acme.admin_token)
    assert {"actor": f"support:{staff}", "action": "support.read", "target": "emails export"} \
        in [edge["node"] for edge in log["data"]["auditLog"]["edges"]]
