"""The one rule for an email address, whichever way it comes in (issue 12, defect 10).

A user's login, a recipient given to ``prepareEmail`` or ``logEmail``, an address in a
logged message's headers (API upload or the SMTP listener) and the SMTP envelope sender all
pass through ``normalize_email``: a contact is never created for an address the API
would refuse. email-validator decides (no DNS lookup); the canonical form is lower case.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = ["normalize_email", "valid_address"]


def normalize_email(email: str) -> str:
    """The address in canonical form, or a ``BAD_USER_INPUT`` saying what is wrong with it."""
    try:
        # test_environment admits the reserved ".test" domain that demos and tests use.
        checked = validate_email(email.strip(), check_deliverability=False, test_environment=True)
        return checked.normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(_("{email!r} is not a valid email address: {error}").format(
            email=email[:320], error=error)) from None


def valid_address(email: str) -> str | None:
    """``normalize_email``, or None for an address it refuses (to skip it, not to fail)."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return None
