"""``RawHit``: what the hot path knows about a request, stored as a raw hit (or spooled)
until the deriver turns it into engagements. Pure: it crosses from the hot path into the core."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sendtrail.tracking.core.model import HitKind, TokenClaims

__all__ = ["CLASSIFYING_HEADERS", "RawHit"]

CLASSIFYING_HEADERS = ("sec-purpose", "purpose", "x-moz", "via")
"""The request headers the classifier reads (lower-case), kept with a hit; no other header
is stored. Browsers mark speculative fetches with the first three; proxies add ``Via``."""
_MAX_HEADER = 200


@dataclass(frozen=True)
class RawHit:
    event_id: uuid.UUID
    """Assigned on arrival; the engagement's primary key (replays are idempotent)."""
    claims: TokenClaims
    method: str
    at: datetime
    ip: str
    user_agent: str
    sender_cookie_email: uuid.UUID | None = None
    """A verified sender-copy cookie: the email whose sender clicked it (R14)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Those of ``CLASSIFYING_HEADERS`` the request carried, as (lower-case name, value)."""

    @staticmethod
    def classifying(headers: dict[bytes, bytes]) -> tuple[tuple[str, str], ...]:
        """The ``CLASSIFYING_HEADERS`` among an ASGI request's headers, values cut short."""
        found = []
        for name in CLASSIFYING_HEADERS:
            value = headers.get(name.encode("ascii"))
            if value:
                found.append((name, value.decode("latin-1")[:_MAX_HEADER]))
        return tuple(found)

    def to_json(self) -> str:
        claims = self.claims
        return json.dumps(
            {
                "event": str(self.event_id),
                "kind": claims.kind.value,
                "account": str(claims.account_id),
                "email": str(claims.email_id),
                "recipient": claims.recipient,
                "sender_copy": claims.sender_copy,
                "sent_at": claims.sent_at,
                "link": claims.link,
                "url": claims.url,
                "method": self.method,
                "at": self.at.isoformat(),
                "ip": self.ip,
                "ua": self.user_agent,
                "cookie": str(self.sender_cookie_email) if self.sender_cookie_email else None,
                **({"h": dict(self.headers)} if self.headers else {}),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> RawHit:
        data: dict[str, Any] = json.loads(line)
        return cls(
            event_id=uuid.UUID(data["event"]),
            claims=TokenClaims(
                kind=HitKind(data["kind"]),
                account_id=uuid.UUID(data["account"]),
                email_id=uuid.UUID(data["email"]),
                recipient=data["recipient"],
                sender_copy=data["sender_copy"],
                sent_at=data["sent_at"],
                link=data["link"],
                url=data["url"],
            ),
            method=data["method"],
            at=datetime.fromisoformat(data["at"]),
            ip=data["ip"],
            user_agent=data["ua"],
            sender_cookie_email=uuid.UUID(data["cookie"]) if data["cookie"] else None,
            # Lines written before headers were kept have none (spools, raw hits in flight).
            headers=tuple((str(k), str(v)) for k, v in data.get("h", {}).items()),
        )
