"""The audit log in words: each stored entry (action code, actor label, target, before and
after) as a sentence a person reads, "Ada Admin turned privacy mode on" (issue 15, defect 5).

Pure: no database. What an entry names by id (a user, contact, email or attachment) is
looked up by the caller in batches and handed in as ``Names``; an id nobody can resolve any
more (an erased contact, a deleted email) is said as such, never shown raw. Sentences are
in the reader's language (``sendtrail.i18n``; the phrases are in ``audit_phrases``); the
stored entry never changes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sendtrail.i18n import N_, _, ngettext
from sendtrail.tenancy import audit_phrases as say
from sendtrail.tenancy.audit_names import (
    NO_NAMES,
    ActorDetails,
    ActorKind,
    Names,
    actor_details,
)
from sendtrail.tenancy.audit_phrases import Change
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
    "spoken_name",
    "things_read",
]

SYSTEM_NAMES = frozenset({
    N_("Someone at the command line"), N_("The sign-up form"),
    N_("Sendtrail's webhook sender"), N_("Sendtrail's retention job"), N_("Sendtrail"),
    N_("The recipient"),
})
"""How ``audit_names`` names system actors, translated where they are said."""


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
class ActionWording:
    kind: AuditKind
    phrase: Callable[[Change], str]
    """What the actor did, after their name: "turned privacy mode on"."""


K = AuditKind
ACTION_KINDS: dict[str, ActionWording] = {
    "account.created": ActionWording(K.ACCOUNT, say.account_created),
    "account.settings.updated": ActionWording(K.SETTINGS, say.settings),
    "user.invited": ActionWording(K.USERS, say.invited),
    "user.updated": ActionWording(K.USERS, say.user_changes),
    "invitation.sent": ActionWording(K.USERS, say.phrase(N_("sent an invitation to {address}"))),
    "invitation.resent": ActionWording(
        K.USERS, say.phrase(N_("sent the invitation to {address} again"))),
    "invitation.revoked": ActionWording(
        K.USERS, say.phrase(N_("withdrew the invitation of {address}"))),
    "invitation.accepted": ActionWording(
        K.USERS, say.phrase(N_("accepted their invitation and set a password"))),
    "api_token.created": ActionWording(K.TOKENS, say.token("created")),
    "api_token.revoked": ActionWording(K.TOKENS, say.token("revoked")),
    "tracking_domain.added": ActionWording(
        K.DOMAINS, say.about(N_("added the tracking domain {target}"))),
    "tracking_domain.removed": ActionWording(
        K.DOMAINS, say.about(N_("removed the tracking domain {target}"))),
    "webhook_endpoint.created": ActionWording(K.WEBHOOKS, say.webhook("added")),
    "webhook_endpoint.updated": ActionWording(K.WEBHOOKS, say.webhook_updated),
    "webhook_endpoint.secret_rotated": ActionWording(K.WEBHOOKS, say.webhook("rotated")),
    "webhook_endpoint.deleted": ActionWording(K.WEBHOOKS, say.webhook("removed")),
    "webhook_endpoint.disabled": ActionWording(K.WEBHOOKS, say.webhook_disabled),
    "webhook_delivery.replayed": ActionWording(K.WEBHOOKS, say.replayed),
    "outbound_mail.updated": ActionWording(K.SENDING, say.about(
        N_("changed the outbound mail server ({target})"), "outbound mail via ")),
    "outbound_mail.removed": ActionWording(K.SENDING, say.about(
        N_("removed the outbound mail server ({target})"), "outbound mail via ")),
    "outbound_login.updated": ActionWording(
        K.SENDING, say.phrase(N_("set the outbound mail login of {user}"), user=True)),
    "outbound_login.removed": ActionWording(
        K.SENDING, say.phrase(N_("removed the outbound mail login of {user}"), user=True)),
    "dkim_key.set": ActionWording(
        K.SENDING, say.about(N_("set the DKIM key of {target}"), "DKIM key of ")),
    "dkim_key.removed": ActionWording(
        K.SENDING, say.about(N_("removed the DKIM key of {target}"), "DKIM key of ")),
    "contact.legal_basis_changed": ActionWording(K.CONTACTS, say.legal_basis),
    "contact.tracking_consent_recorded": ActionWording(K.CONTACTS, say.tracking_consent),
    "contact.erased": ActionWording(K.CONTACTS, say.erased),
    "engagements.folded": ActionWording(K.CONTACTS, say.folded),
    "engagements.reclassified": ActionWording(K.CONTACTS, say.reclassified),
    "support.read": ActionWording(K.SUPPORT, say.support_read),
    "support.search": ActionWording(K.SUPPORT, say.support_search),
}
VISIT_ACTIONS = frozenset({"support.read", "support.search"})
"""What a support visit groups: the staff member's searches and reads."""


def kind_of(action: str) -> AuditKind:
    known = ACTION_KINDS.get(action)
    return known.kind if known else AuditKind.OTHER


def _fallback(action: str, target: str | None) -> str:
    """An action this version has no sentence for: its code in words, never raw."""
    what = words(action.replace(".", " "))
    if target:
        return _("made a change ({what}) to {target}").format(what=what, target=target)
    return _("made a change ({what})").format(what=what)


def spoken_name(details: ActorDetails) -> str:
    """``details.name`` in the reader's language: "Support staff (sam@…)"."""
    if details.kind is ActorKind.SUPPORT and details.email:
        return _("Support staff ({address})").format(address=details.email)
    if details.kind is ActorKind.USER and details.via_token:
        return _("{name} (with an API token)").format(
            name=details.name.removesuffix(" (with an API token)"))
    if details.kind is ActorKind.SYSTEM and details.name in SYSTEM_NAMES:
        return _(details.name)
    return details.name


def describe(
    action: str, actor: str, target: str | None, *, before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None, names: Names = NO_NAMES,
) -> str:
    """The whole sentence: "Ada Admin turned privacy mode on"."""
    details = actor_details(actor, names)
    who = spoken_name(details)
    change = Change(target, before or {}, after or {}, names, details.email)
    known = ACTION_KINDS.get(action)
    try:
        what = known.phrase(change) if known else _fallback(action, target)
    except (TypeError, ValueError, AttributeError):  # an entry written in an older shape
        what = _fallback(action, target)
    return f"{who} {what}"


def describe_visit(actor: str, things: Sequence[str], names: Names = NO_NAMES) -> str:
    """A support visit: "Support staff (sam@…) viewed the email 'Proposal' and 3 other things"."""
    who = spoken_name(actor_details(actor, names))
    distinct = list(dict.fromkeys(things))
    if not distinct:
        return _("{who} looked at the account").format(who=who)
    # The most specific thing leads: an email or contact says more than a list.
    lists = {_(thing) for thing in READ_THINGS.values()}
    lead = next((thing for thing in distinct if thing not in lists), distinct[0])
    others = len(distinct) - 1
    if others == 0:
        return _("{who} viewed {lead}").format(who=who, lead=lead)
    return ngettext("{who} viewed {lead} and {count} other thing",
                    "{who} viewed {lead} and {count} other things",
                    others).format(who=who, lead=lead, count=others)


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
