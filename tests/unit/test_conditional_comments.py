"""Outlook-only markup in conditional comments is tracked like the rest (issue 12, defect 12).

``<!--[if mso]> ... <![endif]-->`` (and ``[if mso | IE]``, MJML's form, ``[if gte mso 9]``,
``[if (gte mso 9)|(IE)]``) hides markup from every client but Outlook for Windows. The VML
buttons there were fixed first; this takes the class of bug: a plain ``<a href>`` in such a
comment is a link Outlook users click (R11, R13), a pixel of ours pasted there from an
earlier email loads for every new recipient (R8), and a tracked link of ours pasted there
still reports clicks on the earlier email (R8). Plain comments are rendered by nobody and
stay as they are.
"""

from __future__ import annotations

import re
import uuid

import pytest

from sendtrail.tracking.core.html_template import (
    REMOVED_PIXEL,
    HtmlTemplate,
    parse_template,
    render,
)
from sendtrail.tracking.core.model import DeliveryMode, EmailKind, HitKind, TokenClaims
from sendtrail.tracking.core.policy import TrackingPolicy
from sendtrail.tracking.core.prepare import Draft, Recipient, TrackedLink, prepare
from sendtrail.tracking.core.tokens import TokenKeys, sign, verify

KEYS = TokenKeys.derive(["conditional-test-secret"])
OTHER_KEYS = TokenKeys.derive(["somebody-else"])
SHOP = "https://shop.example.com"
HREF_VALUE = re.compile(r"""(?i)\bhref\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")

# An Outlook-only call to action in an MSO table, and nothing for other clients.
MSO_TABLE = f"""\
<div><!--[if mso]>
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr>
<td style="padding:12px;"><a href="{SHOP}/desktop?utm_source=email&amp;utm_medium=outlook" \
style="color:#1a73e8;">Get the desktop offer</a></td></tr></table>
<![endif]--><p>Hello</p></div>
"""

# MJML's form of the condition, with its own link, then an ordinary link.
MJML = f"""\
<!--[if mso | IE]><table role="presentation" border="0" cellpadding="0" cellspacing="0">\
<tr><td class="" style="vertical-align:top;width:600px;"><A HREF={SHOP}/mjml \
class="mj-link">Open in Outlook</A></td></tr></table><![endif]-->
<a href="{SHOP}/web">Read online</a>
"""

# An Outlook-only link and the revealed <a> for everyone else, to the same destination:
# one link, whichever the client shows.
SAME_DESTINATION = f"""\
<p><!--[if gte mso 9]><a href="{SHOP}/offer" style="mso-line-height-rule:exactly;">\
See the offer</a><![endif]--><!--[if !mso]><!-- --><a href="{SHOP}/offer" \
style="display:inline-block;">See the offer</a><!--<![endif]--></p>
"""

# Stripo's button: in Outlook an <a> wraps the VML shape, every other client gets the
# revealed <a>. All three are one link.
STRIPO = f"""\
<span class="es-button-border-1"><!--[if mso]><a href="{SHOP}/trial" target="_blank" hidden>
  <v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:\
office:word" esdevVmlButton href="{SHOP}/trial" style="height:41px; v-text-anchor:middle; \
width:186px" arcsize="50%" stroke="f" fillcolor="#5c68e2">
    <w:anchorlock></w:anchorlock>
    <center style='color:#ffffff; font-size:15px; font-weight:400;'>Start a trial</center>
  </v:roundrect></a>
<![endif]--><!--[if !mso]><!-- --><span class="msohide es-button-border"><a \
href="{SHOP}/trial" class="es-button msohide" target="_blank">Start a trial</a></span>\
<!--<![endif]--></span>
"""

# The same button when the template has no fallback: the <a> and its shape share a link.
STRIPO_OUTLOOK_ONLY = STRIPO[: STRIPO.index("<!--[if !mso]>")] + "</span>\n"

# Two Outlook-only links, the second going where a later ordinary link goes, in the old
# "(gte mso 9)|(IE)" form and in capitals.
TWO_LINKS = f"""\
<!--[IF (GTE MSO 9)|(IE)]><table><tr><td><a href='{SHOP}/a'>Plan A</a> | \
<a href="{SHOP}/b">Plan B</a></td></tr></table><![ENDIF]-->
<p><a href="{SHOP}/b">Plan B</a></p>
"""

SAMPLES = {
    "mso-table": MSO_TABLE,
    "mjml-mso-or-ie": MJML,
    "gte-mso-9-and-revealed": SAME_DESTINATION,
    "stripo": STRIPO,
    "stripo-outlook-only": STRIPO_OUTLOOK_ONLY,
    "two-links-capitals": TWO_LINKS,
}

CASES = [
    # (sample, links in document order, the link of each rewritten href in document order)
    ("mso-table", (f"{SHOP}/desktop?utm_source=email&utm_medium=outlook",), (0,)),
    ("mjml-mso-or-ie", (f"{SHOP}/mjml", f"{SHOP}/web"), (0, 1)),
    ("gte-mso-9-and-revealed", (f"{SHOP}/offer",), (0, 0)),
    ("stripo", (f"{SHOP}/trial",), (0, 0, 0)),
    ("stripo-outlook-only", (f"{SHOP}/trial",), (0, 0)),
    ("two-links-capitals", (f"{SHOP}/a", f"{SHOP}/b"), (0, 1, 1)),
]


def tracked(index: int) -> str:
    return f"https://r.sendtrail.test/c/LINK{index}?a=1&b=2"


def rewritten_hrefs(document: str) -> list[int]:
    found = re.findall(r'href="https://r\.sendtrail\.test/c/LINK(\d+)\?a=1&amp;b=2"', document,
                       re.IGNORECASE)
    return [int(number) for number in found]


def outside_hrefs(document: str) -> list[str]:
    return HREF_VALUE.split(document)[0::2]


def render_tracked(template: HtmlTemplate) -> str:
    return render(template, None, [tracked(i) for i in range(len(template.links))])


def pixel_url(keys: TokenKeys = KEYS, host: str = "https://t7.na1.track.example.net") -> str:
    claims = TokenClaims(HitKind.OPEN, uuid.uuid4(), uuid.uuid4(), None, False, 1_600_000_000)
    return f"{host}/o/{sign(claims, keys)}.gif"


def click_url(url: str, host: str = "https://links.customer.example") -> str:
    claims = TokenClaims(HitKind.CLICK, uuid.uuid4(), uuid.uuid4(), 0, False, 1_600_000_000, 0, url)
    return f"{host}/c/{sign(claims, KEYS)}"


@pytest.mark.parametrize(("name", "links", "slots"), CASES, ids=[case[0] for case in CASES])
def test_links_in_conditional_comments_are_tracked(  # issue 12, defect 12; R11
    name: str, links: tuple[str, ...], slots: tuple[int, ...]
) -> None:
    source = SAMPLES[name]
    template = parse_template(source, KEYS)
    assert template.links == links
    assert template.skipped_links == ()
    rendered = render_tracked(template)
    assert rewritten_hrefs(rendered) == list(slots)
    assert outside_hrefs(rendered) == outside_hrefs(source)  # byte for byte around them
    assert rendered.count("<!--") == source.count("<!--")
    assert rendered.count("-->") == source.count("-->")


@pytest.mark.parametrize("name", SAMPLES)
def test_untracked_rendering_of_conditional_links_is_the_source(name: str) -> None:
    source = SAMPLES[name]
    template = parse_template(source, KEYS)
    assert render(template, None, None) == source
    assert render(template, None, template.links) == source


NOT_REWRITTEN = [
    # (id, href, text, reason starts with)
    ("mailto", "mailto:sales@shop.example.com", "Write to us", "Email address link"),
    ("tel", "tel:+15551234567", "Call us", "Phone number link"),
    ("anchor", "#pricing", "See prices", "In-page anchor"),
    ("relative", "/pricing", "See prices", "Relative link"),
    ("javascript", "javascript:void(0)", "Go", "Not a web link"),
    ("no-host", "http://", "Click here", "The web address has no host"),
    ("text-is-an-address", f"{SHOP}/", " www.shop.example.com ",
     "The link text is itself a web address"),
    ("text-is-a-url", f"{SHOP}/x", "<b>https://shop.example.com/x</b>",
     "The link text is itself a web address"),
]


@pytest.mark.parametrize("condition", ["mso", "mso | IE", "gte mso 9"])
@pytest.mark.parametrize(
    ("href", "text", "reason"),
    [case[1:] for case in NOT_REWRITTEN], ids=[case[0] for case in NOT_REWRITTEN],
)
def test_conditional_links_follow_the_same_eligibility_rules(  # issue 12, defect 12; R13
    condition: str, href: str, text: str, reason: str
) -> None:
    source = f'<td><!--[if {condition}]><a href="{href}">{text}</a><![endif]--></td>'
    template = parse_template(source, KEYS)
    assert template.links == ()
    ((address, why),) = template.skipped_links
    assert address == href
    assert why.startswith(reason)
    assert render(template, None, []) == source


@pytest.mark.parametrize(
    "source",
    [
        # A plain comment is shown by nobody: a commented-out link stays as it is.
        f'<!-- <a href="{SHOP}/old">Old offer</a> -->',
        f'<!--<p>[if mso]> <a href="{SHOP}/old">Old</a> <![endif]</p>-->',
        # Downlevel-revealed markers hold no markup of their own.
        "<!--[if !mso]><!--><p>Hello</p><!--<![endif]-->",
        # Outlook-only markup without links.
        '<!--[if mso | IE]><table role="presentation"><tr><td style="width:600px;">'
        "<![endif]--><p>Hi</p><!--[if mso | IE]></td></tr></table><![endif]-->",
        # An <a> without an address is not a link.
        '<!--[if mso]><a name="top">Top</a><![endif]-->',
    ],
)
def test_comments_without_links_are_untouched(source: str) -> None:
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert template.skipped_links == ()
    assert template.removed_tracking == ()
    assert render(template, None, []) == source


@pytest.mark.parametrize("condition", ["mso", "mso | IE", "gte mso 9", "(gte mso 9)|(IE)"])
def test_pasted_pixel_of_ours_in_a_conditional_comment_is_removed(  # R8, defect 12
    condition: str,
) -> None:
    ours = [pixel_url(), pixel_url(host="https://track.customer.example")]
    source = (
        f"<body><p>Hello</p><!--[if {condition}]><table><tr><td>"
        f'<img src="{ours[0]}" width="1" height="1" alt="" style="border:0;" />'
        f"</td></tr></table><IMG SRC='{ours[1]}'><![endif]-->"
        '<img src="https://cdn.example.com/logo.png"></body>'
    )
    template = parse_template(source, KEYS)
    assert render(template, None, None) == (
        f"<body><p>Hello</p><!--[if {condition}]><table><tr><td></td></tr></table>"
        '<![endif]--><img src="https://cdn.example.com/logo.png"></body>'
    )
    assert template.removed_tracking == (REMOVED_PIXEL, REMOVED_PIXEL)


@pytest.mark.parametrize(
    "image",
    [
        f'<!--[if mso]><img src="{pixel_url(OTHER_KEYS)}"><![endif]-->',  # not our signature
        '<!--[if mso]><img src="https://cdn.example.com/outlook-banner.png" width="600">'
        "<![endif]-->",
        '<!--[if mso | IE]><img src="https://t.example.net/o/not a token.gif"><![endif]-->',
        f'<!--[if gte mso 9]><img src="{pixel_url().replace(".gif", ".png")}"><![endif]-->',
        f'<!--[if mso]><img src="{click_url("https://x.example/")}"><![endif]-->',  # a click
        f'<!--[if mso]><v:image src="{pixel_url()}" style="width:1px;"/><![endif]-->',  # VML
        f'<!--[if mso]><img data-src="{pixel_url()}" src="/logo.png"><![endif]-->',
        f'<!-- <img src="{pixel_url()}"> -->',  # a plain comment: loaded by nobody
    ],
)
def test_images_in_comments_that_are_not_our_pixel_stay(image: str) -> None:  # R8
    source = f"<body>{image}<p>Hi</p></body>"
    template = parse_template(source, KEYS)
    assert render(template, None, None) == source
    assert template.removed_tracking == ()


def test_a_pasted_pixel_is_left_rather_than_end_its_comment_early() -> None:  # R8
    # Cutting it out would join "--" and ">" into "-->": the rest of Outlook's markup
    # would show in every client.
    source = f'<!--[if mso]><p>--<img src="{pixel_url()}">></p><![endif]--><p>Hi</p>'
    template = parse_template(source, KEYS)
    assert render(template, None, None) == source
    assert template.removed_tracking == ()


def test_pasted_tracked_link_in_a_conditional_comment_is_restored() -> None:  # R8, R11
    destination = f"{SHOP}/offer?a=1&b=2"
    pasted = click_url(destination).replace("&", "&amp;")
    source = (f'<!--[if mso | IE]><a href="{pasted}">the offer</a><![endif]-->'
              f'<a href="{pasted}">the offer</a>')
    template = parse_template(source, KEYS)
    assert template.links == (destination,)
    restored = f'<a href="{destination.replace("&", "&amp;")}">the offer</a>'
    assert render(template, None, None) == (
        f"<!--[if mso | IE]>{restored}<![endif]-->{restored}"
    )
    assert rewritten_hrefs(render_tracked(template)) == [0, 0]
    ((sentence),) = template.removed_tracking  # one sentence for the one link
    assert sentence.startswith("Restored a tracked link copied from an earlier email")


def test_pasted_tracked_conditional_link_that_is_not_eligible_is_still_restored() -> None:
    # R8, R13: restored to its destination, and left there (its text is an address).
    source = f'<!--[if mso]><a href="{click_url(SHOP + "/")}">shop.example.com</a><![endif]-->'
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert render(template, None, None) == (
        f'<!--[if mso]><a href="{SHOP}/">shop.example.com</a><![endif]-->'
    )
    assert len(template.removed_tracking) == 1


def test_pasted_pixel_inside_a_pasted_conditional_link_are_both_handled() -> None:  # R8
    source = (f'<!--[if mso]><a href="{click_url(SHOP + "/")}"><img src="{pixel_url()}">'
              "</a><![endif]-->")
    template = parse_template(source, KEYS)
    assert render(template, None, None) == f'<!--[if mso]><a href="{SHOP}/"></a><![endif]-->'
    assert len(template.removed_tracking) == 2


BASE = "https://t7.na1.track.example.net"
POLICY = TrackingPolicy(
    tracking_enabled=True, open_tracking=True, click_tracking=True, marketing_tracking=True,
    marketing_link_tracking=True, privacy_mode=False, self_open_suppression=True,
    default_track=True, default_log=False, tracking_base_url=BASE,
)


@pytest.mark.parametrize("sender_copy", [False, True])
def test_prepared_outlook_link_is_tracked_and_the_pasted_pixel_gone(  # defect 12; R8, R11
    sender_copy: bool,
) -> None:
    earlier = pixel_url(host=BASE)
    body = (f'<body><!--[if mso | IE]><img src="{earlier}" width="1" height="1" alt="" />'
            f"<![endif]-->{SAME_DESTINATION}</body>")
    draft = Draft(
        kind=EmailKind.SALES, subject="Offer", html=body, text=None,
        recipients=(Recipient("sam@example.org"), Recipient("kim@example.org")),
        delivery_mode=DeliveryMode.PER_RECIPIENT,
    )
    result = prepare(draft, POLICY, keys=KEYS, account_id=uuid.UUID(int=1),
                     email_id=uuid.UUID(int=2), sent_at=1_714_000_000)
    assert result.links == (TrackedLink(0, f"{SHOP}/offer"),)
    assert result.removed_tracking == (REMOVED_PIXEL,)
    messages = [result.sender_copy] if sender_copy else list(result.messages)
    for message in messages:
        assert message.html is not None
        assert earlier not in message.html
        assert message.html.count(f"{BASE}/o/") == 1  # this email's pixel only
        tokens = re.findall(rf'href="{re.escape(BASE)}/c/([A-Za-z0-9_-]+)"', message.html)
        assert len(tokens) == 2
        assert tokens[0] == tokens[1]
        claims = verify(tokens[0], KEYS)
        assert (claims.link, claims.url, claims.sender_copy) == (0, f"{SHOP}/offer", sender_copy)
