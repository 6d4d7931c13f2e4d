"""Retention folds old engagements into the hourly totals and deletes them (issue 16, item
4; R28): past an account's window nothing ties a recipient or contact to a time, an address
or a user agent, while the engagement report keeps its totals; the job is audited, does
nothing twice, and a run cut short between batches loses and doubles nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
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
from sendtrail.tracking.retention import FoldRun, fold_batch, fold_old_engagements
from sendtrail.tracking.store import EngagementRow

ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
APPLE_MPP = "Mozilla/5.0"
PRICING = "https://shop.test/pricing"
HTML = f'<html><body><p>See <a href="{PRICING}">our pricing</a>.</p></body></html>'
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } senderCopy { html } } }"""
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) {
  totals { humanOpens humanClicks machineOpens machineClicks }
  buckets { start counts { humanOpens humanClicks machineOpens machineClicks } }
  topEmails { email { subject } opens clicks }
  topLinks { url clicks emails } } }"""
JUNE = {"since": "2030-06-01T00:00:00Z", "until": "2030-06-22T00:00:00Z", "interval": "DAY"}
AUDIT = "{ auditLog(first: 50) { edges { node { action summary } } } }"
CONTACT_DATES = """{ contacts { edges { node { address lastSalesEmailOpenedAt
  lastSalesEmailClickedAt lastClickedAt } } } }"""
EMAIL = """query($id: ID!) { email(id: $id) { recipients { address firstOpenedAt } } }"""
NOW = datetime(2030, 6, 21, 0, 0, tzinfo=UTC)  # with a 10-day window: June 1st goes
CUTOFF = NOW - timedelta(days=10)


def _ok(client: Any, token: str, query: str, variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None) -> Any:
    body = gql(client, query, variables, token=token, headers=headers)
    assert body.get("errors") is None, body
    return body["data"]


def _hit(client: Any, path: str, agent: str) -> None:
    response = client.get(path, headers={"User-Agent": agent}, follow_redirects=False)
    assert response.status_code in (200, 302), response.text


def _report(client: Any, tenant: Tenant) -> dict[str, Any]:
    report: dict[str, Any] = _ok(client, tenant.admin_token, REPORT,
                                 {"i": JUNE})["engagementReport"]
    return report


def _utc(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back text)."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _engagements(database_url: str) -> list[tuple[datetime, str | None, str | None]]:
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            rows: Sequence[Any] = conn.execute(text(
                "SELECT occurred_at, ip, user_agent FROM engagement ORDER BY occurred_at"
            )).all()
    finally:
        engine.dispose()
    return [(_utc(row[0]),
             row[1], row[2]) for row in rows]


async def _fold(database_url: str, **given: Any) -> int:
    database = Database(database_url)
    try:
        return await fold_old_engagements(database.engine, now=NOW, **given)
    finally:
        await database.dispose()


async def _one_batch(database_url: str, account_id: str, size: int) -> int:
    """What a run does before it crashes: one batch, committed, then nothing more."""
    database = Database(database_url)
    try:
        interrupted = FoldRun(account_id=uuid.UUID(account_id), days=10, audit_id=uuid.uuid4())
        return await fold_batch(database.engine, interrupted, before=CUTOFF, now=NOW,
                                batch_size=size)
    finally:
        await database.dispose()


def _folded_entries(client: Any, tenant: Tenant, **headers: str) -> list[str]:
    log = _ok(client, tenant.admin_token, AUDIT, headers=headers or None)["auditLog"]["edges"]
    return [e["node"]["summary"] for e in log if e["node"]["action"] == "engagements.folded"]


@dataclass(frozen=True)
class Scene:
    tenant: Tenant
    email_id: str


@pytest.fixture
def scene(app_client: Any, database_url: str, clock: FakeClock) -> Scene:
    """An account with a 10-day window, one email opened, clicked (an open inferred from
    it, R7), opened by a privacy proxy (R10) and by the sender (R9) on June 1st, and opened
    again on June 20th."""
    tenant: Tenant = run(seed_tenant(database_url, "Acme", seats={}))
    give_admin_a_paid_seat(app_client, database_url, tenant)
    _ok(app_client, tenant.admin_token,
        "mutation { updateAccountSettings(input: {hitDetailRetentionDays: 10}) { id } }")
    clock.now = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
    prepared = _ok(app_client, tenant.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": "ann@client.test"}, {"address": "ben@client.test"}],
    }})["prepareEmail"]
    ann, ben = (message["html"] for message in prepared["messages"])
    clock.advance(120)
    _hit(app_client, pixel_path(ann), OUTLOOK)
    _hit(app_client, pixel_path(ben), APPLE_MPP)
    _hit(app_client, pixel_path(prepared["senderCopy"]["html"]), OUTLOOK)
    clock.advance(3600)  # the next hour: the rows span more than one rollup hour
    (click,) = link_paths(ben)
    _hit(app_client, click, CHROME)
    clock.now = datetime(2030, 6, 20, 10, 0, tzinfo=UTC)
    _hit(app_client, pixel_path(ann), OUTLOOK)
    return Scene(tenant, prepared["email"]["id"])


def test_old_engagements_are_deleted_and_the_report_keeps_its_totals(
    app_client: Any, database_url: str, scene: Scene
) -> None:
    """R28: past the window the rows go; the report, the contact's dates and the
    recipient's first open stay; newer rows keep their details."""
    tenant = scene.tenant
    before = _report(app_client, tenant)
    assert before["totals"] == {"humanOpens": 3, "humanClicks": 1, "machineOpens": 1,
                                "machineClicks": 0}
    dates = _ok(app_client, tenant.admin_token, CONTACT_DATES)
    first_opens = _ok(app_client, tenant.admin_token, EMAIL, {"id": scene.email_id})
    stored = _engagements(database_url)
    old = [row for row in stored if row[0] < CUTOFF]
    assert len(old) >= 5
    assert len(stored) == len(old) + 1

    assert run(_fold(database_url)) == len(old)

    assert _engagements(database_url) == [row for row in stored if row[0] >= CUTOFF]
    (kept,) = _engagements(database_url)
    assert kept[2] == OUTLOOK  # newer details untouched
    assert kept[1] is not None
    assert _report(app_client, tenant) == before
    assert _ok(app_client, tenant.admin_token, CONTACT_DATES) == dates
    assert _ok(app_client, tenant.admin_token, EMAIL, {"id": scene.email_id}) == first_opens
    assert _folded_entries(app_client, tenant) == [
        f"Sendtrail's retention job deleted the details of {len(old)} engagements older than"
        " the retention window (10 days); the hourly totals still count them"]
    (german,) = _folded_entries(app_client, tenant, **{"Accept-Language": "de"})
    assert german.startswith("Die automatische Löschung von Sendtrail hat nach Ablauf der "
                             "Aufbewahrungsfrist (10 Tage)"), german

    assert run(_fold(database_url)) == 0  # a second run finds nothing and says nothing
    assert len(_folded_entries(app_client, tenant)) == 1
    assert _report(app_client, tenant) == before


