"""A hit's event id: new for every request, except when a trusted proxy names the request —
nginx keeps ``$request_id`` when it sends a request again to another node after the first
died before answering, and the event id is the engagement's key, so both nodes' raw hits
become one engagement (issue 14, scale-out)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sendtrail.tracking.core.tokens import TokenKeys
from sendtrail.tracking.http import TrackingEndpoints

REQUEST_ID = "4f2a9c0e8b7d4e1fa0c3b5d6e7f80912"


def _endpoints(trusted: tuple[str, ...]) -> TrackingEndpoints:
    return TrackingEndpoints(keys=TokenKeys.derive(("k" * 40,)), ingestor=None,  # type: ignore[arg-type]
                             trusted_proxies=trusted, secure_cookies=False,
                             clock=lambda: datetime.now(UTC))


def _scope(peer: str) -> dict[str, Any]:
    return {"client": (peer, 40000), "headers": [(b"x-request-id", REQUEST_ID.encode())]}


def _event_id(endpoints: TrackingEndpoints, scope: dict[str, Any]) -> uuid.UUID:
    return endpoints._event_id(dict(scope["headers"]), scope)


def test_a_trusted_proxys_request_id_is_the_event_id_so_a_resend_is_one_hit() -> None:
    endpoints = _endpoints(("127.0.0.1",))
    assert _event_id(endpoints, _scope("127.0.0.1")) == uuid.UUID(hex=REQUEST_ID)
    assert _event_id(endpoints, _scope("127.0.0.1")) == _event_id(endpoints, _scope("127.0.0.1"))


def test_anyone_else_gets_a_new_event_id_for_every_request() -> None:
    untrusted = _event_id(_endpoints(("127.0.0.1",)), _scope("203.0.113.9"))
    no_proxies = _event_id(_endpoints(()), _scope("127.0.0.1"))
    assert uuid.UUID(hex=REQUEST_ID) not in {untrusted, no_proxies}
    assert untrusted.version == no_proxies.version == 4


def test_a_request_id_that_is_not_32_hex_digits_is_ignored() -> None:
    endpoints = _endpoints(("127.0.0.1",))
    for value in (b"x" * 32, b"abc", REQUEST_ID.encode() + b"00", "é".encode() * 16):
        scope = {"client": ("127.0.0.1", 1), "headers": [(b"x-request-id", value)]}
        assert _event_id(endpoints, scope).version == 4
