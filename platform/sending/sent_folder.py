"""STAND-IN for the adapters worker's module (issue 13 contract); main's version replaces it."""

from __future__ import annotations

from pathlib import Path

from sendtrail.sending.upstream import Step
from sendtrail.sending.values import ImapEndpoint

__all__ = ["test_imap"]


async def test_imap(endpoint: ImapEndpoint, *, timeout: float, allow_private: bool,
                    ca_bundle: Path | None) -> list[Step]:
    return [Step("imap", False, "Checking the Sent folder is not built yet (stand-in).")]
