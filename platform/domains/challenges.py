"""HTTP-01 challenges: stored while a certificate is requested, answered by any node.

The CA fetches ``http://<hostname>/.well-known/acme-challenge/<token>`` through the
customer's CNAME; whichever Sendtrail node the request lands on finds the key
authorization in the database. The ACME client runs in a worker thread, so publishing
uses a blocking connection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sendtrail.domains.store import AcmeChallengeRow

__all__ = ["CHALLENGE_TTL", "key_authorization", "publish", "unpublish"]

CHALLENGES = AcmeChallengeRow.__table__  # type: ignore[attr-defined]
CHALLENGE_TTL = timedelta(minutes=15)


def publish(engine: Engine, *, token: str, hostname: str, key_authorization: str,
            now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(delete(CHALLENGES).where(CHALLENGES.c.expires_at < now))
        conn.execute(delete(CHALLENGES).where(CHALLENGES.c.token == token))
        conn.execute(insert(CHALLENGES).values(
            token=token, hostname=hostname, key_authorization=key_authorization,
            expires_at=now + CHALLENGE_TTL,
        ))


def unpublish(engine: Engine, *, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(CHALLENGES).where(CHALLENGES.c.token == token))


async def key_authorization(
    engine: AsyncEngine, *, token: str, host: str, now: datetime
) -> str | None:
    """The answer for ``token`` when asked on the hostname being validated, else None."""
    if not token or len(token) > 200:
        return None
    async with engine.connect() as conn:
        row = (await conn.execute(select(CHALLENGES).where(
            CHALLENGES.c.token == token, CHALLENGES.c.hostname == host,
            CHALLENGES.c.expires_at >= now,
        ))).first()
    return row.key_authorization if row is not None else None
