"""html_template: parse once, render many; eligible links (R11, R13), pasted tracking (R8)."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser

import pytest

from sendtrail.tracking.core.html_template import (
    PIXEL,
    REMOVED_PIXEL,
    HtmlTemplate,
    parse_template,
    pixel_markup,
    render,
)
from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.tokens import TokenKeys, sign

KEYS = TokenKeys.derive(["template-test-secret"])
OTHER_KEYS = TokenKeys.derive(["somebody-else"])
PIXEL_URL = "https://t.sendtrail.test/o/PIXELTOKEN.gif"

GMAIL = (
    '<div dir="ltr">Hi Sam,<div><br></div><div>Here is the <a href="https://docs.example.com/'
    'proposal?id=42&amp;ref=mail" target="_blank">proposal</a> we discussed, and the pricing '
    'page: <a href="https://www.example.com/pricing" target="_blank">www.example.com/pricing</a>'
    '.</div><div><br></div><div>Best,</div><div>Alex</div><div><br></div><span class="gmail_'
    'signature_prefix">-- </span><br><div dir="ltr" class="gmail_signature" data-smartmail="'
    'gmail_signature"><div dir="ltr"><div>Alex Doe | Account Executive</div><div><a href="tel:'
    '+15551234567" target="_blank">+1 555 123 4567</a> | <a href="mailto:alex@example.com" '
    'target="_blank">alex@example.com</a></div><div><a href="https://www.linkedin.com/in/alexdoe"'
    ' target="_blank">LinkedIn</a></div></div></div></div>\n'
)

OUTLOOK = """\
<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" \
xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/\
12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=us-ascii">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<!--[if !mso]><style>v\\:* {behavior:url(#default#VML);}
o\\:* {behavior:url(#default#VML);}
.shape {behavior:url(#default#VML);}
</style><![endif]--><style><!--
/* Font Definitions */
@font-face
\t{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{margin:0in;
\tfont-size:11.0pt;
\tfont-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink
\t{mso-style-priority:99;
\tcolor:#0563C1;
\ttext-decoration:underline;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
<p class="MsoNormal">Hello Jordan,<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Please find the <a href="https://contoso.sharepoint.com/sites/Sales/Shared%20\
Documents/Quote.pdf?web=1"><span style="color:#0563C1">updated quote</span></a> attached.\
<o:p></o:p></p>
<p class="MsoNormal">Our site: <a href="http://www.contoso.com/"><span style="color:#0563C1">\
www.contoso.com</span></a><o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Kind regards,<o:p></o:p></p>
<p class="MsoNormal">Morgan<o:p></o:p></p>
</div>
</body>
</html>
"""

APPLE_MAIL = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
    '<body style="word-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;"'
    ' class=""><div class="">Sounds good \u2014 see <a href="https://calendar.example.org/event?'
    'eid=abc123&amp;ctz=Europe/Paris" class="">the invite</a>.</div><div class=""><br class="">'
    '<blockquote type="cite" class=""><div class="">On 3 Mar 2024, at 10:12, Pat &lt;<a href="'
    'mailto:pat@example.org" class="">pat@example.org</a>&gt; wrote:</div><br class="Apple-inter'
    'change-newline"><div class=""><div class="">Can we meet? Agenda: <a href="https://example.org/'
    'agenda" class="">https://example.org/agenda</a></div></div></blockquote></div><br class="">'
    "</body></html>"
)

MARKETING = """\
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:o="urn:schemas-microsoft-com:office:office">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>Spring sale</title>
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/><o:PixelsPerInch>96\
</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->
<style type="text/css">
  a[x-apple-data-detectors] { color:inherit !important; }
  @media only screen and (max-width:600px) { .container { width:100% !important; } }
</style>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f4;">
<center>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
  <tr>
    <td align="center" valign="top">
      <!--[if (gte mso 9)|(IE)]><table width="600" align="center"><tr><td><![endif]-->
      <table class="container" width="600" cellpadding="0" cellspacing="0" border="0">
        <tr><td style="padding:24px;"><a href="https://shop.example.com/?utm_source=email&amp;\
utm_campaign=spring" target="_blank"><img src="https://cdn.example.com/logo.png" width="120" \
alt="Example Shop" style="display:block;border:0;" /></a></td></tr>
        <tr><td style="padding:0 24px;">
          <table width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
            <td width="50%"><a href="https://shop.example.com/p/123" style="color:#222;">Linen \
shirt</a></td>
            <td width="50%"><a href="https://shop.example.com/p/456" style="color:#222;">Canvas \
shoes</a></td>
          </tr></table>
        </td></tr>
        <tr><td align="center" style="padding:24px;">
          <div><!--[if mso]>
            <v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" href="https://shop.example.com/\
sale" style="height:44px;v-text-anchor:middle;width:200px;" arcsize="10%" fillcolor="#d62828">
              <w:anchorlock/>
              <center style="color:#ffffff;font-size:16px;">Shop the sale</center>
            </v:roundrect>
          <![endif]--><!--[if !mso]><!-- --><a href="https://shop.example.com/sale" \
style="background-color:#d62828;border-radius:4px;color:#ffffff;display:inline-block;\
line-height:44px;text-align:center;text-decoration:none;width:200px;">Shop the sale</a>\
<!--<![endif]--></div>
        </td></tr>
        <tr><td style="padding:24px;font-size:12px;color:#888;">
          <a href="https://shop.example.com/unsubscribe?u=9f8e&amp;list=spring">Unsubscribe</a> |
          <a href="#top">Back to top</a> | Visit shop.example.com
        </td></tr>
      </table>
      <!--[if (gte mso 9)|(IE)]></td></tr></table><![endif]-->
    </td>
  </tr>
</table>
</center>
</BODY>
</html>
"""


class _Collector(HTMLParser):
    """What a browser would read: every <a href> and <img src>, unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href") is not None:
            self.hrefs.append(values["href"] or "")
        if tag == "img" and values.get("src") is not None:
            self.images.append(values["src"] or "")


def collect(document: str) -> _Collector:
    collector = _Collector()
    collector.feed(document)
    collector.close()
    return collector


def tracked_urls(template: HtmlTemplate) -> list[str]:
    return [f"https://r.sendtrail.test/c/{i}?a=1&b=2" for i in range(len(template.links))]


def restore_rewrites(template: HtmlTemplate, rendered: str, urls: list[str]) -> str:
    """Undo the pixel and the rewritten hrefs, to compare everything else with the source."""
    rendered = rendered.replace(pixel_markup(PIXEL_URL), "", 1)
    for slot, original in zip(template.slots, template.originals, strict=True):
        if slot != PIXEL:  # a link may fill several slots (a VML button and its <a>)
            rendered = rendered.replace(f'"{urls[slot].replace("&", "&amp;")}"', original, 1)
    return rendered


def click_url(url: str, host: str = "https://links.customer.example") -> str:
    claims = TokenClaims(HitKind.CLICK, uuid.uuid4(), uuid.uuid4(), 3, False, 1_600_000_000, 0, url)
    return f"{host}/c/{sign(claims, KEYS)}"


def pixel_url(keys: TokenKeys = KEYS, host: str = "https://t7.na1.track.example.net") -> str:
    claims = TokenClaims(HitKind.OPEN, uuid.uuid4(), uuid.uuid4(), None, False, 1_600_000_000)
    return f"{host}/o/{sign(claims, keys)}.gif"


SAMPLES = {"gmail": GMAIL, "outlook": OUTLOOK, "apple-mail": APPLE_MAIL, "marketing": MARKETING}


# R11, R13: which links of real clients' markup are rewritten.
@pytest.mark.parametrize(
    ("name", "links"),
    [
        (
            "gmail",
            [
                "https://docs.example.com/proposal?id=42&ref=mail",
                "https://www.linkedin.com/in/alexdoe",
            ],
        ),
        (
            "outlook",
            ["https://contoso.sharepoint.com/sites/Sales/Shared%20Documents/Quote.pdf?web=1"],
        ),
        ("apple-mail", ["https://calendar.example.org/event?eid=abc123&ctz=Europe/Paris"]),
        (
            "marketing",
            [
                "https://shop.example.com/?utm_source=email&utm_campaign=spring",
                "https://shop.example.com/p/123",
                "https://shop.example.com/p/456",
                "https://shop.example.com/sale",
                "https://shop.example.com/unsubscribe?u=9f8e&list=spring",
            ],
        ),
    ],
)
def test_real_client_markup_yields_its_eligible_links(name: str, links: list[str]) -> None:
    assert parse_template(SAMPLES[name], KEYS).links == tuple(links)


@pytest.mark.parametrize("name", SAMPLES)
def test_rendering_original_links_without_pixel_reproduces_the_source_exactly(name: str) -> None:
    source = SAMPLES[name]
    template = parse_template(source, KEYS)
    assert render(template, None, None) == source
    assert render(template, None, template.links) == source


@pytest.mark.parametrize("name", SAMPLES)
def test_rewriting_changes_only_the_hrefs_and_adds_one_pixel(name: str) -> None:  # R5, R11
    source = SAMPLES[name]
    template = parse_template(source, KEYS)
    urls = tracked_urls(template)
    rendered = render(template, PIXEL_URL, urls)
    seen = collect(rendered)
    assert seen.images.count(PIXEL_URL) == 1
    for url in urls:
        assert url in seen.hrefs
    assert restore_rewrites(template, rendered, urls) == source


def test_skipped_links_of_real_client_markup_say_why() -> None:  # R13, R25
    reasons = dict(parse_template(GMAIL, KEYS).skipped_links)
    assert reasons == {
        "https://www.example.com/pricing": "The link text is itself a web address "
        "(www.example.com/pricing), so it is not rewritten.",
        "tel:+15551234567": "Phone number link (tel:+15551234567): it is not rewritten.",
        "mailto:alex@example.com": "Email address link (mailto:alex@example.com): "
        "it is not rewritten.",
    }
    outlook = dict(parse_template(OUTLOOK, KEYS).skipped_links)
    assert "www.contoso.com" in outlook["http://www.contoso.com/"]
    apple = dict(parse_template(APPLE_MAIL, KEYS).skipped_links)
    assert set(apple) == {"mailto:pat@example.org", "https://example.org/agenda"}


def test_conditional_comment_vml_button_shares_the_revealed_links_number() -> None:
    # Issue 12, defect 12 (R11): this used to leave Outlook's VML button untracked.
    template = parse_template(MARKETING, KEYS)
    rendered = render(template, PIXEL_URL, tracked_urls(template))
    start = rendered.index("<!--[if mso]>")
    vml = rendered[start : rendered.index("<![endif]-->", start)]
    assert 'href="https://r.sendtrail.test/c/3?a=1&amp;b=2"' in vml
    assert "https://shop.example.com/sale" not in rendered
    assert rendered.count("https://r.sendtrail.test/c/3?a=1&amp;b=2") == 2


@pytest.mark.parametrize(
    ("href", "eligible"),
    [
        ("https://example.com/x", True),
        ("HTTP://EXAMPLE.COM/Path", True),
        ("https://example.com:8443/a?b=1#frag", True),
        ("http://[2001:db8::1]/x", True),
        ("mailto:someone@example.com", False),
        ("MAILTO:someone@example.com", False),
        ("tel:+441234567", False),
        ("#section-2", False),
        ("/relative/path", False),
        ("page.html", False),
        ("//example.com/scheme-relative", False),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("ftp://files.example.com/a", False),
        ("https://", False),
        ("http:///path-only", False),
        ("http://[broken/", False),
        ("", False),
    ],
)
def test_only_absolute_web_links_with_a_host_are_eligible(href: str, eligible: bool) -> None:
    # R11, R13
    template = parse_template(f'<p><a href="{href}">Read more</a></p>', KEYS)
    assert template.links == ((href,) if eligible else ())
    assert len(template.skipped_links) == (0 if eligible else 1)


@pytest.mark.parametrize(
    "text",
    [
        "www.example.com",
        "example.com",
        "Example.COM",
        "https://example.com/x",
        "http://example.com",
        "  www.example.com/path?q=1  ",
        "<span>www.</span><b>example</b>.com",
        "(www.example.com)",
        "www.example.com.",
        "b\u00fccher.example",
    ],
)
def test_links_whose_text_is_a_web_address_are_not_rewritten(text: str) -> None:  # R13
    template = parse_template(f'<a href="https://example.com/landing">{text}</a>', KEYS)
    assert template.links == ()
    ((_, reason),) = template.skipped_links
    assert reason.startswith("The link text is itself a web address (")


@pytest.mark.parametrize(
    "text", ["Read more", "Visit us at our website", "v2.0 release notes", "e.g. this", "", "U.S."]
)
def test_links_with_ordinary_text_are_rewritten(text: str) -> None:  # R11
    assert parse_template(f'<a href="https://example.com/a">{text}</a>', KEYS).links == (
        "https://example.com/a",
    )


def test_plain_text_urls_outside_links_are_not_links() -> None:  # R13
    source = "<p>See https://example.com/a and www.example.com</p>"
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert template.skipped_links == ()


@pytest.mark.parametrize(
    ("source", "destination", "rewritten"),
    [
        # Uppercase tags and attributes, unquoted and single-quoted values.
        ("<A HREF=https://example.com/a>Go</A>", "https://example.com/a", '<A HREF="{}">Go</A>'),
        ("<a href='https://example.com/b'>Go</a>", "https://example.com/b", '<a href="{}">Go</a>'),
        ("<a href=https://example.com/c/>Go</a>", "https://example.com/c/", '<a href="{}">Go</a>'),
        (
            '<a class=btn HREF = "https://example.com/d" target=_blank>Go</a>',
            "https://example.com/d",
            '<a class=btn HREF = "{}" target=_blank>Go</a>',
        ),
        # Entities in hrefs are read as a browser would.
        (
            '<a href="https://example.com/e?a=1&amp;b=2&#38;c=3">Go</a>',
            "https://example.com/e?a=1&b=2&c=3",
            '<a href="{}">Go</a>',
        ),
        # Surrounding whitespace and embedded newlines are not part of the address.
        (
            '<a href="  https://example.com/f\n  ">Go</a>',
            "https://example.com/f",
            '<a href="{}">Go</a>',
        ),
        # The first href wins, as in browsers.
        (
            '<a href="https://example.com/g" href="https://evil.example/">Go</a>',
            "https://example.com/g",
            '<a href="{}" href="https://evil.example/">Go</a>',
        ),
        # Self-closing anchor markup still has its href rewritten.
        ('<a href="https://example.com/h"/>Go', "https://example.com/h", '<a href="{}"/>Go'),
    ],
)
def test_hrefs_are_found_in_any_attribute_syntax(
    source: str, destination: str, rewritten: str
) -> None:
    template = parse_template(source, KEYS)
    assert template.links == (destination,)
    assert render(template, None, None) == source
    url = "https://t.test/c/TOKEN?x=1&y=2"
    assert render(template, None, [url]) == rewritten.format("https://t.test/c/TOKEN?x=1&amp;y=2")


def test_written_urls_are_html_escaped_and_read_back_unchanged() -> None:
    template = parse_template('<a href="https://example.com/">Go</a>', KEYS)
    url = "https://t.test/c/A?x=1&y=\"2\"&z='3'<>"
    rendered = render(template, url, [url])
    assert collect(rendered).hrefs == [url]
    assert collect(rendered).images == [url]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<html><body><p>Hi</p></body></html>", "<html><body><p>Hi</p>{}</body></html>"),
        ("<HTML><BODY>Hi</BODY></HTML>", "<HTML><BODY>Hi{}</BODY></HTML>"),
        ("<div>No body at all</div>", "<div>No body at all</div>{}"),
        ("<p>Hi</p></body >\n", "<p>Hi</p>{}</body >\n"),
        # Several </body>: before the last one (a forwarded message quoted whole).
        (
            "<body>A</body><body>B</body></html>",
            "<body>A</body><body>B{}</body></html>",
        ),
        # A </body> in a comment or a script is not markup.
        (
            "<body>A</body><!-- </body> --><script>var s='</body>';</script>",
            "<body>A{}</body><!-- </body> --><script>var s='</body>';</script>",
        ),
        ("", "{}"),
    ],
)
def test_pixel_goes_before_the_last_body_end_tag_else_at_the_end(
    source: str, expected: str
) -> None:  # R5
    template = parse_template(source, KEYS)
    assert render(template, PIXEL_URL, None) == expected.format(pixel_markup(PIXEL_URL))
    assert render(template, None, None) == source


def test_pixel_markup_is_an_invisible_one_pixel_image() -> None:  # R5
    assert pixel_markup("https://t.test/o/T.gif") == (
        '<img src="https://t.test/o/T.gif" width="1" height="1" alt="" '
        'style="border:0;width:1px;height:1px;" />'
    )


def test_pasted_pixel_of_ours_is_removed_and_reported_on_any_host() -> None:  # R8
    ours = [pixel_url(), pixel_url(host="https://track.customer.example")]
    source = (
        f'<body><p>Hello</p><img src="{ours[0]}" width="1" height="1">'
        f"<IMG SRC='{ours[1]}' /><img src=\"https://cdn.example.com/logo.png\"></body>"
    )
    template = parse_template(source, KEYS)
    assert render(template, None, None) == (
        '<body><p>Hello</p><img src="https://cdn.example.com/logo.png"></body>'
    )
    assert template.removed_tracking == (REMOVED_PIXEL, REMOVED_PIXEL)


@pytest.mark.parametrize(
    "src",
    [
        pixel_url(OTHER_KEYS),  # somebody else's signature
        "https://t.example.net/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif",
        "https://t.example.net/o/not a token.gif",
        pixel_url().replace(".gif", ".png"),
    ],
)
def test_images_that_are_not_our_pixel_stay(src: str) -> None:
    source = f'<p><img src="{src}"></p>'
    template = parse_template(source, KEYS)
    assert render(template, None, None) == source
    assert template.removed_tracking == ()


def test_pasted_tracked_link_of_ours_is_restored_and_tracked_anew() -> None:  # R8, R11
    pasted = click_url("https://example.com/offer?a=1&b=2")
    source = f'<p><a href="{pasted.replace("&", "&amp;")}">the offer</a></p>'
    template = parse_template(source, KEYS)
    assert template.links == ("https://example.com/offer?a=1&b=2",)
    assert render(template, None, None) == (
        '<p><a href="https://example.com/offer?a=1&amp;b=2">the offer</a></p>'
    )
    ((sentence),) = template.removed_tracking
    assert sentence.startswith("Restored a tracked link copied from an earlier email")
    assert "https://example.com/offer?a=1&b=2" in sentence


def test_pasted_tracked_link_with_address_text_is_restored_but_not_rewritten() -> None:  # R8, R13
    source = f'<a href="{click_url("https://www.example.com/")}">www.example.com</a>'
    template = parse_template(source, KEYS)
    assert template.links == ()
    assert render(template, None, None) == '<a href="https://www.example.com/">www.example.com</a>'
    assert len(template.removed_tracking) == 1


def test_link_from_another_signer_is_an_ordinary_link() -> None:
    claims = TokenClaims(HitKind.CLICK, uuid.uuid4(), uuid.uuid4(), 0, False, 1, 0, "https://x.io")
    foreign = f"https://t.example.net/c/{sign(claims, OTHER_KEYS)}"
    template = parse_template(f'<a href="{foreign}">Go</a>', KEYS)
    assert template.links == (foreign,)
    assert template.removed_tracking == ()


def test_pixel_inside_a_pasted_link_are_both_handled() -> None:  # R8
    source = f'<a href="{click_url("https://example.com/")}"><img src="{pixel_url()}"></a>'
    template = parse_template(source, KEYS)
    assert render(template, None, None) == '<a href="https://example.com/"></a>'
    assert len(template.removed_tracking) == 2


def test_anchor_without_href_and_unclosed_anchor() -> None:
    source = '<a name="top">Top</a><p><a href="https://example.com/x">unclosed'
    template = parse_template(source, KEYS)
    assert template.links == ("https://example.com/x",)
    assert template.skipped_links == ()
    assert render(template, None, None) == source


def test_nested_anchor_ends_the_previous_one_as_browsers_do() -> None:
    source = '<a href="https://a.example/">one <a href="https://b.example/">www.b.example</a>'
    template = parse_template(source, KEYS)
    assert template.links == ("https://a.example/",)
    assert template.skipped_links[0][0] == "https://b.example/"
