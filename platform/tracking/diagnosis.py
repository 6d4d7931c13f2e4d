"""Why opens and clicks of an email were or were not recorded (R25), in plain sentences.

The findings are in the reader's language; what was stored in English when the email was
prepared or a hit was judged is translated here, where it is shown."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.store import ContactRow
from sendtrail.i18n import N_, _, ngettext
from sendtrail.tenancy.accounts import get_settings
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.purposes import ConsentState, TrackingPurpose
from sendtrail.tracking.emails import get_email, recipients_of
from sendtrail.tracking.engagements import engagements_of_email
from sendtrail.tracking.purpose_notes import RecipientStanding, purpose_notes
from sendtrail.tracking.signals import explain
from sendtrail.tracking.store import EngagementRow

__all__ = ["diagnose_email"]


async def diagnose_email(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, email_id: uuid.UUID
) -> list[str]:
    email = await get_email(session, actor, account_id, email_id)
    settings = await get_settings(session, account_id)
    recipients = await recipients_of(session, account_id, email_id)
    hits = await engagements_of_email(session, account_id, email_id)
    findings: list[str] = [_(reason) for reason in email.not_tracked_reasons]
    if not settings.tracking_enabled and email.open_tracking:
        findings.append(_(
            "Tracking has been turned off for the account since this email was sent: its "
            "hits are still recorded but notify no one."
        ))
    if email.delivery_mode == "single_message" and len(recipients) > 1 and email.open_tracking:
        findings.append(_(
            "The email went to {count} recipients as one message with a shared "
            "pixel and links, so its opens and clicks are attributed to 'Someone' and "
            "appear in no report. Send it per recipient to know who opened it."
        ).format(count=len(recipients)))
    if email.open_tracking:  # R28: what the purpose keeps of whose hits
        contacts = [c for c in [await session.get(ContactRow, (account_id, r.contact_id))
                                for r in recipients] if c is not None]
        findings.extend(purpose_notes(settings, [
            RecipientStanding(c.address, ConsentState(c.tracking_consent),
                              c.legal_basis != "none")
            for c in sorted(contacts, key=lambda c: c.address)]))
    findings.extend(_(sentence) for sentence in email.removed_tracking)
    findings.extend(_(reason) for _link, reason in email.skipped_links)
    findings.extend(_hit_findings(
        email.open_tracking and settings.tracking_purpose is TrackingPurpose.INDIVIDUAL, hits))
    return findings


def _hit_findings(open_tracking: bool, hits: list[EngagementRow]) -> list[str]:
    findings = []
    real_opens = [h for h in hits if h.type == "open" and not h.inferred]
    if open_tracking and not real_opens:
        findings.append(_(
            "The tracking pixel has never loaded: the email may not have been opened yet, "
            "or it was read with images blocked or stripped by a corporate filter."
        ))
    by_verdict: dict[str, Counter[str]] = {"machine": Counter(), "self": Counter()}
    for hit in hits:
        if hit.verdict in by_verdict:
            by_verdict[hit.verdict][hit.reasons[0] if hit.reasons else hit.category] += 1
    for verdict, (singular, plural) in NOT_COUNTED.items():
        for reason, count in by_verdict[verdict].most_common():
            findings.append(
                ngettext(singular, plural, count).format(count=count, reason=explain(reason))
            )
    inferred = sum(1 for h in hits if h.inferred)
    if inferred:
        findings.append(ngettext(
            "{count} open inferred from a click because the pixel had not loaded for that "
            "recipient.",
            "{count} opens inferred from a click because the pixel had not loaded for that "
            "recipient.",
            inferred,
        ).format(count=inferred))
    humans = [h for h in hits if h.verdict == "human"]
    someone = [h for h in humans if h.attribution == "someone"]
    if humans and someone:
        findings.append(ngettext(
            "{count} human open or click recorded, {someone} of them by 'Someone' (not in "
            "reports).",
            "{count} human open or clicks recorded, {someone} of them by 'Someone' (not in "
            "reports).",
            len(humans),
        ).format(count=len(humans), someone=len(someone)))
    elif humans:
        findings.append(ngettext(
            "{count} human open or click recorded.",
            "{count} human open or clicks recorded.",
            len(humans),
        ).format(count=len(humans)))
    return findings


NOT_COUNTED = {
    "machine": (N_("{count} hit not counted as activity (by machines): {reason}"),
                N_("{count} hits not counted as activity (by machines): {reason}")),
    "self": (N_("{count} hit not counted as activity (by the sender): {reason}"),
             N_("{count} hits not counted as activity (by the sender): {reason}")),
}
"""Hits that are not activity, per verdict: (singular, plural) with the leading reason."""
