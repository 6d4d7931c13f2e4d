"""The audit log in words: each stored entry (action code, actor label, target, before and
after) as a sentence a person reads, "Ada Admin turned privacy mode on" (issue 15, defect 5).

Pure: no database. What an entry names by id (a user, contact, email or attachment) is
looked up by the caller in batches and handed in as ``Names``; an id nobody can resolve any
more (an erased contact, a deleted email) is said as such, never shown raw.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sendtrail.tenancy.audit_names import (
    NO_NAMES,
    ActorDetails,
    ActorKind,
    Names,
    actor_details,
)
from sendtrail.tenancy.audit_things import (
    EMAIL_ID,
    READ_THINGS,
    ReadRefs,
    describe_read,
    read_refs,
    things_read,
    words,
)

__all__ = [
    "ACTION_KINDS",
    "NO_NAMES",
    "ActionWording",
    "ActorDetails",
    "ActorKind",
    "AuditKind",
    "Change",
    "Names",
    "ReadRefs",
    "actor_details",
    "describe",
    "describe_read",
    "describe_visit",
    "kind_of",
    "read_refs",
    "refs_of",
    "things_read",
]


class AuditKind(enum.StrEnum):
    """What an entry is about, for the log's filter."""

    ACCOUNT = "account"
    SETTINGS = "settings"
    USERS = "users"
    TOKENS = "tokens"
    DOMAINS = "domains"
    WEBHOOKS = "webhooks"
    SENDING = "sending"
    CONTACTS = "contacts"
    SUPPORT = "support"
    OTHER = "other"


@dataclass(frozen=True)
class Change:
    """One stored entry, as a phrase function sees it."""

    target: str | None
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    names: Names
    actor_email: str | None = None

    def address(self) -> str:
        """The address the entry is about: from after/before, else from its target."""
        for snapshot in (self.after, self.before):
            if isinstance(snapshot.get("email"), str):
                return str(snapshot["email"])
        found = re.search(r"[^\s:'\"()]+@[^\s'\"()]+", self.target or "")
        return found.group(0) if found else "someone"

    def quoted(self) -> str | None:
        found = re.search(r"'([^']*)'", self.target or "")
        return found.group(1) if found else None

    def tail(self, prefix: str) -> str:
        """The target without its leading ``prefix`` (a URL, a host name)."""
        text = self.target or ""
        return text[len(prefix):] if text.startswith(prefix) else text


@dataclass(frozen=True)
class ActionWording:
    kind: AuditKind
    phrase: Callable[[Change], str]
    """What the actor did, after their name: "turned privacy mode on"."""


SETTING_WORDS = {
    "tracking_enabled": "tracking",
    "privacy_mode": "privacy mode",
    "self_open_suppression": "ignoring the sender's own opens",
    "marketing_tracking": "tracking of marketing emails",
    "marketing_link_tracking": "link tracking in marketing emails",
    "default_track": "tracking new emails by default",
    "default_log": "logging new emails by default",
    "truncate_ips": "shortening IP addresses",
}
ROLE_WORDS = {"admin": "an admin", "user": "a rep"}
WEBHOOK_FIELDS = {"url": "address", "eventTypes": "events", "includeNonHuman":
                  "machine and self hits setting", "description": "description"}


def _value(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value) or "none"
    return words(str(value)) if isinstance(value, str) and "_" in value else str(value)


