"""The Message-IDs tracked emails are sent with, in one place: made here, read back here.

An email is sent as ``<emailid@host>``; a per-recipient copy as ``<emailid.N@host>``, so a
reply's ``In-Reply-To`` names the email (and the copy) it answers.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

__all__ = ["TrackedMessageId", "copy_message_id", "email_message_id", "parse_message_id"]

_TRACKED = re.compile(r"^<([0-9a-f-]{36})(?:\.(\d{1,5}))?@([^<>@\s]+)>$")


@dataclass(frozen=True)
class TrackedMessageId:
    email_id: uuid.UUID
    copy_index: int | None
    """The recipient index of a per-recipient copy, or ``None`` for the email itself."""
    base: str
    """The email's own Message-ID (what is stored on the tracked email)."""


def email_message_id(email_id: uuid.UUID, host: str) -> str:
    return f"<{email_id}@{host}>"


def copy_message_id(message_id: str, index: int | None) -> str:
    """The Message-ID of recipient ``index``'s copy (the email's own for ``None``)."""
    if index is None:
        return message_id
    local, _, domain = message_id.strip("<>").partition("@")
    return f"<{local}.{index}@{domain}>"


def parse_message_id(value: str) -> TrackedMessageId | None:
    """What a Message-ID says if it is one of ours (by shape; the caller checks storage)."""
    match = _TRACKED.match(value)
    if match is None:
        return None
    try:
        email_id = uuid.UUID(match.group(1))
    except ValueError:
        return None
    index = int(match.group(2)) if match.group(2) is not None else None
    return TrackedMessageId(email_id, index, email_message_id(email_id, match.group(3)))
