"""The webhook dispatcher: delivers the outbox, at least once, with retries.

Flow of one message (see ``schedule`` for when attempts happen):

1. **Claim**: due ``pending`` messages of active endpoints are selected and leased in one
   transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so any number of dispatchers share
   the work; SQLite: the UPDATE re-checks the lease, writes being serial). The lease lasts
   the attempt's timeout plus a margin: a dispatcher killed mid-delivery simply lets it
   expire and another (or the restarted one) delivers again, with the same ``webhook-id``.
2. **Check**: a message about an engagement, to an endpoint that takes only HUMAN
   activity, is ``suppressed`` (not sent) when the engagement's verdict is no longer
   HUMAN (a link scanner's click burst is recognised after its first click), or when
   the engagement was erased meanwhile.
3. **Attempt**: resolve and check the target (``targets``), sign with every active secret
   (two ``v1`` signatures while a secret is rotated), POST to the checked address within
   ``webhook_timeout_seconds`` for the whole attempt. Redirects are never followed.
4. **Record**, in one transaction, only if the lease is still ours: a ``webhook_attempt``
   row and the message's new state. 2xx: ``delivered``. 410 Gone: the endpoint is
   disabled (with the reason, audited) and its pending messages become ``disabled``.
   Anything else (3xx, 4xx, 5xx, timeout, refused address, connection error): retried on
   the schedule, ``Retry-After`` honoured on 429/503, ``failed`` after the last attempt.
   An unexpected error during an attempt is a failed attempt like any other (recorded as
   "internal error: <type>", details in the log), so no message can loop unrecorded.

Receivers deduplicate on ``webhook-id`` (Standard Webhooks): delivery is at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sendtrail.db.keys import key_in
from sendtrail.db.types import utcnow
from sendtrail.errors import InvalidInput
from sendtrail.notifications.outbox import RECLASSIFIED_EVENT_TYPE
from sendtrail.notifications.schedule import next_retry, parse_retry_after
from sendtrail.notifications.signing import SECRET_PREFIX, signature_headers
from sendtrail.notifications.store import (
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from sendtrail.notifications.targets import (
    Resolver,
    pin_target,
    pinned_request,
    system_resolver,
)
from sendtrail.notifications.webhooks import SECRET_CONTEXT
from sendtrail.secretbox import SecretBox
from sendtrail.settings import NotificationSettings
from sendtrail.tenancy.store import AuditEntryRow
from sendtrail.tracking.store import EngagementRow

__all__ = ["WebhookDispatcher", "active_secrets", "signing_entries"]

log = logging.getLogger("sendtrail.webhooks")
ENDPOINTS = WebhookEndpointRow.__table__  # type: ignore[attr-defined]
MESSAGES = WebhookMessageRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = WebhookAttemptRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntryRow.__table__  # type: ignore[attr-defined]
ENGAGEMENTS = EngagementRow.__table__  # type: ignore[attr-defined]
LEASE_MARGIN = timedelta(seconds=5)
USER_AGENT = "Sendtrail-Webhooks/1.0"
TEXT_LIMIT = 500
SNIPPET_BYTES = 200


def signing_entries(secrets: Sequence[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The stored secret entries that sign now (a rotated-out one until it expires)."""
    return [
        entry for entry in secrets
        if entry.get("expires_at") is None or datetime.fromisoformat(entry["expires_at"]) > now
    ]


def active_secrets(secrets: Sequence[dict[str, Any]], now: datetime,
                   box: SecretBox) -> list[str]:
    """The secrets that sign now, newest first (a rotated-out one until it expires).

    Stored encrypted; an entry still in the clear (``whsec_...``, from before encryption)
    is used as it is.
    """
    return [
        entry["secret"] if entry["secret"].startswith(SECRET_PREFIX)
        else box.decrypt(entry["secret"], context=SECRET_CONTEXT).decode()
        for entry in signing_entries(secrets, now)
    ]