def _and(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def _settings(change: Change) -> str:
    parts = []
    for name, new in change.after.items():
        old = change.before.get(name)
        if name == "hit_detail_retention_days":
            parts.append("set hit details to be kept forever" if new is None
                         else f"set hit details to be forgotten after {new} days")
        elif isinstance(new, bool):
            parts.append(f"turned {SETTING_WORDS.get(name, words(name))} {_value(new)}")
        else:
            parts.append(f"changed {words(name)} from {_value(old)} to {_value(new)}")
    return _and(parts) or "saved the account settings unchanged"


def _user_changes(change: Change) -> str:
    who, parts = change.names.user(change.address()), []
    for key, new in change.after.items():
        if key == "active":
            parts.append(f"reactivated {who}" if new else f"deactivated {who}")
        elif key == "role":
            parts.append(f"made {who} {ROLE_WORDS.get(str(new), words(str(new)))}")
        elif key == "seat":
            parts.append(f"gave {who} a {_value(new)} seat")
        else:
            parts.append(f"changed the {words(key)} of {who} to {_value(new)}")
    return _and(parts) or f"changed {who}"


def _invited(change: Change) -> str:
    role = ROLE_WORDS.get(str(change.after.get("role", "user")), "a user")
    return f"invited {change.address()} as {role}"


def _token(verb: str) -> Callable[[Change], str]:
    def phrase(change: Change) -> str:
        name = change.quoted()
        owner = re.search(r" of (\S+@\S+)$", change.target or "")
        if name and owner and owner.group(1).lower() == (change.actor_email or "").lower():
            return f"{verb} their API token '{name}'"
        joint = "for" if verb == "created" else "of"
        whose = f" {joint} {change.names.user(owner.group(1))}" if owner else ""
        return f"{verb} the API token '{name}'{whose}" if name else f"{verb} an API token"
    return phrase


def _hook(change: Change) -> str:
    url = change.tail("webhook endpoint ")
    return f"the webhook to {url}" if url else "a webhook"


def _webhook(verb: str) -> Callable[[Change], str]:
    return lambda change: f"{verb} {_hook(change)}"


def _webhook_updated(change: Change) -> str:
    if set(change.after) == {"active"}:
        return f"{'resumed' if change.after['active'] else 'paused'} {_hook(change)}"
    keys = [WEBHOOK_FIELDS.get(key, words(key)) for key in change.after]
    return f"changed the {_and(keys)} of {_hook(change)}" if keys else f"changed {_hook(change)}"


def _webhook_disabled(change: Change) -> str:
    reason = change.after.get("reason")
    why = f" ({reason})" if reason else ""
    return f"turned off {_hook(change)} after it kept failing{why}"


def _replayed(change: Change) -> str:
    found = re.search(r" to (\S+)$", change.target or "")
    return f"sent a webhook delivery again to {found.group(1) if found else 'its endpoint'}"


def _contact(change: Change) -> str:
    contact_id = change.tail("contact ")
    return change.names.contacts.get(contact_id, "a contact since erased")


def _legal_basis(change: Change) -> str:
    old, new = change.before.get("legalBasis"), change.after.get("legalBasis")
    return (f"changed the legal basis of {_contact(change)} from {_value(old)} "
            f"to {_value(new)}")


def _erased(change: Change) -> str:
    counts = [f"{count} {words(str(name)).removesuffix('s') if count == 1 else words(str(name))}"
              for name, count in change.after.items() if isinstance(count, int) and count]
    what = f" ({_and(counts)})" if counts else ""
    return f"erased a contact and everything recorded about them{what}"


def _support_search(change: Change) -> str:
    wanted = re.search(r'"(.*)"', change.target or "")
    return (f'found this account by searching for "{wanted.group(1)}"' if wanted
            else "listed the accounts, this one among them")


def _support_read(change: Change) -> str:
    return f"viewed {describe_read(change.target, change.names.reads())}"


def _about(text: str, prefix: str = "") -> Callable[[Change], str]:
    """A phrase ending in the target (a host, a domain): ``text`` with ``{}`` filled."""
    return lambda change: text.format(change.tail(prefix) or "(not recorded)").replace(
        "((not recorded))", "(not recorded)")


K = AuditKind
ACTION_KINDS: dict[str, ActionWording] = {
    "account.created": ActionWording(
        K.ACCOUNT, lambda c: f"created the account {c.after.get('name', '')} with "
                             f"{c.after['admin']} as its admin".replace("  ", " ")
        if c.after.get("admin") else "created the account"),
    "account.settings.updated": ActionWording(K.SETTINGS, _settings),
    "user.invited": ActionWording(K.USERS, _invited),
    "user.updated": ActionWording(K.USERS, _user_changes),
    "invitation.sent": ActionWording(K.USERS, lambda c: f"sent an invitation to {c.address()}"),
    "invitation.resent": ActionWording(
        K.USERS, lambda c: f"sent the invitation to {c.address()} again"),
    "invitation.revoked": ActionWording(
        K.USERS, lambda c: f"withdrew the invitation of {c.address()}"),
    "invitation.accepted": ActionWording(
        K.USERS, lambda c: "accepted their invitation and set a password"),
    "api_token.created": ActionWording(K.TOKENS, _token("created")),
    "api_token.revoked": ActionWording(K.TOKENS, _token("revoked")),
    "tracking_domain.added": ActionWording(K.DOMAINS, _about("added the tracking domain {}")),
    "tracking_domain.removed": ActionWording(
        K.DOMAINS, _about("removed the tracking domain {}")),
    "webhook_endpoint.created": ActionWording(K.WEBHOOKS, _webhook("added")),
    "webhook_endpoint.updated": ActionWording(K.WEBHOOKS, _webhook_updated),
    "webhook_endpoint.secret_rotated": ActionWording(
        K.WEBHOOKS, lambda c: f"replaced the signing secret of {_hook(c)}"),
    "webhook_endpoint.deleted": ActionWording(K.WEBHOOKS, _webhook("removed")),
    "webhook_endpoint.disabled": ActionWording(K.WEBHOOKS, _webhook_disabled),
    "webhook_delivery.replayed": ActionWording(K.WEBHOOKS, _replayed),
    "outbound_mail.updated": ActionWording(
        K.SENDING, _about("changed the outbound mail server ({})", "outbound mail via ")),
    "outbound_mail.removed": ActionWording(
        K.SENDING, _about("removed the outbound mail server ({})", "outbound mail via ")),
    "outbound_login.updated": ActionWording(
        K.SENDING, lambda c: f"set the outbound mail login of {c.names.user(c.address())}"),
    "outbound_login.removed": ActionWording(
        K.SENDING, lambda c: f"removed the outbound mail login of {c.names.user(c.address())}"),
    "dkim_key.set": ActionWording(K.SENDING, _about("set the DKIM key of {}", "DKIM key of ")),
    "dkim_key.removed": ActionWording(
        K.SENDING, _about("removed the DKIM key of {}", "DKIM key of ")),
    "contact.legal_basis_changed": ActionWording(K.CONTACTS, _legal_basis),
    "contact.erased": ActionWording(K.CONTACTS, _erased),
    "support.read": ActionWording(K.SUPPORT, _support_read),
    "support.search": ActionWording(K.SUPPORT, _support_search),
}
VISIT_ACTIONS = frozenset({"support.read", "support.search"})
"""What a support visit groups: the staff member's searches and reads."""


def kind_of(action: str) -> AuditKind:
    known = ACTION_KINDS.get(action)
    return known.kind if known else AuditKind.OTHER


def _fallback(action: str, target: str | None) -> str:
    """An action this version has no sentence for: its code in words, never raw."""
    what = words(action.replace(".", " "))
    return f"made a change ({what}) to {target}" if target else f"made a change ({what})"


def describe(
    action: str, actor: str, target: str | None, *, before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None, names: Names = NO_NAMES,
) -> str:
    """The whole sentence: "Ada Admin turned privacy mode on"."""
    details = actor_details(actor, names)
    who = details.name
    change = Change(target, before or {}, after or {}, names, details.email)
    known = ACTION_KINDS.get(action)
    try:
        what = known.phrase(change) if known else _fallback(action, target)
    except (TypeError, ValueError, AttributeError):  # an entry written in an older shape
        what = _fallback(action, target)
    return f"{who} {what}"


def describe_visit(actor: str, things: Sequence[str], names: Names = NO_NAMES) -> str:
    """A support visit: "Support staff (sam@…) viewed the email 'Proposal' and 3 other things"."""
    who = actor_details(actor, names).name
    distinct = list(dict.fromkeys(things))
    if not distinct:
        return f"{who} looked at the account"
    # The most specific thing leads: an email or contact says more than a list.
    lead = next((thing for thing in distinct if thing not in READ_THINGS.values()), distinct[0])
    others = len(distinct) - 1
    if others == 0:
        return f"{who} viewed {lead}"
    return f"{who} viewed {lead} and {others} other thing{'s' if others > 1 else ''}"


def refs_of(action: str, actor: str, target: str | None) -> ReadRefs:
    """What an entry names by id or address, for the caller's batched look-ups."""
    refs = ReadRefs()
    details = actor_details(actor)
    if details.kind is ActorKind.USER and details.email:
        refs.user_addresses.add(details.email.lower())
    text = target or ""
    if action in VISIT_ACTIONS:
        return refs.merge(read_refs(text))
    if text.startswith("contact ") and EMAIL_ID.fullmatch(text[8:]):
        refs.contact_ids.add(text[8:])
    refs.user_addresses.update(
        match.lower() for match in re.findall(r"[^\s:'\"()]+@[^\s'\"()]+", text))
    return refs
