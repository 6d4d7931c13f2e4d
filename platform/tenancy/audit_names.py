"""Who and what audit entries name, as the caller resolved them: users by address and id,
contacts, emails and attachments by id (``records/audit_lookup.py`` reads them, one query
per kind for a page), and the actor of an entry by name."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from sendtrail.tenancy.audit_things import words

__all__ = ["NO_NAMES", "ActorDetails", "ActorKind", "Names", "ReadNames", "actor_details"]


class ActorKind(enum.StrEnum):
    USER = "user"
    SUPPORT = "support"
    SYSTEM = "system"


@dataclass(frozen=True)
class Names:
    """What the caller could resolve, by what entries store (addresses lower-case)."""

    users: Mapping[str, str] = field(default_factory=dict)
    """A user's address → their name."""
    user_ids: Mapping[str, str] = field(default_factory=dict)
    """A user's id → their address."""
    contacts: Mapping[str, str] = field(default_factory=dict)
    """A contact's id → its address."""
    emails: Mapping[str, str] = field(default_factory=dict)
    """An email's id (tracked or logged) → its subject."""
    attachments: Mapping[str, str] = field(default_factory=dict)
    """An attachment's id → its file name."""

    def user(self, address: str) -> str:
        """A user as "Name (address)", or the address when they have no name."""
        name = self.users.get(address.lower())
        return f"{name} ({address})" if name and name != address else address

    def reads(self) -> ReadNames:
        return ReadNames(self)


NO_NAMES = Names()

SYSTEM_ACTORS = {
    "cli": "Someone at the command line",
    "signup": "The sign-up form",
    "webhook dispatcher": "Sendtrail's webhook sender",
    "retention": "Sendtrail's retention job",
    "recipient (email link)": "The recipient",
}


@dataclass(frozen=True)
class ActorDetails:
    label: str
    """As stored: ``user:ada@acme.test``, ``support:sam@… (API token)``, ``cli``."""
    kind: ActorKind
    name: str
    """How the sentence names them: "Ada Admin", "Support staff (sam@…)"."""
    email: str | None
    via_token: bool


def actor_details(label: str, names: Names = NO_NAMES) -> ActorDetails:
    via_token = label.endswith(" (API token)")
    bare = label.removesuffix(" (API token)")
    kind_text, _, address = bare.partition(":")
    if kind_text == "user" and address:
        name = names.users.get(address.lower()) or address
        return ActorDetails(label, ActorKind.USER,
                            f"{name} (with an API token)" if via_token else name,
                            address, via_token)
    if kind_text == "support" and address:
        return ActorDetails(label, ActorKind.SUPPORT, f"Support staff ({address})", address,
                            via_token)
    return ActorDetails(label, ActorKind.SYSTEM,
                        SYSTEM_ACTORS.get(label, words(label).capitalize() or "Sendtrail"),
                        None, via_token)


@dataclass
class ReadNames:
    """``Names`` as ``audit_things`` needs them."""

    names: Names

    def email(self, email_id: str) -> str | None:
        return self.names.emails.get(email_id)

    def contact(self, contact_id: str) -> str | None:
        return self.names.contacts.get(contact_id)

    def attachment(self, attachment_id: str) -> str | None:
        return self.names.attachments.get(attachment_id)

    def user(self, user_id: str) -> str | None:
        address = self.names.user_ids.get(user_id)
        return self.names.user(address) if address else None
