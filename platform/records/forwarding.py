"""Find the original message inside a forwarded one (forward-as-attachment or inline)."""

from __future__ import annotations

import re
from dataclasses import replace

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


def _addresses(value: str) -> tuple[Address, ...]:
    found = []
    for name, address in _ADDRESS.findall(value):
        cleaned = address.strip().strip("<>").lower()
        if "@" in cleaned and " " not in cleaned:
            found.append(Address(cleaned, name.strip() or None))
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
    senders = _addresses(headers.get("from", ""))
    if not senders:
        return None
    return ParsedMessage(
        subject=headers.get("subject", ""), sender=senders[0],
        to=_addresses(headers.get("to", "")), cc=_addresses(headers.get("cc", "")), bcc=(),
        date=None, message_id=None, in_reply_to=None, references=(),
        text=text[body_start:].strip() or None, html=None, attachments=message.attachments,
    )


def forwarded_original(message: ParsedMessage) -> ParsedMessage | None:
    """The forwarded message, with the forwarder's attachments when it carries none."""
    if message.forwarded is not None:
        original = message.forwarded
        if not original.attachments and message.attachments:
            original = replace(original, attachments=message.attachments)
        return original
    return _inline(message)
