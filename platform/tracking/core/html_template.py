"""Parse an HTML body once into a template, then render it once per message (R5, R8, R11, R13).

A template is the source cut at the few places that change from message to message: the
pixel slot (before the last ``</body>``, else at the very end) and the ``href`` value of
each eligible link. Everything between them is kept as literal text, byte for byte, so
what the sender wrote (Word's markup, conditional comments, VML buttons) reaches the
recipient untouched. Rendering is string joins only, which is what makes per-recipient
tokens cheap for large sends.

The document is read by the standard library's HTML tokenizer (``html.parser``), so
links in comments, scripts and styles are never mistaken for markup. The one exception is
deliberate: downlevel-hidden conditional comments (``<!--[if mso]> ... <![endif]-->``) are
markup Outlook for Windows renders, so ``conditional`` reads their links (``<a>`` and the
``href`` of VML buttons), which are links like any other, and their images, where a pixel
of ours is removed like anywhere else. An Outlook-only link shares the link number of the
nearest ordinary ``<a>`` with the same destination (a VML shape, failing that, the one of
the nearest Outlook-only ``<a>``), so a click counts on the same link whichever one the
recipient's client shows.
Source offsets come from ``getpos()`` and a table of line starts; the only text
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
from urllib.parse import urlsplit

from sendtrail.i18n import N_
from sendtrail.tracking.core.conditional import Conditional, read_conditional
from sendtrail.tracking.core.html_links import (
    SPACE,
    URL_JUNK,
    TolerantParser,
    address_text_reason,
    href_span,
    skip_reason,
)
from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.tokens import InvalidToken, TokenKeys, verify
from sendtrail.tracking.core.withdrawal_footer import is_withdrawal_link

__all__ = ["PIXEL", "HtmlTemplate", "parse_template", "pixel_markup", "render"]

PIXEL = -1
"""The slot number of the pixel; link slots are numbered from 0."""

REMOVED_PIXEL = N_(
    "Removed a tracking pixel copied from an earlier email: it would have reported opens "
    "of that email instead of this one."
)
RESTORED_LINK = N_(
    "Restored a tracked link copied from an earlier email to its original address "
    "({destination}): it would have reported clicks on that email instead of this one."
)
_UNREADABLE = N_("A link's markup could not be read with certainty, so it is left as it is.")
# R29: a reply quoting our footer keeps it as that recipient's link, never a tracked click.
COPIED_WITHDRAWAL = N_(
    "A tracking withdrawal link copied from an earlier email is left as it is: it belongs "
    "to a recipient of that email, and following it is never a click."
)

_PIXEL_PATH = re.compile(r"/o/([A-Za-z0-9_-]+)\.gif\Z")
_CLICK_PATH = re.compile(r"/c/([A-Za-z0-9_-]+)\Z")


@dataclass(frozen=True)
class HtmlTemplate:
    """An HTML body cut into literal text and slots; render it with :func:`render`."""

    literals: tuple[str, ...]
    """The text around the slots: always one more than there are slots."""
    slots: tuple[int, ...]
    """``PIXEL`` or the index of a link, in document order; a link may fill several slots
    (an Outlook VML button and its ``<a>`` fallback)."""
    links: tuple[str, ...]
    """The destination of each eligible link (restored when copied from our tracking)."""
    originals: tuple[str, ...]
    """Each slot's attribute value as rendered when its link is not rewritten (quotes
    included; empty for the pixel)."""
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


def render(
    template: HtmlTemplate,
    pixel_url: str | None,
    link_urls: Sequence[str] | None,
    footer: str = "",
) -> str:
    """The document with the pixel (if any) and the links pointing at ``link_urls``.

    ``link_urls=None`` keeps every link's original destination; a link given its original
    destination is written exactly as it was in the source. ``footer`` (markup: the
    withdrawal link of R29) goes in the pixel's place, before it.
    """
    links = template.links
    pixel = footer + ("" if pixel_url is None else pixel_markup(pixel_url))
    fills = [
        pixel
        if slot == PIXEL
        else original
        if link_urls is None or link_urls[slot] == links[slot]
        else f'"{_escape(link_urls[slot])}"'
        for slot, original in zip(template.slots, template.originals, strict=True)
    ]
    parts = [""] * (2 * len(fills) + 1)
    parts[0::2] = template.literals
    parts[1::2] = fills
    return "".join(parts)


def _escape(url: str) -> str:
    # Tracking URLs rarely need escaping, and these memchr scans cost far less than escape().
    # Escaping ">" also keeps a URL from ever closing the conditional comment of a VML link.
    if "&" in url or '"' in url or "'" in url or "<" in url or ">" in url:
        return html.escape(url)
    return url


def parse_template(source: str, keys: TokenKeys) -> HtmlTemplate:
    """Tokenize ``source`` once and cut it into a template (see the module docstring)."""
    scanner = _Scanner(source, keys)
    scanner.feed(source)
    scanner.close()
    return scanner.template()


@dataclass
class _OpenLink:
    at: int
    value: str
    """The ``href`` as the tokenizer reads it."""
    value_span: tuple[int, int] | None
    text: list[str]


@dataclass
class _Link:
    """One ``<a href>`` or VML ``href`` found in the source, before link numbers are given."""

    at: int
    """Where its tag begins: document order, and distance to a VML link's fallback."""
    destination: str
    span: tuple[int, int] | None
    original: str
    """The value to write when it is not rewritten (the restored address when copied)."""
    restored: bool
    reason: str | None
    """Why it is not rewritten (R13), or ``None``."""
    text_reason: str | None
    """The R13 sentence when its visible text is a web address."""
    vml: bool = False
    hidden: bool = False
    """In a conditional comment: only Outlook shows it (every VML link is)."""
    partner: _Link | None = None
    """For a hidden link: the link it shares a number with (its fallback), if any."""


