"""Issue 12, defect 8: every query and mutation of the schema, run with generated arguments
against the real app, answers with data or a typed error — never a masked
``INTERNAL_SERVER_ERROR`` and never a 5xx (API.md: errors carry a code a client can act on).

hypothesis-graphql writes the operations from the schema the app serves. It runs as an admin
with an API token of every scope (the CI budget, ``MINIMUM_OPERATIONS``: SQLite alone sends
at least 5,000), then as the same admin signed in to the web admin (a smaller share). The
fuzzer's own user and token are never in the ID pool, so ``updateUser(active: false)`` or
``revokeApiToken`` cannot lock it out half-way. The custom scalars (DateTime, ID, JSON,
Upload, and String for hostile text) get strategies that mix real values (the seeded account's ids,
well-formed date-times) with hostile ones (calendar edges with offsets, naive times, junk).
Every root field gets its own share of examples, so none hides behind the others. Failures
are collected rather than shrunk: the report lists each failing operation with its error.
"""

from __future__ import annotations

import base64
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import graphql
import hypothesis_graphql
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from litestar.testing import TestClient
from support import PASSWORD, Tenant, gql, pixel_path, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.graphql.schema import schema_sdl
from sendtrail.settings import Settings

# CI must send at least this many operations (issue 12, "Done when"); SQLite takes the
# whole budget, PostgreSQL a share of it with the same strategies.
MINIMUM_OPERATIONS = {"sqlite": 5_000, "postgresql": 600}
BATCH = 10
# The same operations in a signed-in web session (cookie and CSRF token), a smaller share.
SESSION_BATCHES = 1
# Mutations that would take the fuzzer's own credential away are still run, but never on
# the fuzzer's own user or token: its ids are left out of the ID pool (see ``_seed``).
EDGE_DATES = (
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00",
    "0001-01-03T00:00:00+00:00", "9999-12-29T00:00:00Z", "1970-01-01T00:00:00Z",
    "2030-01-31T00:00:00", "2024-02-30T00:00:00Z", "now", "", "2024-01-01T00:00:00+25:00",
)
HOSTILE_TEXT = (
    "", " ", "\x00", "a" * 300, "Europe/Paris", "../../etc/passwd", "x" * 256 + "/Paris",
    "<script>", "@x.test", "a@x", "b@-x.test", "c@x..test", "ü@münchen.test", "%00",
    "https://127.0.0.1/x", "javascript:alert(1)", "-1", "1e400", "NaN",
    # Cursors: deeply nested JSON, a calendar edge, a cursor of another list.
    base64.urlsafe_b64encode(b"[" * 2_000 + b"]" * 2_000).decode(),
    base64.urlsafe_b64encode(b'[{"k": ["sent_at", "id"]}, {"d": "0001-01-01T00:00:00+14:00"}, '
                             b'{"u": "00000000-0000-0000-0000-000000000000"}]').decode(),
    base64.urlsafe_b64encode(b'[{"k": ["created_at", "id"]}, {"s": 1}, {"u": 2}]').decode(),
    # Raw messages (rawBase64): a Date at the calendar's edge, addresses the API refuses.
    base64.b64encode(b"From: a@client.test\r\nTo: @x.test, a@x, b@-x.test, c@x..test\r\n"
                     b"Date: Mon, 01 Jan 0001 00:00:00 +1400\r\n\r\nhi\r\n").decode(),
    base64.b64encode(b"From: c@x..test\r\nTo: b@client.test\r\nDate: 31 Dec 9999 23:59:59 "
                     b"-1400\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                     b"Content-Type: message/rfc822\r\n\r\nFrom: x\r\n--b--\r\n").decode(),
)


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _datetimes() -> st.SearchStrategy[graphql.ValueNode]:
    offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:"
                        f"{abs(minutes) % 60:02d}")
    generated = st.builds(
        lambda moment, offset: moment.isoformat() + offset,
        st.datetimes(), st.one_of(offsets, st.just("Z"), st.just("")),
    )
    return st.one_of(generated, st.sampled_from(EDGE_DATES), st.text(max_size=30)).map(
        nodes.String)


def _ids(pool: list[str]) -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(
        st.sampled_from(pool), st.uuids().map(str), st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=40), st.integers().map(str),
    ).map(nodes.String)


def _json() -> st.SearchStrategy[graphql.ValueNode]:
    leaves = st.one_of(st.text(max_size=20).map(nodes.String),
                       st.integers().map(nodes.Int), st.just(graphql.NullValueNode()))
    return st.one_of(leaves, st.lists(st.tuples(
        st.text(alphabet=string.ascii_letters, min_size=1, max_size=8), leaves), max_size=4,
        unique_by=lambda pair: pair[0]).map(lambda pairs: nodes.Object([
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value)
            for key, value in pairs])))


def _scalars(pool: list[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    return {
        "DateTime": _datetimes(),
        "ID": _ids(pool),
        "JSON": _json(),
        # A JSON body cannot carry a file: clients send ``rawBase64`` or a multipart upload.
        "Upload": st.one_of(st.just(graphql.NullValueNode()), st.text(max_size=20).map(
            nodes.String)),
        "String": st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60)).map(
            nodes.String),
    }


