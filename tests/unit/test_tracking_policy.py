"""compute_tracking_policy: account settings x seat x user defaults -> the engine's policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendtrail.tenancy.authz import Authorizer
from sendtrail.tenancy.policy import compute_tracking_policy
from sendtrail.tenancy.values import PAID_SEATS, AccountSettingsValue, Seat
from sendtrail.tracking.core.policy import TrackingPolicy

BASE_URL = "https://t.sendtrail.test"
DEFAULTS = AccountSettingsValue()


@pytest.fixture(scope="module")
def authz() -> Authorizer:
    return Authorizer()


def policy(
    authz: Authorizer,
    settings: AccountSettingsValue = DEFAULTS,
    seat: Seat = Seat.SALES_PROFESSIONAL,
    *,
    tracking_base_url: str = BASE_URL,
    user_default_track: bool | None = None,
    user_default_log: bool | None = None,
) -> TrackingPolicy:
    return compute_tracking_policy(
        settings,
        seat,
        authz=authz,
        tracking_base_url=tracking_base_url,
        user_default_track=user_default_track,
        user_default_log=user_default_log,
    )


def test_free_seat_has_no_click_tracking_and_says_why(authz: Authorizer) -> None:
    result = policy(authz, seat=Seat.FREE)  # R12
    assert result.click_tracking is False
    assert result.open_tracking is True  # opens are for every seat
    assert any("free seat" in reason.lower() for reason in result.not_tracked_reasons)


@pytest.mark.parametrize("seat", PAID_SEATS, ids=str)
def test_paid_seat_tracks_clicks_with_no_reason_given(authz: Authorizer, seat: Seat) -> None:
    result = policy(authz, seat=seat)  # R12
    assert result.tracking_enabled is True
    assert result.open_tracking is True
    assert result.click_tracking is True
    assert result.not_tracked_reasons == ()


@pytest.mark.parametrize("seat", list(Seat), ids=str)
def test_account_tracking_off_disables_everything_for_every_seat(
    authz: Authorizer, seat: Seat
) -> None:
    result = policy(authz, replace(DEFAULTS, tracking_enabled=False), seat)  # R18
    assert result.tracking_enabled is False
    assert result.open_tracking is False
    assert result.click_tracking is False
    assert result.marketing_tracking is False
    assert result.marketing_link_tracking is False
    assert len(result.not_tracked_reasons) == 1
    assert "turned off for the whole account" in result.not_tracked_reasons[0]
    # R18 trumps R12: the free-seat reason would only confuse.
    assert not any("free seat" in r.lower() for r in result.not_tracked_reasons)


@pytest.mark.parametrize(
    ("marketing", "links", "expected_marketing", "expected_links"),
    [
        (True, True, True, True),
        (True, False, True, False),
        (False, True, False, False),  # link tracking needs marketing tracking
        (False, False, False, False),
    ],
    ids=["both-on", "links-off", "marketing-off-links-on", "both-off"],
)
def test_marketing_link_tracking_requires_marketing_tracking(
    authz: Authorizer,
    marketing: bool,
    links: bool,
    expected_marketing: bool,
    expected_links: bool,
) -> None:
    settings = replace(DEFAULTS, marketing_tracking=marketing, marketing_link_tracking=links)
    result = policy(authz, settings)  # R3, R12
    assert result.marketing_tracking is expected_marketing
    assert result.marketing_link_tracking is expected_links


def test_marketing_tracking_is_on_by_default(authz: Authorizer) -> None:
    result = policy(authz)  # R3
    assert result.marketing_tracking is True
    assert result.marketing_link_tracking is True


def test_marketing_link_tracking_does_not_depend_on_seat(authz: Authorizer) -> None:
    # R12: marketing link tracking is an account setting, not a seat entitlement.
    assert policy(authz, seat=Seat.FREE).marketing_link_tracking is True


@pytest.mark.parametrize(
    ("account_track", "account_log", "user_track", "user_log", "track", "log"),
    [
        (True, True, None, None, True, True),
        (False, False, None, None, False, False),
        (True, True, False, False, False, False),
        (False, False, True, True, True, True),
        (True, False, None, True, True, True),
        (False, True, True, None, True, True),
    ],
    ids=[
        "account-defaults-on",
        "account-defaults-off",
        "user-turns-both-off",
        "user-turns-both-on",
        "user-overrides-log-only",
        "user-overrides-track-only",
    ],
)
def test_user_defaults_override_account_defaults(
    authz: Authorizer,
    *,
    account_track: bool,
    account_log: bool,
    user_track: bool | None,
    user_log: bool | None,
    track: bool,
    log: bool,
) -> None:
    settings = replace(DEFAULTS, default_track=account_track, default_log=account_log)
    result = policy(authz, settings, user_default_track=user_track, user_default_log=user_log)
    assert (result.default_track, result.default_log) == (track, log)  # R2


@pytest.mark.parametrize("privacy", [True, False])
@pytest.mark.parametrize("suppress", [True, False])
def test_privacy_mode_and_self_open_suppression_pass_through(
    authz: Authorizer, privacy: bool, suppress: bool
) -> None:
    settings = replace(DEFAULTS, privacy_mode=privacy, self_open_suppression=suppress)
    result = policy(authz, settings)
    assert result.privacy_mode is privacy  # R16
    assert result.self_open_suppression is suppress  # R9


def test_privacy_mode_off_and_self_open_suppression_on_by_default(authz: Authorizer) -> None:
    result = policy(authz)
    assert result.privacy_mode is False  # R16
    assert result.self_open_suppression is True  # R9


@pytest.mark.parametrize(
    "url",
    [BASE_URL, f"{BASE_URL}/", f"{BASE_URL}//"],
    ids=["bare", "one-slash", "two-slashes"],
)
def test_tracking_base_url_has_no_trailing_slash(authz: Authorizer, url: str) -> None:
    assert policy(authz, tracking_base_url=url).tracking_base_url == BASE_URL
