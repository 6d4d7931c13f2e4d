"""Find the links of Outlook's VML buttons inside conditional comments (R11, issue 12 #12).

Outlook for Windows draws with Word, which has no CSS for buttons, so email templates give
it a VML shape instead, hidden from every other client in a downlevel-hidden conditional
comment::

    <!--[if mso]><v:roundrect href="https://..." ...><center>Book a demo</center>
    </v:roundrect><![endif]--><a href="https://..." style="...mso-hide:all">Book a demo</a>

The shape's ``href`` is the link Outlook users click. To the HTML tokenizer the whole block
is one comment, so this module tokenizes the inside of such a comment again, and reports
only the ``href`` of VML shapes: everything else in a comment stays as it is. A plain
comment (not ``[if ...]>``) is shown by nobody and is not read, and the downlevel-revealed
markers ``<!--[if !mso]><!-->`` hold no markup (what follows them is ordinary markup).
Pure; imports the standard library and the core only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sendtrail.tracking.core.html_links import TolerantParser, href_span

__all__ = ["VML_LINK_TAGS", "VmlLink", "vml_links"]

VML_LINK_TAGS = frozenset(
    {
        "v:shape", "v:rect", "v:roundrect", "v:oval", "v:line", "v:polyline",
        "v:curve", "v:arc", "v:image", "v:group",
    }
)
"""VML elements that take the core attribute ``href`` (a click on the shape follows it)."""

# The text of a downlevel-hidden conditional comment, "<!--" and "-->" excluded: the
# condition, then the markup that only matching clients (Outlook, old IE) render.
_CONDITIONAL = re.compile(r"\[if\b[^\]]*\]>(.*)<!\[endif\]\Z", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class VmlLink:
    at: int
    """Where the shape's start tag begins in the whole source."""
    href: str
    """The ``href`` as the tokenizer reads it (entities decoded, not trimmed)."""
    span: tuple[int, int] | None
    """Its value's span in the whole source, quotes included; ``None`` if unsure."""
    text: str
    """The text inside the shape, as far as this comment holds it."""


def vml_links(comment: str, offset: int) -> list[VmlLink]:
    """The VML links in one comment's text ``comment``, which begins at ``offset``."""
    match = _CONDITIONAL.match(comment)
    if match is None:
        return []
    scanner = _VmlScanner(match.group(1), offset + match.start(1))
    scanner.feed(match.group(1))
    scanner.close()
    return scanner.found()


@dataclass
class _Open:
    tag: str
    at: int
    href: str
    span: tuple[int, int] | None
    text: list[str] = field(default_factory=list)


class _VmlScanner(TolerantParser):
    def __init__(self, markup: str, base: int) -> None:
        super().__init__(convert_charrefs=True)
        self._markup = markup
        self._base = base
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", markup))]
        self._open: list[_Open] = []
        self._found: list[VmlLink] = []

    def found(self) -> list[VmlLink]:
        while self._open:  # a shape closed in a later comment (the <a> sits inside it)
            self._finish(self._open.pop())
        return sorted(self._found, key=lambda link: link.at)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VML_LINK_TAGS:
            return
        href = next((value for name, value in attrs if name == "href"), None)
        if href is None:
            return
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        text = self.get_starttag_text()
        span = None
        if text is not None and self._markup[start : start + len(text)] == text:
            found = href_span(text, href)
            if found is not None:
                span = (self._base + start + found[0], self._base + start + found[1])
        self._open.append(_Open(tag, self._base + start, href, span))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        depth = len(self._open)
        self.handle_starttag(tag, attrs)
        if len(self._open) > depth:
            self._finish(self._open.pop())

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self._open) - 1, -1, -1):
            if self._open[position].tag == tag:
                self._finish(self._open.pop(position))
                return

    def handle_data(self, data: str) -> None:
        for link in self._open:  # nested shapes: the text belongs to each of them
            link.text.append(data)

    def _finish(self, link: _Open) -> None:
        self._found.append(VmlLink(link.at, link.href, link.span, "".join(link.text)))
