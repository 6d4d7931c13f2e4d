"""Reading a submitted message and changing one copy of it, on its raw bytes (R6, R27).

A message's structure is found on the raw bytes themselves (``structure.parse_tree``:
header block, body, and for a multipart the spans between its boundary lines); the stdlib
``email`` package only reads header values (content type, boundary, RFC 2047 words,
addresses).
``read_message`` and ``splice_html`` walk the same tree, so the HTML part a sender's copy
was read from is the one replaced, and every other byte of the message stays as written:
attachments, the plain-text part, signatures, preamble and epilogue (TOOLCHAIN_MAIL §5).

Signed (multipart/signed) and encrypted (multipart/encrypted, application/pkcs7-mime)
messages are never spliced: any change would break them. Only their top-level Bcc and
X-Sendtrail-* header fields are dropped, which no signature covers.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from email import quoprimime
from email.header import Header, decode_header, make_header
from email.message import Message
from email.utils import getaddresses

from sendtrail.errors import InvalidInput
from sendtrail.i18n import N_, _
from sendtrail.sending.core.structure import (
    UNREADABLE,
    Entity,
    decoded_body,
    header_fields,
    leaves,
    line_break,
    parse_tree,
    walk,
)
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

# Kept (stored) in English; translated where shown.
SIGNED_REASON = N_("Signed email (S/MIME or PGP/MIME): sent untouched, not trackable.")
ENCRYPTED_REASON = N_("Encrypted email (S/MIME or PGP/MIME): sent untouched, not trackable.")
PLAIN_TEXT_REASON = N_("Plain-text email (no HTML part): sent untouched, not trackable.")

_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_NOT_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape",
                 "unicode_escape", "raw_unicode_escape"}
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


def _protection(root: Entity) -> Trackability | None:
    for entity in walk(root):
        content_type = entity.content_type
        if content_type == "multipart/signed":
            return Trackability.SIGNED
        if content_type in ("multipart/encrypted", "application/pkcs7-mime",
                            "application/x-pkcs7-mime"):
            return Trackability.ENCRYPTED
    return None


def _body_parts(root: Entity) -> tuple[Entity | None, Entity | None]:
    """The HTML and the plain-text part: the first of each that is not an attachment."""
    html = text = None
    for leaf in leaves(root):
        if leaf.is_attachment:
            continue
        if leaf.content_type == "text/html" and html is None:
            html = leaf
        elif leaf.content_type == "text/plain" and text is None:
            text = leaf
    return html, text


def _codec(charset: str | None) -> str:
    """A real text encoding for ``charset``; UTF-8 for unknown or non-text ones."""
    try:
        info = codecs.lookup(charset or "us-ascii")
    except (LookupError, ValueError, TypeError):
        return "utf-8"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return "utf-8"
    return "utf-8" if info.name == "ascii" else info.name  # 8-bit text in "ascii" is UTF-8


def _text(raw: bytes, entity: Entity) -> str:
    data = decoded_body(raw, entity)
    try:
        text = data.decode(_codec(entity.headers.get_content_charset()), errors="replace")
    except UNREADABLE:
        text = data.decode("utf-8", errors="replace")
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _utf8_or_latin1(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _value(value: object) -> str:
    """A header value as text; raw 8-bit bytes (RFC 6532 or a careless client) read as
    UTF-8, else Latin-1."""
    if isinstance(value, Header):  # compat32's wrapping of a value with 8-bit bytes
        return "".join(_utf8_or_latin1(data) if isinstance(data, bytes) else data
                       for data, _ in decode_header(value))
    text = str(value) if value is not None else ""
    return _utf8_or_latin1(text.encode("utf-8", "surrogateescape"))


def _header_text(value: object) -> str:
    """An unfolded header value with RFC 2047 words decoded and no control characters."""
    text = _value(value)
    with contextlib.suppress(*UNREADABLE):
        text = str(make_header(decode_header(text)))
    text = re.sub(r"\r?\n[ \t]", " ", text)
    return "".join(" " if char in "\r\n\t" else char for char in text
                   if char in "\r\n\t" or unicodedata.category(char) != "Cc").strip()


def _parties(headers: Message, name: str) -> tuple[Party, ...]:
    values = [_value(value) for value in headers.get_all(name, failobj=[])]
    try:
        pairs = getaddresses(values)
    except UNREADABLE:
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
        raise InvalidInput(_("The {name} header appears {count} times: give it once, "
                             "as on or off.").format(name=name, count=len(values)))
    value = _header_text(values[0]).lower()
    if value not in _SWITCHES:
        raise InvalidInput(_("The {name} header must be on or off, not {value}.").format(
            name=name, value=repr(value[:40])))
    return _SWITCHES[value]


def _filename(entity: Entity) -> str | None:
    params = Message()  # the two fields with 8-bit bytes read as text, not replaced
    for field in ("Content-Disposition", "Content-Type"):
        if field in entity.headers:
            params[field] = _value(entity.headers[field])
    try:
        name = params.get_filename()
    except UNREADABLE:
        return None
    return (_header_text(name) or None) if name is not None else None


def _facts(raw: bytes, root: Entity) -> MessageFacts:
    headers = root.headers
    protection = _protection(root)
    html_part = text_part = None
    attachments: list[Attachment] = []
    if protection is not Trackability.ENCRYPTED:
        html_part, text_part = _body_parts(root)
        attachments = [
            Attachment(_filename(leaf), leaf.content_type, decoded_body(raw, leaf))
            for leaf in leaves(root) if leaf is not html_part and leaf is not text_part
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
    root = parse_tree(raw)
    try:
        return _facts(raw, root)
    except RecursionError:
        raise InvalidInput(_("The message's parts are nested too deeply.")) from None
    except UNREADABLE:
        raise InvalidInput(_("The message's header fields cannot be read: the mail client "
                             "wrote a broken message.")) from None


def _drop_fields(raw: bytes, drop: Callable[[str], bool]) -> bytes:
    fields, _body_start = header_fields(raw, 0, len(raw))
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
    """``raw`` with one header field prepended (folded when long, RFC 2047-encoded when
    not ASCII)."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(_("{name} is not a header field name.").format(name=repr(name[:40])))
    if "\r" in value or "\n" in value:
        raise InvalidInput(_("The value of the {name} header holds a line break.").format(
            name=name))
    eol = line_break(raw)
    if not value.isascii() or len(name) + len(value) > 76:  # folded at spaces, or encoded
        charset = "us-ascii" if value.isascii() else "utf-8"
        value = Header(value, charset, header_name=name).encode(linesep=eol.decode())
    return f"{name}: {value}".encode("ascii") + eol + raw


def _html_entity(raw: bytes, entity: Entity, html: str) -> bytes:
    """The HTML entity again: its header fields but the content type and transfer
    encoding as written, the new HTML as quoted-printable UTF-8."""
    eol = line_break(raw, entity.start)
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
    root = parse_tree(raw)
    protection = _protection(root)
    if protection is not None:
        raise InvalidInput(_(SIGNED_REASON if protection is Trackability.SIGNED
                             else ENCRYPTED_REASON))
    html_part, _text_part = _body_parts(root)
    if html_part is None:
        raise InvalidInput(_(PLAIN_TEXT_REASON))
    return raw[:html_part.start] + _html_entity(raw, html_part, html) + raw[html_part.end:]


def recipient_copy(raw: bytes, html: str | None) -> bytes:
    """One recipient's copy: ``html`` spliced in (unless ``None``), then without the Bcc
    and X-Sendtrail-* header fields, which never leave (R26, R27)."""
    copy = raw if html is None else splice_html(raw, html)
    return _drop_fields(copy, lambda name: name == "bcc" or name.startswith("x-sendtrail-"))
