"""What a support read looked at, in words: "the email 'Proposal'", "the emails list".

A support read's target is written by whoever audits it (``graphql/context.py``: ``GraphQL
query Name { email(id: …), account }``; ``web/``: ``attachment <id>``, ``logged email <id>
HTML``, ``emails export``). Pure: ids are resolved by the caller and passed in. Phrases
are in the reader's language (``sendtrail.i18n``); the stored targets stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sendtrail.i18n import N_, _

__all__ = ["EMAIL_ID", "READ_THINGS", "ReadLookup", "ReadRefs", "and_list", "describe_read",
           "read_refs", "things_read", "words"]

EMAIL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A UUID as stored and as the API shows it."""
QUERY = re.compile(r"GraphQL (?:query|subscription) (?:\S+ )?\{ (.*) \}$")
FIELD = re.compile(r"(\w+)(?:\((\w+): ([^)]*)\))?")

# The root fields a support visit reads, as the page a person would call them.
READ_THINGS = {
    "account": N_("the account and its settings"),
    "viewer": N_("the account and its settings"),
    "users": N_("the users"),
    "user": N_("a user"),
    "auditLog": N_("the audit log"),
    "auditActors": N_("the audit log"),
    "apiTokens": N_("the API tokens"),
    "trackingDomains": N_("the tracking domains"),
    "trackingDomain": N_("a tracking domain"),
    "emails": N_("the emails list"),
    "email": N_("an email"),
    "engagements": N_("the opens, clicks and replies"),
    "activityFeed": N_("the activity feed"),
    "diagnoseEmail": N_("the diagnosis of an email"),
    "engagementReport": N_("the engagement report"),
    "contacts": N_("the contacts"),
    "contact": N_("a contact"),
    "contactExport": N_("a contact's data export"),
    "webhookEndpoints": N_("the webhooks"),
    "webhookEndpoint": N_("a webhook"),
    "webhookDeliveries": N_("the webhook deliveries"),
    "supportAccounts": N_("the account list"),
    "outboundMail": N_("the outbound mail settings"),
    "composeCheck": N_("the compose window's checks"),
    "emails export": N_("the emails list as a CSV file"),
    "engagements export": N_("the opens, clicks and replies as a CSV file"),
}
# Root fields naming one email or contact by id, and what the id resolves to. An email is
# said in one of three ways (by subject, without one, not in the account) for each field.
EMAIL_FIELDS = {
    "email": (N_("the email '{subject}'"), N_("an email without a subject"),
              N_("an email not in this account")),
    "diagnoseEmail": (N_("the diagnosis of the email '{subject}'"),
                      N_("the diagnosis of an email without a subject"),
                      N_("the diagnosis of an email not in this account")),
}
CONTENT_OF_EMAIL = (N_("the content of the email '{subject}'"),
                    N_("the content of an email without a subject"),
                    N_("the content of an email not in this account"))
CONTACT_FIELDS = {"contact": N_("the contact {address}"),
                  "contactExport": N_("the data export of {address}")}
USER_FIELDS = {"user": N_("the user {user}")}


def words(code: str) -> str:
    """A code in words: ``privacy_mode`` → "privacy mode", ``auditLog`` → "audit log"."""
    spaced = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", code).replace("_", " ").replace(".", " ")
    return " ".join(spaced.split()).lower()


class ReadLookup(Protocol):
    def email(self, email_id: str) -> str | None: ...
    def contact(self, contact_id: str) -> str | None: ...
    def attachment(self, attachment_id: str) -> str | None: ...
    def user(self, user_id: str) -> str | None: ...


