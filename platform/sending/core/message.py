"""Reading a submitted message and changing one copy of it, on its raw bytes (R6, R27).

A message's structure is found on the raw bytes themselves (``_entity``: header block,
body, and for a multipart the spans between its boundary lines); the stdlib ``email``
package only reads header values (content type, boundary, RFC 2047 words, addresses).
``read_message`` and ``splice_html`` walk the same tree, so the HTML part a sender's copy
was read from is the one replaced, and every other byte of the message stays as written:
attachments, the plain-text part, signatures, preamble and epilogue (TOOLCHAIN_MAIL §5).

Signed (multipart/signed) and encrypted (multipart/encrypted, application/pkcs7-mime)
messages are never spliced: any change would break them. Only their top-level Bcc and
X-Sendtrail-* header fields are dropped, which no signature covers.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from email import policy, quoprimime
from email.errors import MessageError
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from sendtrail.errors import InvalidInput
from sendtrail.sending.values import Trackability

__all__ = [
    "Attachment",
    "MessageFacts",
    "Party",
    "read_message",
    "recipient_copy",
    "splice_html",
    "with_header",
    "without_headers",
]

MAX_PARTS = 1000
MAX_DEPTH = 30
SIGNED_REASON = "Signed email (S/MIME or PGP/MIME): sent untouched, not trackable."
ENCRYPTED_REASON = "Encrypted email (S/MIME or PGP/MIME): sent untouched, not trackable."
PLAIN_TEXT_REASON = "Plain-text email (no HTML part): sent untouched, not trackable."

_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_NOT_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape",
                 "unicode_escape", "raw_unicode_escape"}
_UNREADABLE = (ValueError, TypeError, IndexError, LookupError, UnicodeError, MessageError,
               AttributeError)
_SWITCHES = {"on": True, "off": False}


@dataclass(frozen=True)
class Party:
    address: str
    name: str | None


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MessageFacts:
    trackability: Trackability
    untracked_reason: str | None
    """A sentence when ``trackability`` is not ``HTML``."""
    sender: Party | None
    to: tuple[Party, ...]
    cc: tuple[Party, ...]
    bcc: tuple[Party, ...]
    subject: str
    message_id: str | None
    """``<...>`` as written."""
    in_reply_to: str | None
    references: tuple[str, ...]
    html: str | None
    """The decoded HTML part (line breaks as ``\\n``); the one ``splice_html`` replaces."""
    text: str | None
    attachments: tuple[Attachment, ...]
    """Every other leaf part, decoded (inline images too), for logging a copy (R23)."""
    track_override: bool | None
    """``X-Sendtrail-Track: on|off``; ``None`` when absent."""
    log_override: bool | None


@dataclass(frozen=True)
class _Field:
    name: str  # lower case
    start: int
    end: int  # after the line break of the last continuation line


@dataclass(frozen=True)
class _Entity:
    """One MIME entity as byte offsets into the whole message."""

    start: int
    body_start: int
    end: int
    open_ended: bool  # runs to its container's end (not cut by a boundary line)
    fields: tuple[_Field, ...]
    headers: Message
    children: tuple[_Entity, ...]
    depth: int

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    @property
    def is_attachment(self) -> bool:
        return (self.headers.get_content_disposition() or "").lower() == "attachment"


def _lines(raw: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line in ``raw[start:end]``, ``end`` past its line break."""
    position = start
    while position < end:
        newline = raw.find(b"\n", position, end)
        line_end = end if newline < 0 else newline + 1
        yield position, line_end
        position = line_end


def _content(raw: bytes, start: int, end: int) -> bytes:
    """A line without its line break."""
    line = raw[start:end]
    return line.rstrip(b"\n").removesuffix(b"\r") if line.endswith(b"\n") else line


def _fields(raw: bytes, start: int, end: int, *, strict: bool = False,
            ) -> tuple[tuple[_Field, ...], int]:
    """The header fields of the entity at ``start`` and where its body starts."""
    fields: list[_Field] = []
    for line_start, line_end in _lines(raw, start, end):
        line = _content(raw, line_start, line_end)
        if not line:
            return tuple(fields), line_end
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = _Field(fields[-1].name, fields[-1].start, line_end)
            continue
        match = _FIELD.match(line)
        if match is None:
            if strict:  # a line that one reader takes for the body and another for a header
                raise InvalidInput(f"The message's header holds a line that is not a header "
                                   f"field ({line[:40]!r}): the mail client wrote a broken "
                                   "message.")
            return tuple(fields), line_start  # no blank line: the body starts here
        fields.append(_Field(match.group(1).decode("ascii").lower(), line_start, line_end))
    return tuple(fields), end


