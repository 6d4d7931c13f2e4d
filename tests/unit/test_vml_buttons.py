"""Outlook's VML "bulletproof" buttons are tracked like their <a> fallback (issue 12, defect 12).

Outlook for Windows renders only what is inside ``<!--[if mso]> ... <![endif]-->``: its
button is a VML shape whose ``href`` is the link. Other clients render the ``<a>`` fallback.
Both must lead through the same tracked link (R11), and nothing else may change.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

import pytest

from sendtrail.tracking.core.html_template import HtmlTemplate, parse_template, render
from sendtrail.tracking.core.model import DeliveryMode, EmailKind, HitKind, TokenClaims
from sendtrail.tracking.core.policy import TrackingPolicy
from sendtrail.tracking.core.prepare import Draft, Recipient, TrackedLink, prepare
from sendtrail.tracking.core.tokens import TokenKeys, sign, verify

KEYS = TokenKeys.derive(["vml-test-secret"])
DEMO = "https://shop.example.com/demo?utm_source=email&utm_medium=button"
DEMO_ATTR = DEMO.replace("&", "&amp;")

# buttons.cm (Campaign Monitor), "rounded" style: a VML roundrect for Outlook, then the
# <a> for everyone else, hidden from Outlook with mso-hide.
ROUNDRECT = f"""\
<div><!--[if mso]>
  <v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:w="urn:schemas-microsoft-com:office:word" href="{DEMO_ATTR}" \
style="height:40px;v-text-anchor:middle;width:200px;" arcsize="10%" strokecolor="#1e3650" \
fillcolor="#556270">
    <w:anchorlock/>
    <center style="color:#ffffff;font-family:sans-serif;font-size:13px;font-weight:bold;">\
Book a demo</center>
  </v:roundrect>
<![endif]--><a href="{DEMO_ATTR}"
style="background-color:#556270;border:1px solid #1e3650;border-radius:4px;color:#ffffff;\
display:inline-block;font-family:sans-serif;font-size:13px;font-weight:bold;line-height:40px;\
text-align:center;text-decoration:none;width:200px;-webkit-text-size-adjust:none;\
mso-hide:all;">Book a demo</a></div>
"""

# buttons.cm, "background image" style: the VML rect opens in one conditional comment and
# closes in another, with the <a> between them (inside the button in Outlook).
BACKGROUND_RECT = """\
<div><!--[if mso]>
  <v:rect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word" \
href='https://shop.example.com/sale' style="height:40px;v-text-anchor:middle;width:200px;" \
stroke="f" fill="t">
    <v:fill type="tile" src="https://cdn.example.com/button-bg.png" color="#556270" />
    <w:anchorlock/>
    <center>
  <![endif]-->
      <a href="https://shop.example.com/sale" style="background-color:#556270;\
background-image:url(https://cdn.example.com/button-bg.png);color:#ffffff;\
display:inline-block;line-height:40px;text-align:center;text-decoration:none;width:200px;">\
Shop the sale</a>
  <!--[if mso]>
    </center>
  </v:rect>
<![endif]--></div>
"""

# The <a> first, revealed to every client but Outlook ("downlevel-revealed" comments are
# markup, not a comment-wrapped body), then Outlook's VML in a hidden conditional comment.
REVEALED_FIRST = """\
<td align="center"><!--[if !mso]><!-- --><a href="https://shop.example.com/trial" \
style="display:inline-block;padding:12px 24px;">Start a trial</a><!--<![endif]-->\
<!--[if gte mso 9]><v:oval xmlns:v="urn:schemas-microsoft-com:vml" \
href="https://shop.example.com/trial" style="width:180px;height:44px;" fillcolor="#2a9d8f">\
<center>Start a trial</center></v:oval><![endif]--></td>
"""

# A VML button whose href differs from its fallback's (each is its own link), then a
# second button with its own destination.
TWO_BUTTONS = """\
<p><!--[if mso]><v:roundrect href="https://shop.example.com/a?via=outlook" \
style="width:150px;height:40px;"><center>Plan A</center></v:roundrect><![endif]-->\
<a href="https://shop.example.com/a" style="mso-hide:all;">Plan A</a></p>
<p><!--[if mso]><V:RECT HREF=https://shop.example.com/b style="width:150px;height:40px;">\
<center>Plan B</center></V:RECT><![endif]--><a href="https://shop.example.com/b" \
style="mso-hide:all;">Plan B</a></p>
"""

# Only Outlook gets a button: no <a> at all.
VML_ONLY = """\
<div><!--[if mso]><v:shape xmlns:v="urn:schemas-microsoft-com:vml" \
href="https://shop.example.com/outlook-only" coordsize="21600,21600" path="m0,0l21600,0,21600,\
21600,0,21600xe" style="width:120px;height:30px;"><v:textbox><center>Outlook only</center>\
</v:textbox></v:shape><v:image href="https://shop.example.com/logo-link" \
src="https://cdn.example.com/logo.png" style="width:80px;height:20px;" /><![endif]--></div>
"""

SAMPLES = {
    "roundrect": ROUNDRECT,
    "background-rect": BACKGROUND_RECT,
    "revealed-first": REVEALED_FIRST,
    "two-buttons": TWO_BUTTONS,
    "vml-only": VML_ONLY,
}

CASES = [
    # (sample, links in document order, the link of each rewritten href in document order)
    ("roundrect", (DEMO,), (0, 0)),
    ("background-rect", ("https://shop.example.com/sale",), (0, 0)),
    ("revealed-first", ("https://shop.example.com/trial",), (0, 0)),
    (
        "two-buttons",
        (
            "https://shop.example.com/a?via=outlook",
            "https://shop.example.com/a",
            "https://shop.example.com/b",
        ),
        (0, 1, 2, 2),
    ),
    (
        "vml-only",
        ("https://shop.example.com/outlook-only", "https://shop.example.com/logo-link"),
        (0, 1),
    ),
]

HREF_VALUE = re.compile(r"""(?i)\bhref\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")


