"""Tracking consent with its proof (issue 16, item 2; R29), over HTTP on both databases.

Per contact: GRANTED, WITHDRAWN or UNKNOWN, with the history of who recorded what, when,
from which source and with which wording; set for one contact or many (all or none);
audited; in the contact's export; gone with an erasure; invisible to other accounts; and
never touching the marketing legal basis (R16).
"""

from __future__ import annotations

from typing import Any

from support import FakeClock, Tenant, error_codes, gql, refusal

from sendtrail.contacts.consent_values import MAX_BULK_CONTACTS, MAX_WORDING_LENGTH

LOG = """mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"""
CONTACTS = "query($s: String) { contacts(search: $s) { edges { node { id address } } } }"
FIELDS = """id trackingConsent legalBasis legalBasisHistory { after }
  trackingConsentHistory { at consent source wording actor }"""
CONTACT = f"query($id: ID!) {{ contact(id: $id) {{ {FIELDS} }} }}"
SET = f"""mutation($c: ID!, $k: TrackingConsent!, $s: String!, $w: String) {{
  setTrackingConsent(contactId: $c, consent: $k, source: $s, wording: $w) {{ {FIELDS} }} }}"""
SET_MANY = """mutation($c: [ID!]!, $k: TrackingConsent!, $s: String!, $w: String) {
  setTrackingConsents(contactIds: $c, consent: $k, source: $s, wording: $w) {
    id trackingConsent } }"""
SET_BASIS = """mutation($c: ID!) { setContactLegalBasis(contactId: $c, basis: CONTRACT) {
  legalBasis } }"""
EXPORT = "query($id: ID!) { contactExport(id: $id) }"
ERASE = "mutation($c: ID!) { eraseContact(contactId: $c) { contactId } }"
AUDIT = "{ auditLog(first: 50) { edges { node { action target summary } } } }"
WORDING = "Yes, Acme may see whether and when I open its emails."


def ok(app: Any, token: str, query: str, variables: dict[str, Any] | None = None,
       headers: dict[str, str] | None = None) -> Any:
    body = gql(app, query, variables, token=token, headers=headers)
    assert body.get("errors") is None, body
    return body["data"]


def contacts(app: Any, tenant: Tenant, *addresses: str) -> list[str]:
    ok(app, tenant.user_token, LOG, {"i": {"subject": "Intro", "recipients": [
        {"address": address} for address in addresses]}})
    edges = ok(app, tenant.admin_token, CONTACTS, {"s": "client.test"})["contacts"]["edges"]
    ids = {edge["node"]["address"]: edge["node"]["id"] for edge in edges}
    return [ids[address] for address in addresses]


def contact(app: Any, tenant: Tenant, contact_id: str) -> Any:
    return ok(app, tenant.admin_token, CONTACT, {"id": contact_id})["contact"]


def test_consent_is_recorded_with_its_proof_and_apart_from_the_legal_basis(
    app: Any, acme: Tenant, clock: FakeClock
) -> None:
    (ann,) = contacts(app, acme, "ann@client.test")
    fresh = contact(app, acme, ann)
    assert (fresh["trackingConsent"], fresh["trackingConsentHistory"]) == ("UNKNOWN", [])
    ok(app, acme.admin_token, SET_BASIS, {"c": ann})
    clock.advance(60)
    granted = ok(app, acme.user_token, SET, {"c": ann, "k": "GRANTED", "s": "FORM",
                                             "w": f"  {WORDING}  "})["setTrackingConsent"]
    assert granted["trackingConsent"] == "GRANTED"
    clock.advance(60)
    ok(app, acme.admin_token, SET, {"c": ann, "k": "WITHDRAWN", "s": "email_link"})
    clock.advance(60)
    ok(app, acme.admin_token, SET, {"c": ann, "k": "WITHDRAWN", "s": "ADMIN",
                                    "w": "Asked by phone."})  # repeated: new proof, kept

    now = contact(app, acme, ann)
    assert now["trackingConsent"] == "WITHDRAWN"
    history = [(c["consent"], c["source"], c["wording"], c["actor"])
               for c in now["trackingConsentHistory"]]  # newest first
    assert history == [
        ("WITHDRAWN", "ADMIN", "Asked by phone.", f"user:{acme.admin_email} (API token)"),
        ("WITHDRAWN", "EMAIL_LINK", None, f"user:{acme.admin_email} (API token)"),
        ("GRANTED", "FORM", WORDING, f"user:{acme.user_email} (API token)"),
    ]
    times = [c["at"] for c in now["trackingConsentHistory"]]
    assert times == sorted(times, reverse=True)
    assert times[0].startswith(clock.now.isoformat()[:19])
    # The legal basis (R16) is the one set before, with its own history only.
    assert now["legalBasis"] == "CONTRACT"
    assert [c["after"] for c in now["legalBasisHistory"]] == ["CONTRACT"]


