"""What an audit entry's actor did, as a phrase in the reader's language (issue 15, item 12).

Each phrase follows the actor's name: "turned privacy mode on" (English), "hat den
Datenschutzmodus eingeschaltet" (German). Every phrase is a whole template with named
placeholders — never a verb glued to an object — because other languages put the words in
another order and inflect them. ``audit_wording`` maps the action codes to these. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sendtrail.i18n import N_, _, ngettext
from sendtrail.tenancy.audit_names import Names
from sendtrail.tenancy.audit_things import and_list, describe_read, words

__all__ = ["Change", "about", "folded", "phrase", "token", "webhook"]


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
        return found.group(0) if found else _("someone")

    def quoted(self) -> str | None:
        found = re.search(r"'([^']*)'", self.target or "")
        return found.group(1) if found else None

    def tail(self, prefix: str) -> str:
        """The target without its leading ``prefix`` (a URL, a host name)."""
        text = self.target or ""
        return text[len(prefix):] if text.startswith(prefix) else text


SETTING_ON_OFF = {
    "tracking_enabled": (N_("turned tracking on"), N_("turned tracking off")),
    "privacy_mode": (N_("turned privacy mode on"), N_("turned privacy mode off")),
    "self_open_suppression": (N_("turned ignoring the sender's own opens on"),
                              N_("turned ignoring the sender's own opens off")),
    "marketing_tracking": (N_("turned tracking of marketing emails on"),
                           N_("turned tracking of marketing emails off")),
    "marketing_link_tracking": (N_("turned link tracking in marketing emails on"),
                                N_("turned link tracking in marketing emails off")),
    "default_track": (N_("turned tracking new emails by default on"),
                      N_("turned tracking new emails by default off")),
    "default_log": (N_("turned logging new emails by default on"),
                    N_("turned logging new emails by default off")),
    "truncate_ips": (N_("turned shortening IP addresses on"),
                     N_("turned shortening IP addresses off")),
    "withdrawal_link": (N_("turned the tracking withdrawal link on"),
                        N_("turned the tracking withdrawal link off")),
}
"""A switch of the account settings turned (on, off)."""
SETTING_NAMES_SAID = {
    "tracking_purpose": N_("the tracking purpose"),
    "exempt_purpose": N_("the purpose for contacts without consent"),
    "withdrawal_link_text": N_("the withdrawal link's wording"),
}
"""Settings that are not switches, said in words (the rest: their code in words)."""
VALUE_WORDS = frozenset({
    N_("nothing"), N_("none"), N_("on"), N_("off"),
    # seats
    N_("free"), N_("sales starter"), N_("sales professional"), N_("sales enterprise"),
    # legal bases
    N_("consent"), N_("legitimate interest"), N_("contract"), N_("legal obligation"),
    N_("vital interest"),
    # tracking purposes (R28)
    N_("individual"), N_("aggregate"), N_("deliverability"),
})
"""Stored values said in words, and translated, when they are one of these."""
WEBHOOK_FIELDS = {"url": N_("address"), "eventTypes": N_("events"),
                  "includeNonHuman": N_("machine and self hits setting"),
                  "description": N_("description")}
ERASED_COUNTS = {
    "engagements": (N_("{count} engagement"), N_("{count} engagements")),
    "loggedEmails": (N_("{count} logged email"), N_("{count} logged emails")),
    "attachments": (N_("{count} attachment"), N_("{count} attachments")),
}
NOT_RECORDED = N_("(not recorded)")


def _value(value: Any) -> str:
    if value is None:
        return _("nothing")
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value) or _("none")
    shown = words(str(value)) if isinstance(value, str) and "_" in value else str(value)
    return _(shown) if shown in VALUE_WORDS else shown


def settings(change: Change) -> str:
    parts = []
    for name, new in change.after.items():
        old = change.before.get(name)
        if name == "hit_detail_retention_days":
            parts.append(_("set hit details to be kept forever") if new is None
                         else _("set hit details to be forgotten after {days} days").format(
                             days=new))
        elif isinstance(new, bool):
            on_off = SETTING_ON_OFF.get(name)
            parts.append(_(on_off[0] if new else on_off[1]) if on_off else
                         _("turned {setting} {value}").format(setting=words(name),
                                                              value=_value(new)))
        else:
            said = SETTING_NAMES_SAID.get(name)
            parts.append(_("changed {setting} from {old} to {new}").format(
                setting=_(said) if said else words(name), old=_value(old), new=_value(new)))
    return and_list(parts) or _("saved the account settings unchanged")


def user_changes(change: Change) -> str:
    who, parts = change.names.user(change.address()), []
    for key, new in change.after.items():
        if key == "active":
            parts.append((_("reactivated {user}") if new else _("deactivated {user}"))
                         .format(user=who))
        elif key == "role" and str(new) in ("admin", "user"):
            made = _("made {user} an admin") if new == "admin" else _("made {user} a rep")
            parts.append(made.format(user=who))
        elif key == "role":
            parts.append(_("made {user} {role}").format(user=who, role=words(str(new))))
        elif key == "seat":
            parts.append(_("gave {user} a {seat} seat").format(user=who, seat=_value(new)))
        else:
            parts.append(_("changed the {field} of {user} to {value}").format(
                field=words(key), user=who, value=_value(new)))
    return and_list(parts) or _("changed {user}").format(user=who)


def invited(change: Change) -> str:
    role = str(change.after.get("role", "user"))
    template = {"admin": N_("invited {address} as an admin"),
                "user": N_("invited {address} as a rep")}.get(
        role, N_("invited {address} as a user"))
    return _(template).format(address=change.address())


TOKEN_PHRASES = {
    "created": (N_("created their API token '{name}'"),
                N_("created the API token '{name}' for {user}"),
                N_("created the API token '{name}'"), N_("created an API token")),
    "revoked": (N_("revoked their API token '{name}'"),
                N_("revoked the API token '{name}' of {user}"),
                N_("revoked the API token '{name}'"), N_("revoked an API token")),
}
"""(their own, someone else's, nobody's, unnamed) per verb."""


def token(verb: str) -> Callable[[Change], str]:
    own, others, unowned, unnamed = TOKEN_PHRASES[verb]

    def phrase(change: Change) -> str:
        name = change.quoted()
        owner = re.search(r" of (\S+@\S+)$", change.target or "")
        if name and owner and owner.group(1).lower() == (change.actor_email or "").lower():
            return _(own).format(name=name)
        if not name:
            return _(unnamed)
        if owner:
            return _(others).format(name=name, user=change.names.user(owner.group(1)))
        return _(unowned).format(name=name)
    return phrase


WEBHOOK_PHRASES = {
    "added": (N_("added the webhook to {url}"), N_("added a webhook")),
    "removed": (N_("removed the webhook to {url}"), N_("removed a webhook")),
    "resumed": (N_("resumed the webhook to {url}"), N_("resumed a webhook")),
    "paused": (N_("paused the webhook to {url}"), N_("paused a webhook")),
    "changed": (N_("changed the webhook to {url}"), N_("changed a webhook")),
    "fields": (N_("changed the {fields} of the webhook to {url}"),
               N_("changed the {fields} of a webhook")),
    "rotated": (N_("replaced the signing secret of the webhook to {url}"),
                N_("replaced the signing secret of a webhook")),
    "disabled": (N_("turned off the webhook to {url} after it kept failing"),
                 N_("turned off a webhook after it kept failing")),
    "disabled_why": (N_("turned off the webhook to {url} after it kept failing ({reason})"),
                     N_("turned off a webhook after it kept failing ({reason})")),
}
"""(with its address, without) per thing done to a webhook."""


def _hooked(change: Change, done: str, **values: str) -> str:
    url = change.tail("webhook endpoint ")
    with_url, without = WEBHOOK_PHRASES[done]
    return _(with_url).format(url=url, **values) if url else _(without).format(**values)


def webhook(done: str) -> Callable[[Change], str]:
    return lambda change: _hooked(change, done)


def webhook_updated(change: Change) -> str:
    if set(change.after) == {"active"}:
        return _hooked(change, "resumed" if change.after["active"] else "paused")
    keys = [_(WEBHOOK_FIELDS[key]) if key in WEBHOOK_FIELDS else words(key)
            for key in change.after]
    return _hooked(change, "fields", fields=and_list(keys)) if keys else _hooked(
        change, "changed")


def webhook_disabled(change: Change) -> str:
    reason = change.after.get("reason")
    if reason:
        return _hooked(change, "disabled_why", reason=str(reason))
    return _hooked(change, "disabled")


def replayed(change: Change) -> str:
    found = re.search(r" to (\S+)$", change.target or "")
    if found:
        return _("sent a webhook delivery again to {url}").format(url=found.group(1))
    return _("sent a webhook delivery again to its endpoint")


def legal_basis(change: Change) -> str:
    old, new = change.before.get("legalBasis"), change.after.get("legalBasis")
    contact = change.names.contacts.get(change.tail("contact "))
    if contact is None:
        return _("changed the legal basis of a contact since erased from {old} to {new}").format(
            old=_value(old), new=_value(new))
    return _("changed the legal basis of {contact} from {old} to {new}").format(
        contact=contact, old=_value(old), new=_value(new))


CONSENT_PHRASES = {
    "granted": (N_("recorded tracking consent as granted for {contact} ({source})"),
                N_("recorded tracking consent as granted for a contact since erased "
                   "({source})")),
    "withdrawn": (N_("recorded tracking consent as withdrawn for {contact} ({source})"),
                  N_("recorded tracking consent as withdrawn for a contact since erased "
                     "({source})")),
    "unknown": (N_("recorded tracking consent as unknown for {contact} ({source})"),
                N_("recorded tracking consent as unknown for a contact since erased "
                   "({source})")),
}
CONSENT_SOURCES = {
    "FORM": N_("through a form"), "IMPORT": N_("through an import"),
    "API": N_("through the API"), "EMAIL_LINK": N_("through the link in an email"),
    "ADMIN": N_("by hand"),
}


def tracking_consent(change: Change) -> str:
    """Consent to tracking (R29), never confused with the legal basis above."""
    known, erased_one = CONSENT_PHRASES.get(
        str(change.after.get("trackingConsent")), CONSENT_PHRASES["unknown"])
    source = str(change.after.get("source"))
    said = _(CONSENT_SOURCES[source]) if source in CONSENT_SOURCES else words(source)
    contact = change.names.contacts.get(change.tail("contact "))
    if contact is None:
        return _(erased_one).format(source=said)
    return _(known).format(contact=contact, source=said)


def erased(change: Change) -> str:
    counts = []
    for name, count in change.after.items():
        if not isinstance(count, int) or not count:
            continue
        if name in ERASED_COUNTS:
            singular, plural = ERASED_COUNTS[name]
            counts.append((_(singular) if count == 1 else _(plural)).format(count=count))
        else:
            said = words(str(name))
            counts.append(f"{count} {said.removesuffix('s') if count == 1 else said}")
    if counts:
        return _("erased a contact and everything recorded about them ({counts})").format(
            counts=and_list(counts))
    return _("erased a contact and everything recorded about them")


def folded(change: Change) -> str:
    """The retention job's entry (issue 16, item 4): how many engagements it folded, and the
    account's window then."""
    count, days = change.after.get("engagements"), change.after.get("days")
    if isinstance(count, int) and isinstance(days, int):
        return _("deleted the details of {engagements} older than the retention window "
                 "({window}); the hourly totals still count them").format(
            engagements=ngettext("{count} engagement", "{count} engagements",
                                 count).format(count=count),
            window=ngettext("{count} day", "{count} days", days).format(count=days))
    return _("deleted the details of engagements older than the retention window; the "
             "hourly totals still count them")


