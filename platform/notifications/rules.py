"""Who is notified of what (R9, R10, R15-R18, R22): a pure decision per stored engagement."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["NotificationPreference", "NotifyDecision", "decide"]


class NotificationPreference(enum.StrEnum):
    """What a sender wants to hear about, live (a per-user setting)."""

    OPENS_AND_CLICKS = "opens_and_clicks"
    OPENS = "opens"
    CLICKS = "clicks"
    NONE = "none"


@dataclass(frozen=True)
class NotifyDecision:
    notify: bool
    reason: str
    """Why (not): a plain sentence, for diagnostics."""
    who: str | None = None
    """The name shown: the recipient's address, or 'Someone' (R15, R16)."""


def decide(
    *,
    engagement_type: str,
    verdict: str,
    email_kind: str,
    tracking_enabled: bool,
    click_entitled: bool,
    preference: NotificationPreference,
    recipient_address: str | None,
) -> NotifyDecision:
    """Whether the sender of a tracked one-to-one email is notified of this engagement.

    ``recipient_address`` is ``None`` when the activity is attributed to 'Someone' (a shared
    pixel, or privacy mode without a legal basis): the notification then says 'Someone'.
    """
    if not tracking_enabled:
        return NotifyDecision(False, "Tracking is off for the account.")
    if email_kind != "sales":
        return NotifyDecision(False, "Marketing emails do not notify their sender.")
    if verdict != "human":
        return NotifyDecision(
            False, "Machine and self hits never notify."
        )
    if engagement_type == "click" and not click_entitled:
        return NotifyDecision(False, "Click notifications need a paid Sales seat.")
    wanted = {
        NotificationPreference.OPENS_AND_CLICKS: {"open", "click", "reply"},
        NotificationPreference.OPENS: {"open", "reply"},
        NotificationPreference.CLICKS: {"click", "reply"},
        NotificationPreference.NONE: set(),
    }[preference]
    if engagement_type not in wanted:
        return NotifyDecision(False, "The sender turned these notifications off.")
    return NotifyDecision(True, "A recipient engaged with a tracked email.",
                          who=recipient_address or "Someone")
