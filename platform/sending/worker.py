"""The delivery worker: sends each stored copy to the account's upstream, at least once.

Flow of one delivery (a recipient's copy, the Sent folder's copy, or a bounce notice):

1. **Claim**: due deliveries (``queued`` or ``retrying``, ``next_attempt_at`` passed, no
   live lease) are leased in one transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
   any number of nodes share the work; SQLite: the UPDATE re-checks the lease, writes
   being serial). The lease is the attempt's timeout plus a margin and carries a fresh
   ``lease_id``.
2. **Build** the copy from the stored submission: the recipient's HTML spliced into the
   raw bytes, ``Bcc`` and ``X-Sendtrail-*`` removed (``core.message.recipient_copy``),
   then DKIM-signed when the account has a key for the sender's domain.
3. **Attempt**: SMTP to the upstream (``upstream.deliver``), or IMAP APPEND to the Sent
   folder (``sent_folder.append_to_sent``).
4. **Record**, only if the lease is still ours: sent; a temporary failure is retried on
   ``SendingSettings.delivery_retry_seconds`` and fails after the last; a permanent one
   fails at once. A recipient's copy that fails for good queues a short bounce notice to
   the sender through the same upstream, in the same transaction, and tells the node's
   listeners (live notifications).

A node killed between the upstream's 250 and step 4 leaves the lease to expire, and the
copy is sent again: that window is the only way a recipient gets a copy twice (R27).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlmodel import select as orm_select

from sendtrail.db.engine import Database
from sendtrail.db.keys import key_in
from sendtrail.db.types import utcnow
from sendtrail.secretbox import SecretBox
from sendtrail.sending.core.compose import compose_message
from sendtrail.sending.core.message import Party, recipient_copy
from sendtrail.sending.dkim import sign_message
from sendtrail.sending.endpoints import Route, route_for
from sendtrail.sending.sent_folder import append_to_sent
from sendtrail.sending.store import DeliveryRow, OutgoingMessageRow
from sendtrail.sending.upstream import Outcome, deliver
from sendtrail.sending.values import DeliveryKind, DeliveryStatus
from sendtrail.settings import SendingSettings
from sendtrail.tracking.store import TrackedEmailRow
from sendtrail.tracking.stream import EngagementEvent, EventSink

__all__ = [
    "DELIVERY_FAILED", "DeliveryFailed", "DeliveryWorker", "delivery_event_id", "failure_event",
]

log = logging.getLogger("sendtrail.sending")
DELIVERIES = DeliveryRow.__table__  # type: ignore[attr-defined]
LEASE_MARGIN = timedelta(seconds=5)
ERROR_LIMIT = 1000


DELIVERY_FAILED = "delivery_failed"
"""The live event type of a copy that failed for good; engagement subscribers ignore it
(it names no engagement) and the outbox maps it to no webhook event."""


@dataclass(frozen=True)
class DeliveryFailed:
    """A recipient's copy failed for good: whose email, and to whom."""

    account_id: uuid.UUID
    email_id: uuid.UUID
    sender_id: uuid.UUID
    recipient: str


def delivery_event_id(message_id: uuid.UUID, idx: int) -> uuid.UUID:
    """The id a delivery's live event carries (and the subscriber finds it by)."""
    return uuid.uuid5(message_id, f"delivery/{idx}")


def failure_event(failed: DeliveryFailed, message_id: uuid.UUID, idx: int,
                  at: datetime) -> EngagementEvent:
    return EngagementEvent(
        account_id=failed.account_id, engagement_id=delivery_event_id(message_id, idx),
        email_id=failed.email_id, sender_id=failed.sender_id, type=DELIVERY_FAILED,
        verdict="human", attribution="recipient", occurred_at=at, notify=True,
    )


@dataclass(frozen=True)
class _Claimed:
    account_id: uuid.UUID
    message_id: uuid.UUID
    idx: int
    lease_id: uuid.UUID
    attempts: int


