"""Privacy rights (R16, R17): legal basis with its history, privacy-mode attribution, the
data export, and erasure: everything only the contact appears on goes, from every table and
from the blob store; what they share with others stays without them; later hits on their
tracked copies are answered and not recorded; the erasure is audited."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel
from support import FakeClock, Tenant, error_codes, gql, pixel_path, refusal, rows_mentioning

from sendtrail.db.engine import create_sync_engine
from sendtrail.migrations import register_all_tables
from sendtrail.settings import Settings

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
ADDRESS = "annabel.quist@client.test"
NAME = "Annabel Quist"
OTHER = "ben.other@client.test"
ONLY_HERS = b"contract signed by the erased contact\x00" * 50
SHARED = b"%PDF-1.4 price list shared by two emails" * 80
BOTH = b"agenda of the meeting with both of them"
LOG = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id
  attachments { filename sha256 downloadUrl } } }"""
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { recipients messageId html } } }"""
EMAIL = """query($id: ID!) { email(id: $id) { id subject recipients { address }
  engagements(filter: {verdicts: [HUMAN, MACHINE, SELF]}) { edges { node {
    type attribution recipient { address } } } } } }"""
CONTACT = """query($id: ID!) { contact(id: $id) { legalBasis legalBasisChangedAt
  legalBasisChangedBy lastSalesEmailOpenedAt legalBasisHistory { actor before after } } }"""
SET_BASIS = """mutation($c: ID!, $b: LegalBasis!) { setContactLegalBasis(contactId: $c,
  basis: $b) { legalBasis legalBasisChangedAt legalBasisChangedBy } }"""
CONTACTS = "query($s: String) { contacts(search: $s) { edges { node { id address } } } }"
ERASE = """mutation($c: ID!) { eraseContact(contactId: $c) {
  contactId erasedAt engagements loggedEmails attachments } }"""
TIMELINE = """query($id: ID!) { contact(id: $id) { timeline(first: 50) { edges { node {
  __typename ... on Email { id subject } ... on LegalBasisChange { actor before after }
  ... on Engagement { type } } } } } }"""
AUDIT = "{ auditLog(first: 50) { edges { node { actor action target before after } } } }"


def ok(app: Any, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The data of an operation that must succeed."""
    body = gql(app, query, variables, token=token)
    assert body.get("errors") is None, body
    return body["data"]


def attach(name: str, data: bytes) -> dict[str, str]:
    return {"filename": name, "contentBase64": base64.b64encode(data).decode()}


def contact_id(app: Any, token: str, address: str) -> str:
    edges = ok(app, token, CONTACTS, {"s": address})["contacts"]["edges"]
    (found,) = [e["node"]["id"] for e in edges if e["node"]["address"] == address]
    return str(found)


def blobs(data_dir: Path) -> set[str]:
    root = data_dir / "blobs"
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def engagements(app: Any, tenant: Tenant, email_id: str, *, attribution: bool = False
                ) -> list[tuple[str, ...]]:
    email = ok(app, tenant.admin_token, EMAIL, {"id": email_id})["email"]
    return sorted((n["type"], (n["recipient"] or {}).get("address") or "-",
                   *([n["attribution"]] if attribution else []))
                  for n in (e["node"] for e in email["engagements"]["edges"]))


def timeline(app: Any, token: str, contact: str) -> list[dict[str, Any]]:
    data = ok(app, token, TIMELINE, {"id": contact})
    return [edge["node"] for edge in data["contact"]["timeline"]["edges"]]


def log(app: Any, token: str, **fields: Any) -> Any:
    return ok(app, token, LOG, {"i": fields})["logEmail"]


def prepare(app: Any, tenant: Tenant) -> Any:
    return ok(app, tenant.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": "<p>Our pricing</p>", "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": "ann@client.test"}, {"address": "ben@client.test"}]}}
    )["prepareEmail"]