@dataclass(frozen=True)
class _Claimed:
    account_id: uuid.UUID
    id: str
    endpoint_id: uuid.UUID
    payload: dict[str, Any]
    attempts: int
    lease_until: datetime
    url: str
    secrets: list[dict[str, Any]]
    engagement_id: uuid.UUID | None
    include_non_human: bool


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str | None
    retry_after: timedelta | None
    duration_ms: int
    internal: bool = False
    """The attempt broke on our side (an unexpected exception): a failure, whatever came."""

    @property
    def delivered(self) -> bool:
        return (not self.internal and self.status_code is not None
                and 200 <= self.status_code < 300)

    @property
    def gone(self) -> bool:
        return not self.internal and self.status_code == 410


class WebhookDispatcher:
    """Delivers due webhook messages; ``start()`` runs it in the background."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: NotificationSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        concurrency: int = 10,
        resolver: Resolver = system_resolver,
        box: SecretBox,
    ) -> None:
        self._engine = engine
        self._box = box
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrecy)
        self._concurrency = concurrency
        self._resolver = resolver
        self._timeout = settings.webhook_timeout_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """Look for due messages now (the outbox calls this after queueing)."""
        self._wake.set()

    async def start(self) -> None:
        self._client = _new_client(self._timeout)
        self._task = asyncio.create_task(self._run_forever(), name="webhook-dispatcher")

    async def stop(self) -> None:
        """Stop claiming; let attempts in flight finish (at most one timeout), then close."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=self._timeout + 1)
            for task in late:  # their leases expire; another dispatcher delivers them
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run_once(self, now: datetime | None = None) -> int:
        """Deliver everything due at ``now``, ``concurrency`` at a time; the attempts made."""
        now = now or self._clock()
        client = self._client or _new_client(self._timeout)
        made = 0
        try:
            while True:
                claimed = await self._claim(now, self._concurrency)
                await asyncio.gather(*(self._deliver(client, message) for message in claimed))
                made += len(claimed)
                if len(claimed) < self._concurrency:
                    return made
        finally:
            if client is not self._client:
                await client.aclose()

    async def _run_forever(self) -> None:
        while True:
            self._wake.clear()
            free = self._concurrency - len(self._inflight)
            claimed: list[_Claimed] = []
            if free > 0:
                try:
                    claimed = await self._claim(self._clock(), free)
                except Exception:  # the database is away: try again after the poll interval
                    log.exception("could not claim webhook messages")
            assert self._client is not None  # noqa: S101  (start() made it)
            for message in claimed:
                task = asyncio.create_task(self._deliver(self._client, message))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            waiting: set[asyncio.Future[Any]] = set(self._inflight)
            wake = asyncio.ensure_future(self._wake.wait())
            if not (claimed and len(claimed) == free):  # when all slots filled: a slot frees
                waiting.add(wake)
            try:
                await asyncio.wait(waiting or {wake}, timeout=self._settings.webhook_poll_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                wake.cancel()

    async def _claim(self, now: datetime, limit: int) -> list[_Claimed]:
        m, e = MESSAGES.c, ENDPOINTS.c
        lease = now + timedelta(seconds=self._timeout) + LEASE_MARGIN
        free = and_(m.status == "pending", m.next_attempt_at <= now,
                    or_(m.lease_until.is_(None), m.lease_until <= now))
        due = (
            select(m.account_id, m.id)
            .join(ENDPOINTS, and_(e.account_id == m.account_id, e.id == m.endpoint_id))
            .where(free, e.active.is_(True))
            .order_by(m.next_attempt_at)
            .limit(limit)
        )
        async with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(of=MESSAGES, skip_locked=True)
            # Two statements: PostgreSQL may run an ``IN (SELECT ... LIMIT n)`` subquery
            # once per candidate row, which would lease far more than ``n``.
            keys = [tuple(row) for row in await conn.execute(due)]
            if not keys:
                return []
            rows = (await conn.execute(
                update(MESSAGES)
                .where(key_in((m.account_id, m.id), keys), free)
                .values(lease_until=lease)
                .returning(m.account_id, m.id, m.endpoint_id, m.payload, m.attempts,
                           m.engagement_id)
            )).all()
            if not rows:
                return []
            endpoints = {
                (row.account_id, row.id): row
                for row in await conn.execute(
                    select(e.account_id, e.id, e.url, e.secrets, e.include_non_human).where(
                        key_in((e.account_id, e.id),
                               {(row.account_id, row.endpoint_id) for row in rows}))
                )
            }
        claimed = []
        for row in rows:
            endpoint = endpoints.get((row.account_id, row.endpoint_id))
            if endpoint is not None:
                claimed.append(_Claimed(
                    row.account_id, row.id, row.endpoint_id, row.payload, row.attempts, lease,
                    endpoint.url, endpoint.secrets, row.engagement_id,
                    endpoint.include_non_human,
                ))
        return claimed

    async def _deliver(self, client: httpx.AsyncClient, message: _Claimed) -> None:
        at = self._clock()
        try:
            reason = await self._suppression(message)
            if reason is not None:
                await self._suppress(message, reason)
                return
            outcome = await self._attempt(client, message, at)
        except Exception:  # the database is away: the lease expires, it is tried again
            log.exception("webhook message %s: could not be attempted", message.id)
            return
        try:
            await self._record(message, outcome, at)
        except Exception as failure:
            # Perhaps the outcome itself cannot be stored: record a plain failure instead
            # (if the database is away, this fails too and the lease expires).
            log.exception("webhook message %s: the attempt could not be recorded", message.id)
            plain = _Outcome(None, f"internal error: {type(failure).__name__}", None,
                             outcome.duration_ms, internal=True)
            try:
                await self._record(message, plain, at)
            except Exception:
                log.exception("webhook message %s: not recorded; tried again once its lease "
                              "expires", message.id)

    async def _suppression(self, message: _Claimed) -> str | None:
        """Why the message must not be sent after all (its engagement changed), or None."""
        if message.engagement_id is None:
            return None  # a test message
        e = ENGAGEMENTS.c
        async with self._engine.connect() as conn:
            engagement = (await conn.execute(
                select(e.verdict, e.category)
                .where(e.account_id == message.account_id, e.id == message.engagement_id)
            )).one_or_none()
        if engagement is None:
            return "the engagement was erased"
        if (engagement.verdict == "human" or message.include_non_human
                or message.payload.get("type") == RECLASSIFIED_EVENT_TYPE):
            return None
        why = f" ({engagement.category.replace('_', ' ')})" if engagement.category else ""
        return f"the engagement was reclassified as {engagement.verdict.upper()}{why}"

    async def _suppress(self, message: _Claimed, reason: str) -> None:
        m = MESSAGES.c
        async with self._engine.begin() as conn:
            await conn.execute(
                update(MESSAGES)
                .where(m.account_id == message.account_id, m.id == message.id,
                       m.lease_until == message.lease_until)
                .values(status="suppressed", lease_until=None, next_attempt_at=None,
                        last_error=reason[:TEXT_LIMIT])
            )
        log.info("webhook message %s: suppressed, %s", message.id, reason)

    async def _attempt(
        self, client: httpx.AsyncClient, message: _Claimed, at: datetime
    ) -> _Outcome:
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        retry_after: timedelta | None = None
        try:
            async with asyncio.timeout(self._timeout):
                target = await pin_target(
                    message.url, allow_loopback=self._settings.webhook_allow_loopback,
                    resolver=self._resolver,
                )
                body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
                headers = signature_headers(
                    active_secrets(message.secrets, at, self._box), message_id=message.id,
                    timestamp=int(at.timestamp()), body=body,
                )
                headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
                request = pinned_request(client, target, headers=headers, body=body.encode())
                response = await client.send(request, stream=True)
                try:
                    status = response.status_code
                    error = await _describe(response)
                    if status in {429, 503}:
                        retry_after = parse_retry_after(response.headers.get("retry-after"),
                                                        now=at)
                finally:
                    await response.aclose()
        except TimeoutError:
            status, error = None, f"no complete answer within {self._timeout:g} s (timeout)"
        except InvalidInput as refused:  # TargetRefused: the address is not allowed
            error = refused.message
        except httpx.HTTPError as failure:
            error = f"could not reach the endpoint: {str(failure) or type(failure).__name__}"
        except Exception as failure:  # a bug of ours must not make the message loop
            log.exception("webhook message %s: the attempt failed unexpectedly", message.id)
            duration = int((time.monotonic() - started) * 1000)
            return _Outcome(status, f"internal error: {type(failure).__name__}", None,
                            duration, internal=True)
        duration = int((time.monotonic() - started) * 1000)
        return _Outcome(status, _printable(error)[:TEXT_LIMIT] if error else None, retry_after,
                        duration)

    async def _record(self, message: _Claimed, outcome: _Outcome, at: datetime) -> None:
        attempts = message.attempts + 1
        now = self._clock()
        values: dict[str, Any] = {
            "attempts": attempts, "lease_until": None, "last_status_code": outcome.status_code,
            "last_error": outcome.error, "next_attempt_at": None,
        }
        if outcome.delivered:
            values |= {"status": "delivered", "delivered_at": now}
        elif outcome.gone:
            values |= {"status": "disabled"}
        else:
            retry = next_retry(attempts, self._rng, retry_after=outcome.retry_after)
            if retry is None:
                values |= {"status": "failed"}
            else:
                values |= {"status": "pending", "next_attempt_at": now + retry.delay}
        m = MESSAGES.c
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                update(MESSAGES)
                .where(m.account_id == message.account_id, m.id == message.id,
                       m.lease_until == message.lease_until)
                .values(values)
            )
            if not updated.rowcount:
                # The lease expired and another dispatcher owns the message now (or its
                # endpoint was deleted): that one's attempt is the one on record.
                log.warning("webhook message %s: lease lost during the attempt", message.id)
                return
            await conn.execute(ATTEMPTS.insert().values(
                account_id=message.account_id, id=uuid.uuid4(), message_id=message.id,
                endpoint_id=message.endpoint_id, at=at, status_code=outcome.status_code,
                error=outcome.error, duration_ms=outcome.duration_ms,
                next_attempt_at=values["next_attempt_at"],
            ))
            if outcome.gone:
                await _disable_gone(conn, message, now)


