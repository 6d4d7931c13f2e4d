"""GraphQL over HTTP (the GraphQL-over-HTTP spec) for ``/graphql``: media types and statuses.

- The answer's media type is the client's preference (``Accept``, with q-values) among
  ``application/graphql-response+json`` and ``application/json``; ``application/json``
  when it prefers neither or sends no ``Accept`` (every client before issue 12).
- In ``application/graphql-response+json`` a request error (the document does not parse
  or validate, or the variables do not coerce) is a 400 without a ``data`` entry; a
  resolver's error keeps its 200 with ``data``. ``application/json`` keeps 200 throughout.
- A request the endpoint cannot take at all (no query, not JSON, a mutation over GET, a
  subscription over HTTP, ...) is a 4xx whose body is still a GraphQL response: one error
  with ``extensions.code`` ``BAD_REQUEST`` and a message saying what to send instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError
from litestar import Request, Response
from litestar.exceptions import HTTPException

__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "TransportError",
    "error_response",
    "graphql_http_error",
    "is_request_error",
    "negotiate",
]

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
TRANSPORT_CODE = "BAD_REQUEST"


class TransportError(Exception):
    """A request ``/graphql`` refuses before any GraphQL runs: status, message, headers."""

    def __init__(self, status_code: int, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.message = status_code, message
        self.headers = dict(headers or {})


def negotiate(accept: str | None) -> str:
    """The media type to answer in, from an ``Accept`` header (RFC 9110 q-values)."""
    best, best_q = JSON, 0.0
    for part in (accept or "").split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media_range = media_range.lower()
        # Only an explicit graphql-response+json selects it; wildcards keep the legacy type.
        candidate = GRAPHQL_RESPONSE if media_range == GRAPHQL_RESPONSE else (
            JSON if media_range in {JSON, "application/*", "*/*"} else None)
        if candidate is not None and q > best_q:
            best, best_q = candidate, q
    return best


def is_request_error(result: Any) -> bool:
    """Parse, validation or variable-coercion failure: nothing ran, so no ``data``.

    Such errors have no ``path``; a resolver's error (even one nulling the whole ``data``)
    always has one.
    """
    errors: list[GraphQLError] | None = result.errors
    return result.data is None and bool(errors) and all(e.path is None for e in errors or [])


def error_response(status_code: int, message: str, media_type: str,
                   headers: Mapping[str, str] | None = None) -> Response[bytes]:
    code = TRANSPORT_CODE if status_code < 500 else "INTERNAL_SERVER_ERROR"
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(json.dumps(body).encode(), status_code=status_code, media_type=media_type,
                    headers=dict(headers or {}))


def graphql_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    """Litestar's own refusals on ``/graphql`` (body too large, JSON too deep) as GraphQL."""
    return error_response(error.status_code, error.detail,
                          negotiate(request.headers.get("accept")), error.headers)
