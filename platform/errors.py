"""Every error Sendtrail raises on purpose.

Only the edges (GraphQL, HTTP, CLI) translate these into codes and status codes; the
domain code raises them with a message a person can act on::

    SendtrailError                      code              HTTP
    ├── Unauthenticated                 UNAUTHENTICATED   401
    ├── Forbidden                       FORBIDDEN         403
    ├── NotFound                        NOT_FOUND         404
    ├── InvalidInput                    BAD_USER_INPUT    400
    │   └── UnsupportedMediaType        UNSUPPORTED_MEDIA_TYPE 415
    ├── Conflict                        CONFLICT          409
    │   └── OutboundNotConfigured       OUTBOUND_NOT_CONFIGURED 409
    ├── Gone                            GONE              410  (a used or expired link)
    ├── EntitlementRequired             ENTITLEMENT_REQUIRED 403
    ├── RateLimited                     RATE_LIMITED      429
    ├── TenantScopeMissing              INTERNAL          500  (a programming error)
    └── ExternalServiceError            SERVICE_UNAVAILABLE 503
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "EntitlementRequired",
    "ExternalServiceError",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "NotFound",
    "OutboundNotConfigured",
    "RateLimited",
    "SendtrailError",
    "TenantScopeMissing",
    "Unauthenticated",
    "UnsupportedMediaType",
]


class SendtrailError(Exception):
    """Base of every deliberate error; ``code`` is what API clients switch on."""

    code = "INTERNAL"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(SendtrailError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(SendtrailError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(SendtrailError):
    """Also what another tenant's objects look like: never 'forbidden' (Sentry's rule)."""

    code = "NOT_FOUND"
    http_status = 404


class InvalidInput(SendtrailError):
    code = "BAD_USER_INPUT"
    http_status = 400


class UnsupportedMediaType(InvalidInput):
    """A body in a format the route does not take (e.g. a form where JSON is required)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class Conflict(SendtrailError):
    code = "CONFLICT"
    http_status = 409


class OutboundNotConfigured(Conflict):
    """Sending needs the account's upstream mail server, and it is not set up (R26)."""

    code = "OUTBOUND_NOT_CONFIGURED"


class Gone(SendtrailError):
    """A link that worked once and no longer does (used, expired, revoked invitation)."""

    code = "GONE"
    http_status = 410


class EntitlementRequired(SendtrailError):
    code = "ENTITLEMENT_REQUIRED"
    http_status = 403


class RateLimited(SendtrailError):
    code = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TenantScopeMissing(SendtrailError):
    """A tenant-owned table was queried without an account: a bug, so it fails closed."""


class ExternalServiceError(SendtrailError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