def test_a_run_cut_short_between_batches_counts_everything_exactly_once(
    app_client: Any, database_url: str, scene: Scene
) -> None:
    """R28: each batch commits on its own; the next run folds the rest; the report never
    moves, and the two runs' audit entries add up to the rows folded."""
    tenant = scene.tenant
    before = _report(app_client, tenant)
    old = [row for row in _engagements(database_url) if row[0] < CUTOFF]

    assert run(_one_batch(database_url, tenant.account_id, 2)) == 2
    assert len(_engagements(database_url)) == len(old) - 2 + 1
    assert _report(app_client, tenant) == before  # mid-run, nothing lost or doubled

    assert run(_fold(database_url, batch_size=2)) == len(old) - 2
    assert len(_engagements(database_url)) == 1
    assert _report(app_client, tenant) == before
    counts = sorted(int(summary.split(" details of ")[1].split(" ")[0])
                    for summary in _folded_entries(app_client, tenant))
    assert counts == sorted([2, len(old) - 2])


def test_rows_the_rollups_never_counted_are_counted_once_before_they_go(
    app_client: Any, database_url: str, scene: Scene
) -> None:
    """R28: an engagement written in bulk, without its rollup count (an import, a
    benchmark's data set), is added to the totals by the fold instead of vanishing, and
    only once however the run is cut."""
    tenant = scene.tenant
    before = _report(app_client, tenant)
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as conn:
            # A copy of the first human open, as a bulk writer would store it: no delta.
            row = conn.execute(
                select(ENGAGEMENTS).where(ENGAGEMENTS.c.verdict == "human",
                                          ENGAGEMENTS.c.type == "open")
                .order_by(ENGAGEMENTS.c.occurred_at).limit(1)).mappings().one()
            conn.execute(ENGAGEMENTS.insert().values({**row, "id": uuid.uuid4()}))
    finally:
        engine.dispose()
    assert _report(app_client, tenant) == before  # not counted yet

    assert run(_one_batch(database_url, tenant.account_id, 1)) == 1
    run(_fold(database_url, batch_size=2))

    after = _report(app_client, tenant)
    assert after["totals"] == {**before["totals"],
                               "humanOpens": before["totals"]["humanOpens"] + 1}
    assert len(_engagements(database_url)) == 1


def test_a_window_changed_during_a_run_ends_it(
    app_client: Any, database_url: str, scene: Scene
) -> None:
    """R28: the job folds by the window the admin set; one widened (or removed) while a run
    is under way stops that run before its next batch, and nothing more is deleted."""
    tenant = scene.tenant
    stored = _engagements(database_url)
    _ok(app_client, tenant.admin_token,
        "mutation { updateAccountSettings(input: {hitDetailRetentionDays: 30}) { id } }")
    assert run(_one_batch(database_url, tenant.account_id, 2)) == 0  # begun with 10 days
    assert _engagements(database_url) == stored
    assert run(_fold(database_url)) == 0  # 30 days back from June 21st: nothing yet
    assert _folded_entries(app_client, tenant) == []
