"""GraphQL types of tracking consent (R29; API.md "Privacy purposes")."""

from __future__ import annotations

from datetime import datetime

import strawberry

from sendtrail.contacts.consent_values import ConsentSource, TrackingConsent
from sendtrail.records.store import TrackingConsentChangeRow

__all__ = ["SOURCE_DESCRIPTION", "TrackingConsentChange", "TrackingConsentEnum"]

TrackingConsentEnum = strawberry.enum(
    TrackingConsent, name="TrackingConsent",
    description="Consent to individual tracking of opens and clicks (R29), apart from the "
                "marketing legal basis (R16).")

SOURCE_DESCRIPTION = (
    "Where the consent came from, one of: " + ", ".join(s.value for s in ConsentSource)
    + " (a form the person filled in, an imported list, another system through the API, "
    "the link in a tracked email, a person in the account recording it by hand)."
)


@strawberry.type(description="One recorded tracking consent, with its proof (R29).")
class TrackingConsentChange:
    at: datetime
    consent: TrackingConsentEnum  # type: ignore[valid-type]
    source: str = strawberry.field(description=SOURCE_DESCRIPTION)
    wording: str | None = strawberry.field(
        description="The text shown to the person when they gave or withdrew it.")
    actor: str | None = strawberry.field(description="Who recorded it.")

    @classmethod
    def from_row(cls, row: TrackingConsentChangeRow) -> TrackingConsentChange:
        return cls(at=row.at, consent=TrackingConsent(row.consent), source=row.source,
                   wording=row.wording, actor=row.actor)
