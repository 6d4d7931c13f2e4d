"""Where webhooks may go: URL rules, and addresses refused in every spelling (SSRF)."""

from __future__ import annotations

import logging

import pytest

from sendtrail.errors import InvalidInput
from sendtrail.notifications.targets import (
    TargetRefused,
    check_address,
    parse_webhook_url,
    pin_target,
)

REFUSED = [
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.1.2.3", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fc00::1", "a private address"),
    ("fd12:3456::1", "a private address"),
    ("169.254.169.254", "a link-local address"),  # cloud metadata
    ("fe80::1", "a link-local address"),
    ("fe80::1%eth0", "a link-local address"),
    ("224.0.0.1", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("0.0.0.0", "the unspecified address"),  # noqa: S104
    ("::", "the unspecified address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("100.127.255.254", "a shared (carrier-grade NAT) address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("192.0.2.10", "a private address"),  # documentation range
    ("198.18.0.1", "a private address"),  # benchmarking
    ("::ffff:127.0.0.1", "a loopback address (written as IPv6)"),
    ("::ffff:10.0.0.1", "a private address (written as IPv6)"),
    ("::ffff:169.254.169.254", "a link-local address (written as IPv6)"),
    ("2002:a00:1::1", "a private address (written as IPv6)"),  # 6to4 around 10.0.0.1
    ("::127.0.0.1", "a reserved address"),  # IPv4-compatible (deprecated)
    ("64:ff9b::a00:1", "a reserved address"),  # NAT64 around 10.0.0.1
    ("2001:db8::1", "a private address"),
    # Regression: deprecated site-local IPv6 passed as global on this Python.
    ("fec0::1", "a site-local address"),
    ("feff:ffff::1", "a site-local address"),
    # IETF protocol assignments, including the two Python calls global (PCP/TURN anycast).
    ("192.0.0.1", "an IETF protocol address"),
    ("192.0.0.9", "an IETF protocol address"),
    ("192.0.0.10", "an IETF protocol address"),
    ("::ffff:192.0.0.9", "an IETF protocol address (written as IPv6)"),
    ("2002:c000:9::1", "an IETF protocol address (written as IPv6)"),  # 6to4 around it
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_non_public_addresses_are_refused_with_the_reason(address: str, reason: str) -> None:
    assert check_address(address, allow_loopback=False) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111",
                                     "::ffff:93.184.215.14"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert check_address(address, allow_loopback=False) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_the_loopback_setting_allows_loopback_only(address: str) -> None:
    assert check_address(address, allow_loopback=True) is None


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "0.0.0.0",  # noqa: S104
                                     "fe80::1",
                                     "::ffff:10.0.0.1", "100.64.0.1"])
def test_the_loopback_setting_never_allows_private_or_link_local(address: str) -> None:
    assert check_address(address, allow_loopback=True) is not None


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://localhost/hook",  # resolved by the system: /etc/hosts
    "http://LOCALHOST.:9000/",
])
async def test_loopback_in_any_spelling_is_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="loopback address"):
        await pin_target(url, allow_loopback=False)


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://167772161/", "http://0xa.0.0.1/",
                                 "https://[fd00::1]/", "http://169.254.169.254/latest/meta-data"])
async def test_private_and_link_local_literals_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match=r"private address|link-local address"):
        await pin_target(url, allow_loopback=True)


async def test_a_name_is_refused_if_any_of_its_addresses_is_not_public(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"hooks.example.com": ["93.184.215.14", "10.0.0.7"]}[host]

    with caplog.at_level(logging.INFO, logger="sendtrail.webhooks"), \
            pytest.raises(TargetRefused) as refused:
        await pin_target("https://hooks.example.com/in", allow_loopback=False, resolver=resolver)
    # The answer does not map internal DNS (no resolved address); the log has it.
    assert refused.value.message == ("Webhooks may only be sent to public internet "
                                     "addresses; hooks.example.com is not one.")
    assert "10.0.0.7" not in refused.value.message
    assert any("hooks.example.com" in r.getMessage() and "10.0.0.7" in r.getMessage()
               and r.levelno == logging.INFO for r in caplog.records)


async def test_a_literal_address_is_refused_naming_only_what_was_written() -> None:
    with pytest.raises(TargetRefused) as refused:
        await pin_target("http://[fec0::5]/in", allow_loopback=True)
    assert refused.value.message == (
        "Webhooks may not be sent to fec0::5: it is a site-local address.")


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetRefused, match=r"does not resolve"):
        await pin_target("https://nowhere.example/", allow_loopback=False, resolver=resolver)


async def test_the_request_goes_to_the_checked_address_with_the_name_in_host_and_sni() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["2606:4700:4700::1111", "1.1.1.1"]

    target = await pin_target("https://Hooks.Example.com:8443/in?x=1", allow_loopback=False,
                              resolver=resolver)
    assert target.url == "https://[2606:4700:4700::1111]:8443/in?x=1"
    assert (target.address, target.host_header, target.sni_hostname) == (
        "2606:4700:4700::1111", "hooks.example.com:8443", "hooks.example.com")
    plain = await pin_target("http://hooks.example.com/in", allow_loopback=False,
                             resolver=resolver)
    assert (plain.url, plain.host_header, plain.sni_hostname) == (
        "http://[2606:4700:4700::1111]/in", "hooks.example.com", None)


@pytest.mark.parametrize(("url", "message"), [
    ("", "Give the URL"),
    ("ftp://hooks.example.com/", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("hooks.example.com/in", "must start with https://"),
    ("https://", "needs a host name"),
    ("https:///path", "needs a host name"),
    ("https://user:pw@hooks.example.com/", "no user name or password"),
    ("https://token@hooks.example.com/", "no user name or password"),
    ("https://hooks.example.com/a b", "spaces or control characters"),
    ("https://hooks.example.com:99999/", "not a valid URL"),
    ("http://0177.0.0.1/", "not a valid URL"),  # octal-dotted IPv4: ambiguous, refused
    ("https://hooks.example.com/" + "a" * 2000, "at most 2000 characters"),
])
def test_malformed_urls_are_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_webhook_url(url)


def test_a_plain_https_url_is_accepted() -> None:
    parsed = parse_webhook_url("  https://Hooks.Example.com/in?x=1  ")
    assert (parsed.scheme, parsed.host, parsed.port) == ("https", "hooks.example.com", 443)
