"""Parse an RFC 822 message into a ``ParsedMessage``, within limits, never trusting it.

Pure (no storage). Hostile input is refused with ``MessageRefused`` and a reason a
person can read (too large, too deeply nested, too many parts); everything else is
decoded as well as it can be: unknown charsets fall back to replacement characters, header
values lose CR/LF (so nothing we store can inject a header), attachment names lose
directories, control and bidirectional-override characters. Attachments are stored as
sent: never expanded, decompressed or executed.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from sendtrail.addresses import valid_address
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.moments import checked_moment

__all__ = [
    "Address",
    "MessageLimits",
    "MessageRefused",
    "ParsedAttachment",
    "ParsedMessage",
    "clean_filename",
    "parse_message",
    "safe_media_type",
]

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_MEDIA_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
_NOT_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape",
                 "unicode_escape", "raw_unicode_escape"}
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
         "\u2069", "\u200e", "\u200f"}


class MessageRefused(InvalidInput):
    """The message cannot be logged; ``message`` says why (SMTP answers 5xx with it)."""


@dataclass(frozen=True)
class MessageLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_parts: int = 1000
    max_depth: int = 30
    max_header_bytes: int = 256 * 1024
    max_attachments: int = 100
    max_attachment_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class Address:
    address: str
    name: str | None = None


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMessage:
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str | None
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    forwarded: ParsedMessage | None = None
    """A message attached as ``message/rfc822`` (forward as attachment)."""
    skipped: tuple[str, ...] = ()
    """Header addresses the API would refuse (``sendtrail.addresses``): left out, never
    made contacts, named to the sender instead."""


def _clean_header(value: object) -> str:
    text = str(value) if value is not None else ""
    text = "".join(" " if char in "\r\n\t" else char for char in text)
    return "".join(char for char in text if unicodedata.category(char) != "Cc").strip()[:998]


def _decoded(value: object) -> str:
    """RFC 2047 encoded words decoded; the raw text when they are malformed."""
    text = str(value) if value is not None else ""
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, TypeError, IndexError, LookupError, UnicodeError, MessageError):
        return text


def _header(message: Message, name: str) -> str:
    return _clean_header(_decoded(message.get(name)))


def _addresses(message: Message, name: str, skipped: list[str]) -> tuple[Address, ...]:
    """The valid addresses of header ``name``; the others are appended to ``skipped``."""
    try:
        values = [str(value) for value in message.get_all(name, failobj=[])]
        pairs = getaddresses(values)
    except (ValueError, TypeError, IndexError, LookupError, RecursionError):
        return ()  # an unreadable address header: no addresses, the message still counts
    found = []
    for display, raw_address in pairs:
        written = _clean_header(raw_address)
        address = valid_address(written) if len(written) <= 320 else None
        if address is not None:
            found.append(Address(address=address, name=_clean_header(_decoded(display)) or None))
        elif written:
            skipped.append(written[:100])
    return tuple(found)


def _message_ids(value: str) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(value))[:100]


def _date(message: Message) -> datetime | None:
    value = _header(message, "Date")
    try:
        parsed = parsedate_to_datetime(value) if value else None
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    try:  # a date no UTC datetime can hold (year 1 at +14:00) is as good as none
        return checked_moment(parsed, "Date")
    except InvalidInput:
        return None


def safe_media_type(value: str | None) -> str:
    """``type/subtype`` in lower case when it is one, else ``application/octet-stream``."""
    lowered = (value or "").strip().lower()
    return lowered if len(lowered) <= 100 and _MEDIA_TYPE.fullmatch(lowered) else (
        "application/octet-stream"
    )


def clean_filename(name: str | None, fallback: str) -> str:
    """A file name safe to show and to offer for download: no path, no controls, no RTL."""
    name = _clean_header(name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c not in _BIDI and unicodedata.category(c)[0] != "C")
    name = name.strip(" .")
    return name[:200] or fallback


def _text_codec(charset: str | None) -> str:
    """A real text encoding for ``charset``; UTF-8 for unknown, made-up or non-text ones
    (``undefined``, ``idna``, ``rot13``, ``unicode_escape`` would crash or invent text)."""
    try:
        info = codecs.lookup(charset or "utf-8")
    except (LookupError, ValueError, TypeError):
        return "utf-8"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return "utf-8"
    return info.name


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        text = payload.decode(_text_codec(part.get_content_charset()), errors="replace")
    except (LookupError, UnicodeError, ValueError):
        text = payload.decode("utf-8", errors="replace")
    # NUL never belongs in text (and PostgreSQL refuses it); lone surrogates neither.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [child for child in payload if isinstance(child, Message)]


def _check_shape(root: Message, limits: MessageLimits) -> None:
    stack: list[tuple[Message, int]] = [(root, 0)]
    parts = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > limits.max_parts:
            raise MessageRefused(_("The message has more than {count} MIME parts.").format(
                count=limits.max_parts))
        if depth > limits.max_depth:
            raise MessageRefused(_("The message is nested more than {count} deep.").format(
                count=limits.max_depth))
        header_bytes = sum(len(str(k)) + len(str(v)) for k, v in part.items())
        if header_bytes > limits.max_header_bytes:
            raise MessageRefused(_("The message's headers are larger than allowed."))
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in _children(part))


def _walk(root: Message, limits: MessageLimits) -> tuple[
    str | None, str | None, list[ParsedAttachment], ParsedMessage | None
]:
    text: str | None = None
    html: str | None = None
    attachments: list[ParsedAttachment] = []
    forwarded: ParsedMessage | None = None
    stack: list[Message] = [root]
    while stack:
        part = stack.pop()
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        if content_type == "message/rfc822":
            inner = _children(part)
            if inner and forwarded is None:
                forwarded = _parse_tree(inner[0], limits)
            continue
        if part.is_multipart():
            stack.extend(reversed(_children(part)))
            continue
        if disposition != "attachment" and content_type == "text/plain" and text is None:
            text = _text_of(part)
        elif disposition != "attachment" and content_type == "text/html" and html is None:
            html = _text_of(part)
        else:
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                data = b""
            if len(data) > limits.max_attachment_bytes:
                raise MessageRefused(_("An attachment is larger than {size} MB.").format(
                    size=limits.max_attachment_bytes // (1024 * 1024)))
            try:
                raw_name = part.get_filename()
            except (ValueError, TypeError, LookupError):
                raw_name = None
            attachments.append(ParsedAttachment(
                filename=clean_filename(raw_name, f"attachment-{len(attachments) + 1}"),
                content_type=safe_media_type(content_type),
                data=data,
            ))
            if len(attachments) > limits.max_attachments:
                raise MessageRefused(_("The message has more than {count} "
                                       "attachments.").format(count=limits.max_attachments))
    return text, html, attachments, forwarded


def _parse_tree(message: Message, limits: MessageLimits) -> ParsedMessage:
    text, html, attachments, forwarded = _walk(message, limits)
    skipped: list[str] = []
    sender = _addresses(message, "From", skipped)
    to, cc, bcc = (_addresses(message, name, skipped) for name in ("To", "Cc", "Bcc"))
    return ParsedMessage(
        subject=_header(message, "Subject"),
        sender=sender[0] if sender else None,
        to=to,
        cc=cc,
        bcc=bcc,
        date=_date(message),
        message_id=next(iter(_message_ids(_header(message, "Message-ID"))), None),
        in_reply_to=next(iter(_message_ids(_header(message, "In-Reply-To"))), None),
        references=_message_ids(_header(message, "References")),
        text=text,
        html=html,
        attachments=tuple(attachments),
        forwarded=forwarded,
        skipped=tuple(dict.fromkeys(skipped))[:20],
    )


def parse_message(raw: bytes, limits: MessageLimits | None = None) -> ParsedMessage:
    limits = limits or MessageLimits()
    if len(raw) > limits.max_bytes:
        raise MessageRefused(_("The message is larger than {size} MB.").format(
            size=limits.max_bytes // (1024 * 1024)))
    if not raw.strip():
        raise MessageRefused(_("The message is empty."))
    try:
        # compat32 never raises lazily on a bad header; we decode what we use ourselves.
        message = BytesParser(policy=policy.compat32).parsebytes(raw)
    except (ValueError, TypeError, IndexError, LookupError, RecursionError):
        raise MessageRefused(_("The message is not a readable RFC 822 message.")) from None
    _check_shape(message, limits)
    try:
        return _parse_tree(message, limits)
    except RecursionError:
        raise MessageRefused(_("The message is nested too deeply.")) from None

