"""What a support read looked at, in words: "the email 'Proposal'", "the emails list".

A support read's target is written by whoever audits it (``graphql/context.py``: ``GraphQL
query Name { email(id: …), account }``; ``web/``: ``attachment <id>``, ``logged email <id>
HTML``, ``emails export``). Pure: ids are resolved by the caller and passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["EMAIL_ID", "READ_THINGS", "ReadLookup", "ReadRefs", "describe_read",
           "read_refs", "things_read", "words"]

EMAIL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A UUID as stored and as the API shows it."""
QUERY = re.compile(r"GraphQL (?:query|subscription) (?:\S+ )?\{ (.*) \}$")
FIELD = re.compile(r"(\w+)(?:\((\w+): ([^)]*)\))?")

# The root fields a support visit reads, as the page a person would call them.
READ_THINGS = {
    "account": "the account and its settings",
    "viewer": "the account and its settings",
    "users": "the users",
    "user": "a user",
    "auditLog": "the audit log",
    "auditActors": "the audit log",
    "apiTokens": "the API tokens",
    "trackingDomains": "the tracking domains",
    "trackingDomain": "a tracking domain",
    "emails": "the emails list",
    "email": "an email",
    "engagements": "the opens, clicks and replies",
    "activityFeed": "the activity feed",
    "diagnoseEmail": "the diagnosis of an email",
    "engagementReport": "the engagement report",
    "contacts": "the contacts",
    "contact": "a contact",
    "contactExport": "a contact's data export",
    "webhookEndpoints": "the webhooks",
    "webhookEndpoint": "a webhook",
    "webhookDeliveries": "the webhook deliveries",
    "supportAccounts": "the account list",
    "outboundMail": "the outbound mail settings",
    "composeCheck": "the compose window's checks",
    "emails export": "the emails list as a CSV file",
    "engagements export": "the opens, clicks and replies as a CSV file",
}
# Root fields naming one email or contact by id, and what the id resolves to.
EMAIL_FIELDS = {"email": "{}", "diagnoseEmail": "the diagnosis of {}"}
CONTACT_FIELDS = {"contact": "the contact {}", "contactExport": "the data export of {}"}
USER_FIELDS = {"user": "the user {}"}


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


def _email(lookup: ReadLookup, email_id: str) -> str:
    """An email by its subject: "the email 'Proposal'", or what became of it."""
    subject = lookup.email(email_id)
    if subject is None:
        return "an email not in this account"  # deleted, or never one of its
    return f"the email '{subject}'" if subject else "an email without a subject"


def _one(name: str, given: str | None, lookup: ReadLookup) -> str:
    if given is not None and name in EMAIL_FIELDS:
        return EMAIL_FIELDS[name].format(_email(lookup, given))
    if given is not None and name in CONTACT_FIELDS:
        address = lookup.contact(given)
        return CONTACT_FIELDS[name].format(address) if address else "a contact not in this account"
    if given is not None and name in USER_FIELDS:
        user = lookup.user(given)
        return USER_FIELDS[name].format(user) if user else "a user not in this account"
    return READ_THINGS.get(name) or f"the {words(name)}"


def things_read(target: str | None, lookup: ReadLookup) -> list[str]:
    """Each thing one read looked at (a GraphQL read may ask for several)."""
    text = target or ""
    fields = _fields(text)
    if fields:
        return [_one(name, given, lookup) for name, given in fields if name != "__typename"]
    if text.startswith("attachment "):
        filename = lookup.attachment(text[11:])
        return [f"the attachment '{filename}'" if filename
                else "an attachment not in this account"]
    logged = re.fullmatch(r"logged email (\S+) HTML", text)
    if logged:
        return [f"the content of {_email(lookup, logged.group(1))}"]
    if text in READ_THINGS:
        return [READ_THINGS[text]]
    return [text or "the account"]


def describe_read(target: str | None, lookup: ReadLookup) -> str:
    """One read as one phrase: "the email 'Proposal' and the account and its settings"."""
    things = list(dict.fromkeys(things_read(target, lookup)))
    if len(things) <= 1:
        return "".join(things) or "the account"
    return f"{', '.join(things[:-1])} and {things[-1]}"
