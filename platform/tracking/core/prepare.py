"""Prepare an email for sending: decide what is tracked, then sign and render each message.

The flow, for one ``prepare`` call:

1. decide whether opens and clicks are tracked, and say why not (R2, R3, R6, R12, R13, R18);
2. parse the HTML body once into a template (``html_template``), which also removes
   tracking copied from an earlier email (R8);
3. for each message (one shared message, or one per recipient) sign its pixel and link
   tokens and render the template — string joins and HMACs only;
4. render the sender's own copy with ``sender_copy`` tokens, whose hits are SELF (R9, R14).

When the account turned the withdrawal link on (R29), every message of a tracked email
also gets a footer link to ``/w/<withdrawal token>`` on the same tracking host as its
pixel. Only the HTML part: the text part is never rewritten (no link in it is tracked,
and no pixel can be), so reading it is tracked by nothing the link could stop.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sendtrail.errors import InvalidInput
from sendtrail.i18n import DEFAULT_LANGUAGE, N_, _
from sendtrail.tracking.core.html_template import HtmlTemplate, parse_template, render
from sendtrail.tracking.core.model import (
    DeliveryMode,
    EmailKind,
    HitKind,
    RecipientField,
    TokenClaims,
)
from sendtrail.tracking.core.policy import TrackingPolicy
from sendtrail.tracking.core.tokens import (
    SHARED,
    TokenKeys,
    WithdrawalClaims,
    sign,
    sign_withdrawal,
)
from sendtrail.tracking.core.withdrawal_footer import default_text, footer_markup

__all__ = [
    "Draft",
    "PreparedEmail",
    "PreparedMessage",
    "Recipient",
    "TrackedLink",
    "prepare",
]

# Kept with the email in English (as decided) and shown in the reader's language
# (tracking/not_tracked.py), hence N_() here.
ACCOUNT_OFF = N_("Tracking is turned off for the whole account by an admin.")
EMAIL_OFF = N_("Tracking was turned off for this email.")
PLAIN_TEXT = N_(
    "Plain-text email: opens cannot be tracked without an HTML part, "
    "and links in plain text are never rewritten."
)
NO_OPENS = N_("Open tracking is not available to this sender.")
NO_CLICKS = N_("Clicks are not tracked: click tracking needs a paid Sales seat.")
MARKETING_OFF = N_("Tracking of marketing emails is turned off for this account.")
MARKETING_LINKS_OFF = N_("Link tracking in marketing emails is turned off for this account.")
NO_LINKS = N_("Clicks are not tracked: this email has no web link that can be tracked.")


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None = None
    field: RecipientField = RecipientField.TO


@dataclass(frozen=True)
class Draft:
    """An email as the sender wrote it, before any tracking."""

    kind: EmailKind
    subject: str
    html: str | None
    """``None`` (or blank) for a plain-text email: nothing can be tracked (R6, R13)."""
    text: str | None
    recipients: tuple[Recipient, ...]
    delivery_mode: DeliveryMode = DeliveryMode.SINGLE_MESSAGE
    track: bool | None = None
    """``None`` means the sender's default (R2)."""


@dataclass(frozen=True)
class TrackedLink:
    index: int
    """The link's number in tokens (``TokenClaims.link``), in document order."""
    url: str
    """Where a click on it redirects, unchanged (R11)."""


@dataclass(frozen=True)
class PreparedMessage:
    recipients: tuple[str, ...]
    recipient_index: int | None
    """Index in ``Draft.recipients`` for a per-recipient message, else ``None`` (shared)."""
    html: str | None
    text: str | None


@dataclass(frozen=True)
class PreparedEmail:
    open_tracking: bool
    """A pixel was added (R5)."""
    click_tracking: bool
    """Eligible links were rewritten (R11)."""
    not_tracked_reasons: tuple[str, ...]
    """Plain sentences saying what is not tracked and why (R6, R25)."""
    links: tuple[TrackedLink, ...]
    """The rewritten links (empty when clicks are not tracked)."""
    skipped_links: tuple[tuple[str, str], ...]
    """``(address, reason)`` of each link left as it is (R13, R25)."""
    removed_tracking: tuple[str, ...]
    """Tracking copied from an earlier email that was removed or restored (R8)."""
    messages: tuple[PreparedMessage, ...]
    sender_copy: PreparedMessage
    """What goes to the sender's Sent folder: every hit on it is SELF (R9, R14)."""


