"""classify: every hit is HUMAN, MACHINE or SELF, with reasons support can read aloud.

The tables use real user-agent strings and the signal files shipped with the package, so
a change to the data that breaks a known client fails here.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sendtrail.tracking.core.classify import (
    BURST_WINDOW,
    GATEWAY_WINDOW,
    TOO_SOON,
    Classification,
    Hit,
    Signals,
    classify,
    parse_signals,
)
from sendtrail.tracking.core.model import HitKind, TokenClaims, Verdict
from sendtrail.tracking.signals import load_signals

HUMAN, MACHINE, SELF = Verdict.HUMAN, Verdict.MACHINE, Verdict.SELF
OPEN, CLICK = HitKind.OPEN, HitKind.CLICK
SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = timedelta(minutes=30)
HOME_IP = "198.51.100.7"

MPP = "Mozilla/5.0"
BARE_WEBKIT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
IOS_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
OUTLOOK_MSOFFICE = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
OUTLOOK_DESKTOP = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
OWA_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)
CUBOT_CHROME = (  # a phone whose model name ends in "bot"
    "Mozilla/5.0 (Linux; Android 11; Cubot X30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_EMAIL = (
    "Mozilla/5.0 (Linux; Android 13; SM-S911B; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36"
)
THUNDERBIRD = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.4.0"
)
DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
SAFE_LINKS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "BingPreview/1.0b"
)
# Issue 12, defect 11: Gmail fetches every image once when a message arrives while the
# recipient has Gmail open, with this user agent from Google's networks (SparkPost/Bird,
# "Gmail is prefetching images", 2022). It is not the GoogleImageProxy fetch of a real open.
GMAIL_PREFETCH = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0"
)
# The real (2015) EdgeHTML 12 browser: the same start, but no second "Mozilla/5.0" product.
LEGACY_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246"
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.71 Safari/537.36"
)

GOOGLE_IP = "66.249.84.1"  # in Google's 66.249.64.0/19, where its image fetchers come from
PROOFPOINT_IP, MIMECAST_IP, BARRACUDA_IP = "67.231.152.10", "205.139.110.20", "209.222.82.5"
MICROSOFT_IP, MICROSOFT_IP6, APPLE_RELAY_IP = "40.107.22.5", "2a01:111:f400::1", "172.224.226.5"


@pytest.fixture(scope="module")
def signals() -> Signals:
    return load_signals()


def make_hit(
    user_agent: str,
    kind: HitKind = OPEN,
    *,
    ip: str = HOME_IP,
    after: timedelta = LATER,
    method: str = "GET",
    sender_copy: bool = False,
    link: int | None = None,
    sender_cookie: bool = False,
    sender_recent_ips: frozenset[str] = frozenset(),
    recent_clicks: tuple[tuple[int, datetime], ...] = (),
    link_count: int = 0,
    headers: dict[str, str] | None = None,
) -> Hit:
    claims = TokenClaims(
        kind=kind, account_id=uuid.UUID(int=1), email_id=uuid.UUID(int=2), recipient=0,
        sender_copy=sender_copy, sent_at=int(SENT.timestamp()),
        link=link if kind is OPEN else (0 if link is None else link),
        url=None if kind is OPEN else "https://example.com/",
    )
    return Hit(
        kind=kind, method=method, at=SENT + after, ip=ip, user_agent=user_agent, claims=claims,
        sender_cookie=sender_cookie, sender_recent_ips=sender_recent_ips,
        recent_clicks=recent_clicks, link_count=link_count, headers=headers or {},
    )


def check(result: Classification, verdict: Verdict, category: str, signals: Signals) -> None:
    assert (result.verdict, result.category) == (verdict, category), result.reasons
    assert result.ruleset == signals.version
    assert result.reasons
    for reason in result.reasons:  # plain sentences a support person can read aloud
        assert re.match(r"[A-Z].{20,}[.)]\Z", reason, re.DOTALL), reason


CLIENTS = [
    # (id, user agent, kind, verdict, category)
    ("apple-mpp-bare-mozilla", MPP, OPEN, MACHINE, "apple_privacy_proxy"),
    ("apple-mpp-bare-webkit", BARE_WEBKIT, OPEN, MACHINE, "apple_privacy_proxy"),
    ("apple-mail-ios-full-ua", IOS_MAIL, OPEN, HUMAN, "mail_client"),
    ("gmail-image-proxy", GMAIL_PROXY, OPEN, HUMAN, "image_proxy"),
    ("gmail-safety-prefetch", "Google-Safety", OPEN, MACHINE, "prefetch"),
    ("google-feedfetcher", "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)",
     OPEN, MACHINE, "prefetch"),
    ("yahoo-image-proxy", YAHOO_PROXY, OPEN, HUMAN, "image_proxy"),
    ("outlook-ms-office", OUTLOOK_MSOFFICE, OPEN, HUMAN, "mail_client"),
    ("outlook-desktop", OUTLOOK_DESKTOP, OPEN, HUMAN, "mail_client"),
    ("outlook-web-in-edge", OWA_EDGE, OPEN, HUMAN, "browser"),
    ("iphone-safari-click", IPHONE_SAFARI, CLICK, HUMAN, "browser"),
    ("android-chrome-click", ANDROID_CHROME, CLICK, HUMAN, "browser"),
    ("phone-model-ending-in-bot", CUBOT_CHROME, CLICK, HUMAN, "browser"),
    ("samsung-email-webview", SAMSUNG_EMAIL, OPEN, HUMAN, "mail_client"),
    ("thunderbird", THUNDERBIRD, OPEN, HUMAN, "mail_client"),
    ("unknown-client", "AcmeMail/3.2 (Haiku)", OPEN, HUMAN, "unrecognised_client"),
    ("safe-links-bingpreview", SAFE_LINKS, CLICK, MACHINE, "link_checker"),
    ("office-existence-discovery", "Microsoft Office Existence Discovery", CLICK, MACHINE,
     "link_checker"),
    ("headless-chrome", HEADLESS, CLICK, MACHINE, "headless_browser"),
    ("curl", "curl/7.88.1", CLICK, MACHINE, "script"),
    ("python-requests", "python-requests/2.31.0", CLICK, MACHINE, "script"),
    ("go-http-client", "Go-http-client/1.1", OPEN, MACHINE, "script"),
    ("java", "Java/17.0.9", CLICK, MACHINE, "script"),
    ("wget", "Wget/1.21.4", OPEN, MACHINE, "script"),
    ("googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     CLICK, MACHINE, "crawler"),
    ("bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
     CLICK, MACHINE, "crawler"),
    ("slack-preview", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", CLICK,
     MACHINE, "link_preview"),
    ("empty-user-agent", "", OPEN, MACHINE, "no_user_agent"),
    ("blank-user-agent", "   ", CLICK, MACHINE, "no_user_agent"),
]


@pytest.mark.parametrize(
    ("user_agent", "kind", "verdict", "category"),
    [case[1:] for case in CLIENTS], ids=[case[0] for case in CLIENTS],
)
def test_user_agents_are_classified_with_reasons(  # R10
    signals: Signals, user_agent: str, kind: HitKind, verdict: Verdict, category: str
) -> None:
    check(classify(make_hit(user_agent, kind), signals, self_open_suppression=True),
          verdict, category, signals)


def test_apple_privacy_protection_reason_names_the_user_agent(signals: Signals) -> None:
    result = classify(make_hit(MPP), signals, self_open_suppression=True)  # R10
    assert result.reasons[0] == (
        "Apple Mail Privacy Protection loads every image when the email is delivered, "
        "whether or not it is read (user agent 'Mozilla/5.0')."
    )


def test_gmail_proxy_counts_and_says_the_location_is_hidden(signals: Signals) -> None:
    result = classify(make_hit(GMAIL_PROXY), signals, self_open_suppression=True)
    assert "only when the recipient opens" in result.reasons[0]
    assert "hides the reader's location" in result.reasons[0]


GMAIL_PREFETCHES = [
    # (id, user agent, kind, ip, after, verdict, category)
    ("prefetch-on-receipt", GMAIL_PREFETCH, OPEN, GOOGLE_IP, timedelta(seconds=40), MACHINE,
     "prefetch"),
    ("prefetch-from-any-network", GMAIL_PREFETCH, OPEN, HOME_IP, timedelta(seconds=40), MACHINE,
     "prefetch"),
    ("prefetch-long-after-sending", GMAIL_PREFETCH, OPEN, GOOGLE_IP, timedelta(days=2), MACHINE,
     "prefetch"),
    ("prefetch-agent-on-a-link", GMAIL_PREFETCH, CLICK, GOOGLE_IP, timedelta(minutes=5),
     MACHINE, "prefetch"),
    ("prefetch-other-edge-build", GMAIL_PREFETCH.replace("12.246", "12.10240"), OPEN,
     GOOGLE_IP, LATER, MACHINE, "prefetch"),
    ("gmail-proxy-on-a-real-open", GMAIL_PROXY, OPEN, GOOGLE_IP, LATER, HUMAN, "image_proxy"),
    ("legacy-edge-without-the-extra-token", LEGACY_EDGE, OPEN, HOME_IP, LATER, HUMAN,
     "browser"),
    ("current-edge", OWA_EDGE, OPEN, HOME_IP, LATER, HUMAN, "browser"),
]


@pytest.mark.parametrize("case", GMAIL_PREFETCHES, ids=[case[0] for case in GMAIL_PREFETCHES])
def test_gmail_receipt_prefetch_is_a_machine_and_its_proxy_a_person(  # issue 12, defect 11; R10
    signals: Signals, case: tuple[str, str, HitKind, str, timedelta, Verdict, str]
) -> None:
    _, agent, kind, ip, after, verdict, category = case
    hit = make_hit(agent, kind, ip=ip, after=after)
    check(classify(hit, signals, self_open_suppression=True), verdict, category, signals)


def test_gmail_prefetch_reason_says_nobody_opened_it(signals: Signals) -> None:  # defect 11
    result = classify(make_hit(GMAIL_PREFETCH, ip=GOOGLE_IP), signals, self_open_suppression=True)
    (reason,) = result.reasons
    assert reason.startswith(
        "Gmail fetched the images when the message arrived (receipt-time prefetch), "
        "not a person opening it"
    )
    assert "Microsoft Edge" not in reason
    assert GMAIL_PREFETCH in reason


def test_human_reason_names_the_client(signals: Signals) -> None:
    result = classify(make_hit(OUTLOOK_DESKTOP), signals, self_open_suppression=True)
    assert "Microsoft Outlook" in result.reasons[0]
    assert "30 minutes after the email was sent" in result.reasons[1]


GATEWAYS = [
    # (id, ip, kind, after, verdict, category)
    ("proofpoint-at-delivery", PROOFPOINT_IP, OPEN, timedelta(seconds=20), MACHINE,
     "security_gateway"),
    ("proofpoint-an-hour-later", PROOFPOINT_IP, OPEN, timedelta(hours=1), HUMAN, "browser"),
    ("mimecast-at-delivery", MIMECAST_IP, CLICK, timedelta(seconds=45), MACHINE,
     "security_gateway"),
    ("mimecast-an-hour-later", MIMECAST_IP, CLICK, timedelta(hours=1), HUMAN, "browser"),
    ("barracuda-at-delivery", BARRACUDA_IP, OPEN, timedelta(minutes=2), MACHINE,
     "security_gateway"),
    ("barracuda-an-hour-later", BARRACUDA_IP, OPEN, timedelta(hours=1), HUMAN, "browser"),
    ("microsoft-safe-links-at-delivery", MICROSOFT_IP, CLICK, timedelta(seconds=8), MACHINE,
     "security_gateway"),
    ("microsoft-ipv6-at-delivery", MICROSOFT_IP6, CLICK, timedelta(seconds=8), MACHINE,
     "security_gateway"),
    ("ipv4-mapped-ipv6", f"::ffff:{PROOFPOINT_IP}", CLICK, timedelta(seconds=8), MACHINE,
     "security_gateway"),
    ("window-edge-is-later", PROOFPOINT_IP, OPEN, GATEWAY_WINDOW, HUMAN, "browser"),
    ("apple-relay-open", APPLE_RELAY_IP, OPEN, timedelta(hours=1), MACHINE,
     "apple_privacy_proxy"),
    ("apple-relay-click-in-safari", APPLE_RELAY_IP, CLICK, timedelta(hours=1), HUMAN,
     "browser"),
]


@pytest.mark.parametrize("case", GATEWAYS, ids=[case[0] for case in GATEWAYS])
def test_networks_are_classified_by_time_since_sending(  # R10
    signals: Signals, case: tuple[str, str, HitKind, timedelta, Verdict, str]
) -> None:
    _, ip, kind, after, verdict, category = case
    agent = IPHONE_SAFARI if ip == APPLE_RELAY_IP else DESKTOP_CHROME
    hit = make_hit(agent, kind, ip=ip, after=after)
    check(classify(hit, signals, self_open_suppression=True), verdict, category, signals)


def test_later_gateway_hit_counts_with_a_note(signals: Signals) -> None:
    hit = make_hit(DESKTOP_CHROME, ip=PROOFPOINT_IP, after=timedelta(hours=1))
    result = classify(hit, signals, self_open_suppression=True)
    note = result.reasons[-1]
    assert "Proofpoint" in note
    assert "1 hour after the email was sent" in note
    assert "counts as a person reading through the gateway" in note


def test_safe_links_user_agent_wins_even_late(signals: Signals) -> None:
    hit = make_hit(SAFE_LINKS, CLICK, ip=MICROSOFT_IP, after=timedelta(days=2))
    check(classify(hit, signals, self_open_suppression=True), MACHINE, "link_checker", signals)


SELF_CASES = [
    # (id, suppression, hit arguments, verdict, category, phrase in the reasons)
    ("sender-copy-suppressed", True, {"sender_copy": True}, SELF, "sender_copy",
     "sender's own copy"),
    ("sender-copy-not-suppressed", False, {"sender_copy": True}, HUMAN, "browser",
     "sender's own copy"),
    ("sender-cookie-suppressed", True, {"sender_cookie": True}, SELF, "sender_cookie",
     "sender's own Sendtrail cookie"),
    ("sender-cookie-not-suppressed", False, {"sender_cookie": True}, HUMAN, "browser",
     "self-open suppression is off"),
    ("sender-recent-ip", True, {"sender_recent_ips": frozenset({HOME_IP})}, SELF,
     "sender_network", "network the sender was signed in from"),
    ("other-recent-ip", True, {"sender_recent_ips": frozenset({"203.0.113.9"})}, HUMAN,
     "browser", "no rule marks it as automated"),
]


@pytest.mark.parametrize("case", SELF_CASES, ids=[case[0] for case in SELF_CASES])
def test_sender_hits_follow_self_open_suppression(  # R9, R14
    signals: Signals, case: tuple[str, bool, dict[str, Any], Verdict, str, str]
) -> None:
    _, suppression, arguments, verdict, category, phrase = case
    hit = make_hit(IPHONE_SAFARI, CLICK, **arguments)
    result = classify(hit, signals, self_open_suppression=suppression)
    check(result, verdict, category, signals)
    assert any(phrase in reason for reason in result.reasons), result.reasons


def test_scanner_on_the_sender_copy_is_still_a_machine_without_suppression(
    signals: Signals,
) -> None:  # R9, R10
    hit = make_hit("curl/8.4.0", CLICK, sender_copy=True)
    result = classify(hit, signals, self_open_suppression=False)
    check(result, MACHINE, "script", signals)
    assert "sender's own copy" in result.reasons[-1]


def test_head_request_never_counts_even_from_the_sender(signals: Signals) -> None:
    hit = make_hit(DESKTOP_CHROME, CLICK, method="HEAD", sender_copy=True)
    check(classify(hit, signals, self_open_suppression=True), MACHINE, "head_request", signals)


def clicks_at(*pairs: tuple[int, float]) -> tuple[tuple[int, datetime], ...]:
    return tuple((link, SENT + LATER + timedelta(seconds=offset)) for link, offset in pairs)


BURSTS = [
    # (id, this link, link count, other clicks (link, seconds from this one), verdict, category)
    ("all-three-links-in-3s", 2, 3, clicks_at((0, -3), (1, -2)), MACHINE, "click_burst"),
    ("two-of-three-links", 2, 3, clicks_at((1, -2)), HUMAN, "browser"),
    ("all-three-spread-over-a-minute", 2, 3, clicks_at((0, -60), (1, -30)), HUMAN, "browser"),
    ("first-of-a-burst-seen-later", 0, 3, clicks_at((1, 1), (2, 2)), MACHINE, "click_burst"),
    ("span-wider-than-the-window", 1, 3, clicks_at((0, -8), (2, 8)), HUMAN, "browser"),
    ("same-link-twice", 0, 2, clicks_at((0, -1)), HUMAN, "browser"),
    ("single-link-email", 0, 1, (), HUMAN, "browser"),
]


@pytest.mark.parametrize("case", BURSTS, ids=[case[0] for case in BURSTS])
def test_every_link_clicked_at_once_is_a_link_scanner(  # R10
    signals: Signals, case: tuple[str, int, int, tuple[tuple[int, datetime], ...], Verdict, str]
) -> None:
    _, link, link_count, others, verdict, category = case
    hit = make_hit(DESKTOP_CHROME, CLICK, link=link, link_count=link_count, recent_clicks=others)
    result = classify(hit, signals, self_open_suppression=True)
    check(result, verdict, category, signals)
    if verdict is MACHINE:
        assert f"within {int(BURST_WINDOW.total_seconds())} seconds" in result.reasons[0]


TIMING = [
    # (id, kind, after, verdict, category)
    ("click-1s-after-sending", CLICK, timedelta(seconds=1), MACHINE, "too_soon"),
    ("open-half-a-second-after", OPEN, timedelta(milliseconds=500), MACHINE, "too_soon"),
    ("before-the-recorded-send-time", OPEN, timedelta(seconds=-30), MACHINE, "too_soon"),
    ("at-the-limit", CLICK, TOO_SOON, HUMAN, "browser"),
    ("open-3s-after", OPEN, timedelta(seconds=3), HUMAN, "browser"),
]


@pytest.mark.parametrize(
    ("kind", "after", "verdict", "category"),
    [case[1:] for case in TIMING], ids=[case[0] for case in TIMING],
)
def test_nobody_reads_within_two_seconds_of_sending(  # R10
    signals: Signals, kind: HitKind, after: timedelta, verdict: Verdict, category: str
) -> None:
    hit = make_hit(ANDROID_CHROME, kind, after=after)
    check(classify(hit, signals, self_open_suppression=True), verdict, category, signals)


def test_gmail_proxy_within_two_seconds_is_still_too_soon(signals: Signals) -> None:
    hit = make_hit(GMAIL_PROXY, after=timedelta(seconds=1))
    check(classify(hit, signals, self_open_suppression=True), MACHINE, "too_soon", signals)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Hit(
            kind=OPEN, method="GET", at=datetime(2026, 11, 2, 9, 30), ip=HOME_IP,
            user_agent=DESKTOP_CHROME, claims=make_hit(DESKTOP_CHROME).claims,
        )


def test_odd_characters_in_the_user_agent_are_shown_safely(signals: Signals) -> None:
    result = classify(make_hit("AcmeMail\x00\x1b[31m/1" + "x" * 500), signals,
                      self_open_suppression=True)
    assert "\x00" not in result.reasons[0]
    assert len(result.reasons[0]) < 400


UA_HEADER = "pattern,category,verdict,reason"
NET_HEADER = "network,category,reason"
GOOD_UA = f'{UA_HEADER}\n"curl/",script,machine,"A script fetched this."\n'
GOOD_NET = f'{NET_HEADER}\n10.0.0.0/8,security_gateway,"A gateway checked this."\n'

BAD_FILES = [
    # (id, user agents text, networks text, message)
    ("bad-regex", f"# comment\n{UA_HEADER}\n\"curl/(\",script,machine,\"A script.\"\n",
     GOOD_NET, "user_agents.csv line 3"),
    ("self-verdict", f"{UA_HEADER}\nx,script,self,\"A script.\"\n", GOOD_NET,
     "user_agents.csv line 2"),
    ("too-few-fields", f"{UA_HEADER}\n\n\"curl/\",script,machine\n", GOOD_NET,
     "user_agents.csv line 3"),
    ("unclosed-quote", f"{UA_HEADER}\n\"curl/,script,machine,A script.\n", GOOD_NET,
     "user_agents.csv line 2"),
    ("reason-not-a-sentence", f"{UA_HEADER}\ncurl/,script,machine,a script\n", GOOD_NET,
     "user_agents.csv line 2"),
    ("bad-category", f"{UA_HEADER}\ncurl/,Script Kiddie,machine,\"A script.\"\n", GOOD_NET,
     "user_agents.csv line 2"),
    ("missing-header", '"curl/",script,machine,"A script."\n', GOOD_NET,
     "user_agents.csv line 1"),
    ("bad-network", GOOD_UA, f"{NET_HEADER}\n300.1.1.0/24,security_gateway,\"A gateway.\"\n",
     "networks.csv line 2"),
    ("host-bits-set", GOOD_UA, f"{NET_HEADER}\n10.0.0.1/8,security_gateway,\"A gateway.\"\n",
     "networks.csv line 2"),
    ("unknown-network-category", GOOD_UA, f"{NET_HEADER}\n10.0.0.0/8,vpn,\"A VPN.\"\n",
     "networks.csv line 2"),
    ("empty-networks-file", GOOD_UA, "# nothing\n", "networks.csv: no header"),
]


@pytest.mark.parametrize(
    ("user_agents", "networks", "message"),
    [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES],
)
def test_malformed_signal_lines_are_named(user_agents: str, networks: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_signals(user_agents, networks, "test.1")


def test_parse_signals_reads_rules_in_order() -> None:
    parsed = parse_signals(GOOD_UA + '"^Java/",script,machine,"Java."\n', GOOD_NET, " 1.2.3 ")
    assert parsed.version == "1.2.3"
    assert [rule.pattern.pattern for rule in parsed.user_agents] == ["curl/", "^Java/"]
    assert str(parsed.networks[0].network) == "10.0.0.0/8"


def test_an_empty_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        parse_signals(GOOD_UA, GOOD_NET, "  ")


def test_shipped_signals_load_with_a_version(signals: Signals) -> None:
    assert len(signals.user_agents) >= 30
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", signals.version)
    assert {rule.category for rule in signals.networks} == {
        "apple_privacy_proxy", "security_gateway"
    }
    assert load_signals() is signals  # parsed once per process


PREFETCHES = [
    ("chrome-speculation", {"sec-purpose": "prefetch"}, MACHINE, "prefetch"),
    ("chrome-prerender", {"sec-purpose": "prefetch;prerender"}, MACHINE, "prefetch"),
    ("legacy-chrome", {"purpose": "prefetch"}, MACHINE, "prefetch"),
    ("firefox", {"x-moz": "prefetch"}, MACHINE, "prefetch"),
    ("proxy-via", {"via": "1.1 proxy.example.test"}, HUMAN, "browser"),
    ("other-purpose", {"sec-purpose": "preview"}, HUMAN, "browser"),
]


@pytest.mark.parametrize("case", PREFETCHES, ids=[case[0] for case in PREFETCHES])
def test_a_browser_prefetch_is_not_a_click(  # issue 17; R10
    signals: Signals, case: tuple[str, dict[str, str], Verdict, str]
) -> None:
    _, headers, verdict, category = case
    result = classify(make_hit(DESKTOP_CHROME, CLICK, headers=headers), signals,
                      self_open_suppression=True)
    check(result, verdict, category, signals)
    if verdict is MACHINE:
        (name, value), = headers.items()
        assert f"({name}: {value})" in result.reasons[0]
