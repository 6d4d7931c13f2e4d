"""Who is notified of what (R9, R10, R12, R15-R18, R22), table-driven."""

from __future__ import annotations

import pytest

from sendtrail.notifications.rules import NotificationPreference as Pref
from sendtrail.notifications.rules import decide

BASE = {"engagement_type": "open", "verdict": "human", "email_kind": "sales",
        "tracking_enabled": True, "click_entitled": True,
        "preference": Pref.OPENS_AND_CLICKS, "recipient_address": "ann@client.test"}


@pytest.mark.parametrize(
    ("changes", "notify", "who"),
    [
        ({}, True, "ann@client.test"),                                     # R22
        ({"recipient_address": None}, True, "Someone"),                    # R15, R16
        ({"verdict": "machine"}, False, None),                             # R10
        ({"verdict": "self"}, False, None),                                # R9
        ({"tracking_enabled": False}, False, None),                        # R18
        ({"email_kind": "marketing"}, False, None),                        # R22: one-to-one
        ({"engagement_type": "click", "click_entitled": False}, False, None),  # R12
        ({"engagement_type": "click"}, True, "ann@client.test"),
        ({"engagement_type": "reply"}, True, "ann@client.test"),
        ({"preference": Pref.NONE}, False, None),
        ({"preference": Pref.CLICKS}, False, None),
        ({"preference": Pref.OPENS, "engagement_type": "click"}, False, None),
        ({"preference": Pref.CLICKS, "engagement_type": "click"}, True, "ann@client.test"),
    ],
)
def test_who_is_notified_of_what(changes: dict[str, object], notify: bool,
                                 who: str | None) -> None:
    decision = decide(**{**BASE, **changes})  # type: ignore[arg-type]
    assert decision.notify is notify
    assert decision.who == who
    assert decision.reason.endswith(".")
