"""What tracking is for (R28): which purpose a hit serves, decided per hit.

An account chooses its purpose. ``INDIVIDUAL`` measures each recipient's opens and clicks;
a contact who withdrew their tracking consent, or (in privacy mode) has neither consent nor
a legal basis, falls back to the account's **exempt** purpose, never silently to nothing:
``AGGREGATE`` counts per email, link and hour with nothing personal stored,
``DELIVERABILITY`` keeps only the day of the contact's last open, ``OFF`` keeps nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sendtrail.i18n import N_

__all__ = [
    "EXEMPT_PURPOSES",
    "ConsentState",
    "PurposeChoice",
    "TrackingPurpose",
    "purpose_for",
]


class TrackingPurpose(enum.StrEnum):
    INDIVIDUAL = "individual"
    AGGREGATE = "aggregate"
    DELIVERABILITY = "deliverability"
    OFF = "off"


EXEMPT_PURPOSES = frozenset({
    TrackingPurpose.AGGREGATE, TrackingPurpose.DELIVERABILITY, TrackingPurpose.OFF})
"""What needs no consent (the CNIL's exemptions), so what a contact can fall back to."""


class ConsentState(enum.StrEnum):
    """A contact's tracking consent as the deriver sees it (``contacts.consent_values``)."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PurposeChoice:
    purpose: TrackingPurpose
    reason: str


# Reasons are stored in English and translated where they are shown (R28: say why).
ACCOUNT_REASONS = {
    TrackingPurpose.AGGREGATE: N_(
        "The account tracks for aggregate statistics only: this hit is counted per email, "
        "link and hour, with nothing about who made it."),
    TrackingPurpose.DELIVERABILITY: N_(
        "The account tracks for deliverability only: this hit only moves the contact's "
        "last-open date."),
    TrackingPurpose.OFF: N_("The account's tracking purpose is off: this hit is not recorded."),
}
WITHDRAWN_REASON = N_(
    "This contact withdrew their consent to individual tracking, so the hit falls back to "
    "the account's exempt purpose ({purpose})."
)
NO_CONSENT_REASON = N_(
    "Privacy mode is on and this contact has neither tracking consent nor a legal basis, so "
    "the hit falls back to the account's exempt purpose ({purpose})."
)
CONSENTED_REASON = N_("This contact consented to individual tracking.")
LEGAL_BASIS_REASON = N_("Privacy mode is on and this contact has a legal basis for processing.")


def purpose_for(
    *,
    account: TrackingPurpose,
    exempt: TrackingPurpose,
    privacy_mode: bool,
    recipient_known: bool,
    consent: ConsentState,
    has_legal_basis: bool,
) -> PurposeChoice:
    """The purpose one hit serves, and why (R28, R29, R16).

    ``recipient_known``: the hit names a recipient's copy (not a shared or sender's copy,
    which identify no one and stay individual under ``INDIVIDUAL``).
    """
    if account is not TrackingPurpose.INDIVIDUAL:
        return PurposeChoice(account, ACCOUNT_REASONS[account])
    if not recipient_known:
        return PurposeChoice(TrackingPurpose.INDIVIDUAL, "")
    if consent is ConsentState.WITHDRAWN:
        return PurposeChoice(exempt, WITHDRAWN_REASON.format(purpose=exempt.value))
    if consent is ConsentState.GRANTED:
        return PurposeChoice(TrackingPurpose.INDIVIDUAL, CONSENTED_REASON)
    if privacy_mode and not has_legal_basis:
        return PurposeChoice(exempt, NO_CONSENT_REASON.format(purpose=exempt.value))
    return PurposeChoice(TrackingPurpose.INDIVIDUAL, LEGAL_BASIS_REASON if privacy_mode else "")
