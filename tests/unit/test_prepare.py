"""prepare: what is tracked and why not (R2, R3, R6, R12, R13, R18), tokens per message (R15)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from html.parser import HTMLParser

import pytest

from sendtrail.errors import InvalidInput
from sendtrail.tracking.core import prepare as prepare_module
from sendtrail.tracking.core.model import (
    DeliveryMode,
    EmailKind,
    HitKind,
    RecipientField,
    TokenClaims,
)
from sendtrail.tracking.core.policy import TrackingPolicy
from sendtrail.tracking.core.prepare import (
    Draft,
    PreparedEmail,
    Recipient,
    TrackedLink,
    prepare,
)
from sendtrail.tracking.core.tokens import TokenKeys, sign, verify

KEYS = TokenKeys.derive(["prepare-test-secret"])
ACCOUNT = uuid.UUID("00000000-0000-4000-8000-00000000000a")
EMAIL = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
SENT_AT = 1_714_000_000
BASE = "https://t7.na1.track.example.net"
FREE_SEAT = "Free seat: clicks are not tracked (click tracking needs a paid seat)."
ACCOUNT_OFF = "Tracking is turned off for the whole account by an admin."

PAID = TrackingPolicy(
    tracking_enabled=True,
    open_tracking=True,
    click_tracking=True,
    marketing_tracking=True,
    marketing_link_tracking=True,
    privacy_mode=False,
    self_open_suppression=True,
    default_track=True,
    default_log=False,
    tracking_base_url=BASE,
)
FREE = replace(PAID, click_tracking=False, not_tracked_reasons=(FREE_SEAT,))
OFF = replace(
    PAID,
    tracking_enabled=False,
    open_tracking=False,
    click_tracking=False,
    marketing_tracking=False,
    marketing_link_tracking=False,
    not_tracked_reasons=(ACCOUNT_OFF,),
)

# A Gmail-composed sales email: two eligible links, one address-text link, a mailto.
GMAIL = (
    '<div dir="ltr">Hi Sam,<div><br></div><div>Here is the <a href="https://docs.example.com/'
    'proposal?id=42&amp;ref=mail" target="_blank">proposal</a>, pricing at <a href="https://www.'
    'example.com/pricing" target="_blank">www.example.com/pricing</a>.</div><div><br></div>'
    '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">Alex | <a href="'
    'mailto:alex@example.com" target="_blank">alex@example.com</a> | <a href="https://www.'
    'linkedin.com/in/alexdoe" target="_blank">LinkedIn</a></div></div>'
)
GMAIL_LINKS = (
    "https://docs.example.com/proposal?id=42&ref=mail",
    "https://www.linkedin.com/in/alexdoe",
)
TEXT = "Hi Sam,\n\nHere is the proposal: https://docs.example.com/proposal?id=42&ref=mail\n"
RECIPIENTS = (
    Recipient("sam@example.org", "Sam", RecipientField.TO),
    Recipient("kim@example.org", None, RecipientField.CC),
    Recipient("audit@example.org", None, RecipientField.BCC),
)


def draft(**changes: object) -> Draft:
    base = Draft(
        kind=EmailKind.SALES,
        subject="Proposal",
        html=GMAIL,
        text=TEXT,
        recipients=RECIPIENTS,
        delivery_mode=DeliveryMode.SINGLE_MESSAGE,
        track=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def run(email: Draft, policy: TrackingPolicy = PAID) -> PreparedEmail:
    return prepare(email, policy, keys=KEYS, account_id=ACCOUNT, email_id=EMAIL, sent_at=SENT_AT)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "img" and values.get("src"):
            self.images.append(values["src"] or "")


def collect(document: str | None) -> _Collector:
    assert document is not None
    collector = _Collector()
    collector.feed(document)
    collector.close()
    return collector


def pixels(document: str | None) -> list[TokenClaims]:
    found = [src for src in collect(document).images if src.startswith(f"{BASE}/o/")]
    return [verify(src.removeprefix(f"{BASE}/o/").removesuffix(".gif"), KEYS) for src in found]


def clicks(document: str | None) -> list[TokenClaims]:
    found = [href for href in collect(document).hrefs if href.startswith(f"{BASE}/c/")]
    return [verify(href.removeprefix(f"{BASE}/c/"), KEYS) for href in found]


def expected_claims(
    kind: HitKind, recipient: int | None, *, sender_copy: bool = False, link: int | None = None
) -> TokenClaims:
    url = None if link is None else GMAIL_LINKS[link]
    return TokenClaims(kind, ACCOUNT, EMAIL, recipient, sender_copy, SENT_AT, link, url)


def test_paid_sales_email_gets_a_verifiable_pixel_and_rewritten_links() -> None:  # R5, R11
    result = run(draft())
    assert (result.open_tracking, result.click_tracking) == (True, True)
    assert result.links == (TrackedLink(0, GMAIL_LINKS[0]), TrackedLink(1, GMAIL_LINKS[1]))
    (message,) = result.messages
    assert pixels(message.html) == [expected_claims(HitKind.OPEN, None)]
    assert clicks(message.html) == [
        expected_claims(HitKind.CLICK, None, link=0),
        expected_claims(HitKind.CLICK, None, link=1),
    ]
    # R13: address-text and mailto links keep their href, and say why.
    hrefs = collect(message.html).hrefs
    assert "https://www.example.com/pricing" in hrefs
    assert "mailto:alex@example.com" in hrefs
    assert [address for address, _ in result.skipped_links] == [
        "https://www.example.com/pricing",
        "mailto:alex@example.com",
    ]
    assert all(reason in result.not_tracked_reasons for _, reason in result.skipped_links)


def test_single_message_goes_to_everyone_with_shared_tokens() -> None:  # R15
    result = run(draft(delivery_mode=DeliveryMode.SINGLE_MESSAGE))
    (message,) = result.messages
    assert message.recipients == ("sam@example.org", "kim@example.org", "audit@example.org")
    assert message.recipient_index is None
    assert {claims.recipient for claims in pixels(message.html) + clicks(message.html)} == {None}


def test_per_recipient_messages_carry_their_own_recipient_tokens() -> None:  # R15
    result = run(draft(delivery_mode=DeliveryMode.PER_RECIPIENT))
    assert [(m.recipients, m.recipient_index) for m in result.messages] == [
        (("sam@example.org",), 0),
        (("kim@example.org",), 1),
        (("audit@example.org",), 2),
    ]
    for index, message in enumerate(result.messages):
        assert pixels(message.html) == [expected_claims(HitKind.OPEN, index)]
        assert clicks(message.html) == [
            expected_claims(HitKind.CLICK, index, link=0),
            expected_claims(HitKind.CLICK, index, link=1),
        ]
        assert message.text == TEXT


@pytest.mark.parametrize("mode", list(DeliveryMode))
def test_sender_copy_tokens_are_marked_sender_copy(mode: DeliveryMode) -> None:  # R9, R14
    copy = run(draft(delivery_mode=mode)).sender_copy
    assert copy.recipients == ("sam@example.org", "kim@example.org", "audit@example.org")
    assert copy.recipient_index is None
    assert pixels(copy.html) == [expected_claims(HitKind.OPEN, None, sender_copy=True)]
    assert clicks(copy.html) == [
        expected_claims(HitKind.CLICK, None, sender_copy=True, link=0),
        expected_claims(HitKind.CLICK, None, sender_copy=True, link=1),
    ]
    assert copy.text == TEXT


def test_tracking_uses_the_policy_tracking_host() -> None:  # R20, R21
    custom = replace(PAID, tracking_base_url="https://links.customer.example")
    html = run(draft(), custom).messages[0].html
    assert html is not None
    assert 'src="https://links.customer.example/o/' in html
    assert html.count('href="https://links.customer.example/c/') == 2


@dataclass(frozen=True)
class Case:
    kind: EmailKind
    policy: TrackingPolicy
    track: bool | None
    html: str | None
    opens: bool
    clicks: bool
    reasons: tuple[str, ...] | None = None
    """Exactly these reasons (``None``: not checked beyond the free-seat rule)."""


NO_ELIGIBLE_LINK = '<p>Call <a href="tel:+15551234">us</a> or see <a href="#faq">the FAQ</a>.</p>'
EMAIL_OFF = ("Tracking was turned off for this email.",)
SALES, MARKETING = EmailKind.SALES, EmailKind.MARKETING
PLAIN = (prepare_module.PLAIN_TEXT,)
DECISIONS = {
    "paid-sales": Case(SALES, PAID, None, GMAIL, True, True),
    "R12-free-seat-opens-only": Case(SALES, FREE, None, GMAIL, True, False, (FREE_SEAT,)),
    "R18-account-off": Case(SALES, OFF, True, GMAIL, False, False, (ACCOUNT_OFF,)),
    "R18-marketing-account-off": Case(MARKETING, OFF, True, GMAIL, False, False, (ACCOUNT_OFF,)),
    "R1-track-false": Case(SALES, PAID, False, GMAIL, False, False, EMAIL_OFF),
    "R2-default-off": Case(
        SALES, replace(PAID, default_track=False), None, GMAIL, False, False, EMAIL_OFF
    ),
    "R2-explicit-track-beats-default": Case(
        SALES, replace(PAID, default_track=False), True, GMAIL, True, True
    ),
    "R6-plain-text": Case(SALES, PAID, True, None, False, False, PLAIN),
    "R6-blank-html": Case(SALES, PAID, True, "  \n", False, False, PLAIN),
    "R3-marketing-ignores-seat": Case(MARKETING, FREE, None, GMAIL, True, True),
    "R12-marketing-links-off": Case(
        MARKETING,
        replace(PAID, marketing_link_tracking=False),
        None,
        GMAIL,
        True,
        False,
        (prepare_module.MARKETING_LINKS_OFF,),
    ),
    "R3-marketing-off": Case(
        MARKETING,
        replace(PAID, marketing_tracking=False, marketing_link_tracking=False),
        None,
        GMAIL,
        False,
        False,
        (prepare_module.MARKETING_OFF,),
    ),
    "R13-no-eligible-link": Case(
        SALES,
        PAID,
        None,
        NO_ELIGIBLE_LINK,
        True,
        False,
        (
            prepare_module.NO_LINKS,
            "Phone number link (tel:+15551234): it is not rewritten.",
            "In-page anchor (#faq): it is not rewritten.",
        ),
    ),
}


@pytest.mark.parametrize("case", DECISIONS.values(), ids=DECISIONS.keys())
def test_what_is_tracked_and_why_not(case: Case) -> None:
    result = run(draft(kind=case.kind, track=case.track, html=case.html), case.policy)
    assert (result.open_tracking, result.click_tracking) == (case.opens, case.clicks)
    if case.reasons is not None:
        assert result.not_tracked_reasons == case.reasons
    if FREE_SEAT not in (case.reasons or ()):
        assert FREE_SEAT not in result.not_tracked_reasons
    has_html = bool(case.html and case.html.strip())
    for message in (*result.messages, result.sender_copy):
        if has_html:
            assert len(pixels(message.html)) == int(case.opens)
            assert bool(clicks(message.html)) is case.clicks
        else:
            assert message.html == case.html
        assert message.text == TEXT
    if not case.clicks:
        assert result.links == ()


def test_untracked_html_is_sent_exactly_as_written() -> None:  # R18
    for result in (run(draft(), OFF), run(draft(track=False))):
        assert result.messages[0].html == GMAIL
        assert result.sender_copy.html == GMAIL


def test_free_seat_keeps_original_hrefs() -> None:  # R12
    html = run(draft(), FREE).messages[0].html
    assert html is not None
    assert html.count(f"{BASE}/c/") == 0
    assert 'href="https://docs.example.com/proposal?id=42&amp;ref=mail"' in html


def pasted_html() -> str:
    old_email, old_account = uuid.uuid4(), uuid.uuid4()
    old_pixel = sign(TokenClaims(HitKind.OPEN, old_account, old_email, 0, False, 1), KEYS)
    old_link = sign(
        TokenClaims(HitKind.CLICK, old_account, old_email, 0, False, 1, 0, GMAIL_LINKS[0]), KEYS
    )
    return (
        f'<p>As I wrote: <a href="https://old.track.example/c/{old_link}">proposal</a></p>'
        f'<img src="https://old.track.example/o/{old_pixel}.gif" width="1" height="1"></body>'
    )


def test_pasted_tracking_is_removed_and_the_link_tracked_for_this_email() -> None:  # R8
    result = run(draft(html=pasted_html(), delivery_mode=DeliveryMode.PER_RECIPIENT))
    assert len(result.removed_tracking) == 2
    assert result.links == (TrackedLink(0, GMAIL_LINKS[0]),)
    for index, message in enumerate(result.messages):
        assert "old.track.example" not in (message.html or "")
        assert pixels(message.html) == [expected_claims(HitKind.OPEN, index)]
        assert clicks(message.html) == [expected_claims(HitKind.CLICK, index, link=0)]


def test_pasted_tracking_is_removed_even_when_tracking_is_off() -> None:  # R8, R18
    result = run(draft(html=pasted_html()), OFF)
    html = result.messages[0].html
    assert html == (
        '<p>As I wrote: <a href="https://docs.example.com/proposal?id=42&amp;ref=mail">'
        "proposal</a></p></body>"
    )
    assert len(result.removed_tracking) == 2


def test_plain_text_email_is_unchanged_and_not_tracked() -> None:  # R6, R13
    result = run(draft(html=None, delivery_mode=DeliveryMode.PER_RECIPIENT))
    assert [(m.html, m.text) for m in result.messages] == [(None, TEXT)] * 3
    assert result.skipped_links == ()
    assert result.not_tracked_reasons == (prepare_module.PLAIN_TEXT,)


def test_html_is_parsed_once_however_many_recipients(monkeypatch: pytest.MonkeyPatch) -> None:
    feeds: list[int] = []
    original_feed = HTMLParser.feed

    def counting_feed(self: HTMLParser, data: str) -> None:
        feeds.append(len(data))
        original_feed(self, data)

    monkeypatch.setattr(HTMLParser, "feed", counting_feed)
    many = tuple(Recipient(f"r{i}@example.org") for i in range(50))
    result = run(draft(recipients=many, delivery_mode=DeliveryMode.PER_RECIPIENT))
    assert len(result.messages) == 50
    assert feeds == [len(GMAIL)]


def test_per_recipient_without_tracking_renders_identical_messages() -> None:
    result = run(draft(delivery_mode=DeliveryMode.PER_RECIPIENT, track=False))
    assert {m.html for m in result.messages} == {GMAIL}


def test_an_email_needs_a_recipient() -> None:
    with pytest.raises(InvalidInput, match="at least one recipient"):
        run(draft(recipients=()))