class DeliveryWorker:
    """Delivers due copies; ``start()`` runs it in the background of ``sendtrail serve``."""

    def __init__(
        self,
        database: Database,
        settings: SendingSettings,
        *,
        box: SecretBox,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 8,
        sinks: Sequence[EventSink] = (),
    ) -> None:
        self._database = database
        self._settings = settings
        self._box = box
        self._clock = clock
        self._concurrency = concurrency
        self._sinks = sinks
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due deliveries now (a submission was just stored)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever(), name="delivery-worker")

    async def stop(self) -> None:
        """Stop claiming; attempts in flight get one timeout to finish, then their leases
        expire and another node (or this one, restarted) sends them."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight:
            _, late = await asyncio.wait(self._inflight,
                                         timeout=self._settings.delivery_timeout_seconds + 1)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def run_once(self, now: datetime | None = None) -> int:
        """Attempt everything due at ``now``; the number of attempts made (tests)."""
        made = 0
        while True:
            claimed = await self._claim(now or self._clock(), self._concurrency)
            await asyncio.gather(*(self._attempt(item) for item in claimed))
            made += len(claimed)
            if len(claimed) < self._concurrency:
                return made

    async def _run_forever(self) -> None:
        while True:
            self._wake.clear()
            free = self._concurrency - len(self._inflight)
            claimed: list[_Claimed] = []
            if free > 0:
                try:
                    claimed = await self._claim(self._clock(), free)
                except Exception:  # the database is away: try again after the poll interval
                    log.exception("could not claim deliveries")
            for item in claimed:
                task = asyncio.create_task(self._attempt(item))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            waiting: set[asyncio.Future[Any]] = set(self._inflight)
            wake = asyncio.ensure_future(self._wake.wait())
            if not (claimed and len(claimed) == free):
                waiting.add(wake)
            try:
                await asyncio.wait(waiting or {wake},
                                   timeout=self._settings.delivery_poll_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                wake.cancel()

    async def _claim(self, now: datetime, limit: int) -> list[_Claimed]:
        d = DELIVERIES.c
        lease_until = now + timedelta(seconds=self._settings.delivery_timeout_seconds) \
            + LEASE_MARGIN
        lease_id = uuid.uuid4()
        free = and_(d.status.in_([DeliveryStatus.QUEUED.value, DeliveryStatus.RETRYING.value]),
                    d.next_attempt_at <= now,
                    or_(d.lease_until.is_(None), d.lease_until <= now))
        due = (select(d.account_id, d.message_id, d.idx).where(free)
               .order_by(d.next_attempt_at).limit(limit))
        async with self._database.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            keys = [tuple(row) for row in await conn.execute(due)]
            if not keys:
                return []
            rows = (await conn.execute(
                update(DELIVERIES)
                .where(key_in((d.account_id, d.message_id, d.idx), keys), free)
                .values(lease_id=lease_id, lease_until=lease_until)
                .returning(d.account_id, d.message_id, d.idx, d.attempts)
            )).all()
        return [_Claimed(r.account_id, r.message_id, r.idx, lease_id, r.attempts) for r in rows]

    async def _attempt(self, item: _Claimed) -> None:
        try:
            outcome, failed = await self._send(item)
        except Exception as error:  # ours, not the upstream's: a temporary failure, recorded
            log.exception("delivery %s/%s could not be attempted", item.message_id, item.idx)
            outcome, failed = Outcome("temporary", None,
                                      f"internal error: {type(error).__name__}"), None
        try:
            await self._record(item, outcome, failed)
        except Exception:  # the database is away: the lease expires and it is tried again
            log.exception("delivery %s/%s: the outcome could not be recorded",
                          item.message_id, item.idx)

    async def _send(self, item: _Claimed) -> tuple[Outcome, DeliveryFailed | None]:
        """Attempt one delivery; also what the sender is told if it fails for good."""
        async with self._database.session(account_id=item.account_id) as session:
            row = await session.get(DeliveryRow, (item.account_id, item.message_id, item.idx))
            outgoing = await session.get(OutgoingMessageRow, (item.account_id, item.message_id))
            if row is None or outgoing is None:  # erased meanwhile: nothing left to send
                return Outcome("permanent", None, "The message was deleted before delivery."), None
            route = await route_for(session, self._box, item.account_id, outgoing.sender_id)
        failed = DeliveryFailed(item.account_id, row.email_id, outgoing.sender_id, row.recipient)
        if route is None:
            return Outcome("temporary", None, "Outbound mail is not set up for this account "
                           "any more: an admin sets it in Settings → Outbound mail."), failed
        kind = DeliveryKind(row.kind)
        timeout = self._settings.delivery_timeout_seconds
        private, ca_bundle = self._settings.outbound_allow_private, \
            self._settings.outbound_ca_bundle
        if kind is DeliveryKind.SENT_FOLDER:
            if route.imap is None:
                return Outcome("permanent", None, "No Sent folder is set up any more."), None
            outcome = await append_to_sent(route.imap, outgoing.raw, timeout=timeout,
                                           allow_private=private, ca_bundle=ca_bundle)
            return outcome, None
        content = row.body if kind is DeliveryKind.BOUNCE and row.body is not None \
            else recipient_copy(outgoing.raw, row.html)
        content = await asyncio.to_thread(_signed, content, route, outgoing.envelope_from)
        outcome = await deliver(
            route.smtp, mail_from=outgoing.envelope_from, recipient=row.recipient,
            content=content, helo_name=self._settings.helo_name, timeout=timeout,
            allow_private=private, ca_bundle=ca_bundle,
        )
        return outcome, failed if kind is DeliveryKind.RECIPIENT else None

    async def _record(
        self, item: _Claimed, outcome: Outcome, failed: DeliveryFailed | None
    ) -> None:
        now = self._clock()
        attempts = item.attempts + 1
        delays = self._settings.delivery_retry_seconds
        final = outcome.kind == "permanent" or (
            outcome.kind == "temporary" and attempts > len(delays))
        values: dict[str, Any] = {"attempts": attempts, "lease_id": None, "lease_until": None}
        if outcome.kind == "sent":
            values |= {"status": DeliveryStatus.SENT.value, "sent_at": now, "last_error": None}
        elif final:
            values |= {"status": DeliveryStatus.FAILED.value,
                       "last_error": _error_text(outcome, attempts)}
        else:
            values |= {"status": DeliveryStatus.RETRYING.value,
                       "last_error": _error_text(outcome, attempts),
                       "next_attempt_at": now + timedelta(seconds=delays[attempts - 1])}
        failed_for_good = final and outcome.kind != "sent" and failed is not None
        bounce = await self._bounce(item, outcome, now) if failed_for_good else None
        d = DELIVERIES.c
        async with self._database.engine.begin() as conn:
            done = await conn.execute(update(DELIVERIES).where(
                d.account_id == item.account_id, d.message_id == item.message_id,
                d.idx == item.idx, d.lease_id == item.lease_id,
            ).values(**values))
            if done.rowcount != 1:  # our lease expired and another attempt owns it now
                return
            events: list[EngagementEvent] = []
            if bounce is not None and failed is not None:
                next_idx = (await conn.execute(select(func.max(d.idx)).where(
                    d.account_id == item.account_id, d.message_id == item.message_id,
                ))).scalar_one()
                await conn.execute(DELIVERIES.insert().values(**bounce, idx=next_idx + 1))
                events = [failure_event(failed, item.message_id, item.idx, now)]
                for sink in self._sinks:  # live: the sender hears of it on any node (R27)
                    await sink.in_transaction(conn, events)
        for sink in self._sinks:
            if events:
                sink.committed(events)

    async def _bounce(self, item: _Claimed, outcome: Outcome,
                      now: datetime) -> dict[str, Any] | None:
        """The row of a short notice to the sender, through their own upstream (R27)."""
        async with self._database.session(account_id=item.account_id) as session:
            row = await session.get(DeliveryRow, (item.account_id, item.message_id, item.idx))
            outgoing = await session.get(OutgoingMessageRow, (item.account_id, item.message_id))
            if row is None or outgoing is None:
                return None
            email = (await session.exec(orm_select(TrackedEmailRow).where(
                TrackedEmailRow.account_id == item.account_id,
                TrackedEmailRow.id == row.email_id))).one_or_none()
        subject = email.subject if email is not None else "your email"
        body = compose_message(
            sender=Party(outgoing.envelope_from, "Sendtrail delivery report"),
            to=(Party(outgoing.envelope_from, None),), cc=(), bcc=(),
            subject=f"Not delivered to {row.recipient}: {subject}"[:900],
            html=None,
            text=(f"Your email \"{subject}\" could not be delivered to {row.recipient}.\n\n"
                  f"The mail server answered: {outcome.message}\n\n"
                  "The other recipients are not affected. The email's page in Sendtrail "
                  "shows each recipient's delivery.\n"),
            attachments=(), message_id=f"<{uuid.uuid4()}@sendtrail.delivery>", date=now,
            in_reply_to=email.message_id if email is not None else None,
            references=(email.message_id,) if email is not None else (),
        )
        return {
            "account_id": item.account_id, "message_id": item.message_id,
            "email_id": row.email_id, "kind": DeliveryKind.BOUNCE.value,
            "recipient": outgoing.envelope_from, "html": None, "body": body,
            "status": DeliveryStatus.QUEUED.value, "attempts": 0, "next_attempt_at": now,
            "created_at": now,
        }


def _signed(content: bytes, route: Route, sender: str) -> bytes:
    key = route.dkim_key_for(sender)
    if key is None:
        return content
    return sign_message(content, domain=key.domain, selector=key.selector,
                        private_key_pem=key.private_key_pem)


def _error_text(outcome: Outcome, attempts: int) -> str:
    code = f"{outcome.code} " if outcome.code else ""
    tries = "" if attempts == 1 else f" (attempt {attempts})"
    return f"{code}{outcome.message}{tries}"[:ERROR_LIMIT]
