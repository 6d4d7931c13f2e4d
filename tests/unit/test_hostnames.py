"""Parsing the hostname a customer types for a custom tracking domain (issue 6)."""

from __future__ import annotations

import re

import pytest

from sendtrail.domains.hostnames import (
    TOKEN_PREFIX,
    Hostname,
    parse_hostname,
    verification_record_name,
    verification_token,
)
from sendtrail.errors import InvalidInput

PLATFORM = ("track.sendtrail.test", "https://app.sendtrail.test/")


def parse(text: str) -> Hostname:
    return parse_hostname(text, platform_domains=PLATFORM)


@pytest.mark.parametrize(
    ("typed", "ascii_name", "unicode_name"),
    [
        ("links.example.com", "links.example.com", "links.example.com"),
        ("  Links.EXAMPLE.com  ", "links.example.com", "links.example.com"),
        ("links.example.com.", "links.example.com", "links.example.com"),
        ("bücher.example", "xn--bcher-kva.example", "bücher.example"),
        ("BÜCHER.Example.", "xn--bcher-kva.example", "bücher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"),
        ("links.bücher.example", "links.xn--bcher-kva.example", "links.bücher.example"),
        ("faß.de", "xn--fa-hia.de", "faß.de"),  # IDNA 2008: ß is kept, not mapped to ss
        ("links。example。com", "links.example.com", "links.example.com"),  # full-width dots
        ("x1-y.example.co.uk", "x1-y.example.co.uk", "x1-y.example.co.uk"),
        ("links.sendtrail.test", "links.sendtrail.test", "links.sendtrail.test"),  # beside
        ("track.sendtrail.test.example.com", "track.sendtrail.test.example.com",
         "track.sendtrail.test.example.com"),
        (f"{'a' * 63}.example", f"{'a' * 63}.example", f"{'a' * 63}.example"),
    ],
)
def test_hostnames_are_normalised_to_punycode_and_shown_in_unicode(
    typed: str, ascii_name: str, unicode_name: str
) -> None:
    assert parse(typed) == Hostname(ascii=ascii_name, unicode=unicode_name)


def test_an_idn_is_displayed_both_ways_and_stored_as_punycode() -> None:
    hostname = parse("Bücher.example")
    assert str(hostname) == "xn--bcher-kva.example"
    assert hostname.display == "bücher.example (xn--bcher-kva.example)"
    assert parse("links.example.com").display == "links.example.com"


def test_the_longest_hostname_is_one_whose_ownership_record_fits_in_dns() -> None:
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 43])  # 235 characters
    assert verification_record_name(parse(name)) == f"_sendtrail-verify.{name}"  # 253
    with pytest.raises(InvalidInput, match=r"is 236 characters long .* the limit is 235"):
        parse(name + "d")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a hostname, e.g. links.example.com."),
        ("   ", "Enter a hostname"),
        ("https://links.example.com/welcome?x=1",
         "Enter just the hostname, e.g. links.example.com, not https://links.example.com/"),
        ("http://Links.Example.com", "Enter just the hostname, e.g. links.example.com, not http"),
        ("links.example.com/path", "Enter just the hostname, e.g. links.example.com, not"),
        ("links.example.com:8443", "Enter the hostname without a port, e.g. links.example.com."),
        ("someone@example.com", "looks like an email address"),
        ("*.example.com", "Wildcards are not supported"),
        ("links.*.example.com", "Wildcards are not supported"),
        ("_dmarc.example.com", "'_dmarc' contains an underscore"),
        ("my_links.example.com", "contains an underscore"),
        ("192.0.2.10", "'192.0.2.10' is an IP address, not a hostname"),
        ("2001:db8::1", "is an IP address"),
        ("[2001:db8::1]", "is an IP address"),
        ("1.2.3", "looks like an IP address"),
        ("example.123", "looks like an IP address"),
        ("com", "is a single name (or a top-level domain such as .com)"),
        ("localhost.", "is a single name"),
        ("links..example.com", "has an empty part"),
        (".example.com", "has an empty part"),
        ("links example.com", "cannot contain spaces"),
        ("links!.example.com", "'!' cannot be used in a hostname"),
        ("-links.example.com", "cannot start or end with '-'"),
        ("links-.example.com", "cannot start or end with '-'"),
        ("ab--cd.example.com", "'--' cannot be the 3rd and 4th characters"),
        ("xn--zz.example.com", "is not valid punycode"),
        ("☃.example.com", "'☃' cannot be used in a hostname"),
        ("😀.example", "'😀' cannot be used in a hostname"),
        (f"{'a' * 64}.example.com", "each part between dots can be at most 63 characters"),
        (f"{'ü' * 60}.example.com", "each part between dots can be at most 63 characters"),
        ("x" * 5000, "far too long for a hostname"),
        (".".join(["a" * 63] * 4), "is 255 characters long (as stored in DNS); the limit is 235"),
        ("track.sendtrail.test", "links on our own domain are the default; add a hostname of"),
        ("Links.Track.Sendtrail.Test.", "is on track.sendtrail.test, one of our own domains"),
        ("app.sendtrail.test", "is on app.sendtrail.test, one of our own domains"),
        ("a.b.app.sendtrail.test", "one of our own domains"),
        # Issue 12, defect 7: the domain above ours is the platform's too.
        ("sendtrail.test", "'sendtrail.test' is a parent of track.sendtrail.test, one of our"),
        ("Sendtrail.Test.", "is a parent of track.sendtrail.test, one of our own domains"),
    ],
)
def test_unusable_hostnames_are_refused_with_a_message_saying_what_to_type(
    typed: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(typed)
    assert message in refused.value.message
    assert refused.value.code == "BAD_USER_INPUT"


def test_platform_domains_are_compared_in_punycode() -> None:
    with pytest.raises(InvalidInput, match="one of our own domains"):
        parse_hostname("links.xn--bcher-kva.example", platform_domains=["Bücher.example."])


def test_without_platform_domains_any_valid_hostname_is_accepted() -> None:
    assert parse_hostname("track.sendtrail.test", platform_domains=()).ascii == (
        "track.sendtrail.test"
    )


def test_the_ownership_record_is_named_after_the_punycode_hostname() -> None:
    assert verification_record_name(parse("Bücher.example")) == (
        "_sendtrail-verify.xn--bcher-kva.example"
    )
    assert verification_record_name("Links.Example.com.") == "_sendtrail-verify.links.example.com"


def test_verification_tokens_are_prefixed_url_safe_and_fresh() -> None:
    tokens = {verification_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert token.startswith(TOKEN_PREFIX)
        assert re.fullmatch(r"sendtrail-verify=[A-Za-z0-9_-]{32}", token)
