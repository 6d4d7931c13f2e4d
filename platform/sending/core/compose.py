"""Composing a message from the compose window or ``sendEmail`` (R26), as RFC 5322 bytes.

The result goes through the same path as a message from a mail client: ``read_message``
reads it, each recipient's copy is spliced and loses its Bcc header. Both bodies are
quoted-printable UTF-8 (no upstream needs 8BITMIME); the plain-text alternative is made from
the HTML when none is given (``html_to_text``, stdlib only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html.parser import HTMLParser

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.sending.core.message import Attachment, Party

__all__ = ["compose_message", "html_to_text"]

_MEDIA_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
_MESSAGE_ID = re.compile(r"<?([^<>\s]{1,900})>?")
_HIDDEN = {"script", "style", "head", "title", "template", "noscript"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "ul", "ol",
           "section", "article", "header", "footer", "pre", "address", "center", "form"}
_LINES = {"tr", "li", "dt", "dd", "br", "hr"}


class _TextWriter(HTMLParser):
    """Readable text from HTML: blocks become paragraphs, links keep their address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.links: list[str | None] = []
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag in _LINES:
            self.out.append("\n- " if tag == "li" else "\n")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            self.links.append(values.get("href"))
            self.link_text = []
        elif tag == "img" and values.get("alt"):
            self.handle_data(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href = (self.links.pop() or "").strip()
            shown = " ".join("".join(self.link_text).split())
            if href.startswith(("http://", "https://")) and href != shown:
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.out.append(re.sub(r"\s+", " ", data))
        if self.links:
            self.link_text.append(data)

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self.out).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def html_to_text(html: str) -> str:
    """A plain-text version of ``html`` for the text/plain alternative."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()


def _address(party: Party) -> Address:
    local, at, domain = party.address.strip().rpartition("@")
    try:
        if not at or not local or not domain or not local.isascii():
            raise ValueError(party.address)
        domain = domain.encode("idna").decode("ascii")
        name = " ".join((party.name or "").split())
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError, HeaderParseError, UnicodeError):
        raise InvalidInput(_("{address} is not an email address this server can send to."
                             ).format(address=repr(party.address[:100]))) from None


def _message_id(value: str, field: str) -> str:
    match = _MESSAGE_ID.fullmatch(value.strip())
    if match is None:
        raise InvalidInput(_("{value} is not a message id for the {field} header.").format(
            value=repr(value[:100]), field=field))
    return f"<{match.group(1)}>"


def _media_type(value: str) -> tuple[str, str]:
    lowered = value.strip().lower()
    if not _MEDIA_TYPE.fullmatch(lowered) or lowered.startswith(("multipart/", "message/")):
        lowered = "application/octet-stream"  # an attached message or tree goes as a file
    maintype, _slash, subtype = lowered.partition("/")
    return maintype, subtype


def compose_message(
    *,
    sender: Party,
    to: Sequence[Party],
    cc: Sequence[Party],
    bcc: Sequence[Party],
    subject: str,
    html: str | None,
    text: str | None,
    attachments: Sequence[Attachment],
    message_id: str,
    date: datetime,
    in_reply_to: str | None,
    references: Sequence[str],
) -> bytes:
    """RFC 5322 bytes with CRLF line breaks: text (and HTML) as multipart/alternative,
    inside multipart/mixed when there are attachments; the Bcc header included (each
    recipient's copy drops it)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = _address(sender)
    for field, parties in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if parties:
            message[field] = [_address(party) for party in parties]
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(date)
    message["Message-ID"] = _message_id(message_id, "Message-ID")
    if in_reply_to:
        message["In-Reply-To"] = _message_id(in_reply_to, "In-Reply-To")
    if references:
        message["References"] = " ".join(_message_id(ref, "References") for ref in references)
    plain = text if text is not None else html_to_text(html) if html is not None else ""
    message.set_content(plain, cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", cte="quoted-printable")
    for attachment in attachments:
        maintype, subtype = _media_type(attachment.content_type)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                               filename=attachment.filename or None)
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]  # the email package repeats it in each part it adds
    try:
        return message.as_bytes()
    except (ValueError, HeaderParseError, UnicodeError) as error:
        raise InvalidInput(_("The message cannot be written: {error}.").format(error=error)
                           ) from None