class _Scanner(TolerantParser):
    def __init__(self, source: str, keys: TokenKeys) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._keys = keys
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self._edits: list[tuple[int, int, str]] = []
        self._found: list[_Link] = []
        self._removed: list[str] = []
        self._told: set[str] = set()
        """Sentences about restored links that a hidden link has already said."""
        self._body_end: int | None = None
        self._link: _OpenLink | None = None

    def template(self) -> HtmlTemplate:
        self._finish_link()
        links, skipped, slot_edits = self._number_links()
        at = len(self._source) if self._body_end is None else self._body_end
        edits: list[tuple[int, int, str | tuple[int, str]]] = [*self._edits, *slot_edits]
        edits.append((at, at, (PIXEL, "")))
        literals: list[str] = []
        slots: list[int] = []
        originals: list[str] = []
        pending: list[str] = []
        cursor = 0
        for start, end, replacement in sorted(edits, key=lambda edit: edit[:2]):
            pending.append(self._source[cursor:start])
            if isinstance(replacement, str):
                pending.append(replacement)
            else:
                literals.append("".join(pending))
                slots.append(replacement[0])
                originals.append(replacement[1])
                pending = []
            cursor = end
        pending.append(self._source[cursor:])
        literals.append("".join(pending))
        return HtmlTemplate(
            literals=tuple(literals),
            slots=tuple(slots),
            links=tuple(links),
            originals=tuple(originals),
            skipped_links=tuple(skipped),
            removed_tracking=tuple(self._removed),
        )

    def _number_links(
        self,
    ) -> tuple[list[str], list[tuple[str, str]], list[tuple[int, int, tuple[int, str]]]]:
        """Link numbers in document order; a hidden link shares its fallback's number."""
        shown = [link for link in self._found if not link.hidden]
        hidden_anchors = [link for link in self._found if link.hidden and not link.vml]
        for link in self._found:
            if link.hidden:
                link.partner = _nearest(link, shown)
                if link.partner is None and link.vml:  # Stripo's <a> around the shape
                    link.partner = _nearest(link, hidden_anchors)
                partner = link.partner
                if link.vml and link.reason is None and partner is not None and (
                    partner.text_reason
                ):
                    link.reason = partner.text_reason  # the same button shows an address
        links: list[str] = []
        skipped: list[tuple[str, str]] = []
        edits: list[tuple[int, int, tuple[int, str]]] = []
        number: dict[int, int] = {}
        for link in sorted(self._found, key=lambda found: found.at):
            partner = link.partner
            if link.reason is not None or link.span is None:
                if link.restored and link.span is not None:
                    self._edits.append((*link.span, link.original))
                if not (partner is not None and _skipped(partner)):  # one entry per button
                    skipped.append((link.destination, link.reason or _UNREADABLE))
                continue
            owner = partner if partner is not None and not _skipped(partner) else link
            if id(owner) not in number:
                number[id(owner)] = len(links)
                links.append(link.destination)
            edits.append((*link.span, (number[id(owner)], link.original)))
        return links, skipped, edits

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

    def handle_comment(self, data: str) -> None:
        start = self._offset() + len("<!--")
        found = read_conditional(data, start)
        if found is None or self._source[start - 4 : start + len(data)] != f"<!--{data}":
            return  # not Outlook's markup, or read differently by the tokenizer: leave it
        self._read_hidden(found, start, start + len(data))

    def _read_hidden(self, found: Conditional, start: int, end: int) -> None:
        """The links and pasted pixels of one conditional comment (``start``-``end``)."""
        for link in found.links:
            self._add_link(link.at, link.href, link.span, link.text, vml=link.vml, hidden=True)
        for image in found.images:
            if image.span is None or not self._is_pixel(image.src):
                continue
            seam = self._source[max(start, image.span[0] - 3) : image.span[0]]
            seam += self._source[image.span[1] : min(end, image.span[1] + 3)]
            if "-->" not in seam and "--!>" not in seam:  # never end the comment early
                self._remove_pixel(image.span)

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
        located = self._tag_span()
        span = None
        if located is not None and (found := href_span(located[1], value)) is not None:
            span = (located[0] + found[0], located[0] + found[1])
        self._link = _OpenLink(self._offset(), value, span, [])

    def _finish_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            self._add_link(link.at, link.value, link.value_span, "".join(link.text))

    def _add_link(
        self,
        at: int,
        value: str,
        span: tuple[int, int] | None,
        text: str,
        *,
        vml: bool = False,
        hidden: bool = False,
    ) -> None:
        href = URL_JUNK.sub("", value).strip(SPACE)
        claims = self._claims(href, _CLICK_PATH, HitKind.CLICK)
        restored = claims is not None and claims.url is not None
        destination = claims.url if claims is not None and claims.url is not None else href
        if restored and span is not None:
            sentence = RESTORED_LINK.format(destination=destination)
            if hidden:  # an Outlook-only link and its fallback: one sentence
                if sentence not in self._removed:
                    self._removed.append(sentence)
                    self._told.add(sentence)
            elif sentence in self._told:
                self._told.discard(sentence)
            else:
                self._removed.append(sentence)
        text_reason = address_text_reason(text)
        reason = skip_reason(destination) or self._copied_withdrawal(destination) or text_reason
        original = (
            f'"{html.escape(destination)}"'
            if restored or span is None
            else self._source[span[0] : span[1]]
        )
        self._found.append(
            _Link(at, destination, span, original, restored, reason, text_reason, vml, hidden)
        )

    def _check_pixel(self, attrs: list[tuple[str, str | None]]) -> None:
        src = next((value for name, value in attrs if name == "src"), None)
        if src is not None and self._is_pixel(src) and (located := self._tag_span()):
            self._remove_pixel((located[0], located[0] + len(located[1])))

    def _is_pixel(self, src: str) -> bool:
        """Whether an image's ``src`` is a tracking pixel of ours, from any email (R8)."""
        src = URL_JUNK.sub("", src).strip(SPACE)
        return self._claims(src, _PIXEL_PATH, HitKind.OPEN) is not None

    def _remove_pixel(self, span: tuple[int, int]) -> None:
        """Cut out the image tag at ``span`` (R8)."""
        self._edits.append((*span, ""))
        self._removed.append(REMOVED_PIXEL)

    def _copied_withdrawal(self, url: str) -> str | None:
        return COPIED_WITHDRAWAL if is_withdrawal_link(url, self._keys) else None

    def _claims(self, url: str, path: re.Pattern[str], kind: HitKind) -> TokenClaims | None:
        try:
            match = path.search(urlsplit(url).path)
            claims = verify(match.group(1), self._keys) if match else None
        except (ValueError, InvalidToken):
            return None
        return claims if claims is not None and claims.kind is kind else None


def _skipped(link: _Link) -> bool:
    return link.reason is not None or link.span is None


def _nearest(link: _Link, anchors: list[_Link]) -> _Link | None:
    """The ``<a>`` with the same destination closest to ``link`` (after it, on a tie)."""
    same = [anchor for anchor in anchors if anchor.destination == link.destination]
    return min(same, key=lambda anchor: (abs(anchor.at - link.at), anchor.at < link.at),
               default=None)