def _seed(client: TestClient[Any], tenant: Tenant) -> list[str]:
    """A small demo-like account: emails (prepared and logged), contacts, a hit.
    Returns the ids the fuzzer may aim at (never its own user's or token's)."""
    prepared = gql(client, """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
      email { id } messages { html } } }""", {"i": {
        "subject": "Quote", "html": '<p>Hi <a href="https://shop.test/a">shop</a></p>',
        "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": "ann@client.test"}, {"address": "bob@client.test"}]}},
        token=tenant.admin_token)
    assert prepared.get("errors") is None, prepared
    client.get(pixel_path(prepared["data"]["prepareEmail"]["messages"][0]["html"]),
               headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/131.0"})
    logged = gql(client, """mutation { logEmail(input: {subject: "Logged", text: "hello",
      recipients: [{address: "cid@client.test"}]}) { id } }""", token=tenant.admin_token)
    assert logged.get("errors") is None, logged
    ids = gql(client, """{ emails { edges { node { id } } } contacts { edges { node { id } } }
      users { edges { node { id } } } apiTokens { id userId } }""", token=tenant.admin_token)
    assert ids.get("errors") is None, ids
    data = ids["data"]
    pool = [edge["node"]["id"] for edge in data["emails"]["edges"] + data["contacts"]["edges"]
            + data["users"]["edges"] if edge["node"]["id"] != tenant.admin_id]
    # The plain user's token, never the admin's one the fuzzer signs in with.
    pool += [token["id"] for token in data["apiTokens"] if token["userId"] != tenant.admin_id]
    return pool


def _check(client: TestClient[Any], headers: dict[str, str], query: str, root: str,
           tally: Tally) -> None:
    response = client.post("/graphql", json={"query": query}, headers=headers)
    tally.sent[root] += 1
    if response.status_code >= 500:
        tally.failures.append(f"HTTP {response.status_code} for\n{query}\n{response.text[:500]}")
        return
    if "INTERNAL_SERVER_ERROR" in response.text:
        errors = [error for error in response.json().get("errors") or []
                  if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"]
        tally.failures.append(f"INTERNAL_SERVER_ERROR at {[e.get('path') for e in errors]} "
                              f"(traceback in the captured log) for\n{query}")


def _fuzz(client: TestClient[Any], headers: dict[str, str], schema: graphql.GraphQLSchema,
          scalars: dict[str, st.SearchStrategy[graphql.ValueNode]], tally: Tally,
          *, batches: int) -> None:
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    roots = [(hypothesis_graphql.queries, name) for name in schema.query_type.fields]
    roots += [(hypothesis_graphql.mutations, name) for name in schema.mutation_type.fields]
    for make, root in roots:
        # A batch of operations per example: hypothesis's per-example cost is paid once.
        operations = st.lists(make(schema, fields=[root], custom_scalars=scalars),
                              min_size=BATCH, max_size=BATCH)
        _fuzz_field(operations, batches,
                    lambda query, root=root: _check(client, headers, query, root, tally))


def _fuzz_field(strategy: st.SearchStrategy[list[str]], examples: int, check: Any) -> None:
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(batch=strategy)
    def run_field(batch: list[str]) -> None:
        for query in batch:
            check(query)

    run_field()


def _session(client: TestClient[Any], tenant: Tenant) -> dict[str, str]:
    """The web admin's credential: a session cookie and its CSRF token (a person signed in)."""
    response = client.post("/auth/login", json={"email": tenant.admin_email,
                                                 "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["st_session"]
    client.cookies.clear()
    return {"Cookie": f"st_session={cookie}", "X-CSRF-Token": response.json()["csrfToken"]}


def _report(failures: list[str]) -> str:
    return f"{len(failures)} failing operations:\n" + "\n\n".join(failures[:40]) + (
        f"\n... and {len(failures) - 40} more" if len(failures) > 40 else "")


def test_no_generated_operation_is_a_server_error(
    settings: Settings, database_url: str
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    tenant = run(seed_tenant(database_url, "Fuzz"))
    schema = graphql.build_schema(schema_sdl())
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    roots = {*schema.query_type.fields, *schema.mutation_type.fields}
    by_token, by_session = Tally(), Tally()
    started = time.monotonic()
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        scalars = _scalars(_seed(client, tenant))
        token = {"Authorization": f"Bearer {tenant.admin_token}"}
        budget = MINIMUM_OPERATIONS[backend]
        # 2% over the budget, in whole batches: a field with few possible operations ends
        # early, and the count below says so rather than a silently smaller run.
        _fuzz(client, token, schema, scalars, by_token,
              batches=-(-budget * 102 // (100 * BATCH * len(roots))))
        _fuzz(client, _session(client, tenant), schema, scalars, by_session,
              batches=SESSION_BATCHES)
    elapsed = time.monotonic() - started
    total = sum(by_token.sent.values())
    print(f"GraphQL fuzz on {backend}: {total} operations with an API token and "
          f"{sum(by_session.sent.values())} in a session, in {elapsed:.1f} s")
    failures = by_token.failures + by_session.failures
    assert not failures, _report(failures)
    # Every root field was exercised, and the test cannot silently shrink below the budget.
    assert set(by_token.sent) == roots
    assert set(by_session.sent) == roots
    assert total >= budget, by_token.sent
