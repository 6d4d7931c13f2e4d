"""Where each MIME part of a raw message is, as byte offsets (no copy, no re-serialising).

``parse_tree`` finds the header block and body of every entity, and splits a multipart
body on its boundary lines as RFC 2046 says (the line break before a boundary line belongs
to it). The stdlib ``email`` package only reads each header block. Unreadable structure
raises ``InvalidInput`` with a sentence.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.message import Message
from email.parser import BytesHeaderParser

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = [
    "FIELD",
    "MAX_DEPTH",
    "MAX_PARTS",
    "UNREADABLE",
    "Entity",
    "Field",
    "body_of",
    "decoded_body",
    "header_fields",
    "leaves",
    "line_break",
    "line_content",
    "lines",
    "parse_tree",
    "walk",
]

MAX_PARTS = 1000
MAX_DEPTH = 30
FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
UNREADABLE = (ValueError, TypeError, IndexError, LookupError, UnicodeError, MessageError,
              AttributeError)


@dataclass(frozen=True)
class Field:
    name: str  # lower case
    start: int
    end: int  # after the line break of the last continuation line


@dataclass(frozen=True)
class Entity:
    """One MIME entity as byte offsets into the whole message."""

    start: int
    body_start: int
    end: int
    open_ended: bool  # runs to its container's end (not cut by a boundary line)
    fields: tuple[Field, ...]
    headers: Message
    children: tuple[Entity, ...]
    depth: int

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    @property
    def is_attachment(self) -> bool:
        return (self.headers.get_content_disposition() or "").lower() == "attachment"


def lines(raw: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line in ``raw[start:end]``, ``end`` past its line break."""
    position = start
    while position < end:
        newline = raw.find(b"\n", position, end)
        line_end = end if newline < 0 else newline + 1
        yield position, line_end
        position = line_end


def line_content(raw: bytes, start: int, end: int) -> bytes:
    """A line without its line break."""
    line = raw[start:end]
    return line.rstrip(b"\n").removesuffix(b"\r") if line.endswith(b"\n") else line


def header_fields(raw: bytes, start: int, end: int, *, strict: bool = False,
            ) -> tuple[tuple[Field, ...], int]:
    """The header fields of the entity at ``start`` and where its body starts."""
    fields: list[Field] = []
    for line_start, line_end in lines(raw, start, end):
        line = line_content(raw, line_start, line_end)
        if not line:
            return tuple(fields), line_end
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = Field(fields[-1].name, fields[-1].start, line_end)
            continue
        match = FIELD.match(line)
        if match is None:
            if strict:  # a line that one reader takes for the body and another for a header
                raise InvalidInput(_("The message's header holds a line that is not a header "
                                     "field ({line}): the mail client wrote a broken "
                                     "message.").format(line=repr(line[:40])))
            return tuple(fields), line_start  # no blank line: the body starts here
        fields.append(Field(match.group(1).decode("ascii").lower(), line_start, line_end))
    return tuple(fields), end


def _split(raw: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int, bool]]:
    """The spans of a multipart body's parts: (start, end, open_ended)."""
    delimiter = b"--" + boundary
    spans: list[tuple[int, int, bool]] = []
    part_start: int | None = None
    position = start
    while (line_start := raw.find(delimiter, position, end)) >= 0:
        newline = raw.find(b"\n", line_start, end)
        line_end = end if newline < 0 else newline + 1
        position = line_end
        if line_start > start and raw[line_start - 1] != 0x0A:
            position = line_start + 1  # not at the start of a line
            continue
        line = line_content(raw, line_start, line_end)
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
        raise InvalidInput(_("A multipart part of the message has none of its boundary "
                             "lines: the mail client wrote a broken message."))
    spans.append((part_start, end, True))
    return spans


def _entity(raw: bytes, start: int, end: int, *, open_ended: bool, depth: int,
            count: list[int]) -> Entity:
    count[0] += 1
    if count[0] > MAX_PARTS:
        raise InvalidInput(_("The message has more than {limit} MIME parts.").format(
            limit=MAX_PARTS))
    if depth > MAX_DEPTH:
        raise InvalidInput(_("The message's parts are nested more than {limit} deep.").format(
            limit=MAX_DEPTH))
    fields, body_start = header_fields(raw, start, end, strict=depth == 0)
    header_block = raw[start:fields[-1].end] if fields else b""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(header_block)
    children: tuple[Entity, ...] = ()
    if headers.get_content_maintype() == "multipart":
        boundary = headers.get_boundary()
        if not boundary:
            raise InvalidInput(_("A multipart part of the message has no boundary parameter: "
                                 "the mail client wrote a broken message."))
        try:
            boundary_bytes = boundary.encode("ascii")
        except UnicodeError:
            boundary_bytes = boundary.encode("utf-8", "surrogateescape")
        children = tuple(
            _entity(raw, s, e, open_ended=child_open and open_ended, depth=depth + 1,
                    count=count)
            for s, e, child_open in _split(raw, body_start, end, boundary_bytes)
        )
    return Entity(start, body_start, end, open_ended, fields, headers, children, depth)


def parse_tree(raw: bytes) -> Entity:
    if not raw or raw.isspace():
        raise InvalidInput(_("The message is empty."))
    first_line = line_content(raw, 0, raw.find(b"\n") + 1 if b"\n" in raw else len(raw))
    if FIELD.match(first_line) is None:
        raise InvalidInput(_("The message does not start with header fields (From:, To:, "
                             "Subject:, ...): it is not an email."))
    try:
        return _entity(raw, 0, len(raw), open_ended=True, depth=0, count=[0])
    except RecursionError:
        raise InvalidInput(_("The message's parts are nested too deeply.")) from None
    except UNREADABLE:
        raise InvalidInput(_("The message's MIME structure cannot be read: the mail client "
                             "wrote a broken message.")) from None


def walk(entity: Entity) -> Iterator[Entity]:
    """Every entity, depth first, not into attached messages nor signature parts."""
    stack = [entity]
    while stack:
        current = stack.pop()
        yield current
        signed = current.content_type == "multipart/signed"
        stack.extend(reversed(current.children[:1] if signed else current.children))


def leaves(root: Entity) -> Iterator[Entity]:
    return (entity for entity in walk(root) if not entity.children)


def body_of(raw: bytes, entity: Entity) -> bytes:
    body = raw[entity.body_start:entity.end]
    if entity.open_ended:  # the message's last line break is no part of the body
        body = body[:-2] if body.endswith(b"\r\n") else body.removesuffix(b"\n")
    return body


def decoded_body(raw: bytes, entity: Entity) -> bytes:
    body = body_of(raw, entity)
    encoding = str(entity.headers.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        with contextlib.suppress(binascii.Error, ValueError):
            return base64.b64decode(body)  # skips line breaks; strict about padding
        data = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
        data = data[: len(data) - 1] if len(data) % 4 == 1 else data
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return b""
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    return body


def line_break(raw: bytes, start: int = 0) -> bytes:
    newline = raw.find(b"\n", start)
    return b"\r\n" if newline > 0 and raw[newline - 1:newline] == b"\r" else b"\n"
