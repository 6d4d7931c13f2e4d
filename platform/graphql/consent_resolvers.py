"""Mutations of tracking consent (R29): one contact, or many at once (all or none)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from sendtrail.contacts.consent_values import MAX_BULK_CONTACTS, TrackingConsent
from sendtrail.graphql.consent_types import SOURCE_DESCRIPTION, TrackingConsentEnum
from sendtrail.graphql.context import ctx
from sendtrail.graphql.tracking_types import Contact
from sendtrail.records import consent as consents
from sendtrail.tenancy.users import parse_id

__all__ = ["ConsentMutation"]

SOURCE = strawberry.argument(description=SOURCE_DESCRIPTION)
WORDING = strawberry.argument(
    description="The text shown to the person when they gave or withdrew it (at most "
                "2000 characters).")


async def _record(info: Info, ids: list[strawberry.ID], consent: TrackingConsent,
                  source: str, wording: str | None) -> list[Contact]:
    context = ctx(info)
    principal = await context.actor(info)
    async with context.db() as session:
        rows = await consents.set_tracking_consent(
            session, principal, await context.account_id(info),
            contact_ids=[parse_id(contact_id, "contact") for contact_id in ids],
            consent=consent, source=source, wording=wording, now=context.now(),
        )
    return [Contact.from_row(row) for row in rows]


@strawberry.type
class ConsentMutation:
    @strawberry.mutation(description="Record a contact's consent to individual tracking "
                                     "with its proof (R29); the legal basis is untouched.")
    async def set_tracking_consent(
        self, info: Info, contact_id: strawberry.ID,
        consent: TrackingConsentEnum,  # type: ignore[valid-type]
        source: Annotated[str, SOURCE], wording: Annotated[str | None, WORDING] = None,
    ) -> Contact:
        (contact,) = await _record(info, [contact_id], consent, source, wording)
        return contact

    @strawberry.mutation(description="Record the same tracking consent for up to "
                                     f"{MAX_BULK_CONTACTS} contacts: all of them, or none "
                                     "when one is unknown (R29).")
    async def set_tracking_consents(
        self, info: Info, contact_ids: list[strawberry.ID],
        consent: TrackingConsentEnum,  # type: ignore[valid-type]
        source: Annotated[str, SOURCE], wording: Annotated[str | None, WORDING] = None,
    ) -> list[Contact]:
        return await _record(info, contact_ids, consent, source, wording)
