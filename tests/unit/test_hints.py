"""multiple_open_hints and network_of: explaining several opens in plain language (R7, R8)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendtrail.tracking.core.hints import OpenSeen, multiple_open_hints, network_of

T0 = datetime(2025, 3, 4, 9, 15, tzinfo=UTC)
PREVIEW = "preview pane"
NETWORKS = "different networks"
INFERRED = "inferred from a click or a reply"


def seen(seconds: float, ip: str | None, *, inferred: bool = False) -> OpenSeen:
    return OpenSeen(at=T0 + timedelta(seconds=seconds), ip=ip, inferred=inferred)


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("203.0.113.255", "203.0.113.0/24"),
        ("10.1.2.3", "10.1.2.0/24"),
        ("2001:db8:1:2::3", "2001:db8:1::/48"),
        ("2001:db8:1:ffff:ffff:ffff:ffff:ffff", "2001:db8:1::/48"),
        ("2001:DB8:0001::1", "2001:db8:1::/48"),
        ("::1", "::/48"),
        (None, None),
        ("", None),
        ("not an address", None),
        ("999.1.1.1", None),
        ("203.0.113", None),
        ("203.0.113.7/24", None),
        ("2001:db8::g", None),
        ("203.0.113.7, 198.51.100.1", None),
    ],
)
def test_network_of(ip: str | None, network: str | None) -> None:
    assert network_of(ip) == network


@pytest.mark.parametrize(
    "opens", [[], [seen(0, "203.0.113.7")], [seen(0, None, inferred=True)]]
)
def test_one_open_needs_no_explanation(opens: list[OpenSeen]) -> None:
    assert multiple_open_hints(opens) == ()


def test_count_whatever_the_order_and_no_date_of_its_own() -> None:
    hints = multiple_open_hints([seen(7200, "203.0.113.7"), seen(0, "203.0.113.7"),
                                 seen(3600, "203.0.113.7")])
    # The page states the first and last open in the reader's own format beside the hints;
    # a second, UTC rendering of the same times contradicted it (issue 15, defect 1).
    assert hints[0].startswith("Opened 3 times. Multiple opens are normal")
    assert not any("UTC" in hint or "2025" in hint for hint in hints)
    assert "the pixel loads every time the email is viewed" in hints[0]
    assert len(hints) == 1  # an hour apart, one network: nothing more to say


# (case, opens, expected hints besides the count)
CASES = [
    ("quick-same-address", [seen(0, "203.0.113.7"), seen(20, "203.0.113.7")], {PREVIEW}),
    ("quick-same-24", [seen(0, "203.0.113.7"), seen(45, "203.0.113.200")], {PREVIEW}),
    ("exactly-a-minute", [seen(0, "203.0.113.7"), seen(60, "203.0.113.8")], {PREVIEW}),
    ("just-over-a-minute", [seen(0, "203.0.113.7"), seen(61, "203.0.113.8")], set()),
    ("quick-other-24", [seen(0, "203.0.113.7"), seen(10, "203.0.114.7")], {NETWORKS}),
    ("quick-pair-among-slow", [seen(0, "198.51.100.1"), seen(3600, "203.0.113.7"),
                               seen(3630, "203.0.113.9")], {PREVIEW, NETWORKS}),
    ("slow-other-networks", [seen(0, "203.0.113.7"), seen(86400, "198.51.100.9")],
     {NETWORKS}),
    ("ipv6-same-48", [seen(0, "2001:db8:1:1::1"), seen(5, "2001:db8:1:ffff::2")], {PREVIEW}),
    ("ipv6-other-48", [seen(0, "2001:db8:1::1"), seen(5, "2001:db8:2::1")], {NETWORKS}),
    ("ipv4-and-ipv6", [seen(0, "203.0.113.7"), seen(3600, "2001:db8::1")], {NETWORKS}),
    ("bad-ips-ignored", [seen(0, "203.0.113.7"), seen(3600, "garbage"),
                         seen(7200, "999.0.0.1"), seen(9000, None)], set()),
    ("inferred", [seen(0, None, inferred=True), seen(3600, "203.0.113.7")], {INFERRED}),
    ("inferred-then-networks", [seen(0, None, inferred=True), seen(600, "203.0.113.7"),
                                seen(1200, "198.51.100.7")], {INFERRED, NETWORKS}),
]


@pytest.mark.parametrize(("opens", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_multiple_open_hints(opens: list[OpenSeen], expected: set[str]) -> None:
    hints = multiple_open_hints(opens)
    assert hints[0].startswith(f"Opened {len(opens)} times")  # R8: count, first and last
    found = {key for key in (PREVIEW, NETWORKS, INFERRED) if any(key in h for h in hints)}
    assert found == expected
    assert len(hints) == 1 + len(expected)
    for hint in hints:
        assert hint[0].isupper()
        assert hint.endswith(".")


def test_several_networks_do_not_mean_several_people() -> None:
    hints = multiple_open_hints([seen(0, "203.0.113.7"), seen(3600, "198.51.100.9"),
                                 seen(7200, "2001:db8::1"), seen(7300, "2001:db8::2")])
    (networks,) = [hint for hint in hints if NETWORKS in hint]
    assert networks.startswith("Opened from 3 different networks.")  # R8
    for words in ("phone and a laptop", "changing IP address", "a forward",
                  "pasted into a new message",
                  "several IP addresses do not necessarily mean several people",
                  "forwarded to are attributed to the original recipient"):
        assert words.lower() in networks.lower(), words


def test_inferred_open_hint_says_why_in_words() -> None:  # R7
    hints = multiple_open_hints([seen(0, "203.0.113.7"), seen(30, None, inferred=True)])
    (inferred,) = [hint for hint in hints if INFERRED in hint]
    assert "images blocked" in inferred
    assert inferred.endswith("no network of its own.")  # issue 15, defect 1: no "(R7)"


def test_unknown_addresses_are_not_the_same_network() -> None:
    hints = multiple_open_hints([seen(0, None), seen(10, "not an address")])
    assert not any(PREVIEW in hint for hint in hints)


def _reference_network(ip: str) -> str | None:
    """What ``ipaddress`` alone says (network_of answers plain IPv4 without it)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


_PARTS = st.one_of(st.integers(0, 300).map(str), st.sampled_from(
    ["", "00", "01", "007", "1e2", "+1", " 1", "\u0661", "\u00b2", "255 ", "0x1f"]))


@given(st.lists(_PARTS, min_size=3, max_size=5).map(".".join))
def test_network_of_dotted_strings_agrees_with_ipaddress(ip: str) -> None:
    assert network_of(ip) == _reference_network(ip)
