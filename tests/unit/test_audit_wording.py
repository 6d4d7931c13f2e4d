"""The audit log in words (issue 15, defect 5): every action code the code base writes has a
sentence, none of which shows a code, a key or an id; unknown codes still read as words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sendtrail.tenancy.audit_wording import (
    ACTION_KINDS,
    AuditKind,
    Names,
    actor_details,
    describe,
    describe_visit,
    kind_of,
    refs_of,
    things_read,
)

ROOT = Path(__file__).resolve().parents[2]
ADA = "user:ada@acme.test"
EMAIL_ID = "8f3b6c4e-1111-4222-8333-944445555666"
CONTACT_ID = "0c0ffee0-1111-4222-8333-944445555666"
NAMES = Names(users={"ada@acme.test": "Ada Admin", "bob@example.test": "Bob Rep"},
              contacts={CONTACT_ID: "gil@client.test"}, emails={EMAIL_ID: "Proposal"})

# What each code's writer stores (target, before, after), as in the code that writes it.
SAMPLES: dict[str, tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]] = {
    "account.created": ("account:acme", None, {"name": "Acme", "admin": "ada@acme.test"}),
    "account.settings.updated": ("account settings", {"privacy_mode": False},
                                 {"privacy_mode": True}),
    "user.invited": ("user:bob@example.test", None,
                     {"email": "bob@example.test", "role": "user", "seat": "free"}),
    "user.updated": ("user:bob@example.test", {"seat": "free"}, {"seat": "sales_starter"}),
    "api_token.created": ("api token 'CRM' of ada@acme.test", None, {"scopes": "read"}),
    "api_token.revoked": ("api token 'CRM' (st_ab12…)", None, None),
    "tracking_domain.added": ("track.acme.test", None, {"purpose": "sales"}),
    "tracking_domain.removed": ("track.acme.test", {"status": "ACTIVE"}, None),
    "webhook_endpoint.created": ("webhook endpoint https://hooks.acme.test/st", None,
                                 {"url": "https://hooks.acme.test/st"}),
    "webhook_endpoint.deleted": ("webhook endpoint https://hooks.acme.test/st", None, None),
    "webhook_endpoint.secret_rotated": ("webhook endpoint https://hooks.acme.test/st", None,
                                        {"oldSecretsExpireAt": None}),
    "webhook_endpoint.updated": ("webhook endpoint https://hooks.acme.test/st",
                                 {"includeNonHuman": False}, {"includeNonHuman": True}),
    "webhook_endpoint.disabled": ("webhook endpoint https://hooks.acme.test/st",
                                  {"active": True}, {"active": False, "reason": "HTTP 500"}),
    "webhook_delivery.replayed": (f"webhook delivery {EMAIL_ID} to https://hooks.acme.test",
                                  None, None),
    "outbound_mail.updated": ("outbound mail via smtp.acme.test", None, {"host": "x"}),
    "outbound_mail.removed": ("outbound mail via smtp.acme.test", {"host": "x"}, None),
    "outbound_login.updated": ("upstream login of ada@acme.test", None, {"username": "ada"}),
    "outbound_login.removed": ("upstream login of ada@acme.test", {"username": "ada"}, None),
    "dkim_key.set": ("DKIM key of acme.test", None, {"selector": "st1"}),
    "dkim_key.removed": ("DKIM key of acme.test", {"selector": "st1"}, None),
    "contact.legal_basis_changed": (f"contact {CONTACT_ID}", {"legalBasis": "none"},
                                    {"legalBasis": "consent"}),
    "contact.erased": (f"contact {CONTACT_ID}", None, {"engagements": 3, "loggedEmails": 1}),
    "engagements.folded": ("engagements", None, {"engagements": 1200, "days": 30}),
    "support.read": (f"GraphQL query EmailDetail {{ email(id: {EMAIL_ID}) }}", None, None),
    "support.search": ('Account search "acme"', None, None),
}


@pytest.mark.parametrize("code", sorted(ACTION_KINDS))
def test_every_action_code_reads_as_a_sentence(code: str) -> None:
    target, before, after = SAMPLES.get(code, ("user:bob@example.test", None,
                                               {"email": "bob@example.test"}))
    for args in ((target, before, after), (None, None, None)):  # old or sparse entries too
        sentence = describe(code, ADA, args[0], before=args[1], after=args[2], names=NAMES)
        assert sentence.startswith("Ada Admin "), sentence
        for raw in ("_", code, "user:", EMAIL_ID, CONTACT_ID):
            assert raw not in sentence, sentence
    assert kind_of(code) is not AuditKind.OTHER


def test_sentences_say_what_changed_in_words() -> None:
    def said(code: str) -> str:
        target, before, after = SAMPLES[code]
        return describe(code, ADA, target, before=before, after=after, names=NAMES)

    assert said("account.settings.updated") == "Ada Admin turned privacy mode on"
    assert said("user.invited") == "Ada Admin invited bob@example.test as a rep"
    assert said("user.updated") == "Ada Admin gave Bob Rep (bob@example.test) a sales starter seat"
    assert said("contact.legal_basis_changed") == (
        "Ada Admin changed the legal basis of gil@client.test from none to consent")
    assert said("support.read") == "Ada Admin viewed the email 'Proposal'"
    assert describe("engagements.folded", "retention", "engagements",
                    after={"engagements": 1, "days": 1}) == (  # issue 16, item 4
        "Sendtrail's retention job deleted the details of 1 engagement older than the "
        "retention window (1 day); the hourly totals still count them")
    erased = describe("contact.legal_basis_changed", ADA, f"contact {CONTACT_ID}",
                      before={}, after={"legalBasis": "CONSENT"}, names=Names())
    assert "a contact since erased" in erased  # an erasure leaves no address behind (R17)


def test_an_unknown_code_is_still_words_not_a_code() -> None:
    sentence = describe("report_schedule.created", "cli", "weekly report")
    assert sentence == ("Someone at the command line made a change (report schedule created) "
                        "to weekly report")
    assert kind_of("report_schedule.created") is AuditKind.OTHER


def test_actors_are_named() -> None:
    assert actor_details(ADA, NAMES).name == "Ada Admin"
    assert actor_details("user:nameless@acme.test", NAMES).name == "nameless@acme.test"
    staff = actor_details("support:sam@support.test (API token)", NAMES)
    assert (staff.name, staff.kind.value, staff.via_token) == (
        "Support staff (sam@support.test)", "support", True)
    assert actor_details("webhook dispatcher").name == "Sendtrail's webhook sender"
    assert actor_details("retention").name == "Sendtrail's retention job"


def test_a_visit_names_its_most_specific_thing_and_counts_the_others() -> None:
    lookup = NAMES.reads()
    things = [thing for target in (
        "GraphQL query Overview { account }",
        f"GraphQL query EmailDetail {{ email(id: {EMAIL_ID}), account }}",
        "GraphQL query Emails { emails }",
        "emails export",
        "attachment 11111111-2222-4333-8444-555555555555",
    ) for thing in things_read(target, lookup)]
    assert describe_visit("support:sam@support.test", things, NAMES) == (
        "Support staff (sam@support.test) viewed the email 'Proposal' and 4 other things")
    assert "an attachment not in this account" in things
    assert describe_visit("support:sam@support.test", [], NAMES) == (
        "Support staff (sam@support.test) looked at the account")


def test_the_ids_an_entry_names_are_collected_for_one_lookup_per_kind() -> None:
    refs = refs_of("support.read", "support:sam@support.test",
                   f"GraphQL query X {{ email(id: {EMAIL_ID}), contact(id: {CONTACT_ID}) }}")
    assert (refs.email_ids, refs.contact_ids) == ({EMAIL_ID}, {CONTACT_ID})
    change = refs_of("user.updated", ADA, "user:Bob@Example.test")
    assert change.user_addresses == {"ada@acme.test", "bob@example.test"}


WRITES = re.compile(r"""action\s*=\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""")


def _written_codes() -> set[str]:
    """Every action code an audit write in the code base names (``audit.record(...,
    action="x.y")`` and the dispatcher's direct insert)."""
    codes: set[str] = set()
    for path in (ROOT / "platform").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "audit" not in text.lower():
            continue
        codes.update(WRITES.findall(text))
    return codes


def test_every_action_code_written_anywhere_has_a_sentence() -> None:
    written = _written_codes()
    assert {"account.settings.updated", "support.read", "webhook_endpoint.disabled"} <= written
    missing = sorted(written - set(ACTION_KINDS))
    assert missing == [], (f"audit actions without a sentence in "
                           f"tenancy/audit_wording.py ACTION_KINDS: {missing}")
