"""Fuzzing the public pixel and click endpoints through the real app, on both backends.

Mutated tokens never redirect anywhere but a prepared destination and store nothing unless
they still verify; hostile link destinations never produce a redirect to another host, a
header injection or a 5xx (R11, R13; docs/architecture.md: never a 5xx on the hot path).
"""

from __future__ import annotations

import base64
import html
import itertools
import random
import re
import string
from collections import Counter
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from litestar.testing import transport
from sqlalchemy import text
from support import FakeClock, Tenant, gql, run, seed_tenant

from sendtrail.db.engine import create_sync_engine
from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.redirect import safe_location
from sendtrail.tracking.core.tokens import InvalidToken, TokenKeys, verify

KEYS = TokenKeys.derive(["k" * 40])  # the `settings` fixture's secret
BASE = "http://testserver.local"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"
PATH_SAFE = string.ascii_letters + string.digits + "-_.~!$&'()*+,;=:@%"
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  clickTracking messages { html } } }"""
DESTINATIONS = ("https://shop.test/a?x=1&y=2", "https://münchen.test/ü#top")
FUZZ_HTML = (f'<p><a href="{html.escape(DESTINATIONS[0])}">Pricing</a> and '
             f'<a href="{DESTINATIONS[1]}">Shop</a></p>')


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Fuzz", seats={}))


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 -- fuzzing must be reproducible, not secret


def _prepare(client: Any, tenant: Tenant, body: str, recipients: int = 1) -> list[str]:
    """Marketing emails: link tracking is on by default whatever the seat (R12)."""
    payload = {"subject": "Offer", "kind": "MARKETING", "html": body,
               "deliveryMode": "PER_RECIPIENT",
               "recipients": [{"address": f"r{i}@client.test"} for i in range(recipients)]}
    prepared = gql(client, PREPARE, {"i": payload}, token=tenant.admin_token)
    assert prepared.get("errors") is None, prepared
    return [m["html"] for m in prepared["data"]["prepareEmail"]["messages"]]


def _stored(database_url: str) -> Counter[str]:
    engine = create_sync_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT type, COUNT(*) FROM engagement WHERE inferred = :no "
                                 "GROUP BY type"), {"no": False}).all()
    engine.dispose()
    return Counter({kind: count for kind, count in rows})


def _claims(token: str, kind: HitKind) -> TokenClaims | None:
    try:
        claims = verify(token, KEYS)
    except InvalidToken:
        return None
    return claims if claims.kind is kind else None


def _mutations(pixels: list[str], clicks: list[str], rng: random.Random) -> list[str]:
    junk = "+/=.~!*'()$&,;:@ \"<>\\^`{|}%é€😀\u2028\u00a0\u0410\x00\r\n\t"
    alphabet = string.ascii_letters + string.digits + "-_"

    def mutate(token: str) -> str:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(token) + 1)
            op = rng.choice(("flip", "insert", "delete", "duplicate", "junk", "case"))
            if op == "flip" and i < len(token):
                token = token[:i] + rng.choice(alphabet.replace(token[i], "")) + token[i + 1:]
            elif op == "insert":
                token = token[:i] + rng.choice(alphabet) + token[i:]
            elif op == "delete":
                token = token[:i] + token[i + 1:]
            elif op == "duplicate" and i < len(token):
                token = token[:i] + token[i] * rng.randint(2, 4) + token[i + 1:]
            elif op == "junk":
                token = token[:i] + rng.choice(junk) + token[i:]
            elif op == "case" and i < len(token):
                token = token[:i] + token[i].swapcase() + token[i + 1:]
        return token

    genuine = pixels + clicks
    found: list[str] = list(genuine)  # each is also a swap onto the other path
    for token in genuine:
        found += [mutate(token) for _ in range(110)]
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        found += [
            token.replace("-", "+").replace("_", "/"),  # the standard alphabet
            token.translate(str.maketrans("-_", "./")),  # the crypt(3) alphabet
            base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            base64.b32encode(raw).decode(), raw.hex(), token.upper(), token.lower(),
            token[::-1], token[1:] + token[0], "".join(f"%{ord(c):02X}" for c in token),
            token[:9] + f"%{ord(token[9]):02X}" + token[10:],
            token[:9] + f"%25{ord(token[9]):02X}" + token[10:],
            token.translate(str.maketrans("AaOo", "\u0410\u0430\u041e\u043e")),
            "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in token),  # fullwidth
            token * 120, token + "A" * 10_000, "A" * 9_000,
        ]
        for affix in (".gif", ".gif.gif", ".png", "%2F", "%2F..", "..", "%2e%2e", "/", "//",
                      "%00", "%0d%0a", "=", "==", "%3Fx=1", ";x=1", "%20", "\u200b", "%C0%AF"):
            found += [token + affix, affix + token]
    for token in (pixels[0], clicks[0]):
        found += [token[:n] for n in range(len(token))]  # a cut at every length
    found += [pixels[0] + clicks[0], clicks[0] + clicks[1], clicks[1] + pixels[1],
              "-" * 60_000, "😀" * 500, ""]
    return list(dict.fromkeys(found))


def _location_ok(response: Any, allowed: set[str]) -> None:
    assert response.status_code < 500, (response.request.url, response.status_code)
    location = response.headers.get("location")
    assert location is None or location in allowed, location


def test_mutated_tokens_redirect_nowhere_else_and_store_nothing_unless_they_verify(
    app_client: Any, tenant: Tenant, clock: FakeClock, database_url: str
) -> None:
    pages = _prepare(app_client, tenant, FUZZ_HTML, recipients=2)
    pixels = [m for page in pages for m in re.findall(rf'src="{BASE}/o/([^"]+)\.gif"', page)]
    clicks = [m for page in pages for m in re.findall(rf'href="{BASE}/c/([^"]+)"', page)]
    assert (len(pixels), len(clicks)) == (2, 4)
    allowed = {location for url in DESTINATIONS if (location := safe_location(url))}
    assert allowed == {"https://shop.test/a?x=1&y=2", "https://xn--mnchen-3ya.test/%C3%BC#top"}
    clock.advance(600)
    for token in pixels:
        assert app_client.get(f"/o/{token}.gif", headers={"User-Agent": CHROME}).status_code == 200
    for token in clicks:
        response = app_client.get(f"/c/{token}", follow_redirects=False)
        assert (response.status_code, response.headers["location"] in allowed) == (302, True)
    assert _stored(database_url) == Counter(open=2, click=4)

    mutations = _mutations(pixels, clicks, _rng(20250304))
    assert len(mutations) >= 1000
    accepted: Counter[str] = Counter()
    for mutation in mutations:
        clock.advance(7)
        quoted = quote(mutation, safe=PATH_SAFE)
        pixel = app_client.get(f"/o/{quoted}.gif", headers={"User-Agent": CHROME},
                               follow_redirects=False)
        _location_ok(pixel, allowed)
        assert (pixel.status_code, pixel.headers["content-type"]) == (200, "image/gif")
        assert len(pixel.content) == 43
        assert pixel.headers["cache-control"].startswith("no-store")
        # What the endpoint saw: the test transport unquotes httpx's already decoded path.
        seen = unquote(pixel.request.url.path).removeprefix("/o").strip("/")
        accepted["open"] += _claims(seen.removesuffix(".gif"), HitKind.OPEN) is not None

        click = app_client.get(f"/c/{quoted}", follow_redirects=False)
        _location_ok(click, allowed)
        seen = unquote(click.request.url.path).removeprefix("/c").strip("/")
        claims = _claims(seen, HitKind.CLICK)
        if claims is None:
            assert click.status_code == 404, (mutation, click.headers)
            assert "This link is not valid" in click.text
        else:  # it still verifies: it can only go where the genuine token goes
            assert click.status_code == 302
            assert claims.url in DESTINATIONS
            assert click.headers["location"] == safe_location(claims.url or "")
            accepted["click"] += 1
    # Nothing else is stored. Mutations that verify are percent-encoded spellings and,
    # today, junk the lenient base64 decoder ignores (about 14%: see the xfail below).
    assert _stored(database_url) == Counter(open=2, click=4) + accepted


@pytest.mark.parametrize("spelling", ["{t}!!!!", "{a}..{b}=="])
def test_a_token_has_one_spelling(
    app_client: Any, tenant: Tenant, database_url: str, spelling: str
) -> None:
    (page,) = _prepare(app_client, tenant, FUZZ_HTML)
    pixel = re.findall(rf'src="{BASE}/o/([^"]+)\.gif"', page)[0]
    click = re.findall(rf'href="{BASE}/c/([^"]+)"', page)[0]
    for token, path in ((pixel, "/o/{}.gif"), (click, "/c/{}")):
        odd = spelling.format(t=token, a=token[:8], b=token[8:])
        app_client.get(path.format(quote(odd, safe=PATH_SAFE)), follow_redirects=False)
    assert _stored(database_url) == Counter()


HOSTILE_SCHEMES = [
    "https://", "http://", "HTTPS://", "hTtP://", " https://", "\x01https://", "https:/",
    "https:", "https:\\\\", "//", "\\\\", "javascript:", "JaVaScRiPt:", "java\tscript:",
    "javascript&colon;", "data:text/html,", "vbscript:", "file://", "ftp://", "ws://",
]
HOSTILE_HOSTS = [
    "good.test", "good.test\\@evil.test", "good.test@evil.test", "user:pw@evil.test",
    "@evil.test", "münchen.test", "\u0430pple.test", "evil\u3002test", "evil\uff0etest",
    "\uff45\uff56\uff49\uff4c.test", "g\u200bood.test", "good.test\u2044evil.test", "[::1]",
    "[::1]:8080", "[evil.test]", "127.0.0.1:99999", "127.0.0.1:8080", "good.test:-1",
    "good.test:\uff18\uff10", "go od.test", "good.test%0d%0a", "good.test%2F@evil.test",
    "good.test\u2028", "good.test\r\nSet-Cookie:x=1", "a" * 64 + ".test",
    "ü" * 70 + ".test", "", "good.test.", "GOOD.test",
]
HOSTILE_PATHS = [
    "/", "/a?b=c&d=e#f", "/%0d%0aSet-Cookie:%20x=1", "/\r\nLocation: https://evil.test/",
    "/ü?q=ü#ü", "/\x7f", "/\x1b[31m", "?next=//evil.test", "#@evil.test",
    "/" + "x" * 1500, "\\@evil.test/", " /space",
]


def _hostile_urls(count: int) -> list[str]:
    rng = _rng(1994)
    web = list(itertools.product(HOSTILE_SCHEMES[:7], HOSTILE_HOSTS, HOSTILE_PATHS))
    other = list(itertools.product(HOSTILE_SCHEMES[7:], HOSTILE_HOSTS, HOSTILE_PATHS))
    picked = rng.sample(web, count // 2) + rng.sample(other, count - count // 2)
    urls = ["".join(parts) for parts in picked]
    urls += [f"https://good.test/{c}x" for c in ("\r", "\n", "\t", "\r\n", "\x0b", "\x0c")]
    urls += ["http://[::1]", "http://127.0.0.1:99999", "https://good.test\\@evil.test",
             "https:\\\\evil.test", "//evil.test", "https://good.test@evil.test",
             "data:text/html;base64,PHNjcmlwdD4=", "javascript:alert(document.cookie)"]
    return list(dict.fromkeys(urls))


def _raw_get(client: Any, path: str) -> httpx.Response:
    """A GET whose Location httpx does not parse (it raises on some hosts the app sends)."""
    request = httpx.Request("GET", BASE + path)
    response = transport.TestClientTransport(client).handle_request(request)
    response.read()
    return response


def _host(url: str) -> str | None:
    try:
        hostname = urlsplit(url).hostname
        return hostname.encode("idna").decode("ascii") if hostname else None
    except (ValueError, UnicodeError):
        return None


def test_hostile_destinations_redirect_only_to_their_own_host(
    app_client: Any, tenant: Tenant, clock: FakeClock
) -> None:
    urls = _hostile_urls(560)
    assert len(urls) >= 500
    outcomes: Counter[str] = Counter()
    for start in range(0, len(urls), 40):
        batch = urls[start:start + 40]
        body = "".join(f'<p><a id="l{n}" href="{html.escape(url)}">Link {n}</a></p>'
                       for n, url in enumerate(batch))
        (page,) = _prepare(app_client, tenant, body)
        written = dict(re.findall(r'<a id="l(\d+)" href="([^"]*)"', page))
        assert len(written) == len(batch), page
        clock.advance(60)
        for n, url in enumerate(batch):
            value = written[str(n)]
            if not value.startswith(f"{BASE}/c/"):  # R13: left exactly as written
                assert value == html.escape(url), (url, value)
                outcomes["not rewritten"] += 1
                continue
            prepared = re.sub(r"[\t\n\r]", "", url).strip(" \t\n\r\f")
            response = _raw_get(app_client, html.unescape(value).removeprefix(BASE))
            assert response.status_code in (302, 404), (url, response.status_code)
            if response.status_code == 404:
                outcomes["rewritten, 404"] += 1
                continue
            location = response.headers["location"]
            assert location.isascii(), location
            assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in location), location
            assert urlsplit(location).scheme in ("http", "https"), (url, location)
            assert urlsplit(location).hostname == _host(prepared), (url, location)
            assert location == safe_location(prepared)
            outcomes["rewritten, 302"] += 1
    assert sum(outcomes.values()) == len(urls)
    assert min(outcomes.values()) >= 50, outcomes  # every outcome is well exercised


@pytest.mark.parametrize("url", ["https://user:pw@good.test/", "https://good.test\\@evil.test/",
                                 "https://good.test:99999/", "https://good.test/\x7fx"])
def test_a_rewritten_link_can_always_be_followed(
    app_client: Any, tenant: Tenant, url: str
) -> None:
    (page,) = _prepare(app_client, tenant, f'<a href="{html.escape(url)}">Offer</a>')
    for path in re.findall(rf'href="{BASE}(/c/[^"]+)"', page):
        assert app_client.get(path, follow_redirects=False).status_code == 302


def test_an_overlong_link_is_left_untracked(app_client: Any, tenant: Tenant) -> None:
    url = "https://good.test/" + "/".join(f"part{n}" for n in range(700))  # > 4096 bytes
    (page,) = _prepare(app_client, tenant, f'<a href="{url}">Offer</a>')
    assert f'href="{url}"' in page


@pytest.mark.parametrize("url", ["https://go od.test/", "https://xn--zz.test/"])
def test_a_redirect_is_a_url_clients_can_follow(
    app_client: Any, tenant: Tenant, url: str
) -> None:
    (page,) = _prepare(app_client, tenant, f'<a href="{html.escape(url)}">Offer</a>')
    rewritten = re.findall(rf'href="{BASE}(/c/[^"]+)"', page)
    if not rewritten:  # not a usable host: the link is left exactly as written
        assert f'href="{html.escape(url)}"' in page
        return
    (path,) = rewritten
    response = _raw_get(app_client, path)
    if response.status_code != 404:
        location = response.headers["location"]
        assert re.fullmatch(r"(?:[a-z0-9-]{1,63}\.?)+", urlsplit(location).hostname or ""), location
        assert httpx.URL(location).host  # httpx decodes punycode, and refuses invalid labels
