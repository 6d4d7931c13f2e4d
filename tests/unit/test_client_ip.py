"""client_ip: the peer, or the rightmost untrusted X-Forwarded-For hop behind trusted proxies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendtrail.client_ip import client_ip, scope_client_ip
from sendtrail.errors import InvalidInput
from sendtrail.settings import Settings

PROXY = "10.0.0.5"
TRUSTED = ("10.0.0.5",)


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        # Untrusted peers: X-Forwarded-For is whatever the client wrote, so it is ignored.
        ("203.0.113.9", ["1.2.3.4"], TRUSTED, "203.0.113.9"),
        ("203.0.113.9", ["1.2.3.4, 10.0.0.5"], TRUSTED, "203.0.113.9"),
        ("203.0.113.9", [], TRUSTED, "203.0.113.9"),
        # No trusted proxies configured: the peer, whatever the headers say.
        (PROXY, ["1.2.3.4"], (), PROXY),
        ("2001:db8::1", ["1.2.3.4"], TRUSTED, "2001:db8::1"),
    ],
    ids=["spoofed-xff", "spoofed-chain", "no-header", "no-trust-config", "ipv6-peer"],
)
def test_untrusted_peer_address_is_used_and_xff_ignored(
    peer: str, headers: list[str], trusted: tuple[str, ...], expected: str
) -> None:
    assert client_ip(peer, headers, trusted) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["198.51.100.7"], "198.51.100.7"),
        # The client may prepend anything; only the hop the proxy appended is believed.
        (["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
        # Several headers are one list, in order.
        (["6.6.6.6", "198.51.100.7"], "198.51.100.7"),
        ([" 6.6.6.6 ,  198.51.100.7 "], "198.51.100.7"),
        (["2001:db8::7"], "2001:db8::7"),
    ],
    ids=["single-hop", "rightmost-wins", "multiple-headers", "whitespace", "ipv6-client"],
)
def test_trusted_proxy_yields_rightmost_untrusted_hop(headers: list[str], expected: str) -> None:
    assert client_ip(PROXY, headers, TRUSTED) == expected


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        (
            "10.0.0.1",
            ["198.51.100.7, 10.0.0.3, 10.0.0.2"],
            ("10.0.0.1", "10.0.0.2", "10.0.0.3"),
            "198.51.100.7",
        ),
        (
            "10.0.0.1",
            ["6.6.6.6, 198.51.100.7", "10.0.0.3", "10.0.0.2"],
            ("10.0.0.1", "10.0.0.2", "10.0.0.3"),
            "198.51.100.7",
        ),
        # Every hop trusted: the leftmost (furthest) proxy is as close to a client as we get.
        ("10.0.0.1", ["10.0.0.3, 10.0.0.2"], ("10.0.0.0/8",), "10.0.0.3"),
    ],
    ids=["three-proxies", "chain-across-headers", "all-hops-trusted"],
)
def test_chain_of_trusted_proxies_is_skipped(
    peer: str, headers: list[str], trusted: tuple[str, ...], expected: str
) -> None:
    assert client_ip(peer, headers, trusted) == expected


@pytest.mark.parametrize(
    ("peer", "trusted", "expected"),
    [
        ("10.1.2.3", ("10.0.0.0/8",), "198.51.100.7"),
        ("172.16.9.9", ("10.0.0.0/8", "172.16.0.0/12"), "198.51.100.7"),
        ("fd00::2", ("fd00::/8",), "198.51.100.7"),
        # Host bits set in the configured network are tolerated, not an error.
        ("10.1.2.3", ("10.1.2.1/24",), "198.51.100.7"),
        ("11.0.0.1", ("10.0.0.0/8",), "11.0.0.1"),
    ],
    ids=["ipv4-cidr", "second-cidr", "ipv6-cidr", "host-bits-set", "outside-cidr"],
)
def test_cidr_ranges_are_trusted(peer: str, trusted: tuple[str, ...], expected: str) -> None:
    assert client_ip(peer, ["198.51.100.7"], trusted) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # A non-address hop can never be a trusted proxy, so the walk stops there.
        (["198.51.100.7, garbage"], "garbage"),
        (["198.51.100.7, unknown"], "unknown"),
        # Empty hops (",,") are skipped.
        (["198.51.100.7,, ,"], "198.51.100.7"),
        ([""], PROXY),
        ([], PROXY),
    ],
    ids=["garbage-hop", "unknown-hop", "empty-hops", "empty-header", "no-header"],
)
def test_garbage_and_empty_hops(headers: list[str], expected: str) -> None:
    assert client_ip(PROXY, headers, TRUSTED) == expected


@pytest.mark.parametrize("peer", [None, "", "not-an-ip"], ids=["none", "empty", "garbage"])
def test_missing_or_garbage_peer_is_never_trusted(peer: str | None) -> None:
    assert client_ip(peer, ["198.51.100.7"], ("0.0.0.0/0",)) == (peer or "unknown")


def _scope(peer: str | None, *lines: bytes) -> dict[str, object]:
    headers = [(b"host", b"t.test"), *((b"x-forwarded-for", line) for line in lines)]
    return {"type": "http", "client": (peer, 5000) if peer else None, "headers": headers}


def test_every_x_forwarded_for_line_of_a_request_is_read_in_order() -> None:
    # Issue 12, defect 3: sign-in and tracking read the same lines through one helper (the
    # hot path used to keep only the last line, sign-in all of them).
    scope = _scope(PROXY, b"203.0.113.9", b"198.51.100.7, 10.0.0.5")
    assert scope_client_ip(scope, TRUSTED) == "198.51.100.7"
    assert scope_client_ip(scope, ()) == PROXY
    assert scope_client_ip(_scope("203.0.113.9", b"1.2.3.4"), TRUSTED) == "203.0.113.9"
    assert scope_client_ip(_scope(None, b"1.2.3.4"), TRUSTED) == "unknown"


@pytest.mark.parametrize("value", ["nginx", "10.0.0.0/33", "127.0.0.1, proxy.internal"])
def test_trusted_proxies_that_are_not_addresses_stop_the_start_in_words(
    tmp_path: Path, value: str
) -> None:
    # A name or typo would otherwise fail every sign-in and tracking hit (500s) at run time.
    with pytest.raises(InvalidInput, match="is not an IP address or network"):
        Settings.from_env({"SENDTRAIL_DATA_DIR": str(tmp_path),
                           "SENDTRAIL_TRUSTED_PROXIES": value})
    settings = Settings.from_env({"SENDTRAIL_DATA_DIR": str(tmp_path),
                                  "SENDTRAIL_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1"})
    assert settings.http.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
