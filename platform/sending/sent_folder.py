"""STAND-IN for the adapters worker's module (issue 13 contract); main's version replaces it."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import ssl
from pathlib import Path

from sendtrail.sending.upstream import Step
from sendtrail.sending.values import ImapEndpoint, SmtpSecurity

__all__ = ["test_imap"]


def _check(endpoint: ImapEndpoint, timeout: float, ca_bundle: Path | None) -> list[Step]:
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    steps: list[Step] = []
    try:
        if endpoint.security is SmtpSecurity.TLS:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(endpoint.host, endpoint.port,
                                                      ssl_context=context, timeout=timeout)
        else:
            client = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=timeout)
            if endpoint.security is SmtpSecurity.STARTTLS:
                client.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as error:
        return [Step("imap connect", False, f"Could not reach the IMAP server: {error}.")]
    steps.append(Step("imap connect", True, "Connected to the IMAP server."))
    try:
        try:
            client.login(endpoint.username, endpoint.password)
        except imaplib.IMAP4.error as error:
            steps.append(Step("imap login", False, f"The IMAP server refused the login: "
                              f"{error}."))
            return steps
        steps.append(Step("imap login", True, f"Logged in to IMAP as {endpoint.username}."))
        folder = endpoint.folder or "Sent"
        typ, _ = client.select(f'"{folder}"', readonly=True)
        steps.append(Step("sent folder", typ == "OK", f"The folder {folder} "
                          + ("opens." if typ == "OK" else "does not open.")))
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return steps


async def test_imap(endpoint: ImapEndpoint, *, timeout: float, allow_private: bool,
                    ca_bundle: Path | None) -> list[Step]:
    return await asyncio.to_thread(_check, endpoint, timeout, ca_bundle)