def test_bulk_changes_all_contacts_or_none(app: Any, acme: Tenant, rival: Tenant) -> None:
    ann, ben, cy = contacts(app, acme, "ann@client.test", "ben@client.test", "cy@client.test")
    (theirs,) = contacts(app, rival, "dee@client.test")
    changed = ok(app, acme.admin_token, SET_MANY, {
        "c": [ann, ben, ann], "k": "GRANTED", "s": "IMPORT", "w": WORDING,
    })["setTrackingConsents"]
    assert [(c["id"], c["trackingConsent"]) for c in changed] == [
        (ann, "GRANTED"), (ben, "GRANTED")]
    assert contact(app, acme, cy)["trackingConsent"] == "UNKNOWN"
    assert [c["source"] for c in contact(app, acme, ann)["trackingConsentHistory"]] == [
        "IMPORT"]

    # One id of another account (or none at all): nothing changes, it is not found.
    for stranger in (theirs, "00000000-0000-4000-8000-000000000000"):
        body = gql(app, SET_MANY, {"c": [cy, stranger], "k": "WITHDRAWN", "s": "API"},
                   token=acme.admin_token)
        assert refusal(body)[0] == "NOT_FOUND"
        assert contact(app, acme, cy)["trackingConsent"] == "UNKNOWN"
    assert contact(app, rival, theirs)["trackingConsentHistory"] == []

    too_many = gql(app, SET_MANY, {"c": [
        f"00000000-0000-4000-8000-{n:012d}" for n in range(MAX_BULK_CONTACTS + 1)],
        "k": "GRANTED", "s": "API"}, token=acme.admin_token)
    code, message = refusal(too_many)
    assert code == "BAD_USER_INPUT"
    assert "split the list" in message
    assert refusal(gql(app, SET_MANY, {"c": [], "k": "GRANTED", "s": "API"},
                       token=acme.admin_token))[0] == "BAD_USER_INPUT"


def test_a_bad_source_or_too_long_wording_is_refused_in_words(
    app: Any, acme: Tenant
) -> None:
    (ann,) = contacts(app, acme, "ann@client.test")
    code, message = refusal(gql(app, SET, {"c": ann, "k": "GRANTED", "s": "NEWSLETTER"},
                                token=acme.admin_token))
    assert code == "BAD_USER_INPUT"
    assert "'NEWSLETTER'" in message
    assert "FORM, IMPORT, API, EMAIL_LINK, ADMIN" in message
    code, message = refusal(gql(app, SET, {
        "c": ann, "k": "GRANTED", "s": "FORM", "w": "x" * (MAX_WORDING_LENGTH + 1)},
        token=acme.admin_token))
    assert code == "BAD_USER_INPUT"
    assert f"{MAX_WORDING_LENGTH + 1} characters" in message
    assert f"keep it to {MAX_WORDING_LENGTH}" in message
    german = gql(app, SET, {"c": ann, "k": "GRANTED", "s": "NEWSLETTER"},
                 token=acme.admin_token, headers={"Accept-Language": "de"})
    assert "Herkunft der Einwilligung" in refusal(german)[1]
    assert contact(app, acme, ann)["trackingConsentHistory"] == []  # nothing was recorded
    invalid = gql(app, SET, {"c": ann, "k": "MAYBE", "s": "FORM"}, token=acme.admin_token)
    assert error_codes(invalid) in (["BAD_USER_INPUT"], ["GRAPHQL_VALIDATION_FAILED"])


