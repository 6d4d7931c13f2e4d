"""RawHit's line format: what the hot path keeps of a request, for the spool and raw_hit."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sendtrail.tracking.core.model import HitKind, TokenClaims
from sendtrail.tracking.core.raw_hit import RawHit

CLAIMS = TokenClaims(kind=HitKind.CLICK, account_id=uuid.UUID(int=1), email_id=uuid.UUID(int=2),
                     recipient=0, sender_copy=False, sent_at=1_700_000_000, link=0,
                     url="https://shop.test/")


def _hit(**changes: object) -> RawHit:
    fields: dict[str, object] = {
        "event_id": uuid.UUID(int=9), "claims": CLAIMS, "method": "GET",
        "at": datetime(2026, 12, 5, 9, 0, tzinfo=UTC), "ip": "198.51.100.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
    }
    return RawHit(**{**fields, **changes})  # type: ignore[arg-type]


def test_only_the_classifying_headers_are_kept() -> None:  # issue 17
    kept = RawHit.classifying({
        b"sec-purpose": b"prefetch", b"via": b"1.1 proxy", b"cookie": b"secret=1",
        b"authorization": b"Bearer st_x", b"x-moz": b"",
    })
    assert kept == (("sec-purpose", "prefetch"), ("via", "1.1 proxy"))
    assert len(RawHit.classifying({b"via": b"x" * 5000})[0][1]) == 200


def test_headers_survive_the_line_and_old_lines_still_read() -> None:
    hit = _hit(headers=(("sec-purpose", "prefetch"),))
    assert RawHit.from_json(hit.to_json()) == hit
    old = json.loads(_hit().to_json())  # written before headers were kept: no "h"
    assert "h" not in old
    assert RawHit.from_json(json.dumps(old)).headers == ()