def tracked(index: int) -> str:
    return f"https://r.sendtrail.test/c/LINK{index}?a=1&b=2"


def rewritten_hrefs(document: str) -> list[int]:
    """The link number of every tracked href in ``document``, VML and <a>, in order."""
    found = re.findall(r'href="https://r\.sendtrail\.test/c/LINK(\d+)\?a=1&amp;b=2"', document,
                       re.IGNORECASE)
    return [int(number) for number in found]


def outside_hrefs(document: str) -> list[str]:
    """``document`` cut at every href value: what must stay byte for byte."""
    return HREF_VALUE.split(document)[0::2]


def render_tracked(template: HtmlTemplate) -> str:
    return render(template, None, [tracked(i) for i in range(len(template.links))])


@pytest.mark.parametrize(("name", "links", "slots"), CASES, ids=[case[0] for case in CASES])
def test_vml_hrefs_are_tracked_with_their_fallbacks_link(  # issue 12, defect 12; R11
    name: str, links: tuple[str, ...], slots: tuple[int, ...]
) -> None:
    source = SAMPLES[name]
    template = parse_template(source, KEYS)
    assert template.links == links
    assert template.skipped_links == ()
    rendered = render_tracked(template)
    assert rewritten_hrefs(rendered) == list(slots)
    assert outside_hrefs(rendered) == outside_hrefs(source)  # byte for byte around them


@pytest.mark.parametrize("name", SAMPLES)
def test_untracked_rendering_of_vml_buttons_is_the_source(name: str) -> None:
    source = SAMPLES[name]
    template = parse_template(source, KEYS)
    assert render(template, None, None) == source
    assert render(template, None, template.links) == source


def test_vml_rewrite_stays_inside_its_conditional_comment() -> None:  # defect 12
    rendered = render_tracked(parse_template(ROUNDRECT, KEYS))
    hidden = rendered[rendered.index("<!--[if mso]>") : rendered.index("<![endif]-->")]
    assert '<v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" ' in hidden
    assert f'href="{tracked(0).replace("&", "&amp;")}"' in hidden
    assert DEMO_ATTR not in rendered
    assert rendered.count("<!--") == rendered.count("-->") == 1


NOT_REWRITTEN = [
    # (id, VML href, VML text, fallback, reason starts with)
    ("mailto", "mailto:sales@shop.example.com", "Write to us",
     '<a href="mailto:sales@shop.example.com">Write to us</a>', "Email address link"),
    ("tel", "tel:+15551234567", "Call us", "", "Phone number link"),
    ("anchor", "#pricing", "See prices", "", "In-page anchor"),
    ("placeholder", "http://", "Click here", "", "The web address has no host"),
    ("javascript", "javascript:void(0)", "Go", "", "Not a web link"),
    ("text-is-an-address", "https://shop.example.com/", " www.shop.example.com ", "",
     "The link text is itself a web address"),
    ("fallback-text-is-an-address", "https://shop.example.com/", "Visit the shop",
     '<a href="https://shop.example.com/">shop.example.com</a>',
     "The link text is itself a web address"),
]


@pytest.mark.parametrize(
    ("href", "text", "fallback", "reason"),
    [case[1:] for case in NOT_REWRITTEN], ids=[case[0] for case in NOT_REWRITTEN],
)
def test_vml_links_follow_the_same_eligibility_rules(  # issue 12, defect 12; R13
    href: str, text: str, fallback: str, reason: str
) -> None:
    source = (
        f'<div><!--[if mso]><v:roundrect href="{href}" style="width:200px;">'
        f"<w:anchorlock/><center>{text}</center></v:roundrect><![endif]-->{fallback}</div>"
    )
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert [address for address, _ in template.skipped_links] == [href]  # once per button
    assert template.skipped_links[0][1].startswith(reason)
    assert render(template, None, []) == source


@pytest.mark.parametrize(
    "source",
    [
        # A plain comment is markup nobody renders: commented-out buttons stay as they are.
        '<!-- <v:roundrect href="https://shop.example.com/old">Old</v:roundrect> -->',
        # Only VML shapes are links; a fill's or an image's src is not an href.
        '<!--[if mso]><v:rect style="width:600px;"><v:fill type="tile" '
        'src="https://cdn.example.com/bg.png" /></v:rect><![endif]-->',
        # Downlevel-revealed markers hold no markup of their own.
        "<!--[if !mso]><!--><p>Hello</p><!--<![endif]-->",
        # Word's own conditional XML.
        '<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/>'
        "</o:OfficeDocumentSettings></xml><![endif]-->",
    ],
)
def test_comments_without_vml_links_are_untouched(source: str) -> None:
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert template.skipped_links == ()
    assert render(template, None, []) == source