def test_legal_basis_changes_are_recorded_and_shown(
    app: Any, acme: Tenant, rival: Tenant, clock: FakeClock
) -> None:
    log(app, acme.user_token, subject="Intro", recipients=[{"address": "ann@client.test"}])
    ann = contact_id(app, acme.user_token, "ann@client.test")
    clock.advance(60)
    changed = ok(app, acme.admin_token, SET_BASIS, {"c": ann, "b": "CONSENT"})
    assert changed["setContactLegalBasis"]["legalBasis"] == "CONSENT"
    assert changed["setContactLegalBasis"]["legalBasisChangedAt"].startswith(
        clock.now.isoformat()[:19])
    assert acme.admin_email in changed["setContactLegalBasis"]["legalBasisChangedBy"]
    clock.advance(60)
    ok(app, acme.user_token, SET_BASIS, {"c": ann, "b": "CONTRACT"})
    ok(app, acme.user_token, SET_BASIS, {"c": ann, "b": "CONTRACT"})  # no change: no entry
    contact = ok(app, acme.admin_token, CONTACT, {"id": ann})["contact"]
    assert contact["legalBasis"] == "CONTRACT"
    assert acme.user_email in contact["legalBasisChangedBy"]
    items = timeline(app, acme.admin_token, ann)  # newest first
    assert [(i["__typename"], i.get("before"), i.get("after")) for i in items] == [
        ("LegalBasisChange", "CONSENT", "CONTRACT"), ("LegalBasisChange", "NONE", "CONSENT"),
        ("Email", None, None)]
    assert acme.admin_email in items[1]["actor"]
    history = [(c["before"], c["after"], acme.user_email in c["actor"])
               for c in contact["legalBasisHistory"]]  # the whole history, on the contact
    assert history == [("CONSENT", "CONTRACT", True), ("NONE", "CONSENT", False)]
    invalid = gql(app, SET_BASIS, {"c": ann, "b": "BECAUSE_I_SAID_SO"}, token=acme.admin_token)
    assert error_codes(invalid) in (["BAD_USER_INPUT"], ["GRAPHQL_VALIDATION_FAILED"])
    assert "LegalBasis" in invalid["errors"][0]["message"]
    refused = gql(app, SET_BASIS, {"c": ann, "b": "NONE"}, token=rival.admin_token)
    assert refusal(refused)[0] == "NOT_FOUND"
    assert ok(app, acme.admin_token, CONTACT, {"id": ann})["contact"]["legalBasis"] == "CONTRACT"


def test_privacy_mode_attributes_opens_once_a_legal_basis_is_set(
    app: Any, acme: Tenant, clock: FakeClock
) -> None:
    ok(app, acme.admin_token, "mutation { updateAccountSettings(input: {privacyMode: true}) "
       "{ id } }")
    prepared = prepare(app, acme)
    ben = contact_id(app, acme.admin_token, "ben@client.test")
    ok(app, acme.admin_token, SET_BASIS, {"c": ben, "b": "LEGITIMATE_INTEREST"})
    clock.advance(60)
    for message in prepared["messages"]:
        hit = app.get(pixel_path(message["html"]), headers={"User-Agent": OUTLOOK})
        assert hit.status_code == 200
    # R16, R28: Ann without a basis falls back to the exempt purpose (only counted).
    assert engagements(app, acme, prepared["email"]["id"], attribution=True) == [
        ("OPEN", "ben@client.test", "RECIPIENT")]
    ann = contact_id(app, acme.admin_token, "ann@client.test")
    opened = ok(app, acme.admin_token, CONTACT, {"id": ann})["contact"]
    assert opened["lastSalesEmailOpenedAt"] is None
    opened = ok(app, acme.admin_token, CONTACT, {"id": ben})["contact"]
    assert opened["lastSalesEmailOpenedAt"] is not None
    assert "Engagement" not in [i["__typename"] for i in timeline(app, acme.admin_token, ann)]


def test_contact_export_holds_emails_engagements_and_basis_changes(
    app: Any, acme: Tenant, rival: Tenant, clock: FakeClock
) -> None:
    prepared = prepare(app, acme)  # logged too, by default (R2)
    clock.advance(60)
    log(app, acme.admin_token, subject="Re: Pricing", text="Yes please",
        recipients=[{"address": acme.admin_email}], inReplyTo=prepared["messages"][0]["messageId"],
        **{"from": {"address": "ann@client.test", "name": "Ann"}})
    ann = contact_id(app, acme.admin_token, "ann@client.test")
    ok(app, acme.admin_token, SET_BASIS, {"c": ann, "b": "CONSENT"})
    query = "query($id: ID!) { contactExport(id: $id) }"
    exported = ok(app, acme.admin_token, query, {"id": ann})["contactExport"]
    contact = exported["contact"]
    assert contact["address"] == "ann@client.test"
    assert str(contact.get("legal_basis", contact.get("legalBasis"))).lower() == "consent"
    assert sorted(e["subject"] for e in exported["loggedEmails"]) == ["Pricing", "Re: Pricing"]
    assert "Yes please" in str(exported["loggedEmails"])
    assert sorted(e["type"] for e in exported["engagements"]) == ["open", "reply"]
    assert [(c["before"], c["after"]) for c in exported["legalBasisChanges"]] == [
        ("none", "consent")]
    assert refusal(gql(app, query, {"id": ann}, token=rival.admin_token))[0] == "NOT_FOUND"


