"""Attribution (R15, R16, R17), what counts in reports (R10) and contact properties (R16)."""

from __future__ import annotations

from dataclasses import dataclass

from sendtrail.tracking.core.model import Attribution, EmailKind, HitKind, Verdict

__all__ = ["AttributionResult", "ContactUpdate", "attribute", "resolve_recipient"]

SHARED_REASON = (
    "The email went to several recipients with one shared pixel and link set, so this "
    "activity cannot be tied to one of them; it is shown as 'Someone'."
)
PRIVACY_REASON = (
    "Privacy mode is on and this contact has no legal basis for processing, so the activity "
    "is recorded anonymously as 'Someone' and the contact's properties are not updated."
)


@dataclass(frozen=True)
class ContactUpdate:
    """Which of the contact's engagement dates this hit moves forward (R16)."""

    last_sales_email_opened: bool = False
    last_sales_email_clicked: bool = False
    last_clicked: bool = False

    @property
    def any(self) -> bool:
        return self.last_sales_email_opened or self.last_sales_email_clicked or self.last_clicked


@dataclass(frozen=True)
class AttributionResult:
    attribution: Attribution
    recipient: int | None
    """The recipient index the activity belongs to, or ``None`` for 'Someone'."""
    counts_in_reports: bool
    contact_update: ContactUpdate
    reasons: tuple[str, ...]


def resolve_recipient(token_recipient: int | None, recipient_count: int) -> int | None:
    """A shared token of a one-recipient message still identifies that recipient."""
    if token_recipient is not None:
        return token_recipient if 0 <= token_recipient < recipient_count else None
    return 0 if recipient_count == 1 else None


def attribute(
    *,
    kind: HitKind,
    email_kind: EmailKind,
    verdict: Verdict,
    recipient: int | None,
    privacy_mode: bool,
    has_legal_basis: bool,
) -> AttributionResult:
    """Who the activity is attributed to, evaluated when the hit arrives (R16).

    ``recipient`` is the already resolved recipient index (see ``resolve_recipient``).
    """
    reasons: list[str] = []
    attributed = recipient
    if recipient is None:
        reasons.append(SHARED_REASON)
    elif privacy_mode and not has_legal_basis:
        reasons.append(PRIVACY_REASON)
        attributed = None
    attribution = Attribution.SOMEONE if attributed is None else Attribution.RECIPIENT
    counts = verdict is Verdict.HUMAN and attribution is Attribution.RECIPIENT
    if verdict is Verdict.HUMAN and attribution is Attribution.SOMEONE:
        reasons.append("Activity by 'Someone' appears in no report or contact statistic.")
    update = ContactUpdate()
    if counts:
        sales = email_kind is EmailKind.SALES
        update = ContactUpdate(
            last_sales_email_opened=sales and kind is HitKind.OPEN,
            last_sales_email_clicked=sales and kind is HitKind.CLICK,
            last_clicked=kind is HitKind.CLICK,
        )
    return AttributionResult(
        attribution=attribution,
        recipient=attributed,
        counts_in_reports=counts,
        contact_update=update,
        reasons=tuple(reasons),
    )