def _split(raw: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int, bool]]:
    """The spans of a multipart body's parts: (start, end, open_ended)."""
    delimiter = b"--" + boundary
    spans: list[tuple[int, int, bool]] = []
    part_start: int | None = None
    for line_start, line_end in _lines(raw, start, end):
        line = _content(raw, line_start, line_end)
        if not line.startswith(delimiter):
            continue
        rest = line[len(delimiter):]
        closing = rest.startswith(b"--")
        if (rest[2:] if closing else rest).strip(b" \t"):
            continue  # a longer boundary that merely starts with this one
        if part_start is not None:
            part_end = line_start
            if raw[part_end - 2:part_end] == b"\r\n" and part_end - 2 >= part_start:
                part_end -= 2
            elif raw[part_end - 1:part_end] == b"\n" and part_end - 1 >= part_start:
                part_end -= 1
            spans.append((part_start, part_end, False))
        if closing:
            return spans
        part_start = line_end
    if part_start is None:
        raise InvalidInput("A multipart part of the message has none of its boundary lines: "
                           "the mail client wrote a broken message.")
    spans.append((part_start, end, True))
    return spans


def _entity(raw: bytes, start: int, end: int, *, open_ended: bool, depth: int,
            count: list[int]) -> _Entity:
    count[0] += 1
    if count[0] > MAX_PARTS:
        raise InvalidInput(f"The message has more than {MAX_PARTS} MIME parts.")
    if depth > MAX_DEPTH:
        raise InvalidInput(f"The message's parts are nested more than {MAX_DEPTH} deep.")
    fields, body_start = _fields(raw, start, end, strict=depth == 0)
    header_block = raw[start:fields[-1].end] if fields else b""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(header_block)
    children: tuple[_Entity, ...] = ()
    if headers.get_content_maintype() == "multipart":
        boundary = headers.get_boundary()
        if not boundary:
            raise InvalidInput("A multipart part of the message has no boundary parameter: "
                               "the mail client wrote a broken message.")
        try:
            boundary_bytes = boundary.encode("ascii")
        except UnicodeError:
            boundary_bytes = boundary.encode("utf-8", "surrogateescape")
        children = tuple(
            _entity(raw, s, e, open_ended=child_open and open_ended, depth=depth + 1,
                    count=count)
            for s, e, child_open in _split(raw, body_start, end, boundary_bytes)
        )
    return _Entity(start, body_start, end, open_ended, fields, headers, children, depth)


def _tree(raw: bytes) -> _Entity:
    if not raw.strip():
        raise InvalidInput("The message is empty.")
    first_line = _content(raw, 0, raw.find(b"\n") + 1 if b"\n" in raw else len(raw))
    if _FIELD.match(first_line) is None:
        raise InvalidInput("The message does not start with header fields (From:, To:, "
                           "Subject:, ...): it is not an email.")
    try:
        return _entity(raw, 0, len(raw), open_ended=True, depth=0, count=[0])
    except RecursionError:
        raise InvalidInput("The message's parts are nested too deeply.") from None
    except _UNREADABLE:
        raise InvalidInput("The message's MIME structure cannot be read: the mail client "
                           "wrote a broken message.") from None


def _walk(entity: _Entity) -> Iterator[_Entity]:
    """Every entity, depth first, not into attached messages nor signature parts."""
    stack = [entity]
    while stack:
        current = stack.pop()
        yield current
        signed = current.content_type == "multipart/signed"
        stack.extend(reversed(current.children[:1] if signed else current.children))


def _protection(root: _Entity) -> Trackability | None:
    for entity in _walk(root):
        content_type = entity.content_type
        if content_type == "multipart/signed":
            return Trackability.SIGNED
        if content_type in ("multipart/encrypted", "application/pkcs7-mime",
                            "application/x-pkcs7-mime"):
            return Trackability.ENCRYPTED
    return None


def _leaves(root: _Entity) -> Iterator[_Entity]:
    return (entity for entity in _walk(root) if not entity.children)


