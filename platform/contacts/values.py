"""Domain values of contacts."""

from __future__ import annotations

import enum

__all__ = ["LegalBasis"]


class LegalBasis(enum.StrEnum):
    """GDPR Art. 6 lawful bases; ``NONE`` means none is recorded (R16)."""

    NONE = "none"
    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"
    PUBLIC_TASK = "public_task"
