"""Why opens and clicks of an email were or were not recorded (R25), in plain sentences."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.store import ContactRow
from sendtrail.tenancy.accounts import get_settings
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.emails import get_email, recipients_of
from sendtrail.tracking.engagements import engagements_of_email
from sendtrail.tracking.store import EngagementRow

__all__ = ["diagnose_email"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


async def diagnose_email(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, email_id: uuid.UUID
) -> list[str]:
    email = await get_email(session, actor, account_id, email_id)
    settings = await get_settings(session, account_id)
    recipients = await recipients_of(session, account_id, email_id)
    hits = await engagements_of_email(session, account_id, email_id)
    findings: list[str] = list(email.not_tracked_reasons)
    if not settings.tracking_enabled and email.open_tracking:
        findings.append(
            "Tracking has been turned off for the account since this email was sent: its "
            "hits are still recorded but notify no one."
        )
    if email.delivery_mode == "single_message" and len(recipients) > 1 and email.open_tracking:
        findings.append(
            f"The email went to {len(recipients)} recipients as one message with a shared "
            "pixel and links, so its opens and clicks are attributed to 'Someone' and "
            "appear in no report. Send it per recipient to know who opened it."
        )
    if settings.privacy_mode:
        contact_ids = [r.contact_id for r in recipients]
        without = [
            c for c in [await session.get(ContactRow, (account_id, cid)) for cid in contact_ids]
            if c is not None and c.legal_basis == "none"
        ]
        if without:
            names = ", ".join(sorted(c.address for c in without))
            findings.append(
                f"Privacy mode is on and {names} ha{'s' if len(without) == 1 else 've'} no "
                "legal basis for processing: their activity is recorded anonymously as "
                "'Someone' and their contact properties are not updated."
            )
    findings.extend(email.removed_tracking)
    findings.extend(reason for _, reason in email.skipped_links)
    findings.extend(_hit_findings(email.open_tracking, hits))
    return findings


def _hit_findings(open_tracking: bool, hits: list[EngagementRow]) -> list[str]:
    findings = []
    real_opens = [h for h in hits if h.type == "open" and not h.inferred]
    if open_tracking and not real_opens:
        findings.append(
            "The tracking pixel has never loaded: the email may not have been opened yet, "
            "or it was read with images blocked or stripped by a corporate filter."
        )
    by_verdict: dict[str, Counter[str]] = {"machine": Counter(), "self": Counter()}
    for hit in hits:
        if hit.verdict in by_verdict:
            by_verdict[hit.verdict][hit.reasons[0] if hit.reasons else hit.category] += 1
    for verdict, label in (("machine", "by machines"), ("self", "by the sender")):
        for reason, count in by_verdict[verdict].most_common():
            findings.append(
                f"{_plural(count, 'hit')} not counted as activity ({label}): {reason}"
            )
    inferred = sum(1 for h in hits if h.inferred)
    if inferred:
        findings.append(
            f"{_plural(inferred, 'open')} inferred from a click because the pixel had not "
            "loaded for that recipient."
        )
    humans = [h for h in hits if h.verdict == "human"]
    someone = [h for h in humans if h.attribution == "someone"]
    if humans:
        findings.append(
            f"{_plural(len(humans), 'human open or click')} recorded"
            + (f", {len(someone)} of them by 'Someone' (not in reports)." if someone else ".")
        )
    return findings