def support_search(change: Change) -> str:
    wanted = re.search(r'"(.*)"', change.target or "")
    if wanted:
        return _('found this account by searching for "{query}"').format(query=wanted.group(1))
    return _("listed the accounts, this one among them")


def support_read(change: Change) -> str:
    return _("viewed {things}").format(things=describe_read(change.target,
                                                            change.names.reads()))


def about(text: str, prefix: str = "") -> Callable[[Change], str]:
    """A phrase ending in the target (a host, a domain): ``text``'s ``{target}`` filled."""
    def phrase(change: Change) -> str:
        missing = _(NOT_RECORDED)
        said = _(text).format(target=change.tail(prefix) or missing)
        return said.replace(f"({missing})", missing)
    return phrase


def account_created(change: Change) -> str:
    if not change.after.get("admin"):
        return _("created the account")
    return _("created the account {name} with {admin} as its admin").format(
        name=change.after.get("name", ""), admin=change.after["admin"]).replace("  ", " ")


def phrase(template: str, *, user: bool = False) -> Callable[[Change], str]:
    """A phrase naming the entry's address (``{address}``) or that user (``{user}``)."""
    if user:
        return lambda change: _(template).format(user=change.names.user(change.address()))
    return lambda change: _(template).format(address=change.address())


def reclassified(change: Change) -> str:
    """``sendtrail reclassify``'s entry (issue 17, item 4): how many engagements it judged
    again, how many verdicts changed, with which rules."""
    count, changed = change.after.get("engagements"), change.after.get("changed")
    ruleset = change.after.get("ruleset")
    if isinstance(count, int) and isinstance(changed, int) and isinstance(ruleset, str):
        return _("judged {engagements} again with the rules {ruleset}: {changed} changed "
                 "verdict").format(
            engagements=ngettext("{count} engagement", "{count} engagements",
                                 count).format(count=count),
            ruleset=ruleset, changed=changed)
    return _("judged engagements again with the current rules")