def _printable(text: str) -> str:
    """The text without control characters (NUL cannot be stored by PostgreSQL)."""
    return "".join(char if char.isprintable() else " " for char in text)


async def _describe(response: httpx.Response) -> str | None:
    """The error of a non-2xx answer, in words (with the start of its body)."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        location = response.headers.get("location", "nowhere")
        return f"redirects are not followed (got {status} to {location})"
    snippet = b""
    async for chunk in response.aiter_raw():
        snippet += chunk
        if len(snippet) >= SNIPPET_BYTES:
            break
    text = snippet[:SNIPPET_BYTES].decode("utf-8", "replace").strip()
    phrase = f"{status} {response.reason_phrase}".strip()
    return f"the endpoint answered {phrase}" + (f": {text}" if text else "")


async def _disable_gone(conn: AsyncConnection, message: _Claimed, now: datetime) -> None:
    """410 Gone: the receiver says the endpoint no longer exists. Stop sending to it."""
    e, m = ENDPOINTS.c, MESSAGES.c
    reason = (f"The endpoint answered 410 Gone at {now.isoformat(timespec='seconds')}; "
              "re-enable it to resume deliveries.")
    disabled = await conn.execute(
        update(ENDPOINTS)
        .where(e.account_id == message.account_id, e.id == message.endpoint_id,
               e.active.is_(True))
        .values(active=False, disabled_reason=reason)
    )
    await conn.execute(
        update(MESSAGES)
        .where(m.account_id == message.account_id, m.endpoint_id == message.endpoint_id,
               m.status == "pending")
        .values(status="disabled", next_attempt_at=None)
    )
    if disabled.rowcount:
        await conn.execute(AUDIT.insert().values(
            account_id=message.account_id, id=uuid.uuid4(), at=now,
            actor="webhook dispatcher", action="webhook_endpoint.disabled",
            target=f"webhook endpoint {message.url}", before={"active": True},
            after={"active": False, "reason": reason},
        ))


def _new_client(timeout: float) -> httpx.AsyncClient:
    # No connection reuse: a pooled connection is keyed by address, not by the name it
    # was opened (and TLS-verified) for. No proxies from the environment: they would
    # connect somewhere other than the checked address.
    return httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
    )
