"""safe_location: the last check between a verified click token and the Location header (R11)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sendtrail.tracking.core.redirect import safe_location

KEPT = [  # http(s) destinations leave exactly as prepared (R11: "unchanged")
    "https://good.test/",
    "http://good.test",
    "https://good.test/a/b?x=1&y=2#frag",
    "https://good.test:8443/p?q#f",
    "http://good.test:80/",
    "https://good.test:65535/",
    "http://127.0.0.1:8080/admin",
    "http://[::1]/",
    "http://[::1]:8080/a?b#c",
    "https://[2001:db8::1]:8443/x?y=z#w",
    "https://good.test/a%20b?c=%2F&d=%0D%0A#%23",
    "https://good.test/p;params?q=a:b@c!$'()*+,;=~",
    "https://good.test/?next=https://other.test/path",
    "https://good.test#@evil.test",
    "https://good.test?@evil.test",
    "https://xn--mnchen-3ya.test/",
    "https://good.test/%5C@evil.test",
]

NORMALISED = [  # IDN hosts become punycode, non-ASCII paths percent-escapes
    ("HTTPS://good.test/Path", "https://good.test/Path"),
    ("https://münchen.test/", "https://xn--mnchen-3ya.test/"),
    ("https://bücher.example/ü?q=ü#ü",
     "https://xn--bcher-kva.example/%C3%BC?q=%C3%BC#%C3%BC"),
    ("https://例え.テスト/パス", "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9"),
    ("https://\u0430pple.test/", "https://xn--pple-43d.test/"),  # a Cyrillic letter shows itself
    ("https://good.test/a b?c d#e f", "https://good.test/a%20b?c%20d#e%20f"),
    ("https://good.test/é?q=é", "https://good.test/%C3%A9?q=%C3%A9"),
    ("https://good.test/a\\b", "https://good.test/a%5Cb"),
    ("https://good.test/\u2028x", "https://good.test/%E2%80%A8x"),
    ("https://good.test:/x", "https://good.test/x"),
]

REFUSED = {
    "javascript": "javascript:alert(1)",
    "javascript-mixed-case": "JaVaScRiPt:alert(1)",
    "javascript-leading-space": " javascript:alert(1)",
    "javascript-with-url": "javascript:alert(1)//https://good.test/",
    "data": "data:text/html,<script>alert(1)</script>",
    "data-base64": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript": "vbscript:msgbox(1)",
    "file": "file:///etc/passwd",
    "file-host": "file://good.test/etc/passwd",
    "ftp": "ftp://good.test/file",
    "mailto": "mailto:someone@good.test",
    "tel": "tel:+15551234567",
    "relative": "/just/a/path",
    "scheme-relative": "//evil.test",
    "scheme-relative-path": "//evil.test/path?x=1",
    "backslash-userinfo": "https://good.test\\@evil.test",
    "backslash-userinfo-path": "https://good.test\\@evil.test/x",
    "backslash-scheme": "https:\\\\evil.test",
    "backslash-host": "https://good.test\\evil.test/",
    "userinfo": "https://good.test@evil.test",
    "userinfo-password": "https://user:pw@evil.test/",
    "userinfo-empty": "https://@evil.test/",
    "userinfo-password-only": "https://:pw@evil.test/",
    "port-too-big": "http://127.0.0.1:99999",
    "port-65536": "https://good.test:65536/",
    "port-negative": "https://good.test:-1/",
    "port-letters": "https://good.test:http/",
    "port-hex": "https://good.test:0x50/",
    "port-plus": "https://good.test:+80/",
    "port-twice": "https://good.test:443:80/",
    "port-fullwidth": "https://good.test:\uff18\uff10/",
    "empty-host": "https://",
    "empty-host-path": "https:///evil.test",
    "no-slashes": "https:evil.test",
    "only-port": "https://:443/",
    "empty-label": "https://a..test/",
    "leading-dot": "https://.test/",
    "label-64": "https://" + "a" * 64 + ".test/",
    "idn-label-overlong": "https://" + "ü" * 70 + ".test/",
    "idn-prohibited-char": "https://good.test\u2028/",
    "idn-private-use": "https://good\ue000.test/",
    "fake-ipv6": "http://[evil.test]/",
    "nfkc-slash": "https://good.test\uff0fevil.test/",
    "nfkc-at": "https://good.test\uff20evil.test/",
    "empty": "",
    "spaces": "   ",
}

CONTROL = ["\r", "\n", "\r\n", "\t", "\x00", "\x0b", "\x0c", "\x1b", "\x7f"]
CONTROL_SPOTS = [  # '{}' marks where the control character goes
    "{}https://good.test/", "https{}://good.test/", "https://{}good.test/",
    "https://good{}.test/", "https://good.test{}/", "https://good.test/{}x",
    "https://good.test/?q={}", "https://good.test/#{}", "https://good.test/{}",
    "https://good.test/a{}Set-Cookie:x=1", "https://good.test:80{}80/",
]

# Not refused today though they are not usable host names (see the xfail reasons).
HOSTS_THAT_ARE_NOT_HOSTS = [
    "https://go od.test/",
    "https://good.test /x",
    "https://good.test\u3000/",  # nameprep maps the ideographic space to an ASCII space
    "https://good.test<script>/",
    'https://good.test"onmouseover=x/',
    "https://good.test%0d%0a/",
    "https://good.test%00.evil.test/",
]
GARBAGE_ACE = ["https://xn--zz.test/", "https://xn--.test/", "https://a.xn--9-/"]
OVERLONG_HOST = ["https://" + ".".join(["a" * 63] * 5) + "/"]


def expected_host(url: str) -> str:
    hostname = urlsplit(url.strip()).hostname
    assert hostname is not None
    return hostname.encode("idna").decode("ascii")


def assert_is_clean_location(url: str, result: str | None) -> None:
    assert result is not None, url
    assert result.isascii(), result
    assert all(0x20 < ord(char) < 0x7F for char in result), result  # no space, no control
    assert urlsplit(result).scheme in ("http", "https")
    assert urlsplit(result).hostname == expected_host(url)


@pytest.mark.parametrize("url", KEPT)
def test_http_and_https_destinations_are_kept_exactly(url: str) -> None:
    assert safe_location(url) == url  # R11
    assert_is_clean_location(url, safe_location(url))


@pytest.mark.parametrize(("url", "expected"), NORMALISED)
def test_idn_hosts_and_non_ascii_paths_become_ascii(url: str, expected: str) -> None:
    assert safe_location(url) == expected
    assert_is_clean_location(url, safe_location(url))


@pytest.mark.parametrize(
    "url",
    [
        "https://evil\u3002test/",  # ideographic full stop is a dot to IDNA (and to browsers)
        "https://evil\uff0etest/",
        "https://\uff45\uff56\uff49\uff4c.test/",  # fullwidth letters fold to ASCII
        "https://g\u200bood.test/",  # zero-width space is mapped away
        "https://good.test\u2044evil.test/",  # fraction slash is a letter of the host
        "https://GOOD.Test/",
        "http://[::FFFF:1.2.3.4]/",
        "http://[fe80::1%25eth0]/",
        "https://good.test/\u00a0",
    ],
)
def test_confusable_hosts_redirect_only_to_their_own_punycode(url: str) -> None:
    assert_is_clean_location(url, safe_location(url))


@pytest.mark.parametrize("url", list(REFUSED.values()), ids=list(REFUSED))
def test_unsafe_destinations_are_refused(url: str) -> None:
    assert safe_location(url) is None


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c[0]):04X}" for c in CONTROL])
@pytest.mark.parametrize("spot", CONTROL_SPOTS)
def test_control_characters_anywhere_are_refused(spot: str, char: str) -> None:
    assert safe_location(spot.format(char)) is None


@pytest.mark.parametrize("url", HOSTS_THAT_ARE_NOT_HOSTS)
def test_hosts_with_characters_no_host_can_have_are_refused(url: str) -> None:
    result = safe_location(url)
    assert result is None or all(0x20 < ord(char) < 0x7F for char in result), result
    assert result is None


@pytest.mark.parametrize("url", GARBAGE_ACE)
def test_garbage_punycode_labels_are_refused(url: str) -> None:
    assert safe_location(url) is None


@pytest.mark.parametrize("url", OVERLONG_HOST)
def test_overlong_host_names_are_refused(url: str) -> None:
    assert safe_location(url) is None


def test_every_redirect_is_ascii_without_whitespace_and_to_the_same_host() -> None:
    checked = 0
    for url in KEPT + [url for url, _ in NORMALISED]:
        for variant in (url, f"  {url}  ", f"\u00a0{url}\u3000"):
            assert_is_clean_location(url, safe_location(variant))
            checked += 1
    assert checked == 3 * (len(KEPT) + len(NORMALISED))
