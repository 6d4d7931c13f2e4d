"""Two stages (issue 14): the hot path answers once the raw hit is stored; the deriver turns
raw hits into engagements behind it, exactly once, honouring erasure (R17) and tracking off
(R18) as they are when it derives, and several derivers never judge a copy twice (R7)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from support import FakeClock, Tenant, give_admin_a_paid_seat, gql_data, link_paths, pixel_path

from sendtrail.app import create_app
from sendtrail.db.engine import Database, create_sync_engine
from sendtrail.settings import Settings
from sendtrail.tracking.deriver import RAW_HITS, Deriver, raw_hits_waiting
from sendtrail.tracking.signals import load_signals
from sendtrail.tracking.stream import EngagementEvent

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { recipients html } } }"""
EMAIL = """query($id: ID!) { email(id: $id) { engagements(first: 100) { edges { node {
  type inferred verdict recipient { address } } } } } }"""
CONTACTS = "query($s: String) { contacts(search: $s) { edges { node { id address } } } }"
ERASE = "mutation($c: ID!) { eraseContact(contactId: $c) { contactId } }"


def _served(settings: Settings, clock: FakeClock, *, deriver: bool) -> TestClient[Any]:
    """The app as production runs it: answering once the raw hit is stored, deriving in the
    background (``deriver``) or leaving that to another process."""
    two_stage = replace(settings, tracking=replace(settings.tracking, deriver=deriver,
                                                   answer_after_derivation=False))
    return TestClient(create_app(two_stage, clock=clock), base_url="http://testserver.local")


def _open_every_copy(client: TestClient[Any], html: dict[str, str]) -> None:
    for copy in html.values():
        answer = client.get(pixel_path(copy), headers={"User-Agent": CHROME})
        assert answer.status_code == 200


def _prepare(client: TestClient[Any], tenant: Tenant, clock: FakeClock,
             *addresses: str) -> tuple[str, dict[str, str]]:
    """An email to ``addresses`` (one copy each, two links): its id and each copy's HTML."""
    prepared = gql_data(client, PREPARE, {"i": {
        "subject": "Pricing", "deliveryMode": "PER_RECIPIENT",
        "html": '<p><a href="https://a.example.test/1">one</a> '
                '<a href="https://a.example.test/2">two</a></p>',
        "recipients": [{"address": address} for address in addresses],
    }}, token=tenant.admin_token, field="prepareEmail")
    clock.advance(600)  # people open minutes later, not in the delivery's first seconds
    return prepared["email"]["id"], {
        message["recipients"][0]: message["html"] for message in prepared["messages"]}


def _engagements(client: TestClient[Any], tenant: Tenant, email_id: str) -> list[dict[str, Any]]:
    email = gql_data(client, EMAIL, {"id": email_id}, token=tenant.admin_token, field="email")
    return [edge["node"] for edge in email["engagements"]["edges"]]


def _count(url: str, table: str) -> int:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


async def _derive_elsewhere(url: str, *, derivers: int = 1,
                            sinks: Sequence[Any] = ()) -> list[int]:
    """Derive what is waiting with ``derivers`` other derivers at once (other processes)."""
    databases = [Database(url) for _ in range(derivers)]
    try:
        return list(await asyncio.gather(*(
            Deriver(database.engine, signals=load_signals(), sinks=sinks, batch=16)
            .derive_pending() for database in databases)))
    finally:
        for database in databases:
            await database.dispose()


def test_a_hit_is_answered_once_stored_raw_and_derived_later_exactly_once(
    settings: Settings, acme: Tenant, clock: FakeClock,
) -> None:
    url = settings.database.url
    with _served(settings, clock, deriver=False) as client:
        email_id, html = _prepare(client, acme, clock, "ann@client.test")
        answer = client.get(pixel_path(html["ann@client.test"]), headers={"User-Agent": CHROME})
        assert (answer.status_code, answer.headers["content-type"]) == (200, "image/gif")
        assert _count(url, "raw_hit") == 1
        assert _engagements(client, acme, email_id) == []  # not derived yet: nobody has

        assert asyncio.run(_derive_elsewhere(url)) == [1]
        (opened,) = _engagements(client, acme, email_id)
        assert (opened["type"], opened["verdict"]) == ("OPEN", "HUMAN")
        assert opened["recipient"]["address"] == "ann@client.test"
        assert _count(url, "raw_hit") == 0  # raw hits live seconds: consumed as derived
        assert asyncio.run(_derive_elsewhere(url)) == [0]
        assert len(_engagements(client, acme, email_id)) == 1


