"""Compute the engine's ``TrackingPolicy`` from account settings and the sender's seat."""

from __future__ import annotations

from sendtrail.i18n import N_
from sendtrail.tenancy.authz import Authorizer
from sendtrail.tenancy.values import AccountSettingsValue, Seat
from sendtrail.tracking.core import TrackingPolicy

__all__ = ["compute_tracking_policy"]


def compute_tracking_policy(
    settings: AccountSettingsValue,
    seat: Seat,
    *,
    authz: Authorizer,
    tracking_base_url: str,
    user_default_track: bool | None = None,
    user_default_log: bool | None = None,
) -> TrackingPolicy:
    """The sender's policy: R18 trumps everything, then R12's seat entitlement, then R2."""
    # Stored with the email in English (N_): translated where shown, in the reader's language.
    reasons: list[str] = []
    enabled = settings.tracking_enabled
    if not enabled:
        reasons.append(N_("Tracking is turned off for the whole account by an admin."))
    clicks = enabled and authz.has_feature(seat, "click_tracking")
    if enabled and not clicks:
        reasons.append(
            N_("Free seat: clicks are not tracked (click tracking needs a paid seat).")
        )
    return TrackingPolicy(
        tracking_enabled=enabled,
        open_tracking=enabled,
        click_tracking=clicks,
        marketing_tracking=enabled and settings.marketing_tracking,
        marketing_link_tracking=enabled
        and settings.marketing_tracking
        and settings.marketing_link_tracking,
        privacy_mode=settings.privacy_mode,
        self_open_suppression=settings.self_open_suppression,
        default_track=settings.default_track if user_default_track is None else user_default_track,
        default_log=settings.default_log if user_default_log is None else user_default_log,
        tracking_base_url=tracking_base_url.rstrip("/"),
        not_tracked_reasons=tuple(reasons),
        withdrawal_link=settings.withdrawal_link,
        withdrawal_link_text=settings.withdrawal_link_text or None,
    )