def _records_of_ann_and_ben(app: Any, acme: Tenant, clock: FakeClock) -> dict[str, Any]:
    """Ann (to be erased) and Ben share some records; some are only Ann's."""
    tracked = ok(app, acme.admin_token, PREPARE, {"i": {  # logged too (default, R2)
        "subject": "Pricing", "html": "<p>Our pricing</p>", "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": ADDRESS, "name": NAME}, {"address": OTHER}]}})["prepareEmail"]
    ann_copy, ben_copy = tracked["messages"]
    assert ann_copy["recipients"] == [ADDRESS]
    clock.advance(60)
    for copy in (ann_copy, ben_copy):
        assert app.get(pixel_path(copy["html"]), headers={"User-Agent": OUTLOOK}).status_code == 200
    clock.advance(60)
    # Ann's reply, copied to Ben: it stays on Ben's record.
    reply = ok(app, acme.admin_token, LOG, {"i": {
        "subject": "Re: Pricing", "text": "Sounds good.",
        "from": {"address": ADDRESS, "name": NAME},
        "recipients": [{"address": acme.admin_email}, {"address": OTHER, "field": "CC"}],
        "inReplyTo": ann_copy["messageId"]}})["logEmail"]
    only_hers = ok(app, acme.user_token, LOG, {"i": {
        "subject": "Signed contract", "recipients": [{"address": ADDRESS, "name": NAME}],
        "attachments": [attach("contract.bin", ONLY_HERS), attach("prices.pdf", SHARED)]}})
    shared = ok(app, acme.user_token, LOG, {"i": {
        "subject": "Meeting", "text": "See you both on Monday.",
        "recipients": [{"address": ADDRESS, "name": NAME}, {"address": OTHER, "field": "CC"}],
        "attachments": [attach("agenda.txt", BOTH)]}})
    bens = ok(app, acme.user_token, LOG, {"i": {
        "subject": "Prices", "recipients": [{"address": OTHER}],
        "attachments": [attach("prices.pdf", SHARED)]}})
    ann = contact_id(app, acme.admin_token, ADDRESS)
    ok(app, acme.admin_token, """mutation($c: ID!) { setContactLegalBasis(contactId: $c,
       basis: CONSENT) { legalBasis } }""", {"c": ann})
    return {"tracked": tracked, "ann_copy": ann_copy, "ben_copy": ben_copy, "reply": reply,
            "only_hers": only_hers["logEmail"], "shared": shared["logEmail"],
            "bens": bens["logEmail"], "ann": ann}


