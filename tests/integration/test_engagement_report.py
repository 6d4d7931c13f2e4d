"""The engagement report behind the Overview: opens and clicks over time in the viewer's
time zone, human versus machine (R10), 'Someone' and the sender's own hits counted nowhere
(R9, R17), top emails and links, per sender or (admins, support) per account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from support import (
    FakeClock,
    Tenant,
    error_codes,
    give_admin_a_paid_seat,
    gql,
    grant_support_staff,
    link_paths,
    pixel_path,
    run,
    seed_tenant,
    sign_in_as_staff,
)

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
APPLE_MPP = "Mozilla/5.0"
PRICING = "https://shop.test/pricing"
HTML = f'<html><body><p>See <a href="{PRICING}">our pricing</a>.</p></body></html>'
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } senderCopy { html } } }"""
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) {
  since until timeZone
  totals { humanOpens humanClicks machineOpens machineClicks }
  buckets { start end counts { humanOpens humanClicks machineOpens machineClicks } }
  topEmails { email { id subject } opens clicks recipientsOpened }
  topLinks { url clicks emails } } }"""
STAFF_EMAIL = "reporter@support.sendtrail.test"
JUNE = {"since": "2030-06-01T00:00:00Z", "until": "2030-06-03T00:00:00Z"}


def _prepare(client: Any, token: str, subject: str, *addresses: str,
             mode: str = "PER_RECIPIENT") -> dict[str, Any]:
    payload = {"subject": subject, "html": HTML, "deliveryMode": mode,
               "recipients": [{"address": address} for address in addresses]}
    body = gql(client, PREPARE, {"i": payload}, token=token)
    assert body.get("errors") is None, body
    prepared: dict[str, Any] = body["data"]["prepareEmail"]
    return prepared


def _hit(client: Any, path: str, agent: str) -> None:
    response = client.get(path, headers={"User-Agent": agent}, follow_redirects=False)
    assert response.status_code in (200, 302), response.text


def _report(client: Any, *, token: str | None = None, headers: dict[str, str] | None = None,
            **given: Any) -> dict[str, Any]:
    body = gql(client, REPORT, {"i": given}, token=token, headers=headers)
    assert body.get("errors") is None, body
    report: dict[str, Any] = body["data"]["engagementReport"]
    return report


def _humans(report: dict[str, Any]) -> int:
    return int(report["totals"]["humanOpens"]) + int(report["totals"]["humanClicks"])


def test_human_and_machine_hits_are_counted_per_local_day_with_top_emails_and_links(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = run(seed_tenant(database_url, "Paid", seats={}))
    give_admin_a_paid_seat(app_client, database_url, tenant)
    clock.now = datetime(2030, 6, 1, 21, 0, tzinfo=UTC)
    prepared = _prepare(app_client, tenant.admin_token, "Pricing", "ann@client.test",
                        "ben@client.test")
    ann, ben = (message["html"] for message in prepared["messages"])
    clock.advance(120)
    _hit(app_client, pixel_path(ann), OUTLOOK)
    _hit(app_client, pixel_path(ben), APPLE_MPP)  # a privacy proxy: machine (R10)
    _hit(app_client, pixel_path(prepared["senderCopy"]["html"]), OUTLOOK)  # the sender's own (R9)
    clock.advance(30)
    (click,) = link_paths(ben)
    _hit(app_client, click, CHROME)  # a click, and Ben's open inferred from it (R7)
    clock.now = datetime(2030, 6, 2, 9, 0, tzinfo=UTC)
    _hit(app_client, pixel_path(ann), OUTLOOK)  # Ann reads it again the next morning (R8)

    utc = _report(app_client, token=tenant.admin_token, **JUNE)
    assert [(b["start"], b["counts"]) for b in utc["buckets"]] == [
        ("2030-06-01T00:00:00+00:00", {"humanOpens": 2, "humanClicks": 1,
                                       "machineOpens": 1, "machineClicks": 0}),
        ("2030-06-02T00:00:00+00:00", {"humanOpens": 1, "humanClicks": 0,
                                       "machineOpens": 0, "machineClicks": 0}),
    ]
    assert utc["totals"] == {"humanOpens": 3, "humanClicks": 1, "machineOpens": 1,
                             "machineClicks": 0}
    assert utc["topEmails"] == [{"email": {"id": prepared["email"]["id"], "subject": "Pricing"},
                                 "opens": 3, "clicks": 1, "recipientsOpened": 2}]
    assert utc["topLinks"] == [{"url": PRICING, "clicks": 1, "emails": 1}]

    # 21:02 UTC on June 1st is June 2nd in Tokyo: every hit lands on the Tokyo day.
    tokyo = _report(app_client, token=tenant.admin_token, timeZone="Asia/Tokyo", **JUNE)
    assert tokyo["since"] == "2030-05-31T15:00:00+00:00"
    counted = {b["start"]: _humans({"totals": b["counts"]}) for b in tokyo["buckets"]}
    assert counted == {"2030-05-31T15:00:00+00:00": 0, "2030-06-01T15:00:00+00:00": 4,
                       "2030-06-02T15:00:00+00:00": 0}
    assert tokyo["totals"] == utc["totals"]


def test_scope_someone_and_other_tenants(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    acme: Tenant = run(seed_tenant(database_url, "Acme"))
    rival: Tenant = run(seed_tenant(database_url, "Rival"))
    clock.now = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
    shared = _prepare(app_client, acme.admin_token, "To both", "ann@client.test",
                      "ben@client.test", mode="SINGLE_MESSAGE")
    own = _prepare(app_client, acme.user_token, "From Uma", "cy@client.test")
    clock.advance(120)
    _hit(app_client, pixel_path(shared["messages"][0]["html"]), OUTLOOK)  # 'Someone' (R15)
    _hit(app_client, pixel_path(own["messages"][0]["html"]), OUTLOOK)

    admin_mine = _report(app_client, token=acme.admin_token, **JUNE)
    assert _humans(admin_mine) == 0  # R17: 'Someone' is in no report
    assert admin_mine["topEmails"] == []
    account = _report(app_client, token=acme.admin_token, scope="ACCOUNT", **JUNE)
    assert _humans(account) == 1
    assert [top["email"]["subject"] for top in account["topEmails"]] == ["From Uma"]
    assert _humans(_report(app_client, token=acme.user_token, **JUNE)) == 1

    refused = gql(app_client, REPORT, {"i": {"scope": "ACCOUNT"}}, token=acme.user_token)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "ask an admin" in refused["errors"][0]["message"]

    rivals = _report(app_client, token=rival.admin_token, scope="ACCOUNT", **JUNE)
    assert (_humans(rivals), rivals["totals"]["machineOpens"], rivals["topEmails"]) == (0, 0, [])

    grant_support_staff(database_url, STAFF_EMAIL)
    staff = {**sign_in_as_staff(app_client, STAFF_EMAIL), "X-Sendtrail-Account": acme.account_id}
    assert _humans(_report(app_client, headers=staff, scope="ACCOUNT", **JUNE)) == 1
    mine = gql(app_client, REPORT, {"i": JUNE}, headers=staff)
    assert error_codes(mine) == ["BAD_USER_INPUT"]
    assert "scope ACCOUNT" in mine["errors"][0]["message"]


@pytest.mark.parametrize(("given", "says"), [
    ({"timeZone": "Mars/Olympus_Mons"}, "is not a time zone"),
    ({"since": "2030-06-02T00:00:00Z", "until": "2030-06-01T00:00:00Z"}, "before its end"),
    ({"since": "2030-06-01T00:00:00"}, "with a timezone"),
    ({"interval": "HOUR", "since": "2030-05-01T00:00:00Z", "until": "2030-06-01T00:00:00Z"},
     "at most 192 hours"),
    ({"top": 0}, "1 to 20"),
])
def test_bad_report_requests_are_refused_in_words(
    client: Any, database_url: str, given: dict[str, Any], says: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    body = gql(client, REPORT, {"i": given}, token=tenant.admin_token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert says in body["errors"][0]["message"]
