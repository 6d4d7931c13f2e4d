"""Find the original message inside a forwarded one (forward-as-attachment or inline)."""

from __future__ import annotations

import re
from dataclasses import replace

from sendtrail.addresses import valid_address
from sendtrail.records.mime import Address, ParsedMessage

__all__ = ["forwarded_original"]

# Gmail, Outlook and Apple Mail start an inline forward with one of these lines.
_MARKERS = re.compile(
    r"^\s*(?:-{5,}\s*Forwarded message\s*-{5,}|-{3,}\s*Original Message\s*-{3,}|"
    r"Begin forwarded message:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER = re.compile(r"^\s*(From|To|Cc|Subject|Date|Sent)\s*:\s*(.+?)\s*$", re.IGNORECASE)
_ADDRESS = re.compile(r"(?:\"?([^\"<>,]*?)\"?\s*)?<?([^\s<>,;]+@[^\s<>,;]+?)>?(?=\s*(?:[,;]|$))")


def _addresses(value: str, skipped: list[str]) -> tuple[Address, ...]:
    """The valid addresses of a quoted header line; the others go to ``skipped``."""
    found = []
    for name, address in _ADDRESS.findall(value):
        written = address.strip().strip("<>")
        cleaned = valid_address(written) if len(written) <= 320 else None
        if cleaned is not None:
            found.append(Address(cleaned, name.strip() or None))
        elif written:
            skipped.append(written[:100])
    return tuple(found)


def _inline(message: ParsedMessage) -> ParsedMessage | None:
    text = message.text or ""
    marker = _MARKERS.search(text)
    if marker is None:
        return None
    headers: dict[str, str] = {}
    body_start = marker.end()
    for line in text[marker.end():].splitlines(keepends=True):
        body_start += len(line)
        match = _HEADER.match(line)
        if match:
            headers.setdefault(match.group(1).lower(), match.group(2))
        elif line.strip() == "" and headers:
            break
    skipped: list[str] = []
    senders = _addresses(headers.get("from", ""), skipped)
    if not senders:
        return None
    to, cc = _addresses(headers.get("to", ""), skipped), _addresses(headers.get("cc", ""), skipped)
    return ParsedMessage(
        subject=headers.get("subject", ""), sender=senders[0], to=to, cc=cc, bcc=(),
        date=None, message_id=None, in_reply_to=None, references=(),
        text=text[body_start:].strip() or None, html=None, attachments=message.attachments,
        skipped=tuple(dict.fromkeys(skipped))[:20],
    )


def forwarded_original(message: ParsedMessage) -> ParsedMessage | None:
    """The forwarded message, with the forwarder's attachments when it carries none."""
    if message.forwarded is not None:
        original = message.forwarded
        if not original.attachments and message.attachments:
            original = replace(original, attachments=message.attachments)
        return original
    return _inline(message)