def test_erasure_removes_the_contact_everywhere_but_keeps_what_others_share(
    app: Any, acme: Tenant, clock: FakeClock, database_url: str, settings: Settings
) -> None:
    # A webhook endpoint (a public address: nothing is delivered in these tests) queues a
    # message per open and reply: those carry her address to a third party.
    ok(app, acme.admin_token, """mutation { createWebhookEndpoint(input: {
       url: "https://93.184.215.14/hooks",
       eventTypes: ["engagement.opened", "engagement.replied"]}) { secret } }""")
    records = _records_of_ann_and_ben(app, acme, clock)
    ann, tracked_id = records["ann"], records["tracked"]["email"]["id"]
    digests = {name: hashlib.sha256(data).hexdigest()
               for name, data in (("only", ONLY_HERS), ("shared", SHARED), ("both", BOTH))}
    assert set(digests.values()) <= blobs(settings.data_dir)
    assert engagements(app, acme, tracked_id) == [
        ("OPEN", ADDRESS), ("OPEN", OTHER), ("REPLY", ADDRESS)]
    needles = [ADDRESS, NAME, ann, ann.replace("-", "")]
    assert rows_mentioning(database_url, needles)  # the scan does see her before
    assert "webhook_message" in {table for table, _ in rows_mentioning(database_url, [ADDRESS])}
    clock.advance(60)

    receipt = ok(app, acme.admin_token, ERASE, {"c": ann})["eraseContact"]
    assert receipt["contactId"] == ann
    # Her open and her reply; the one email only she took part in; the file only she had.
    assert (receipt["engagements"], receipt["loggedEmails"], receipt["attachments"]) == (2, 1, 1)

    assert refusal(gql(app, TIMELINE, {"id": ann}, token=acme.admin_token))[0] == "NOT_FOUND"
    assert ok(app, acme.admin_token, CONTACTS, {"s": "annabel"})["contacts"]["edges"] == []
    assert refusal(gql(app, ERASE, {"c": ann}, token=acme.admin_token))[0] == "NOT_FOUND"
    assert refusal(gql(app, EMAIL, {"id": records["only_hers"]["id"]},
                       token=acme.admin_token))[0] == "NOT_FOUND"
    gone = records["only_hers"]["attachments"][0]["downloadUrl"].replace(
        "http://testserver.local", "")
    assert app.get(gone, headers={"Authorization": f"Bearer {acme.admin_token}"}
                   ).status_code == 404
    # The blob store keeps the file Ben's email still uses, not the one only she had.
    left = blobs(settings.data_dir)
    assert digests["only"] not in left
    assert {digests["shared"], digests["both"]} <= left
    # What she shared with Ben stays on his record, without her.
    ben = contact_id(app, acme.admin_token, OTHER)
    on_bens = {n["subject"] for n in (e["node"] for e in ok(
        app, acme.admin_token, TIMELINE, {"id": ben})["contact"]["timeline"]["edges"])
        if n["__typename"] == "Email"}
    assert on_bens == {"Pricing", "Re: Pricing", "Meeting", "Prices"}
    meeting = ok(app, acme.admin_token, EMAIL, {"id": records["shared"]["id"]})["email"]
    assert [r["address"] for r in meeting["recipients"]] == [OTHER]
    bens = ok(app, acme.admin_token, EMAIL, {"id": records["bens"]["id"]})["email"]
    assert bens["subject"] == "Prices"
    assert engagements(app, acme, tracked_id) == [("OPEN", OTHER)]

    # A later hit on her copy is answered like any other, and not recorded.
    clock.advance(3600)
    hit = app.get(pixel_path(records["ann_copy"]["html"]), headers={"User-Agent": OUTLOOK})
    assert (hit.status_code, hit.headers["content-type"]) == (200, "image/gif")
    app.get(pixel_path(records["ben_copy"]["html"]), headers={"User-Agent": OUTLOOK})
    assert engagements(app, acme, tracked_id) == [("OPEN", OTHER), ("OPEN", OTHER)]

    audit = [e["node"] for e in ok(app, acme.admin_token, AUDIT)["auditLog"]["edges"]]
    (erasure,) = [e for e in audit if "erase" in e["action"]]
    assert acme.admin_email in erasure["actor"]
    assert ADDRESS not in str(erasure)
    assert NAME.lower() not in str(erasure).lower()

    (tombstone,) = table_rows(database_url, "contact_tombstone")
    assert re.fullmatch(r"[0-9a-f]{64}", tombstone.address_hash)
    # Nothing in any table still names her, except the tombstone (a keyed hash only) and
    # the audit entries of the erasure and of legal-basis changes (which may name the id,
    # never the address: the audit log outlives the contact).
    left_rows = rows_mentioning(database_url, needles)
    assert [(table, row) for table, row in left_rows if not (
        table == "audit_entry"
        and ("contact.erased" in row or "contact.legal_basis_changed" in row)
        and ADDRESS not in row and NAME.lower() not in row)] == []


def table_rows(database_url: str, name: str) -> list[Any]:
    register_all_tables()
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(SQLModel.metadata.tables[name])).all())
    finally:
        engine.dispose()


def test_another_account_cannot_erase_or_see_the_contact(
    app: Any, acme: Tenant, rival: Tenant, database_url: str
) -> None:
    ok(app, acme.user_token, LOG, {"i": {"subject": "Hello",
                                         "recipients": [{"address": ADDRESS, "name": NAME}]}})
    ann = contact_id(app, acme.admin_token, ADDRESS)
    for token in (rival.admin_token, rival.user_token):
        assert refusal(gql(app, ERASE, {"c": ann}, token=token))[0] == "NOT_FOUND"
    assert refusal(gql(app, "query($id: ID!) { contactExport(id: $id) }", {"id": ann},
                       token=rival.admin_token))[0] == "NOT_FOUND"
    assert contact_id(app, acme.admin_token, ADDRESS) == ann  # untouched
    assert table_rows(database_url, "contact_tombstone") == []
    assert "erase" not in str(ok(app, rival.admin_token, AUDIT))