def test_the_background_deriver_derives_what_the_hot_path_acknowledged(
    settings: Settings, acme: Tenant, clock: FakeClock,
) -> None:
    with _served(settings, clock, deriver=True) as client:
        email_id, html = _prepare(client, acme, clock, "ann@client.test", "bo@client.test")
        _open_every_copy(client, html)
        deadline = time.monotonic() + 10
        while len(_engagements(client, acme, email_id)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        found = _engagements(client, acme, email_id)
        assert sorted(e["recipient"]["address"] for e in found) == sorted(html)
        assert _count(settings.database.url, "raw_hit") == 0


def test_a_contact_erased_before_derivation_is_never_recorded(
    settings: Settings, acme: Tenant, clock: FakeClock,
) -> None:
    with _served(settings, clock, deriver=False) as client:
        email_id, html = _prepare(client, acme, clock, "ann@client.test", "bo@client.test")
        _open_every_copy(client, html)
        contacts = gql_data(client, CONTACTS, {"s": "ann@"}, token=acme.admin_token,
                            field="contacts")["edges"]
        gql_data(client, ERASE, {"c": contacts[0]["node"]["id"]}, token=acme.admin_token,
                 field="eraseContact")

        assert asyncio.run(_derive_elsewhere(settings.database.url)) == [2]
        found = _engagements(client, acme, email_id)
        assert [e["recipient"]["address"] for e in found] == ["bo@client.test"]
        assert _count(settings.database.url, "raw_hit") == 0  # the erased one's too


class _FailsOnce:
    """An outbox that fails the first derivation transaction, as a crash would."""

    def __init__(self) -> None:
        self.failed = False

    async def in_transaction(self, conn: AsyncConnection,
                             events: Sequence[EngagementEvent]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionResetError("the database went away mid-derivation")

    def committed(self, events: Sequence[EngagementEvent]) -> None:
        pass


def test_a_derivation_cut_short_stores_nothing_and_the_next_one_stores_everything_once(
    settings: Settings, acme: Tenant, clock: FakeClock,
) -> None:
    url = settings.database.url
    with _served(settings, clock, deriver=False) as client:
        give_admin_a_paid_seat(client, url, acme)  # links are tracked on paid seats (R12)
        email_id, html = _prepare(client, acme, clock, "ann@client.test")
        link = link_paths(html["ann@client.test"])[0]
        assert client.get(link, headers={"User-Agent": CHROME},
                          follow_redirects=False).status_code == 302
        sink = _FailsOnce()
        with pytest.raises(ConnectionResetError):
            asyncio.run(_derive_elsewhere(url, sinks=[sink]))
        assert _engagements(client, acme, email_id) == []
        assert _count(url, "raw_hit") == 1  # rolled back with the engagements: still waiting
        assert asyncio.run(_derive_elsewhere(url, sinks=[sink])) == [1]
        found = _engagements(client, acme, email_id)
        assert sorted((e["type"], e["inferred"]) for e in found) == [
            ("CLICK", False), ("OPEN", True)]  # the click and the open it implies (R7), once


def test_derivers_running_at_once_derive_each_hit_once_and_infer_each_open_once(
    settings: Settings, acme: Tenant, clock: FakeClock,
) -> None:
    """Other processes and nodes derive the same raw hits concurrently (partitions are taken
    under an advisory lock on PostgreSQL): one engagement per hit, one inferred open per
    recipient however the batches fall."""
    url = settings.database.url
    addresses = [f"r{n}@client.test" for n in range(12)]
    with _served(settings, clock, deriver=False) as client:
        give_admin_a_paid_seat(client, url, acme)  # links are tracked on paid seats (R12)
        email_id, html = _prepare(client, acme, clock, *addresses)
        marker = uuid.uuid4().hex[:8]
        for round_ in range(3):
            for address in addresses:
                clock.advance(20)  # clicks far apart: people, not a scanner's burst (R11)
                client.get(link_paths(html[address])[round_ % 2], follow_redirects=False,
                           headers={"User-Agent": f"{CHROME} {marker}-{address}-{round_}"})
        assert _count(url, "raw_hit") == 36
        assert sum(asyncio.run(_derive_elsewhere(url, derivers=3))) == 36
        found = _engagements(client, acme, email_id)
        clicks = [e for e in found if e["type"] == "CLICK"]
        opens = [e for e in found if e["type"] == "OPEN"]
        assert len(clicks) == 36
        assert sorted(e["recipient"]["address"] for e in opens) == sorted(addresses)
        assert all(e["inferred"] for e in opens)
        assert _count(url, "raw_hit") == 0


def _store_raw_hits(url: str, rows: list[tuple[int | None, int]]) -> None:
    """Raw hits as the hot path stores them (``seq`` given, or the next one), in partitions."""
    engine = create_sync_engine(url)
    try:
        with engine.begin() as conn:
            for seq, part in rows:
                values = {"part": part, "account_id": uuid.UUID(int=1), "hit": "{}"}
                conn.execute(RAW_HITS.insert(), values if seq is None else {**values, "seq": seq})
    finally:
        engine.dispose()  # on PostgreSQL the backend's exit reports its statistics


async def _waiting(url: str, *, settled: int | None = None) -> tuple[int, list[int]]:
    """What the deriver estimates waits; on PostgreSQL, once the statistics say ``settled``
    (they are reported up to a second after a commit)."""
    database = Database(url)
    try:
        deadline = time.monotonic() + 15
        while True:
            async with database.engine.connect() as conn:
                waiting = await raw_hits_waiting(conn)
            if settled is None or waiting[0] == settled or time.monotonic() > deadline:
                return waiting
            await asyncio.sleep(0.2)
    finally:
        await database.dispose()


def test_the_backlog_estimate_counts_the_hits_waiting_even_when_one_partition_lags(
    settings: Settings,
) -> None:
    """Under load the deriver is gentle only while fewer than ``catch_up`` hits wait, and
    reports the count as a metric: an estimate of a million for eleven hits would switch
    gentleness off for good and page an operator for nothing."""
    url = settings.database.url
    assert asyncio.run(_waiting(url)) == (0, [])
    _store_raw_hits(url, [(None, 5)] * 4 + [(None, 9)] * 2)
    assert asyncio.run(_waiting(url, settled=6)) == (6, [5, 9])
    if settings.database.url.startswith("postgresql"):
        # One hit of partition 3 stays behind (its deriver is stalled, or slow) while the
        # others are derived and a million more hits come and go elsewhere.
        _store_raw_hits(url, [(0, 3), (1_000_000, 5), (1_000_001, 5)])
        waiting, parts = asyncio.run(_waiting(url, settled=9))
        assert (waiting, parts) == (9, [3, 5, 9])
