"""The ``TrackingPolicy``: everything the engine needs to know about an account and sender."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrackingPolicy"]


@dataclass(frozen=True)
class TrackingPolicy:
    """Immutable policy for one sender of one account, computed by ``tenancy``.

    The engine never looks at seats or settings rows; it reads these flags and, when it
    declines to track something, repeats the matching reason to the user (R6, R25).
    """

    tracking_enabled: bool
    """R18: off means no pixel, no tracked link and no notification for anyone."""
    open_tracking: bool
    """R5, R12: every seat may track opens while tracking is on."""
    click_tracking: bool
    """R12: one-to-one click tracking needs a paid Sales seat."""
    marketing_tracking: bool
    """R3: marketing emails are tracked (opens) and their activity shown."""
    marketing_link_tracking: bool
    """R12: links in marketing emails are rewritten."""
    privacy_mode: bool
    """R16: contacts with neither a legal basis nor tracking consent: the exempt purpose."""
    self_open_suppression: bool
    """R9, R14: the sender's own opens and clicks are kept out of notifications."""
    default_track: bool
    """R2: whether a new email is tracked when the caller does not say."""
    default_log: bool
    """R2: whether a new email is logged when the caller does not say."""
    tracking_base_url: str
    """Scheme and host (no trailing slash) of pixels and tracked links for this sender."""
    not_tracked_reasons: tuple[str, ...] = ()
    """Plain sentences saying what this policy turns off, for ``notTrackedReasons``."""
    withdrawal_link: bool = False
    """R29: every tracked email carries a footer link to withdraw tracking consent."""
    withdrawal_link_text: str | None = None
    """That link's words, the account's own (None: the default, in the account's language;
    accounts have no language setting yet, so English — never the sender's web admin
    language, which says nothing about the recipients')."""
