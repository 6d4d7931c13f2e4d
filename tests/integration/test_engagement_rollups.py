"""Hourly engagement rollups (issue 14): kept in step with the engagements as they are
stored and reclassified, filled from existing engagements by migration 0011, and read by
the engagement report with exactly the results of counting every engagement — humans,
machines (R10), the sender's own (R9), 'Someone' (R15, R17) and inferred opens (R7), in
any time zone and interval."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import and_, event, select
from support import (
    FakeClock,
    Tenant,
    give_admin_a_paid_seat,
    gql,
    link_paths,
    pixel_path,
    run,
    seed_tenant,
)

from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.migrations import alembic_config
from sendtrail.tracking.core.series import Interval, buckets
from sendtrail.tracking.rollups import RollupDelta, apply_rollup_deltas, rebuild_rollups
from sendtrail.tracking.store import (
    EngagementDayRollupRow,
    EngagementRollupRow,
    EngagementRow,
    EngagementSeriesRollupRow,
    TrackedEmailRow,
    TrackedLinkRow,
)

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
APPLE_MPP = "Mozilla/5.0"  # a privacy proxy pre-loading every image: machine (R10)
THREE_LINKS = ('<html><body><p><a href="https://shop.test/a">A</a> '
               '<a href="https://shop.test/b">B</a> <a href="https://shop.test/c">C</a></p>'
               '</body></html>')
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html messageId } senderCopy { html } } }"""
LOG = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"""
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) {
  since until
  totals { humanOpens humanClicks machineOpens machineClicks }
  buckets { start end counts { humanOpens humanClicks machineOpens machineClicks } }
  topEmails { email { id } opens clicks recipientsOpened }
  topLinks { url clicks emails } } }"""
ZONES = ("UTC", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns")
SINCE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
UNTIL = datetime(2030, 6, 4, 9, 20, tzinfo=UTC)  # mid-hour: a hit at 9:30 is after it
RANGE = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
ROLLUPS = EngagementRollupRow.__table__  # type: ignore[attr-defined]
DAY_ROLLUPS = EngagementDayRollupRow.__table__  # type: ignore[attr-defined]
SERIES_ROLLUPS = EngagementSeriesRollupRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
EMAILS = TrackedEmailRow.__table__  # type: ignore[attr-defined]
LINKS = TrackedLinkRow.__table__  # type: ignore[attr-defined]


def _prepare(client: Any, token: str, *addresses: str, mode: str = "PER_RECIPIENT",
             subject: str = "Offer") -> dict[str, Any]:
    payload = {"subject": subject, "html": THREE_LINKS, "deliveryMode": mode,
               "recipients": [{"address": address} for address in addresses]}
    body = gql(client, PREPARE, {"i": payload}, token=token)
    assert body.get("errors") is None, body
    prepared: dict[str, Any] = body["data"]["prepareEmail"]
    return prepared


def _hit(client: Any, clock: FakeClock, at: datetime, path: str, agent: str) -> None:
    clock.now = at
    response = client.get(path, headers={"User-Agent": agent}, follow_redirects=False)
    assert response.status_code in (200, 302), response.text


def _report(client: Any, token: str, **given: Any) -> dict[str, Any]:
    body = gql(client, REPORT, {"i": given}, token=token)
    assert body.get("errors") is None, body
    report: dict[str, Any] = body["data"]["engagementReport"]
    return report


def _rollups(database_url: str, account_id: str) -> Counter[tuple[str, ...]]:
    """The account's rollup rows that count something: (hour, email, sender, link, type,
    verdict, counted, sender copy, inferred) -> n, as text."""
    r = ROLLUPS.c
    engine = create_sync_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(r.hour, r.email_id, r.sender_id, r.link_idx, r.type, r.verdict,
                   r.counts_in_reports, r.sender_copy, r.inferred, r.n)
            .where(r.account_id == uuid.UUID(account_id), r.n != 0)
        ).all()
    engine.dispose()
    return Counter({tuple(str(part) for part in row[:-1]): int(row[-1]) for row in rows})


