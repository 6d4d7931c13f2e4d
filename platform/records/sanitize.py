"""Logged HTML made safe to display: nh3 (ammonia) with a strict allow-list, remote images
blocked unless asked for (loading them would fire other senders' trackers)."""

from __future__ import annotations

import re

import nh3

__all__ = ["CONTENT_SECURITY_POLICY", "sanitize_html"]

#: Served with the sanitised HTML, which the web admin shows in a sandboxed iframe.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup",
    "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "*": {"align", "valign", "width", "height", "title", "dir", "lang", "bgcolor", "color"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "font": {"face", "size"},
}
_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


_INLINE_IMAGE = re.compile(r"^\s*data:image/(png|gif|jpeg|webp);", re.IGNORECASE)
_DATA = re.compile(r"^\s*data:", re.IGNORECASE)
_CID = re.compile(r"^\s*cid:", re.IGNORECASE)


def _images(load_remote: bool):  # type: ignore[no-untyped-def]
    def filter_attribute(element: str, attribute: str, value: str) -> str | None:
        if _DATA.match(value):  # inline images only; a data: link could be a whole page
            return value if element == "img" and _INLINE_IMAGE.match(value) else None
        if element == "img" and attribute == "src":
            if _CID.match(value):
                return value
            if _REMOTE.match(value):
                return value if load_remote else None  # the viewer may choose to load them
            return None  # a relative source points into Sendtrail itself: never an image
        return value

    return filter_attribute


def sanitize_html(html: str, *, load_remote_images: bool = False) -> str:
    """Scripts, event handlers, styles with ``url()``, forms, SVG and non-http links go."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_images(load_remote_images),
    )
