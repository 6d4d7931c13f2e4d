"""Which links may be rewritten (R11, R13), and where an ``href`` value sits in a start tag.

Shared by the ``<a>`` links of ``html_template`` and the VML buttons of ``vml``, so both
kinds of link follow the same rules and are read by the same tolerant tokenizer. Pure;
imports the standard library and the core only.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sendtrail.i18n import N_
from sendtrail.tracking.core.redirect import safe_location
from sendtrail.tracking.core.tokens import MAX_URL_BYTES

__all__ = [
    "SKIP_TEMPLATES",
    "SPACE",
    "URL_JUNK",
    "TolerantParser",
    "address_text_reason",
    "attribute_spans",
    "href_span",
    "looks_like_address",
    "skip_reason",
]

URL_JUNK = re.compile(r"[\t\n\r]")
"""Characters a browser drops from anywhere in a URL attribute."""

# Why a link is left as it is: kept with the email in English, shown in the reader's
# language (tracking/not_tracked.py).
ANCHOR = N_("In-page anchor ({shown}): it is not rewritten.")
INVALID_ADDRESS = N_(
    "The link address is not a valid web address ({shown}), so it is not rewritten."
)
MAILTO_LINK = N_("Email address link ({shown}): it is not rewritten.")
PHONE_LINK = N_("Phone number link ({shown}): it is not rewritten.")
RELATIVE_LINK = N_(
    "Relative link ({shown}): it has no web address to redirect to, so it is not "
    "rewritten."
)
NOT_WEB_LINK = N_("Not a web link ({scheme}: address), so it is not rewritten.")
NO_HOST = N_("The web address has no host ({shown}), so it is not rewritten.")
UNSAFE_ADDRESS = N_(
    "The web address ({shown}) is not one a browser could safely be redirected to (user "
    "name, bad port or host, or control characters), so it is not rewritten."
)
ADDRESS_TEXT_REASON = N_(
    "The link text is itself a web address ({text}), so it is not rewritten."
)
SKIP_TEMPLATES = (ANCHOR, INVALID_ADDRESS, MAILTO_LINK, PHONE_LINK, RELATIVE_LINK, NOT_WEB_LINK,
                  NO_HOST, UNSAFE_ADDRESS, ADDRESS_TEXT_REASON)

SPACE = " \t\n\r\f"
"""HTML whitespace, trimmed from both ends of a URL attribute."""
# Visible text that reads as a web address: any "scheme://...", or a host name ending in
# an alphabetic top-level domain, with an optional port and path ("www.example.com/x").
_ADDRESS_TEXT = re.compile(
    r"""[a-z][a-z0-9+.-]*://\S+
      | (?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}\.?(?::\d{1,5})?(?:[/?#]\S*)?""",
    re.IGNORECASE | re.VERBOSE,
)


class TolerantParser(HTMLParser):
    """``HTMLParser`` that reads an unknown ``<![...`` section as browsers do.

    Python 3.11's tokenizer raises ``AssertionError`` on a marked section it cannot name
    (``<![bogus x>``), which would fail a whole email over one stray character sequence.
    Browsers read it as a bogus comment up to the next ``>``; so does this parser.
    """

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        position = self.lineno, self.offset
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            self.lineno, self.offset = position  # the failed scan moved them: undo
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1  # -1: incomplete, read as text at the end


def skip_reason(href: str) -> str | None:
    """Why a link with this (trimmed) address is not rewritten, or ``None`` if it may be."""
    shown = href if len(href) <= 80 else href[:77] + "..."
    if not href:
        return N_("A link has no address, so it is not rewritten.")
    if href.startswith("#"):
        return ANCHOR.format(shown=shown)
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:
        return INVALID_ADDRESS.format(shown=shown)
    scheme = parts.scheme.lower()
    reason: str | None = None
    if scheme == "mailto":
        reason = MAILTO_LINK.format(shown=shown)
    elif scheme in ("tel", "sms", "callto"):
        reason = PHONE_LINK.format(shown=shown)
    elif not scheme:
        reason = RELATIVE_LINK.format(shown=shown)
    elif scheme not in ("http", "https"):
        reason = NOT_WEB_LINK.format(scheme=scheme)
    elif not host:
        reason = NO_HOST.format(shown=shown)
    elif len(href.encode("utf-8")) > MAX_URL_BYTES:
        reason = N_("A web address longer than 4 KB is left as it is (not tracked).")
    elif safe_location(href) is None:
        reason = UNSAFE_ADDRESS.format(shown=shown)
    return reason


def looks_like_address(text: str) -> bool:
    """Whether visible link text is itself a URL or a bare domain (R13)."""
    text = text.strip("<>()[]\"'").rstrip(".,;:!?")
    return bool(text) and _ADDRESS_TEXT.fullmatch(text) is not None


def address_text_reason(text: str) -> str | None:
    """The R13 sentence for a link whose visible ``text`` is a web address, else ``None``."""
    text = " ".join(text.split())
    if not looks_like_address(text):
        return None
    return ADDRESS_TEXT_REASON.format(text=text)


def href_span(tag: str, value: str) -> tuple[int, int] | None:
    """Span of the first ``href`` value in one start tag's text, quotes included.

    ``value`` is the tokenizer's reading of it; ``None`` when the scan disagrees with it,
    so markup read two ways is left alone rather than cut in the wrong place.
    """
    for name, value_start, value_end in attribute_spans(tag):
        if name != "href":
            continue
        raw = tag[value_start:value_end]
        if raw[:1] in ("'", '"'):
            raw = raw[1:-1]
        if value_start < 0 or html.unescape(raw) != value:
            return None
        return value_start, value_end
    return None


def attribute_spans(tag: str) -> list[tuple[str, int, int]]:
    """``(name, value start, value end)`` of each attribute of one start tag's text.

    Follows the HTML tokenizer's attribute states; spans include the quotes, and are
    ``(-1, -1)`` for an attribute without a value.
    """
    spans: list[tuple[str, int, int]] = []
    size = len(tag)
    i = 1
    while i < size and tag[i] not in SPACE and tag[i] not in "/>":
        i += 1
    while True:
        while i < size and (tag[i] in SPACE or tag[i] == "/"):
            i += 1
        if i >= size or tag[i] == ">":
            return spans
        name_start = i
        i += 1  # a leading "=" belongs to the name
        while i < size and tag[i] not in SPACE and tag[i] not in "/>=":
            i += 1
        name = tag[name_start:i].lower()
        j = i
        while j < size and tag[j] in SPACE:
            j += 1
        if j >= size or tag[j] != "=":
            spans.append((name, -1, -1))
            i = j
            continue
        j += 1
        while j < size and tag[j] in SPACE:
            j += 1
        if j < size and tag[j] in "'\"":
            close = tag.find(tag[j], j + 1)
            if close < 0:
                return spans
            spans.append((name, j, close + 1))
            i = close + 1
        else:
            end = j
            while end < size and tag[end] not in SPACE and tag[end] != ">":
                end += 1
            spans.append((name, j, end))
            i = end
