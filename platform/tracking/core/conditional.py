"""Read the markup only Outlook renders: conditional comments (R8, R11, issue 12 #12).

Outlook for Windows draws with Word, which has no CSS for buttons and its own idea of
layout, so email templates give it markup of its own, hidden from every other client in a
downlevel-hidden conditional comment (``[if mso]``, MJML's ``[if mso | IE]``,
``[if gte mso 9]``, ``[if (gte mso 9)|(IE)]``, ...)::

    <!--[if mso]><v:roundrect href="https://..." ...><center>Book a demo</center>
    </v:roundrect><![endif]--><a href="https://..." style="...mso-hide:all">Book a demo</a>

What is in there is what Outlook users see and click: the ``href`` of VML shapes, plain
``<a href>`` links (an Outlook-only call to action, an MSO table with its own links, the
``<a>`` Stripo wraps around a shape), and images, among them perhaps a tracking pixel of
ours pasted from an earlier email. To the HTML tokenizer the whole block is one comment,
so this module tokenizes the inside of such a comment again, and reports those links (with
their text) and images: everything else in a comment stays as it is. A plain comment (not
``[if ...]>``) is shown by nobody and is not read, and the downlevel-revealed markers
``<!--[if !mso]><!-->`` hold no markup (what follows them is ordinary markup). Every source
span reported is checked against the tokenizer's own reading, or is ``None``.
Pure; imports the standard library and the core only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sendtrail.tracking.core.html_links import TolerantParser, href_span

__all__ = ["VML_LINK_TAGS", "Conditional", "HiddenImage", "HiddenLink", "read_conditional"]

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
class HiddenLink:
    """A link in a conditional comment: the ``href`` of an ``<a>`` or of a VML shape."""

    at: int
    """Where its start tag begins in the whole source."""
    href: str
    """The ``href`` as the tokenizer reads it (entities decoded, not trimmed)."""
    span: tuple[int, int] | None
    """Its value's span in the whole source, quotes included; ``None`` if unsure."""
    text: str
    """The text inside it, as far as this comment holds it."""
    vml: bool
    """A VML shape (else an ``<a>``)."""


@dataclass(frozen=True)
class HiddenImage:
    """An ``<img src>`` in a conditional comment."""

    src: str
    """The ``src`` as the tokenizer reads it."""
    span: tuple[int, int] | None
    """The whole start tag's span in the source; ``None`` if unsure."""


@dataclass(frozen=True)
class Conditional:
    """What one downlevel-hidden conditional comment holds, in document order."""

    links: tuple[HiddenLink, ...]
    images: tuple[HiddenImage, ...]


def read_conditional(comment: str, offset: int) -> Conditional | None:
    """The links and images of one comment's text ``comment``, which begins at ``offset``.

    ``None`` when it is not a downlevel-hidden conditional comment.
    """
    match = _CONDITIONAL.match(comment)
    if match is None:
        return None
    scanner = _Scanner(match.group(1), offset + match.start(1))
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


class _Scanner(TolerantParser):
    def __init__(self, markup: str, base: int) -> None:
        super().__init__(convert_charrefs=True)
        self._markup = markup
        self._base = base
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", markup))]
        self._open: list[_Open] = []
        """Open VML shapes, and the open ``<a>`` (at most one: a new one ends it)."""
        self._found: list[HiddenLink] = []
        self._images: list[HiddenImage] = []

    def found(self) -> Conditional:
        while self._open:  # closed in a later comment (the <a> sits inside the shape)
            self._finish(self._open.pop())
        return Conditional(
            tuple(sorted(self._found, key=lambda link: link.at)), tuple(self._images)
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.handle_endtag("a")  # a new <a> ends the one before, as in browsers
        elif tag == "img":
            src = next((value for name, value in attrs if name == "src"), None)
            if src is not None:
                located = self._tag_span()
                span = None if located is None else (located[0], located[0] + len(located[1]))
                self._images.append(HiddenImage(src, span))
            return
        elif tag not in VML_LINK_TAGS:
            return
        href = next((value for name, value in attrs if name == "href"), None)
        if href is None:
            return
        located = self._tag_span()
        span = None
        if located is not None and (found := href_span(located[1], href)) is not None:
            span = (located[0] + found[0], located[0] + found[1])
        line, column = self.getpos()
        at = self._base + self._line_starts[line - 1] + column
        self._open.append(_Open(tag, at, href, span))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        depth = len(self._open)
        self.handle_starttag(tag, attrs)
        if len(self._open) > depth or (tag == "a" and self._open and self._open[-1].tag == "a"):
            self._finish(self._open.pop())

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self._open) - 1, -1, -1):
            if self._open[position].tag == tag:
                self._finish(self._open.pop(position))
                return

    def handle_data(self, data: str) -> None:
        for link in self._open:  # nested links: the text belongs to each of them
            link.text.append(data)

    def _tag_span(self) -> tuple[int, str] | None:
        """Where the current start tag is in the whole source, and its text (None if unsure)."""
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        text = self.get_starttag_text()
        if text is None or self._markup[start : start + len(text)] != text:
            return None
        return self._base + start, text

    def _finish(self, link: _Open) -> None:
        text = "".join(link.text)
        self._found.append(HiddenLink(link.at, link.href, link.span, text, link.tag != "a"))