def prepare(
    draft: Draft,
    policy: TrackingPolicy,
    *,
    keys: TokenKeys,
    account_id: uuid.UUID,
    email_id: uuid.UUID,
    sent_at: int,
) -> PreparedEmail:
    """Track ``draft`` as ``policy`` allows; ``sent_at`` is Unix seconds (see the module doc)."""
    if not draft.recipients:
        raise InvalidInput(_("An email needs at least one recipient."))
    if (
        draft.delivery_mode is DeliveryMode.PER_RECIPIENT and len(draft.recipients) > SHARED
    ):  # recipient indexes must fit in a token
        raise InvalidInput(_("Per-recipient emails can have at most {limit} recipients."
                             ).format(limit=SHARED))
    source = draft.html
    template = parse_template(source, keys) if source is not None and source.strip() else None
    opens, clicks, reasons = _decide(draft, policy, template)
    sign_for = _Signer(
        keys,
        account_id=account_id,
        email_id=email_id,
        sent_at=sent_at,
        base_url=policy.tracking_base_url,
        template=template,
    )

    withdrawal_text = (
        (policy.withdrawal_link_text or default_text(DEFAULT_LANGUAGE))
        if policy.withdrawal_link
        else None
    )

    def html_for(recipient: int | None, *, sender_copy: bool) -> str | None:
        if template is None:
            return draft.html
        return render(
            template,
            sign_for.pixel(recipient, sender_copy) if opens else None,
            sign_for.links(recipient, sender_copy) if clicks else None,
            footer_markup(sign_for.withdrawal(recipient, sender_copy), withdrawal_text)
            if withdrawal_text and (opens or clicks)
            else "",
        )

    everyone = tuple(recipient.address for recipient in draft.recipients)
    if draft.delivery_mode is DeliveryMode.SINGLE_MESSAGE:
        messages: tuple[PreparedMessage, ...] = (
            PreparedMessage(everyone, None, html_for(None, sender_copy=False), draft.text),
        )
    elif opens or clicks:
        messages = tuple(
            PreparedMessage((r.address,), i, html_for(i, sender_copy=False), draft.text)
            for i, r in enumerate(draft.recipients)
        )
    else:  # nothing differs between recipients: render once
        html = html_for(None, sender_copy=False)
        messages = tuple(
            PreparedMessage((r.address,), i, html, draft.text)
            for i, r in enumerate(draft.recipients)
        )
    return PreparedEmail(
        open_tracking=opens,
        click_tracking=clicks,
        not_tracked_reasons=reasons,
        links=tuple(TrackedLink(i, url) for i, url in enumerate(template.links))
        if template is not None and clicks
        else (),
        skipped_links=template.skipped_links if template is not None else (),
        removed_tracking=template.removed_tracking if template is not None else (),
        messages=messages,
        sender_copy=PreparedMessage(everyone, None, html_for(None, sender_copy=True), draft.text),
    )


def _decide(
    draft: Draft, policy: TrackingPolicy, template: HtmlTemplate | None
) -> tuple[bool, bool, tuple[str, ...]]:
    """Whether opens and clicks are tracked, and the reasons for what is not."""
    if not policy.tracking_enabled:  # R18 trumps everything
        return False, False, policy.not_tracked_reasons or (ACCOUNT_OFF,)
    track = policy.default_track if draft.track is None else draft.track  # R2
    if not track:
        return False, False, (EMAIL_OFF,)
    if template is None:  # R6, R13
        return False, False, (PLAIN_TEXT,)
    reasons: list[str] = []
    if draft.kind is EmailKind.MARKETING:  # R3, R12: seats do not matter here
        opens, clicks = policy.marketing_tracking, policy.marketing_link_tracking
        if not opens:
            reasons.append(MARKETING_OFF)
        elif not clicks:
            reasons.append(MARKETING_LINKS_OFF)
    else:
        opens, clicks = policy.open_tracking, policy.click_tracking  # R12
        if not (opens and clicks):
            reasons.extend(policy.not_tracked_reasons)
        if not reasons:
            reasons.extend(([] if opens else [NO_OPENS]) + ([] if clicks else [NO_CLICKS]))
    if clicks:
        if not template.links:
            clicks = False
            reasons.append(NO_LINKS)
        reasons.extend(reason for _, reason in template.skipped_links)
    return opens, clicks, tuple(dict.fromkeys(reasons))


class _Signer:
    """Signs the pixel and link URLs of one email for a given recipient."""

    def __init__(
        self,
        keys: TokenKeys,
        *,
        account_id: uuid.UUID,
        email_id: uuid.UUID,
        sent_at: int,
        base_url: str,
        template: HtmlTemplate | None,
    ) -> None:
        self._keys = keys
        self._account_id = account_id
        self._email_id = email_id
        self._sent_at = sent_at
        self._base_url = base_url
        self._links = () if template is None else template.links

    def pixel(self, recipient: int | None, sender_copy: bool) -> str:
        claims = TokenClaims(
            HitKind.OPEN, self._account_id, self._email_id, recipient, sender_copy, self._sent_at
        )
        return f"{self._base_url}/o/{sign(claims, self._keys)}.gif"

    def withdrawal(self, recipient: int | None, sender_copy: bool) -> str:
        claims = WithdrawalClaims(
            self._account_id, self._email_id, recipient, sender_copy, self._sent_at
        )
        return f"{self._base_url}/w/{sign_withdrawal(claims, self._keys)}"

    def links(self, recipient: int | None, sender_copy: bool) -> Sequence[str]:
        base, keys = f"{self._base_url}/c/", self._keys
        account_id, email_id, sent_at = self._account_id, self._email_id, self._sent_at
        return [
            base
            + sign(
                TokenClaims(
                    HitKind.CLICK, account_id, email_id, recipient, sender_copy, sent_at, i, url
                ),
                keys,
            )
            for i, url in enumerate(self._links)
        ]
