"""Rows named by composite keys (``db.keys.key_in``): exactly those rows, found through the
primary key. The deriver, the outbox, the delivery worker and the DataLoaders look rows up
this way; a row-value ``IN`` made SQLite read every row of the table instead (1.2 s per
batch over a million engagements), which no test of results could notice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, select, text
from sqlalchemy.engine import Engine

from sendtrail.db.engine import create_sync_engine
from sendtrail.db.keys import key_in

METADATA = MetaData()
COPIES = Table(
    "key_lookup_copy", METADATA,
    Column("account_id", Uuid, primary_key=True),
    Column("email_id", Uuid, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("address", String(100)),
)
ACCOUNTS = [uuid.UUID(int=1), uuid.UUID(int=2)]
EMAILS = [uuid.UUID(int=100 + n) for n in range(150)]  # more groups than one OR chunk


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_sync_engine(database_url)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(COPIES.insert(), [
            {"account_id": account, "email_id": email, "idx": idx,
             "address": f"{account.int}-{email.int}-{idx}@example.test"}
            for account in ACCOUNTS for email in EMAILS for idx in range(20)
        ])
    yield engine
    METADATA.drop_all(engine)
    engine.dispose()


def test_exactly_the_named_rows_come_back_across_accounts_and_many_emails(
    engine: Engine,
) -> None:
    wanted = {(account, email, idx) for account in ACCOUNTS for email in EMAILS[::2]
              for idx in (0, 7, 19)}
    wanted.add((ACCOUNTS[0], EMAILS[1], 3))
    absent = {(ACCOUNTS[0], EMAILS[0], 99), (uuid.UUID(int=3), EMAILS[0], 0)}
    c = COPIES.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.account_id, c.email_id, c.idx).where(
            key_in((c.account_id, c.email_id, c.idx), wanted | absent))).all()
        assert {tuple(row) for row in rows} == wanted
        assert conn.execute(select(c.idx).where(key_in((c.account_id, c.email_id, c.idx),
                                                       []))).all() == []
        two = conn.execute(select(c.idx).where(
            key_in((c.account_id, c.email_id), [(ACCOUNTS[1], EMAILS[5])]))).all()
        assert sorted(row.idx for row in two) == list(range(20))


def test_the_rows_are_found_through_the_primary_key_not_by_reading_the_table(
    engine: Engine,
) -> None:
    c = COPIES.c
    keys = [(ACCOUNTS[0], email, idx) for email in EMAILS[:3] for idx in (1, 2)]
    statement = select(c.address).where(key_in((c.account_id, c.email_id, c.idx), keys))
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            assert any(step.startswith("SEARCH key_lookup_copy USING") for step in plan), plan
            assert not any(step.startswith("SCAN key_lookup_copy") for step in plan), plan
        else:
            # A table this small is cheaper to read whole: ask for the plan an index allows.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = [row[0] for row in conn.execute(text(f"EXPLAIN {compiled}"))]
            assert any("Index" in step for step in plan), plan
            assert not any("Seq Scan" in step for step in plan), plan


def test_conditions_given_with_the_keys_hold_for_every_row(engine: Engine) -> None:
    c = COPIES.c
    keys = [(account, email, idx) for account in ACCOUNTS for email in EMAILS[:4]
            for idx in range(10)]
    with engine.connect() as conn:
        rows = conn.execute(select(c.account_id, c.email_id, c.idx).where(
            key_in((c.account_id, c.email_id, c.idx), keys, c.idx >= 7,
                   c.account_id == ACCOUNTS[1]))).all()
    assert {tuple(row) for row in rows} == {
        (ACCOUNTS[1], email, idx) for email in EMAILS[:4] for idx in (7, 8, 9)}


def test_thousands_of_groups_are_answered_through_the_primary_key(engine: Engine) -> None:
    """A deriver batch of thousands of copies, or a DataLoader over a long page, names more
    groups than SQLite parses in one flat OR (its expression tree is limited to 1,000
    levels): the answer must still come back, and still from the index."""
    c = COPIES.c
    wanted = {(account, email, idx) for account in ACCOUNTS for email in EMAILS
              for idx in (2, 11)}
    unknown = {(ACCOUNTS[0], uuid.UUID(int=10_000 + n), 0) for n in range(2_000)}
    condition = key_in((c.account_id, c.email_id, c.idx), wanted | unknown)
    statement = select(c.account_id, c.email_id, c.idx).where(condition)
    with engine.connect() as conn:
        assert {tuple(row) for row in conn.execute(statement)} == wanted
        if engine.dialect.name == "sqlite":
            compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
            plan = [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            assert "MULTI-INDEX OR" in plan, plan[:3]
            assert not any(step.startswith("SCAN key_lookup_copy") for step in plan), plan[:3]