def _body_parts(root: _Entity) -> tuple[_Entity | None, _Entity | None]:
    """The HTML and the plain-text part: the first of each that is not an attachment."""
    html = text = None
    for leaf in _leaves(root):
        if leaf.is_attachment:
            continue
        if leaf.content_type == "text/html" and html is None:
            html = leaf
        elif leaf.content_type == "text/plain" and text is None:
            text = leaf
    return html, text


def _body(raw: bytes, entity: _Entity) -> bytes:
    body = raw[entity.body_start:entity.end]
    if entity.open_ended:  # the message's last line break is no part of the body
        body = body[:-2] if body.endswith(b"\r\n") else body.removesuffix(b"\n")
    return body


def _decoded_body(raw: bytes, entity: _Entity) -> bytes:
    body = _body(raw, entity)
    encoding = str(entity.headers.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        data = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
        data = data[: len(data) - 1] if len(data) % 4 == 1 else data
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return b""
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    return body


def _codec(charset: str | None) -> str:
    """A real text encoding for ``charset``; UTF-8 for unknown or non-text ones."""
    try:
        info = codecs.lookup(charset or "us-ascii")
    except (LookupError, ValueError, TypeError):
        return "utf-8"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return "utf-8"
    return "utf-8" if info.name == "ascii" else info.name  # 8-bit text in "ascii" is UTF-8


def _text(raw: bytes, entity: _Entity) -> str:
    data = _decoded_body(raw, entity)
    try:
        text = data.decode(_codec(entity.headers.get_content_charset()), errors="replace")
    except _UNREADABLE:
        text = data.decode("utf-8", errors="replace")
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _header_text(value: object) -> str:
    """An unfolded header value with RFC 2047 words decoded and no control characters."""
    text = str(value) if value is not None else ""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    with contextlib.suppress(*_UNREADABLE):
        text = str(make_header(decode_header(text)))
    text = re.sub(r"\r?\n[ \t]", " ", text)
    return "".join(" " if char in "\r\n\t" else char for char in text
                   if char in "\r\n\t" or unicodedata.category(char) != "Cc").strip()


def _parties(headers: Message, name: str) -> tuple[Party, ...]:
    values = [str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
              for value in headers.get_all(name, failobj=[])]
    try:
        pairs = getaddresses(values)
    except _UNREADABLE:
        return ()
    found = []
    for display, written in pairs:
        address = _header_text(written)
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain or len(address) > 320 or " " in address:
            continue
        found.append(Party(address=address, name=_header_text(display) or None))
    return tuple(found)


def _switch(headers: Message, name: str) -> bool | None:
    values = headers.get_all(name, failobj=[])
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput(f"The {name} header appears {len(values)} times: give it once, "
                           "as on or off.")
    value = _header_text(values[0]).lower()
    if value not in _SWITCHES:
        raise InvalidInput(f"The {name} header must be on or off, not {value[:40]!r}.")
    return _SWITCHES[value]


def _filename(entity: _Entity) -> str | None:
    try:
        name = entity.headers.get_filename()
    except _UNREADABLE:
        return None
    return (_header_text(name) or None) if name is not None else None


def _facts(raw: bytes, root: _Entity) -> MessageFacts:
    headers = root.headers
    protection = _protection(root)
    html_part = text_part = None
    attachments: list[Attachment] = []
    if protection is not Trackability.ENCRYPTED:
        html_part, text_part = _body_parts(root)
        attachments = [
            Attachment(_filename(leaf), leaf.content_type, _decoded_body(raw, leaf))
            for leaf in _leaves(root) if leaf is not html_part and leaf is not text_part
        ]
    trackability = protection or (Trackability.HTML if html_part else Trackability.PLAIN_TEXT)
    reason = {Trackability.SIGNED: SIGNED_REASON, Trackability.ENCRYPTED: ENCRYPTED_REASON,
              Trackability.PLAIN_TEXT: PLAIN_TEXT_REASON}.get(trackability)
    senders = _parties(headers, "From")
    ids = {name: tuple(_MESSAGE_ID.findall(_header_text(headers.get(name))))
           for name in ("Message-ID", "In-Reply-To", "References")}
    return MessageFacts(
        trackability=trackability,
        untracked_reason=reason,
        sender=senders[0] if senders else None,
        to=_parties(headers, "To"),
        cc=_parties(headers, "Cc"),
        bcc=_parties(headers, "Bcc"),
        subject=_header_text(headers.get("Subject")),
        message_id=next(iter(ids["Message-ID"]), None),
        in_reply_to=next(iter(ids["In-Reply-To"]), None),
        references=ids["References"][:100],
        html=_text(raw, html_part) if html_part else None,
        text=_text(raw, text_part) if text_part else None,
        attachments=tuple(attachments),
        track_override=_switch(headers, "X-Sendtrail-Track"),
        log_override=_switch(headers, "X-Sendtrail-Log"),
    )


def read_message(raw: bytes) -> MessageFacts:
    """What a submitted message says; ``InvalidInput`` with a sentence when it is unreadable."""
    root = _tree(raw)
    try:
        return _facts(raw, root)
    except RecursionError:
        raise InvalidInput("The message's parts are nested too deeply.") from None
    except _UNREADABLE:
        raise InvalidInput("The message's header fields cannot be read: the mail client "
                           "wrote a broken message.") from None


def _line_break(raw: bytes, start: int = 0) -> bytes:
    newline = raw.find(b"\n", start)
    return b"\r\n" if newline > 0 and raw[newline - 1:newline] == b"\r" else b"\n"


def _drop_fields(raw: bytes, drop: Callable[[str], bool]) -> bytes:
    fields, _ = _fields(raw, 0, len(raw))
    kept, position = [], 0
    for field in fields:
        if drop(field.name):
            kept.append(raw[position:field.start])
            position = field.end
    return b"".join([*kept, raw[position:]])


def without_headers(raw: bytes, names: Collection[str]) -> bytes:
    """``raw`` without the top-level header fields ``names`` (any case), folded lines too."""
    lowered = {name.lower() for name in names}
    return _drop_fields(raw, lambda name: name in lowered)


def with_header(raw: bytes, name: str, value: str) -> bytes:
    """``raw`` with one header field prepended (RFC 2047-encoded when not ASCII)."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"{name[:40]!r} is not a header field name.")
    if "\r" in value or "\n" in value:
        raise InvalidInput(f"The value of the {name} header holds a line break.")
    eol = _line_break(raw)
    if not value.isascii():
        value = Header(value, "utf-8", header_name=name).encode(linesep=eol.decode())
    return f"{name}: {value}".encode("ascii") + eol + raw


def _html_entity(raw: bytes, entity: _Entity, html: str) -> bytes:
    """The HTML entity again: its header fields but the content type and transfer
    encoding as written, the new HTML as quoted-printable UTF-8."""
    eol = _line_break(raw, entity.start)
    content_type = b'Content-Type: text/html; charset="utf-8"' + eol
    encoding = b"Content-Transfer-Encoding: quoted-printable" + eol
    header: list[bytes] = []
    for field in entity.fields:
        if field.name == "content-type":
            header.append(content_type)
            content_type = b""
        elif field.name == "content-transfer-encoding":
            header.append(encoding)
            encoding = b""
        else:
            header.append(raw[field.start:field.end])
    header.extend((content_type, encoding, eol))
    text = html.replace("\r\n", "\n").replace("\r", "\n")
    body = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), maxlinelen=74,
                                  eol=eol.decode()).encode("ascii")
    # A line starting "--" could be taken for a boundary line: encode its first dash.
    body = re.sub(rb"(?m)^--", b"=2D-", body)
    return b"".join(header) + body + (eol if entity.open_ended else b"")


def splice_html(raw: bytes, html: str) -> bytes:
    """``raw`` with the body of its HTML part (the one ``read_message`` read) replaced by
    ``html``; every byte outside that part identical (R27)."""
    root = _tree(raw)
    protection = _protection(root)
    if protection is not None:
        raise InvalidInput(SIGNED_REASON if protection is Trackability.SIGNED
                           else ENCRYPTED_REASON)
    html_part, _ = _body_parts(root)
    if html_part is None:
        raise InvalidInput(PLAIN_TEXT_REASON)
    return raw[:html_part.start] + _html_entity(raw, html_part, html) + raw[html_part.end:]


def recipient_copy(raw: bytes, html: str | None) -> bytes:
    """One recipient's copy: ``html`` spliced in (unless ``None``), then without the Bcc
    and X-Sendtrail-* header fields, which never leave (R26, R27)."""
    copy = raw if html is None else splice_html(raw, html)
    return _drop_fields(copy, lambda name: name == "bcc" or name.startswith("x-sendtrail-"))
