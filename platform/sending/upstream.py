"""STAND-IN for the adapters worker's module (issue 13 contract); main's version replaces it."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib

from sendtrail.sending.values import SmtpEndpoint, SmtpSecurity

__all__ = ["Step", "test_smtp"]


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    message: str


async def test_smtp(endpoint: SmtpEndpoint, *, mail_from: str, helo_name: str,
                    timeout: float, allow_private: bool, ca_bundle: Path | None) -> list[Step]:
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    client = aiosmtplib.SMTP(
        hostname=endpoint.host, port=endpoint.port, timeout=timeout, local_hostname=helo_name,
        use_tls=endpoint.security is SmtpSecurity.TLS,
        start_tls=endpoint.security is SmtpSecurity.STARTTLS, tls_context=context)
    steps: list[Step] = []
    try:
        await client.connect()
        steps.append(Step("connect", True, f"Connected to {endpoint.host}:{endpoint.port}."))
    except (aiosmtplib.SMTPException, OSError) as error:
        return [Step("connect", False, f"Could not connect: {error}.")]
    try:
        if endpoint.username:
            try:
                await client.login(endpoint.username, endpoint.password or "")
                steps.append(Step("login", True, f"Logged in as {endpoint.username}."))
            except aiosmtplib.SMTPException as error:
                steps.append(Step("login", False, f"The server refused the login: {error}."))
                return steps
        try:
            await client.mail(mail_from)
            await client.rset()
            steps.append(Step("sender", True, f"The server accepts {mail_from} as sender."))
        except aiosmtplib.SMTPException as error:
            steps.append(Step("sender", False, f"The server refused {mail_from}: {error}."))
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()
    return steps
