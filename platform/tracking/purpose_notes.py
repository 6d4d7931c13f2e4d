"""What the account's tracking purpose (R28) means for given recipients, in sentences.

The composer's "What will apply" and an email's diagnosis (R25) say the same thing: which
recipients are tracked individually and what is kept of the others' opens and clicks. The
decision itself is ``tracking.core.purposes.purpose_for``, the one the deriver applies to
each hit, so what is announced is what happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sendtrail.i18n import N_, _, ngettext
from sendtrail.tenancy.values import AccountSettingsValue
from sendtrail.tracking.core.purposes import ConsentState, TrackingPurpose, purpose_for

__all__ = ["RecipientStanding", "purpose_notes"]

MOST_NAMED = 5

ACCOUNT_PURPOSE = {
    TrackingPurpose.AGGREGATE: N_(
        "The account tracks for aggregate statistics only: opens and clicks are counted per "
        "email, link and hour, never per person."),
    TrackingPurpose.DELIVERABILITY: N_(
        "The account tracks for deliverability only: an open only updates the day of the "
        "contact's last open."),
    TrackingPurpose.OFF: N_(
        "The account's tracking purpose is off: no open or click is recorded."),
}
OUTCOME = {
    TrackingPurpose.AGGREGATE: N_("only counted in reports, without their name"),
    TrackingPurpose.DELIVERABILITY: N_("only kept as the day of their last open"),
    TrackingPurpose.OFF: N_("not recorded"),
}
"""What is kept of a recipient who falls back to an exempt purpose."""


@dataclass(frozen=True, slots=True)
class RecipientStanding:
    """What the purpose depends on for one recipient (an unknown address: nothing yet)."""

    address: str
    consent: ConsentState = ConsentState.UNKNOWN
    has_legal_basis: bool = False


def purpose_notes(settings: AccountSettingsValue,
                  recipients: Sequence[RecipientStanding]) -> list[str]:
    """Sentences for the recipients not tracked individually (none when all are)."""
    if settings.tracking_purpose is not TrackingPurpose.INDIVIDUAL:
        return [_(ACCOUNT_PURPOSE[settings.tracking_purpose])]
    withdrawn: list[str] = []
    without: list[str] = []
    for recipient in recipients:
        choice = purpose_for(
            account=settings.tracking_purpose, exempt=settings.exempt_purpose,
            privacy_mode=settings.privacy_mode, recipient_known=True,
            consent=recipient.consent, has_legal_basis=recipient.has_legal_basis)
        if choice.purpose is TrackingPurpose.INDIVIDUAL:
            continue
        (withdrawn if recipient.consent is ConsentState.WITHDRAWN else without).append(
            recipient.address)
    outcome = _(OUTCOME[settings.exempt_purpose]) if withdrawn or without else ""
    notes = []
    if without:
        notes.append(ngettext(
            "Privacy mode is on and {addresses} has neither tracking consent nor a legal "
            "basis: their opens and clicks are {outcome}.",
            "Privacy mode is on and {addresses} have neither tracking consent nor a legal "
            "basis: their opens and clicks are {outcome}.",
            len(without)).format(addresses=_named(without), outcome=outcome))
    if withdrawn:
        notes.append(ngettext(
            "{addresses} has withdrawn their consent to individual tracking: their opens "
            "and clicks are {outcome}.",
            "{addresses} have withdrawn their consent to individual tracking: their opens "
            "and clicks are {outcome}.",
            len(withdrawn)).format(addresses=_named(withdrawn), outcome=outcome))
    return notes


def _named(addresses: Sequence[str]) -> str:
    """The first few addresses, and how many more."""
    named = ", ".join(addresses[:MOST_NAMED])
    if len(addresses) <= MOST_NAMED:
        return named
    return _("{addresses} and {more} more").format(addresses=named,
                                                    more=len(addresses) - MOST_NAMED)