@dataclass
class ReadRefs:
    """Ids and addresses a set of entries names, to be looked up in one query per kind."""

    user_addresses: set[str] = field(default_factory=set)
    user_ids: set[str] = field(default_factory=set)
    email_ids: set[str] = field(default_factory=set)
    contact_ids: set[str] = field(default_factory=set)
    attachment_ids: set[str] = field(default_factory=set)

    def merge(self, other: ReadRefs) -> ReadRefs:
        self.user_addresses |= other.user_addresses
        self.user_ids |= other.user_ids
        self.email_ids |= other.email_ids
        self.contact_ids |= other.contact_ids
        self.attachment_ids |= other.attachment_ids
        return self


def _fields(target: str) -> list[tuple[str, str | None]]:
    """A GraphQL read's root fields, each with the id it asked for (if any)."""
    found = QUERY.match(target)
    if found is None:
        return []
    parsed = []
    for part in found.group(1).split(", "):
        matched = FIELD.fullmatch(part.strip())
        if matched:
            value = matched.group(3)
            parsed.append((matched.group(1),
                           value if value and EMAIL_ID.fullmatch(value) else None))
    return parsed


def read_refs(target: str) -> ReadRefs:
    refs = ReadRefs()
    for name, given in _fields(target):
        if given is None:
            continue
        if name in EMAIL_FIELDS:
            refs.email_ids.add(given)
        elif name in CONTACT_FIELDS:
            refs.contact_ids.add(given)
        elif name in USER_FIELDS:
            refs.user_ids.add(given)
    if target.startswith("attachment ") and EMAIL_ID.fullmatch(target[11:]):
        refs.attachment_ids.add(target[11:])
    logged = re.fullmatch(r"logged email (\S+) HTML", target)
    if logged and EMAIL_ID.fullmatch(logged.group(1)):
        refs.email_ids.add(logged.group(1))
    return refs


def _email(lookup: ReadLookup, email_id: str, ways: tuple[str, str, str]) -> str:
    """An email by its subject: "the email 'Proposal'", or what became of it."""
    by_subject, without_subject, elsewhere = ways
    subject = lookup.email(email_id)
    if subject is None:
        return _(elsewhere)  # deleted, or never one of its
    return _(by_subject).format(subject=subject) if subject else _(without_subject)


def _one(name: str, given: str | None, lookup: ReadLookup) -> str:
    if given is not None and name in EMAIL_FIELDS:
        return _email(lookup, given, EMAIL_FIELDS[name])
    if given is not None and name in CONTACT_FIELDS:
        address = lookup.contact(given)
        return (_(CONTACT_FIELDS[name]).format(address=address) if address
                else _("a contact not in this account"))
    if given is not None and name in USER_FIELDS:
        user = lookup.user(given)
        return (_(USER_FIELDS[name]).format(user=user) if user
                else _("a user not in this account"))
    thing = READ_THINGS.get(name)
    return _(thing) if thing else _("the {thing}").format(thing=words(name))


def things_read(target: str | None, lookup: ReadLookup) -> list[str]:
    """Each thing one read looked at (a GraphQL read may ask for several)."""
    text = target or ""
    fields = _fields(text)
    if fields:
        return [_one(name, given, lookup) for name, given in fields if name != "__typename"]
    if text.startswith("attachment "):
        filename = lookup.attachment(text[11:])
        return [_("the attachment '{filename}'").format(filename=filename) if filename
                else _("an attachment not in this account")]
    logged = re.fullmatch(r"logged email (\S+) HTML", text)
    if logged:
        return [_email(lookup, logged.group(1), CONTENT_OF_EMAIL)]
    if text in READ_THINGS:
        return [_(READ_THINGS[text])]
    return [text or _("the account")]


def describe_read(target: str | None, lookup: ReadLookup) -> str:
    """One read as one phrase: "the email 'Proposal' and the account and its settings"."""
    return and_list(list(dict.fromkeys(things_read(target, lookup)))) or _("the account")


def and_list(parts: Sequence[str]) -> str:
    """"a, b and c" in the reader's language."""
    if len(parts) <= 1:
        return "".join(parts)
    return _("{items} and {last}").format(items=", ".join(parts[:-1]), last=parts[-1])