@pytest.mark.parametrize(
    "source",
    [
        '<!--[if mso]><![bogus[ x ]]><v:rect href="https://shop.example.com/x"><center>Go'
        "</center></v:rect><![endif]-->",
        '<p><![bogus x</p><a href="https://shop.example.com/x">Go</a>',
        '<p>A\n<![ x\n]]> <a href="https://shop.example.com/x">Go</a></p>',
        '<p><![ x]]> <a href="https://shop.example.com/x">Go</a></p>',
        '<a href="https://shop.example.com/x">Go</a><![',
    ],
)
def test_unknown_marked_sections_are_read_as_browsers_do(source: str) -> None:
    # Python 3.11's tokenizer raised AssertionError on these (an email could not be
    # prepared); browsers read "<![..." as a bogus comment up to the next ">".
    template = parse_template(source, KEYS)
    assert template.links == ("https://shop.example.com/x",)
    assert render(template, None, None) == source
    rendered = render_tracked(template)
    assert rewritten_hrefs(rendered) == [0]
    assert outside_hrefs(rendered) == outside_hrefs(source)


def test_revealed_link_is_ordinary_markup() -> None:  # R11
    source = '<!--[if !mso]><!--><a href="https://shop.example.com/x">Go</a><!--<![endif]-->'
    template = parse_template(source, KEYS)
    assert template.links == ("https://shop.example.com/x",)
    assert rewritten_hrefs(render_tracked(template)) == [0]


def click_url(url: str) -> str:
    claims = TokenClaims(HitKind.CLICK, uuid.uuid4(), uuid.uuid4(), 0, False, 1_600_000_000, 0, url)
    return f"https://links.customer.example/c/{sign(claims, KEYS)}"


def test_pasted_tracked_vml_link_is_restored_and_tracked_anew() -> None:  # R8, defect 12
    pasted = ROUNDRECT.replace(DEMO_ATTR, click_url(DEMO).replace("&", "&amp;"))
    template = parse_template(pasted, KEYS)
    assert template.links == (DEMO,)
    assert render(template, None, None) == ROUNDRECT  # the destination, as first written
    assert rewritten_hrefs(render_tracked(template)) == [0, 0]
    assert template.removed_tracking
    assert all(sentence.startswith("Restored a tracked link copied from an earlier email")
               for sentence in template.removed_tracking)
    assert "links.customer.example" not in render(template, None, None)


def test_pasted_tracked_vml_link_that_is_not_eligible_is_still_restored() -> None:  # R8, R13
    source = (f'<!--[if mso]><v:rect href="{click_url("https://shop.example.com/")}">'
              "<center>shop.example.com</center></v:rect><![endif]-->")
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert render(template, None, None) == (
        '<!--[if mso]><v:rect href="https://shop.example.com/">'
        "<center>shop.example.com</center></v:rect><![endif]-->"
    )
    assert len(template.removed_tracking) == 1


BASE = "https://t7.na1.track.example.net"
POLICY = TrackingPolicy(
    tracking_enabled=True, open_tracking=True, click_tracking=True, marketing_tracking=True,
    marketing_link_tracking=True, privacy_mode=False, self_open_suppression=True,
    default_track=True, default_log=False, tracking_base_url=BASE,
)


@pytest.mark.parametrize("sender_copy", [False, True])
def test_prepared_vml_button_and_fallback_carry_the_same_click_token(  # defect 12; R11
    sender_copy: bool,
) -> None:
    draft = Draft(
        kind=EmailKind.SALES, subject="Demo", html=f"<body>{ROUNDRECT}</body>", text=None,
        recipients=(Recipient("sam@example.org"), Recipient("kim@example.org")),
        delivery_mode=DeliveryMode.PER_RECIPIENT,
    )
    result = prepare(draft, POLICY, keys=KEYS, account_id=uuid.UUID(int=1),
                     email_id=uuid.UUID(int=2), sent_at=1_714_000_000)
    assert result.links == (TrackedLink(0, DEMO),)
    messages = [result.sender_copy] if sender_copy else list(result.messages)
    for message in messages:
        assert message.html is not None
        tokens = re.findall(rf'href="{re.escape(BASE)}/c/([A-Za-z0-9_-]+)"', message.html)
        assert len(tokens) == 2
        assert tokens[0] == tokens[1]
        claims = verify(tokens[0], KEYS)
        assert (claims.link, claims.url, claims.sender_copy) == (0, DEMO, sender_copy)
    off = prepare(replace(draft, track=False), POLICY, keys=KEYS, account_id=uuid.UUID(int=1),
                  email_id=uuid.UUID(int=2), sent_at=1_714_000_000)
    assert off.messages[0].html == f"<body>{ROUNDRECT}</body>"
