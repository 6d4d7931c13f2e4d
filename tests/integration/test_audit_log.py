"""The audit log read by a person (issue 15, defect 5): each entry a sentence naming people
and things (not codes, keys or ids), a support visit one entry with its reads, filters by
actor, kind and time, keyset pages that never split a visit, and nothing of another
account (R23: support access is audited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from integration.test_read_statements import statements
from sqlalchemy import select, update
from support import (
    Tenant,
    error_codes,
    gql,
    grant_support_staff,
    run,
    seed_tenant,
    sign_in_as_staff,
)

from sendtrail.db.engine import create_sync_engine
from sendtrail.tenancy.store import AuditEntryRow, UserRow

STAFF = "sam@support.sendtrail.test"
ENTRY = """id at startedAt actor action kind summary readCount
  actorDetails { label name email kind viaToken } reads { at summary target }"""
LOG = f"""query($first: Int, $after: String, $filter: AuditLogFilter) {{
  auditLog(first: $first, after: $after, filter: $filter) {{
    edges {{ cursor node {{ {ENTRY} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
ACTORS = "{ auditActors { label name email kind } }"
LOG_EMAIL = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id
  recipients { contact { id } } } }"""
EMAIL = "query EmailDetail($id: ID!) { email(id: $id) { subject } }"
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]


def ok(client: Any, query: str, variables: dict[str, Any] | None = None, *,
       token: str | None = None, headers: dict[str, str] | None = None) -> Any:
    body = gql(client, query, variables, token=token, headers=headers)
    assert body.get("errors") is None, body
    return body["data"]


def entries(client: Any, token: str, **filters: Any) -> list[dict[str, Any]]:
    data = ok(client, LOG, {"first": 100, "filter": filters or None}, token=token)
    return [edge["node"] for edge in data["auditLog"]["edges"]]


def name_admin(database_url: str, tenant: Tenant, name: str) -> None:
    """Users have no API to rename them; the seeded admin gets a name here."""
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as conn:
            table = UserRow.__table__  # type: ignore[attr-defined]
            conn.execute(update(table).where(table.c.id == uuid.UUID(tenant.admin_id))
                         .values(name=name))
    finally:
        engine.dispose()


def move_support_entries_back(database_url: str, tenant: Tenant, hours: int) -> None:
    """The support entries so far happened ``hours`` earlier: a visit of the past (the log
    writes the wall clock's time, which a test cannot move)."""
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(select(AUDIT.c.id, AUDIT.c.at).where(
                AUDIT.c.account_id == uuid.UUID(tenant.account_id),
                AUDIT.c.actor.like("support:%"))).all()
            for row_id, at in rows:
                conn.execute(update(AUDIT).where(
                    AUDIT.c.account_id == uuid.UUID(tenant.account_id), AUDIT.c.id == row_id,
                ).values(at=at - timedelta(hours=hours)))
    finally:
        engine.dispose()


def log_proposal(client: Any, tenant: Tenant) -> tuple[str, str]:
    logged = ok(client, LOG_EMAIL, {"i": {"subject": "Proposal",
                                          "recipients": [{"address": "gil@client.test"}]}},
                token=tenant.admin_token)["logEmail"]
    return logged["id"], logged["recipients"][0]["contact"]["id"]


def support_visit(client: Any, tenant: Tenant, email_id: str) -> None:
    """What staff do when they open an account: its overview, an email, its users."""
    headers = {**sign_in_as_staff(client, STAFF), "X-Sendtrail-Account": tenant.account_id}
    ok(client, "query Overview { account { name } }", headers=headers)
    ok(client, EMAIL, {"id": email_id}, headers=headers)
    ok(client, "query Users { users { edges { node { email } } } }", headers=headers)
    ok(client, "query Emails { emails(first: 5) { edges { node { id } } } }", headers=headers)


def test_entries_are_sentences_naming_people_and_things(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    name_admin(database_url, acme, "Ada Admin")
    ok(client, "mutation { updateAccountSettings(input: {privacyMode: true}) { id } }",
       token=acme.admin_token)
    _, contact_id = log_proposal(client, acme)
    ok(client, """mutation($c: ID!) { setContactLegalBasis(contactId: $c, basis: CONSENT)
       { legalBasis } }""", {"c": contact_id}, token=acme.admin_token)
    ok(client, f'mutation {{ updateUser(input: {{id: "{acme.user_id}", active: false}}) '
               "{ id } }", token=acme.admin_token)

    log = entries(client, acme.admin_token)
    summaries = [entry["summary"] for entry in log]
    assert summaries[:3] == [
        "Ada Admin (with an API token) deactivated Uma User (user@acme.test)",
        "Ada Admin (with an API token) changed the legal basis of gil@client.test from "
        "none to consent",
        "Ada Admin (with an API token) turned privacy mode on",
    ]
    for summary in summaries:  # no code, key or id reaches a person
        for raw in ("_", "user:", contact_id):
            assert raw not in summary, summary
    settings = log[2]
    assert settings["kind"] == "SETTINGS"
    assert settings["action"] == "account.settings.updated"  # the stored fields stay (API.md)
    assert settings["actorDetails"] == {
        "label": f"user:{acme.admin_email}", "name": "Ada Admin (with an API token)",
        "email": acme.admin_email, "kind": "USER", "viaToken": True}
    assert settings["reads"] == []
    assert settings["readCount"] == 0
    assert [entry["kind"] for entry in log[:2]] == ["USERS", "CONTACTS"]


def test_two_support_visits_are_two_entries_with_their_reads(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    email_id, _ = log_proposal(client, acme)
    grant_support_staff(database_url, STAFF)
    support_visit(client, acme, email_id)
    move_support_entries_back(database_url, acme, hours=2)
    support_visit(client, acme, email_id)

    visits = entries(client, acme.admin_token, kind="SUPPORT")
    assert len(visits) == 2  # eight support reads, two visits
    for visit in visits:
        assert visit["summary"] == (f"Support staff ({STAFF}) viewed the email 'Proposal' "
                                    "and 3 other things")
        assert visit["readCount"] == 4
        assert [read["summary"] for read in visit["reads"]] == [
            "the account and its settings", "the email 'Proposal'", "the users",
            "the emails list"]
        assert visit["reads"][1]["target"] == (
            f"GraphQL query EmailDetail {{ email(id: {email_id}) }}")
        assert visit["startedAt"] < visit["at"]
        assert visit["actorDetails"]["kind"] == "SUPPORT"
    newer, older = (datetime.fromisoformat(v["startedAt"]) for v in visits)
    assert newer - older > timedelta(hours=1)


def test_filters_by_actor_kind_and_time(client: Any, database_url: str) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    name_admin(database_url, acme, "Ada Admin")
    email_id, _ = log_proposal(client, acme)
    ok(client, "mutation { updateAccountSettings(input: {privacyMode: true}) { id } }",
       token=acme.admin_token)
    grant_support_staff(database_url, STAFF)
    support_visit(client, acme, email_id)

    actors = ok(client, ACTORS, token=acme.admin_token)["auditActors"]
    assert {"label": f"user:{acme.admin_email}", "name": "Ada Admin",
            "email": acme.admin_email, "kind": "USER"} in actors
    assert {"label": f"support:{STAFF}", "name": f"Support staff ({STAFF})",
            "email": STAFF, "kind": "SUPPORT"} in actors

    by_admin = entries(client, acme.admin_token, actor=f"user:{acme.admin_email}")
    assert by_admin
    assert all(e["actorDetails"]["email"] == acme.admin_email for e in by_admin)
    by_staff = entries(client, acme.admin_token, actor=f"support:{STAFF}")
    assert [e["readCount"] for e in by_staff] == [4]
    settings = entries(client, acme.admin_token, kind="SETTINGS")
    assert [e["summary"] for e in settings] == [
        "Ada Admin (with an API token) turned privacy mode on"]
    assert entries(client, acme.admin_token, kind="WEBHOOKS") == []
    assert entries(client, acme.admin_token, actor="user:nobody@acme.test") == []
    assert entries(client, acme.admin_token, actor="x" * 5000) == []
    nul = gql(client, LOG, {"filter": {"actor": "user:\x00"}}, token=acme.admin_token)
    assert error_codes(nul) == ["BAD_USER_INPUT"]

    now = datetime.now(UTC)
    assert entries(client, acme.admin_token, until=(now - timedelta(days=1)).isoformat()) == []
    recent = entries(client, acme.admin_token, since=(now - timedelta(hours=1)).isoformat(),
                     until=(now + timedelta(hours=1)).isoformat())
    assert len(recent) == len(entries(client, acme.admin_token))

    backwards = gql(client, LOG, {"filter": {"since": now.isoformat(),
                                             "until": (now - timedelta(days=1)).isoformat()}},
                    token=acme.admin_token)
    assert error_codes(backwards) == ["BAD_USER_INPUT"]
    assert "'since' must be before 'until'" in backwards["errors"][0]["message"]


def test_pages_list_every_entry_once_and_never_split_a_visit(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    email_id, _ = log_proposal(client, acme)
    grant_support_staff(database_url, STAFF)
    support_visit(client, acme, email_id)
    for mode in (True, False, True):
        ok(client, f"mutation {{ updateAccountSettings(input: {{privacyMode: {str(mode).lower()}}})"
                   " { id } }", token=acme.admin_token)
    support_visit(client, acme, email_id)  # a second visit, after the admin's changes

    whole = entries(client, acme.admin_token)
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        data = ok(client, LOG, {"first": 2, "after": after}, token=acme.admin_token)["auditLog"]
        paged += [edge["node"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert [e["id"] for e in paged] == [e["id"] for e in whole]
    assert [e["readCount"] for e in paged if e["kind"] == "SUPPORT"] == [4, 4]
    foreign = gql(client, LOG, {"first": 2, "after": "bm90LW91cnM"}, token=acme.admin_token)
    assert error_codes(foreign) == ["BAD_USER_INPUT"]


def test_one_account_never_sees_or_names_anothers_entries(
    client: Any, database_url: str
) -> None:
    acme = run(seed_tenant(database_url, "Acme"))
    rival = run(seed_tenant(database_url, "Rival"))
    acme_email, _ = log_proposal(client, acme)
    ok(client, "mutation { updateAccountSettings(input: {privacyMode: true}) { id } }",
       token=acme.admin_token)
    grant_support_staff(database_url, STAFF)
    headers = {**sign_in_as_staff(client, STAFF), "X-Sendtrail-Account": rival.account_id}
    # Staff inspecting Rival ask for Acme's email by its id: refused, and audited in Rival.
    refused = gql(client, EMAIL, {"id": acme_email}, headers=headers)
    assert error_codes(refused) == ["NOT_FOUND"]

    rival_log = entries(client, rival.admin_token)
    assert all("privacy" not in e["summary"] for e in rival_log)
    (visit,) = [e for e in rival_log if e["kind"] == "SUPPORT"]
    assert "Proposal" not in visit["summary"]  # Acme's subject is not named in Rival's log
    assert visit["reads"][0]["summary"] == "an email not in this account"
    rival_actors = {a["label"] for a in ok(client, ACTORS, token=rival.admin_token)["auditActors"]}
    assert f"user:{acme.admin_email}" not in rival_actors
    assert entries(client, rival.admin_token, actor=f"user:{acme.admin_email}") == []

    for query in (LOG, ACTORS):  # reps do not read the log (R4)
        assert error_codes(gql(client, query, token=acme.user_token)) == ["FORBIDDEN"]


def test_a_page_names_its_people_and_things_in_as_many_statements_for_12_as_for_2(
    client: Any, database_url: str
) -> None:
    """Names are looked up per page, one query per kind, never per entry (issue 14)."""
    acme = run(seed_tenant(database_url, "Acme"))

    def named_changes(count: int, start: int) -> None:
        for number in range(start, start + count):
            logged = ok(client, LOG_EMAIL, {"i": {"subject": f"Note {number}", "recipients": [
                {"address": f"c{number}@client.test"}]}}, token=acme.admin_token)["logEmail"]
            ok(client, """mutation($c: ID!) { setContactLegalBasis(contactId: $c,
               basis: CONSENT) { legalBasis } }""",
               {"c": logged["recipients"][0]["contact"]["id"]}, token=acme.admin_token)

    def page_statements() -> tuple[list[dict[str, Any]], int]:
        with statements(client) as seen:
            page = entries(client, acme.admin_token, kind="CONTACTS")
        return page, len(seen)

    named_changes(2, 0)
    few, few_statements = page_statements()
    named_changes(10, 2)
    many, many_statements = page_statements()
    assert (len(few), len(many)) == (2, 12)
    assert {f"c{n}@client.test" for n in range(12)} == {
        entry["summary"].split(" of ")[1].split(" from ")[0] for entry in many}
    assert many_statements == few_statements