def test_each_change_is_audited_in_words(app: Any, acme: Tenant) -> None:
    ann, ben = contacts(app, acme, "ann@client.test", "ben@client.test")
    ok(app, acme.admin_token, SET, {"c": ann, "k": "GRANTED", "s": "FORM"})
    ok(app, acme.admin_token, SET_MANY, {"c": [ann, ben], "k": "WITHDRAWN", "s": "ADMIN"})
    log = [edge["node"] for edge in ok(app, acme.admin_token, AUDIT)["auditLog"]["edges"]]
    mine = [n for n in log if n["action"] == "contact.tracking_consent_recorded"]
    assert sorted(n["summary"].split(" recorded ", 1)[1] for n in mine) == [
        "tracking consent as granted for ann@client.test (through a form)",
        "tracking consent as withdrawn for ann@client.test (by hand)",
        "tracking consent as withdrawn for ben@client.test (by hand)",
    ]
    assert all(acme.admin_email in n["summary"] for n in mine)
    assert {n["target"] for n in mine} == {f"contact {ann}", f"contact {ben}"}
    german = ok(app, acme.admin_token, AUDIT, headers={"Accept-Language": "de"})
    summaries = [edge["node"]["summary"] for edge in german["auditLog"]["edges"]]
    assert any("Einwilligung in die Nachverfolgung für ann@client.test als erteilt "
               "erfasst (über ein Formular)" in s for s in summaries), summaries


def test_the_export_carries_it_and_erasure_removes_it(
    app: Any, acme: Tenant, clock: FakeClock
) -> None:
    ann, ben = contacts(app, acme, "ann@client.test", "ben@client.test")
    ok(app, acme.admin_token, SET, {"c": ann, "k": "GRANTED", "s": "FORM", "w": WORDING})
    clock.advance(60)
    ok(app, acme.admin_token, SET, {"c": ann, "k": "WITHDRAWN", "s": "EMAIL_LINK"})
    ok(app, acme.admin_token, SET, {"c": ben, "k": "GRANTED", "s": "API"})
    exported = ok(app, acme.admin_token, EXPORT, {"id": ann})["contactExport"]
    assert exported["contact"]["tracking_consent"] == "withdrawn"
    assert [(c["consent"], c["source"], c["wording"])
            for c in exported["trackingConsentChanges"]] == [
        ("granted", "FORM", WORDING), ("withdrawn", "EMAIL_LINK", None)]  # oldest first

    ok(app, acme.admin_token, ERASE, {"c": ann})
    from_rows = ok(app, acme.admin_token, AUDIT)["auditLog"]["edges"]
    summaries = [edge["node"]["summary"] for edge in from_rows]
    assert any("as withdrawn for a contact since erased (through the link in an email)"
               in s for s in summaries), summaries
    assert not any("ann@client.test" in s for s in summaries)
    assert refusal(gql(app, CONTACT, {"id": ann}, token=acme.admin_token))[0] == "NOT_FOUND"
    # The other contact keeps theirs.
    assert [c["source"] for c in contact(app, acme, ben)["trackingConsentHistory"]] == ["API"]


def test_another_account_can_neither_read_nor_set_it(
    app: Any, acme: Tenant, rival: Tenant
) -> None:
    (ann,) = contacts(app, acme, "ann@client.test")
    ok(app, acme.admin_token, SET, {"c": ann, "k": "GRANTED", "s": "FORM", "w": WORDING})
    for token in (rival.admin_token, rival.user_token):
        read = gql(app, CONTACT, {"id": ann}, token=token)
        assert refusal(read)[0] == "NOT_FOUND"
        assert refusal(gql(app, EXPORT, {"id": ann}, token=token))[0] == "NOT_FOUND"
        for query, variables in ((SET, {"c": ann, "k": "WITHDRAWN", "s": "ADMIN"}),
                                 (SET_MANY, {"c": [ann], "k": "WITHDRAWN", "s": "ADMIN"})):
            assert refusal(gql(app, query, variables, token=token))[0] == "NOT_FOUND"
    mine = contact(app, acme, ann)
    assert mine["trackingConsent"] == "GRANTED"
    assert [c["consent"] for c in mine["trackingConsentHistory"]] == ["GRANTED"]
