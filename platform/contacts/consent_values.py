"""Domain values of tracking consent (R29): kept apart from the marketing legal basis (R16)."""

from __future__ import annotations

import enum

__all__ = ["MAX_BULK_CONTACTS", "MAX_WORDING_LENGTH", "ConsentSource", "TrackingConsent"]

MAX_WORDING_LENGTH = 2000
"""The longest wording kept as proof: a consent sentence, not a whole privacy policy."""

MAX_BULK_CONTACTS = 500
"""How many contacts one bulk change may name (all of them change, or none)."""


class TrackingConsent(enum.StrEnum):
    """Whether a contact agreed to having their opens and clicks measured individually."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class ConsentSource(enum.StrEnum):
    """Where a consent change came from: a closed set a person understands."""

    FORM = "FORM"
    """A form the person filled in (a sign-up or preference form)."""
    IMPORT = "IMPORT"
    """A list imported from another system, which recorded the consent."""
    API = "API"
    """Another system reporting it through the API."""
    EMAIL_LINK = "EMAIL_LINK"
    """The link in a tracked email (R29)."""
    ADMIN = "ADMIN"
    """A person in the account recording it by hand (e.g. after a phone call)."""