def _summed(database_url: str, account_id: str) -> tuple[Counter[tuple[str, ...]],
                                                        Counter[tuple[str, ...]]]:
    """The account's daily rollups ((day, email, sender, link, type, counted) -> n) and
    series rollups ((hour, sender, type, verdict, counted) -> n) that count something."""
    d, r = DAY_ROLLUPS.c, SERIES_ROLLUPS.c
    engine = create_sync_engine(database_url)
    with engine.connect() as connection:
        days = connection.execute(
            select(d.day, d.email_id, d.sender_id, d.link_idx, d.type, d.counts_in_reports, d.n)
            .where(d.account_id == uuid.UUID(account_id), d.n != 0)).all()
        series = connection.execute(
            select(r.hour, r.sender_id, r.type, r.verdict, r.counts_in_reports, r.n)
            .where(r.account_id == uuid.UUID(account_id), r.n != 0)).all()
    engine.dispose()
    return tuple(Counter({tuple(str(part) for part in row[:-1]): int(row[-1]) for row in rows})
                 for rows in (days, series))  # type: ignore[return-value]


def _summed_by_hand(hourly: Counter[tuple[str, ...]]) -> tuple[Counter[tuple[str, ...]],
                                                                 Counter[tuple[str, ...]]]:
    """What the daily and series rollups must hold, given the hourly ones."""
    days: Counter[tuple[str, ...]] = Counter()
    series: Counter[tuple[str, ...]] = Counter()
    for (hour, email, sender, link, kind, verdict, counted, _copy, _inferred), n in \
            hourly.items():
        days[(str(int(hour) // 24), email, sender, link, kind, counted)] += n
        series[(hour, sender, kind, verdict, counted)] += n
    return +days, +series


def _on(clock: FakeClock, day: int, hour: int, minute: int) -> datetime:
    return datetime(2030, 6, day, hour, minute, tzinfo=UTC)


def _seed_mixed(client: Any, database_url: str, clock: FakeClock) -> Tenant:
    """Humans, a privacy proxy, the sender's own opens, 'Someone', inferred opens and a
    link scanner's burst, on both sides of the half and quarter hours where days begin in
    Kolkata (18:30 UTC), Kathmandu (18:15 UTC) and St. John's (02:30 UTC)."""
    tenant = run(seed_tenant(database_url, "Acme", seats={}))
    give_admin_a_paid_seat(client, database_url, tenant)
    clock.now = _on(clock, 1, 17, 0)
    offer = _prepare(client, tenant.admin_token, "ann@client.test", "ben@client.test",
                     "cy@client.test")
    ann, ben, cy = (message["html"] for message in offer["messages"])
    shared = _prepare(client, tenant.admin_token, "eve@client.test", "fay@client.test",
                      mode="SINGLE_MESSAGE", subject="To both")
    clock.now = _on(clock, 1, 17, 5)
    uma = _prepare(client, tenant.user_token, "dee@client.test", subject="From Uma")
    dee = uma["messages"][0]["html"]

    _hit(client, clock, _on(clock, 1, 18, 10), pixel_path(ann), OUTLOOK)
    _hit(client, clock, _on(clock, 1, 18, 20), pixel_path(ben), APPLE_MPP)
    _hit(client, clock, _on(clock, 1, 18, 25), pixel_path(offer["senderCopy"]["html"]), OUTLOOK)
    _hit(client, clock, _on(clock, 1, 18, 40), link_paths(cy)[1], CHROME)  # + inferred open
    _hit(client, clock, _on(clock, 1, 18, 50), pixel_path(shared["messages"][0]["html"]),
         OUTLOOK)
    _hit(client, clock, _on(clock, 1, 19, 5), pixel_path(dee), OUTLOOK)
    _hit(client, clock, _on(clock, 2, 2, 20), pixel_path(ann), OUTLOOK)
    _hit(client, clock, _on(clock, 2, 2, 40), pixel_path(dee), OUTLOOK)
    _hit(client, clock, _on(clock, 2, 2, 45), link_paths(shared["messages"][0]["html"])[0],
         CHROME)
    clock.now = _on(clock, 2, 6, 10)  # Ben's images never loaded, but he replies (R7, R24)
    logged = gql(client, LOG, {"i": {
        "subject": "Re: Offer", "text": "Yes", "from": {"address": "ben@client.test"},
        "recipients": [{"address": tenant.admin_email}],
        "inReplyTo": offer["messages"][1]["messageId"]}}, token=tenant.admin_token)
    assert logged.get("errors") is None, logged
    # Ben's first click looks human; a second later he has clicked every link: a scanner.
    for second, link in enumerate(link_paths(ben)):
        _hit(client, clock, _on(clock, 3, 11, 0) + timedelta(seconds=second), link, CHROME)
    _hit(client, clock, _on(clock, 3, 23, 59), link_paths(ann)[0], CHROME)
    _hit(client, clock, _on(clock, 4, 9, 10), link_paths(ann)[2], CHROME)
    _hit(client, clock, _on(clock, 4, 9, 30), link_paths(cy)[2], CHROME)
    return tenant


def _engagements(database_url: str, account_id: str) -> list[Any]:
    e, t, link = ENGAGEMENTS.c, EMAILS.c, LINKS.c
    engine = create_sync_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(e.email_id, e.sender_id, e.recipient_idx, e.type, e.occurred_at, e.verdict,
                   e.counts_in_reports, e.link_idx, e.inferred_from, t.sent_at, link.url)
            .join(EMAILS, and_(t.account_id == e.account_id, t.id == e.email_id))
            .outerjoin(LINKS, and_(link.account_id == e.account_id,
                                   link.email_id == e.email_id, link.idx == e.link_idx))
            .where(e.account_id == uuid.UUID(account_id))
        ).all()
    engine.dispose()
    return list(rows)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _counted_by_hand(rows: list[Any], *, sender: str | None, interval: Interval,
                     zone: str) -> dict[str, Any]:
    """The report as counting every engagement gives it (the behaviour before rollups)."""
    rows = [r for r in rows if sender is None or str(r.sender_id) == sender]
    rows = [r for r in rows if r.type in ("open", "click")]
    empty = buckets(SINCE, UNTIL, interval, ZoneInfo(zone))
    since = empty[0].start
    inside = [r for r in rows if since <= _aware(r.occurred_at) < UNTIL]
    series = []
    for bucket in empty:
        here = [r for r in inside if bucket.start <= _aware(r.occurred_at) < bucket.end]
        series.append((bucket.start, {
            "humanOpens": sum(r.counts_in_reports and r.type == "open" for r in here),
            "humanClicks": sum(r.counts_in_reports and r.type == "click" for r in here),
            "machineOpens": sum(not r.counts_in_reports and r.verdict == "machine"
                                and r.type == "open" for r in here),
            "machineClicks": sum(not r.counts_in_reports and r.verdict == "machine"
                                 and r.type == "click" for r in here),
        }))
    counted = [r for r in inside if r.counts_in_reports]
    emails: dict[Any, list[Any]] = defaultdict(list)
    links: dict[str, list[Any]] = defaultdict(list)
    for r in counted:
        emails[r.email_id].append(r)
        if r.type == "click" and r.url is not None:
            links[r.url].append(r)
    top_emails = sorted(
        emails.items(),
        key=lambda item: (-len(item[1]), -_aware(item[1][0].sent_at).timestamp(),
                          str(item[0]).replace("-", "")),
    )[:5]
    return {
        "since": since,
        "buckets": series,
        "topEmails": [
            (str(email_id), sum(r.type == "open" for r in found),
             sum(r.type == "click" for r in found),
             len({r.recipient_idx for r in found if r.type == "open"}))
            for email_id, found in top_emails
        ],
        "topLinks": sorted(
            ((url, len(found), len({r.email_id for r in found})) for url, found in links.items()),
            key=lambda link: (-link[1], link[0]),
        )[:5],
    }


def _as_read(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "since": datetime.fromisoformat(report["since"]),
        "buckets": [(datetime.fromisoformat(b["start"]), b["counts"])
                    for b in report["buckets"]],
        "topEmails": [(t["email"]["id"], t["opens"], t["clicks"], t["recipientsOpened"])
                      for t in report["topEmails"]],
        "topLinks": [(t["url"], t["clicks"], t["emails"]) for t in report["topLinks"]],
    }


def _every_report(client: Any, tenant: Tenant) -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for zone in ZONES:
        for interval in Interval:
            for who, token, scope in (("admin", tenant.admin_token, "MINE"),
                                      ("user", tenant.user_token, "MINE"),
                                      ("admin", tenant.admin_token, "ACCOUNT")):
                found[(zone, interval.value, f"{who} {scope}")] = _report(
                    client, token, scope=scope, interval=interval.name, timeZone=zone, **RANGE
                )
    return found


def test_reports_read_from_rollups_equal_counting_every_engagement(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _seed_mixed(app_client, database_url, clock)
    rows = _engagements(database_url, tenant.account_id)
    kinds = Counter((r.type, r.verdict, r.counts_in_reports) for r in rows)
    # The data set has what it claims: counted humans, machines, the sender's own (never
    # counted), 'Someone' (human, not counted), inferred opens and a reclassified burst.
    assert kinds[("open", "human", True)] >= 4
    assert kinds[("click", "machine", False)] == 3
    assert kinds[("open", "human", False)] >= 1
    assert any(r.verdict == "self" for r in rows)
    assert {r.inferred_from for r in rows if r.counts_in_reports} == {None, "click", "reply"}

    for (zone, interval, who), report in _every_report(app_client, tenant).items():
        sender = (None if who.endswith("ACCOUNT")
                  else tenant.admin_id if who.startswith("admin") else tenant.user_id)
        expected = _counted_by_hand(rows, sender=sender, interval=Interval(interval),
                                    zone=zone)
        assert _as_read(report) == expected, (zone, interval, who)


def test_a_burst_moves_the_stored_click_from_human_to_machine_in_the_rollups(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = run(seed_tenant(database_url, "Acme", seats={}))
    give_admin_a_paid_seat(app_client, database_url, tenant)
    clock.now = _on(clock, 1, 9, 0)
    (html,) = (m["html"] for m in _prepare(app_client, tenant.admin_token,
                                           "ann@client.test")["messages"])
    a, b, c = link_paths(html)
    _hit(app_client, clock, _on(clock, 1, 9, 30), a, CHROME)
    day = {"interval": "DAY", "since": "2030-06-01T00:00:00Z", "until": "2030-06-02T00:00:00Z"}
    first = _report(app_client, tenant.admin_token, **day)["totals"]
    assert first == {"humanOpens": 1, "humanClicks": 1, "machineOpens": 0, "machineClicks": 0}
    human = {key: n for key, n in _rollups(database_url, tenant.account_id).items()
             if key[5] == "human"}
    assert sorted((key[4], key[8], n) for key, n in human.items()) == [
        ("click", "False", 1), ("open", "True", 1)]  # the click and the open it implies (R7)

    for second, link in enumerate((b, c), start=1):  # every link within seconds (R10)
        _hit(app_client, clock, _on(clock, 1, 9, 30) + timedelta(seconds=second), link, CHROME)
    after = _report(app_client, tenant.admin_token, **day)["totals"]
    assert after == {"humanOpens": 0, "humanClicks": 0, "machineOpens": 1, "machineClicks": 3}
    rollups = _rollups(database_url, tenant.account_id)
    assert {key[5] for key in rollups} == {"machine"}
    assert sum(n for key, n in rollups.items() if key[4] == "click") == 3


def test_the_backfill_and_a_rebuild_give_what_the_rollups_kept_in_step_gave(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = _seed_mixed(app_client, database_url, clock)
    before = _every_report(app_client, tenant)
    kept = _rollups(database_url, tenant.account_id)
    summed = _summed(database_url, tenant.account_id)
    assert summed == _summed_by_hand(kept)  # kept in step from the same deltas
    assert summed[0]  # the seed's range spans whole days: the daily rollups are read
    config = alembic_config(database_url)
    command.downgrade(config, "0010")  # drops the rollups
    command.upgrade(config, "head")  # 0011 fills them from the engagements, 0012 sums them
    assert _rollups(database_url, tenant.account_id) == kept
    assert _summed(database_url, tenant.account_id) == summed
    assert _every_report(app_client, tenant) == before

    engine = create_sync_engine(database_url)  # as a bench that loads engagements in bulk
    with engine.begin() as connection:
        for statement in rebuild_rollups(uuid.UUID(tenant.account_id)):
            connection.execute(statement)
    engine.dispose()
    assert _rollups(database_url, tenant.account_id) == kept
    assert _summed(database_url, tenant.account_id) == summed


async def test_deltas_are_summed_per_key_and_applied_in_one_statement_per_grain(
    database_url: str,
) -> None:
    tenant = await seed_tenant(database_url, "Acme")
    account, email, sender = uuid.UUID(tenant.account_id), uuid.uuid4(), uuid.uuid4()

    def delta(at: datetime, change: int, *, verdict: str = "human", link: int | None = None,
              counted: bool = True) -> RollupDelta:
        return RollupDelta(
            account_id=account, email_id=email, sender_id=sender, link_idx=link,
            occurred_at=at, type="open" if link is None else "click", verdict=verdict,
            counts_in_reports=counted, sender_copy=False, inferred=False, change=change,
        )

    nine = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
    database = Database(database_url)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    try:
        async with database.engine.begin() as conn:
            event.listen(conn.sync_connection, "before_cursor_execute", count)
            await apply_rollup_deltas(conn, [
                delta(nine, 1), delta(nine + timedelta(minutes=59, seconds=59), 1),
                delta(nine - timedelta(milliseconds=1), 1),  # the hour before
                delta(nine, 1, link=2), delta(nine, 1, link=2),
                delta(nine, 1, verdict="machine", counted=False),
                delta(nine, -1, verdict="machine", counted=False),  # nets to nothing
            ])
            event.remove(conn.sync_connection, "before_cursor_execute", count)
            await apply_rollup_deltas(conn, [])  # nothing to do: no statement
            await apply_rollup_deltas(conn, [delta(nine, 1), delta(nine, -1, link=2),
                                             delta(nine, -1, link=2)])
    finally:
        await database.dispose()
    assert len(statements) == 3  # hourly, daily, series: one executemany each
    assert all("ON CONFLICT" in statement for statement in statements)
    hour = int(nine.timestamp()) // 3600
    found = _rollups(database_url, tenant.account_id)
    assert {(int(key[0]) - hour, key[3], key[4], key[5], n) for key, n in found.items()} == {
        (0, "-1", "open", "human", 3), (-1, "-1", "open", "human", 1),
    }  # the click's key is back at 0 and counts nothing; the machine key was never written
    days, series = _summed(database_url, tenant.account_id)
    assert {(int(key[0]), key[3], key[4], n) for key, n in days.items()} == {
        (hour // 24, "-1", "open", 4)}  # 8:59 and 9:00 are the same day
    assert {(int(key[0]) - hour, key[2], key[3], n) for key, n in series.items()} == {
        (0, "open", "human", 3), (-1, "open", "human", 1)}


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "UTC"])
def test_a_report_ending_mid_hour_leaves_out_the_rest_of_that_hour(
    app_client: Any, database_url: str, clock: FakeClock, zone: str
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    clock.now = _on(clock, 1, 9, 0)
    (html,) = (m["html"] for m in _prepare(app_client, tenant.admin_token,
                                           "ann@client.test")["messages"])
    for minute in (5, 25, 35, 55):
        _hit(app_client, clock, _on(clock, 1, 10, minute), pixel_path(html), OUTLOOK)
    report = _report(app_client, tenant.admin_token, interval="HOUR", timeZone=zone,
                     since="2030-06-01T09:00:00Z", until="2030-06-01T10:50:00Z")
    assert report["totals"]["humanOpens"] == 3
    assert report["topEmails"][0]["opens"] == 3
    by_hour = [b["counts"]["humanOpens"] for b in report["buckets"]]
    assert by_hour == ([0, 2, 1] if zone == "Asia/Kolkata" else [0, 3])


ERASE = "mutation($c: ID!) { eraseContact(contactId: $c) { engagements } }"
CONTACTS = "query($s: String) { contacts(search: $s) { edges { node { id } } } }"


def test_erasing_a_contact_keeps_the_counts_that_name_nobody(
    app_client: Any, database_url: str, clock: FakeClock
) -> None:
    tenant = run(seed_tenant(database_url, "Acme"))
    clock.now = _on(clock, 1, 9, 0)
    (html,) = (m["html"] for m in _prepare(app_client, tenant.admin_token,
                                           "ann@client.test")["messages"])
    for minute in (10, 20):
        _hit(app_client, clock, _on(clock, 1, 9, minute), pixel_path(html), OUTLOOK)
    day = {"interval": "DAY", "since": "2030-06-01T00:00:00Z", "until": "2030-06-02T00:00:00Z"}
    before = _report(app_client, tenant.admin_token, **day)
    assert (before["totals"]["humanOpens"], before["topEmails"][0]["recipientsOpened"]) == (2, 1)

    edges = gql(app_client, CONTACTS, {"s": "ann@client.test"},
                token=tenant.admin_token)["data"]["contacts"]["edges"]
    erased = gql(app_client, ERASE, {"c": edges[0]["node"]["id"]}, token=tenant.admin_token)
    assert erased["data"]["eraseContact"]["engagements"] == 2
    after = _report(app_client, tenant.admin_token, **day)
    # Her engagements are gone; the hourly counts stay, as the aggregate purpose keeps
    # them (R28), and who opened is no longer known.
    assert after["totals"] == before["totals"]
    assert (after["topEmails"][0]["opens"], after["topEmails"][0]["recipientsOpened"]) == (2, 0)
