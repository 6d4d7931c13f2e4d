"""Parse an HTML body once into a template, then render it once per message (R5, R8, R11, R13).

A template is the source cut at the few places that change from message to message: the
pixel slot (before the last ``</body>``, else at the very end) and the ``href`` value of
each eligible link. Everything between them is kept as literal text, byte for byte, so
what the sender wrote (Word's markup, conditional comments, VML buttons) reaches the
recipient untouched. Rendering is string joins only, which is what makes per-recipient
tokens cheap for large sends.

The document is read by the standard library's HTML tokenizer (``html.parser``), so
links in comments, conditional comments, scripts and styles are never mistaken for
markup. Source offsets come from ``getpos()`` and a table of line starts; the only text
scanned by hand is the attribute list of one start tag the tokenizer has already
isolated, and what that scan finds is checked against the tokenizer's own reading.

Tracking copied from an earlier email (R8) is recognised by its signature, whatever the
host: our pixels are removed and our tracked links are restored to their destination.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.redirect import safe_location
from sendtrail.tracking.core.tokens import MAX_URL_BYTES, InvalidToken, TokenKeys, verify

__all__ = ["PIXEL", "HtmlTemplate", "parse_template", "pixel_markup", "render"]

PIXEL = -1
"""The slot number of the pixel; link slots are numbered from 0."""

REMOVED_PIXEL = (
    "Removed a tracking pixel copied from an earlier email: it would have reported opens "
    "of that email instead of this one."
)
_UNREADABLE = "A link's markup could not be read with certainty, so it is left as it is."
_PIXEL_PATH = re.compile(r"/o/([A-Za-z0-9_-]+)\.gif\Z")
_CLICK_PATH = re.compile(r"/c/([A-Za-z0-9_-]+)\Z")
_URL_JUNK = re.compile(r"[\t\n\r]")
_SPACE = " \t\n\r\f"
# Visible text that reads as a web address: any "scheme://...", or a host name ending in
# an alphabetic top-level domain, with an optional port and path ("www.example.com/x").
_ADDRESS_TEXT = re.compile(
    r"""[a-z][a-z0-9+.-]*://\S+
      | (?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}\.?(?::\d{1,5})?(?:[/?#]\S*)?""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class HtmlTemplate:
    """An HTML body cut into literal text and slots; render it with :func:`render`."""

    literals: tuple[str, ...]
    """The text around the slots: always one more than there are slots."""
    slots: tuple[int, ...]
    """``PIXEL`` or the index of a link, in document order."""
    links: tuple[str, ...]
    """The destination of each eligible link (restored when copied from our tracking)."""
    originals: tuple[str, ...]
    """Each link's attribute value as rendered when it is not rewritten (quotes included)."""
    skipped_links: tuple[tuple[str, str], ...]
    """``(href, reason)`` for every link that is not rewritten (R13, R25)."""
    removed_tracking: tuple[str, ...]
    """One sentence per pixel removed or link restored because it was copied (R8)."""


def pixel_markup(url: str) -> str:
    """The invisible 1x1 image of R5."""
    return (
        f'<img src="{_escape(url)}" width="1" height="1" alt="" '
        'style="border:0;width:1px;height:1px;" />'
    )


def render(template: HtmlTemplate, pixel_url: str | None, link_urls: Sequence[str] | None) -> str:
    """The document with the pixel (if any) and the links pointing at ``link_urls``.

    ``link_urls=None`` keeps every link's original destination; a link given its original
    destination is written exactly as it was in the source.
    """
    links, originals = template.links, template.originals
    pixel = "" if pixel_url is None else pixel_markup(pixel_url)
    fills = [
        pixel
        if slot == PIXEL
        else originals[slot]
        if link_urls is None or link_urls[slot] == links[slot]
        else f'"{_escape(link_urls[slot])}"'
        for slot in template.slots
    ]
    parts = [""] * (2 * len(fills) + 1)
    parts[0::2] = template.literals
    parts[1::2] = fills
    return "".join(parts)


def _escape(url: str) -> str:
    # Tracking URLs rarely need escaping, and these memchr scans cost far less than escape().
    if "&" in url or '"' in url or "'" in url or "<" in url or ">" in url:
        return html.escape(url)
    return url


def parse_template(source: str, keys: TokenKeys) -> HtmlTemplate:
    """Tokenize ``source`` once and cut it into a template (see the module docstring)."""
    scanner = _Scanner(source, keys)
    scanner.feed(source)
    scanner.close()
    return scanner.template()


def skip_reason(href: str) -> str | None:
    """Why a link with this (trimmed) address is not rewritten, or ``None`` if it may be."""
    shown = href if len(href) <= 80 else href[:77] + "..."
    if not href:
        return "A link has no address, so it is not rewritten (R13)."
    if href.startswith("#"):
        return f"In-page anchor ({shown}): it is not rewritten (R13)."
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:
        return f"The link address is not a valid web address ({shown}), so it is not rewritten."
    scheme = parts.scheme.lower()
    reason: str | None = None
    if scheme == "mailto":
        reason = f"Email address link ({shown}): it is not rewritten (R13)."
    elif scheme in ("tel", "sms", "callto"):
        reason = f"Phone number link ({shown}): it is not rewritten (R13)."
    elif not scheme:
        reason = (
            f"Relative link ({shown}): it has no web address to redirect to, "
            "so it is not rewritten (R13)."
        )
    elif scheme not in ("http", "https"):
        reason = f"Not a web link ({scheme}: address), so it is not rewritten (R13)."
    elif not host:
        reason = f"The web address has no host ({shown}), so it is not rewritten (R13)."
    elif len(href.encode("utf-8")) > MAX_URL_BYTES:
        reason = "A web address longer than 4 KB is left as it is (not tracked)."
    elif safe_location(href) is None:
        reason = (
            f"The web address ({shown}) is not one a browser could safely be redirected to "
            "(user name, bad port or host, or control characters), so it is not rewritten."
        )
    return reason


def looks_like_address(text: str) -> bool:
    """Whether visible link text is itself a URL or a bare domain (R13)."""
    text = text.strip("<>()[]\"'").rstrip(".,;:!?")
    return bool(text) and _ADDRESS_TEXT.fullmatch(text) is not None


@dataclass
class _OpenLink:
    destination: str
    restored: bool
    value_span: tuple[int, int] | None
    text: list[str]


class _Scanner(HTMLParser):
    def __init__(self, source: str, keys: TokenKeys) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._keys = keys
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self._edits: list[tuple[int, int, str | int]] = []
        self._links: list[str] = []
        self._originals: list[str] = []
        self._skipped: list[tuple[str, str]] = []
        self._removed: list[str] = []
        self._body_end: int | None = None
        self._link: _OpenLink | None = None

    def template(self) -> HtmlTemplate:
        self._finish_link()
        at = len(self._source) if self._body_end is None else self._body_end
        self._edits.append((at, at, PIXEL))
        literals: list[str] = []
        slots: list[int] = []
        pending: list[str] = []
        cursor = 0
        for start, end, replacement in sorted(self._edits, key=lambda edit: edit[:2]):
            pending.append(self._source[cursor:start])
            if isinstance(replacement, str):
                pending.append(replacement)
            else:
                literals.append("".join(pending))
                slots.append(replacement)
                pending = []
            cursor = end
        pending.append(self._source[cursor:])
        literals.append("".join(pending))
        return HtmlTemplate(
            literals=tuple(literals),
            slots=tuple(slots),
            links=tuple(self._links),
            originals=tuple(self._originals),
            skipped_links=tuple(self._skipped),
            removed_tracking=tuple(self._removed),
        )

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._finish_link()
            self._start_link(attrs)
        elif tag == "img":
            self._check_pixel(attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self._finish_link()

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish_link()
        elif tag == "body":
            self._body_end = self._offset()

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link.text.append(data)

    def _tag_span(self) -> tuple[int, str] | None:
        """Where the current start tag is in the source, and its text (None if unsure)."""
        text = self.get_starttag_text()
        start = self._offset()
        if text is None or self._source[start : start + len(text)] != text:
            return None
        return start, text

    def _start_link(self, attrs: list[tuple[str, str | None]]) -> None:
        value = next((value for name, value in attrs if name == "href"), None)
        if value is None:
            return  # an anchor without an address is not a link
        href = _URL_JUNK.sub("", value).strip(_SPACE)
        claims = self._claims(href, _CLICK_PATH, HitKind.CLICK)
        restored = claims is not None and claims.url is not None
        destination = claims.url if claims is not None and claims.url is not None else href
        self._link = _OpenLink(destination, restored, self._value_span(value), [])

    def _finish_link(self) -> None:
        link, self._link = self._link, None
        if link is None:
            return
        text = " ".join("".join(link.text).split())
        reason = skip_reason(link.destination)
        if reason is None and looks_like_address(text):
            reason = (
                f"The link text is itself a web address ({text}), so it is not rewritten (R13)."
            )
        span = link.value_span
        restored_value = f'"{html.escape(link.destination)}"'
        if link.restored and span is not None:
            self._removed.append(
                "Restored a tracked link copied from an earlier email to its original address "
                f"({link.destination}): it would have reported clicks on that email instead "
                "of this one."
            )
        if reason is not None or span is None:
            self._skipped.append((link.destination, reason or _UNREADABLE))
            if link.restored and span is not None:
                self._edits.append((*span, restored_value))
            return
        start, end = span
        self._edits.append((start, end, len(self._links)))
        self._links.append(link.destination)
        self._originals.append(restored_value if link.restored else self._source[start:end])

    def _value_span(self, value: str) -> tuple[int, int] | None:
        """Source span of the current tag's first ``href`` value, quotes included."""
        located = self._tag_span()
        if located is None:
            return None
        start, text = located
        for name, value_start, value_end in _attribute_spans(text):
            if name != "href":
                continue
            raw = text[value_start:value_end]
            if raw[:1] in ("'", '"'):
                raw = raw[1:-1]
            if value_start < 0 or html.unescape(raw) != value:
                return None  # the tokenizer read this tag differently: leave it alone
            return start + value_start, start + value_end
        return None

    def _check_pixel(self, attrs: list[tuple[str, str | None]]) -> None:
        src = next((value for name, value in attrs if name == "src"), None)
        if src is None:
            return
        src = _URL_JUNK.sub("", src).strip(_SPACE)
        if self._claims(src, _PIXEL_PATH, HitKind.OPEN) is None:
            return
        located = self._tag_span()
        if located is not None:
            start, text = located
            self._edits.append((start, start + len(text), ""))
            self._removed.append(REMOVED_PIXEL)

    def _claims(self, url: str, path: re.Pattern[str], kind: HitKind) -> TokenClaims | None:
        try:
            match = path.search(urlsplit(url).path)
            claims = verify(match.group(1), self._keys) if match else None
        except (ValueError, InvalidToken):
            return None
        return claims if claims is not None and claims.kind is kind else None


def _attribute_spans(tag: str) -> list[tuple[str, int, int]]:
    """``(name, value start, value end)`` of each attribute of one start tag's text.

    Follows the HTML tokenizer's attribute states; spans include the quotes, and are
    ``(-1, -1)`` for an attribute without a value.
    """
    spans: list[tuple[str, int, int]] = []
    size = len(tag)
    i = 1
    while i < size and tag[i] not in _SPACE and tag[i] not in "/>":
        i += 1
    while True:
        while i < size and (tag[i] in _SPACE or tag[i] == "/"):
            i += 1
        if i >= size or tag[i] == ">":
            return spans
        name_start = i
        i += 1  # a leading "=" belongs to the name
        while i < size and tag[i] not in _SPACE and tag[i] not in "/>=":
            i += 1
        name = tag[name_start:i].lower()
        j = i
        while j < size and tag[j] in _SPACE:
            j += 1
        if j >= size or tag[j] != "=":
            spans.append((name, -1, -1))
            i = j
            continue
        j += 1
        while j < size and tag[j] in _SPACE:
            j += 1
        if j < size and tag[j] in "'\"":
            close = tag.find(tag[j], j + 1)
            if close < 0:
                return spans
            spans.append((name, j, close + 1))
            i = close + 1
        else:
            end = j
            while end < size and tag[end] not in _SPACE and tag[end] != ">":
                end += 1
            spans.append((name, j, end))
            i = end
