"""Issue 15, item 12: sentences stored in English are shown in the reader's language.

Every reason ``classify`` writes, and every finding ``dns_check`` and the domain worker
write, is recognised by its phrasebook and comes back wholly German (no English template
left over); in English, the stored text comes back byte for byte.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from sendtrail.domains import findings
from sendtrail.i18n import speaking
from sendtrail.i18n.stored import Phrasebook
from sendtrail.tracking import not_tracked
from sendtrail.tracking.core.classify import Hit, classify
from sendtrail.tracking.core.html_links import address_text_reason, skip_reason
from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.prepare import NO_LINKS
from sendtrail.tracking.signals import explain, load_signals

SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0.0.0 Safari/537.36")
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
ODD_AGENT = "Frobnicator/1.0 (it's 'quoted') (x)"
APPLE_RELAY, MIMECAST = "172.224.226.5", "205.139.110.9"


def _hit(agent: str, *, kind: HitKind = HitKind.OPEN, after: timedelta = timedelta(minutes=3),
         ip: str = "198.51.100.7", method: str = "GET", sender_copy: bool = False,
         sender_cookie: bool = False, recent_ips: frozenset[str] = frozenset(),
         clicks: tuple[tuple[int, datetime], ...] = (), links: int = 0) -> Hit:
    claims = TokenClaims(
        kind=kind, account_id=uuid.UUID(int=1), email_id=uuid.UUID(int=2), recipient=0,
        sender_copy=sender_copy, sent_at=int(SENT.timestamp()),
        link=None if kind is HitKind.OPEN else 1,
        url=None if kind is HitKind.OPEN else "https://example.com/",
    )
    return Hit(kind=kind, method=method, at=SENT + after, ip=ip, user_agent=agent,
               claims=claims, sender_cookie=sender_cookie, sender_recent_ips=recent_ips,
               recent_clicks=clicks, link_count=links)


HITS = {
    "head": _hit(CHROME, method="HEAD"),
    "sender copy, suppressed": _hit(CHROME, sender_copy=True),
    "sender network, counted": _hit(CHROME, recent_ips=frozenset({"198.51.100.7"})),
    "sender cookie, click": _hit(CHROME, kind=HitKind.CLICK, sender_cookie=True),
    "no agent": _hit(""),
    "scanner agent": _hit("curl/8.5.0"),
    "apple relay open": _hit(CHROME, ip=APPLE_RELAY),
    "apple relay click": _hit(CHROME, kind=HitKind.CLICK, ip=APPLE_RELAY),
    "gateway early": _hit(CHROME, ip=MIMECAST, after=timedelta(seconds=30)),
    "gateway later": _hit(CHROME, ip=MIMECAST, after=timedelta(days=2, hours=1)),
    "burst": _hit(CHROME, kind=HitKind.CLICK, after=timedelta(minutes=1),
                  clicks=((0, SENT + timedelta(minutes=1, seconds=2)),), links=2),
    "too soon": _hit(CHROME, after=timedelta(milliseconds=300)),
    "before sending": _hit(CHROME, after=timedelta(seconds=-5)),
    "named client": _hit(GMAIL_PROXY, after=timedelta(hours=1)),
    "unknown client": _hit(ODD_AGENT, after=timedelta(seconds=1)),
}


@pytest.mark.parametrize("case", sorted(HITS))
def test_every_reason_classify_writes_reads_in_german_and_stays_english(case: str) -> None:
    reasons = classify(HITS[case], load_signals(), self_open_suppression=case != (
        "sender network, counted")).reasons
    assert reasons
    for reason in reasons:
        assert explain(reason) == reason  # outside a request: as stored
        with speaking("de"):
            german = explain(reason)
        assert german != reason
        for english in ("It came", " after the email was sent", "user agent '",
                        "Self-open suppression", " minute", " second", " day", "address "):
            assert english not in german, german


@pytest.mark.parametrize("stored", [
    findings.NO_DNS_RECORD.format(host="links.acme.test", target="acme.st.test") + " "
    + findings.NO_TXT.format(record="_sendtrail-verify.links.acme.test", token="sv=abc"),
    findings.CHECK_UNFINISHED.format(reason=findings.TIMEOUT.format(name="acme.test")),
    findings.DNS_CHANGED.format(reason=findings.ELSEWHERE_VIA.format(
        host="a.test", other="b.test", final="c.test", target="d.test")),
    findings.A_INSTEAD.format(host="a.test", addresses="192.0.2.1, a non-public address",
                              target="t.test"),
    findings.CAA_ONLY_ADD_OURS.format(node="acme.test", issuers="a.org and b.org",
                                      ca="pebble.test"),
    findings.ISSUING_RETRIED.format(reason="The CA refused.", delay="3 hours"),
    findings.CERTIFICATE_EXPIRED.format(previous=""),
    findings.CERTIFICATE_EXPIRED.format(previous=findings.INVALID_NAME.format(name="x..y")),
    findings.WAITING,
])
def test_a_domains_stored_findings_read_in_german(stored: str) -> None:
    assert findings.explain(stored) == stored
    with speaking("de"):
        german = findings.explain(stored)
    assert german is not None
    assert german != stored
    for english in ("DNS changes", "record", "points to", "Getting a certificate", " hours",
                    "non-public", " and b.org", "Waiting"):
        assert english not in german, german


def test_unrecognised_text_is_shown_as_stored() -> None:
    book = Phrasebook(("{count} apples were eaten.",))
    with speaking("de"):
        assert book.render("A sentence nobody wrote a template for.") == (
            "A sentence nobody wrote a template for.")
        assert findings.explain(None) is None
        clipped = findings.NO_TXT.format(record="r.test", token="t")[:40] + "\u2026"
        assert findings.explain(clipped) == clipped


@pytest.mark.parametrize(
    ("why", "german"),
    [
        (lambda: skip_reason("mailto:ada@example.test"),
         "Link auf eine E-Mail-Adresse (mailto:ada@example.test): Er wird nicht umgeschrieben."),
        (lambda: skip_reason("tel:+4930123"),
         "Link auf eine Telefonnummer (tel:+4930123): Er wird nicht umgeschrieben."),
        (lambda: address_text_reason("https://shop.example.test/"),
         "Der Linktext ist selbst eine Webadresse (https://shop.example.test/), daher wird der "
         "Link nicht umgeschrieben."),
    ],
    ids=["mailto", "phone", "address-as-text"],
)
def test_why_a_link_is_not_tracked_is_stored_in_english_and_shown_in_german(
    why: Callable[[], str | None], german: str
) -> None:
    english = why()
    assert english is not None
    with speaking("de"):
        assert why() == english  # decided (and kept) in English whoever prepared the email
        assert not_tracked.explain(english) == german
    assert not_tracked.explain(english) == english


def test_the_email_level_reasons_come_back_in_german() -> None:
    with speaking("de"):
        assert not_tracked.explain(NO_LINKS) == (
            "Klicks werden nicht nachverfolgt: Diese E-Mail enthält keinen Weblink, der sich "
            "nachverfolgen ließe.")
    assert not_tracked.explain(NO_LINKS) == NO_LINKS
