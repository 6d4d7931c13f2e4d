"""Durable ingestion, the first stage: group-commit raw hits, with a local spool when the
database is down.

``submit(hit)`` returns once the hit is durable — committed to ``raw_hit`` together with
the other hits of its batch, or appended and fsync'ed to the spool. That is the whole hot
path: the same work the bare baseline does. Everything else (classification, attribution,
inferred opens, contacts, rollups, the outbox, live events) is the deriver's
(``tracking/deriver.py``), behind the answer; this stage only wakes it.

The writer takes whatever is queued (up to ``max_batch``) whenever it is free, so batches
grow with load instead of waiting on a timer. When a transaction fails the batch goes to the
spool and the writer keeps spooling until the database answers again; a replayer then moves
the spool into ``raw_hit``. Every engagement's primary key is the event id assigned on
arrival, so a replay after a crash between commit and spool deletion stores nothing twice.
The queue is bounded, so memory is too: under overload callers wait (back-pressure).

When neither the database nor the spool takes a batch (issue 12, defect 9), its hits are
*dropped*: ``submit`` raises ``HitDropped`` (the endpoints still answer), the hits are counted
in ``sendtrail_hits_dropped_total``, one error is logged per ``drop_log_interval`` (not one
per hit), and ``refusal`` says why until the spool or the database takes hits again, so
``/readyz`` can send traffic elsewhere. Nothing acknowledged as stored is ever dropped.

With ``answer_after_derivation`` the writer also derives what it committed before it
answers (one stage, as before issue 14): for tests whose next read must see the hit's
engagement, never for production traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from sendtrail.tracking import metrics
from sendtrail.tracking.core.raw_hit import RawHit
from sendtrail.tracking.deriver import Deriver, partition_of
from sendtrail.tracking.store import RawHitRow

__all__ = ["HitDropped", "Ingestor"]

log = logging.getLogger("sendtrail.ingest")
DB_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
# Takes the same write lock a batch of hits needs, and changes nothing: "SELECT 1" answers
# while another connection holds the database (or the table) locked for writing.
_WRITE_PROBE = text("UPDATE raw_hit SET seq = seq WHERE 1 = 0")
# One cached statement for every batch: executemany, which SQLAlchemy sends as multi-row
# VALUES ("insertmanyvalues") with stable SQL text.
_INSERT_RAW = insert(RawHitRow.__table__)  # type: ignore[attr-defined]


class HitDropped(Exception):
    """Neither the database nor the spool took the hit: it was answered, never stored."""


class Ingestor:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        spool_dir: Path,
        deriver: Deriver,
        run_deriver: bool = True,
        answer_after_derivation: bool = False,
        max_batch: int = 256,
        max_queue: int = 10_000,
        transaction_timeout: float = 5.0,
        probe_interval: float = 1.0,
        drop_log_interval: float = 60.0,
    ) -> None:
        self._engine = engine
        self._spool_dir = spool_dir
        self._deriver = deriver
        self._run_deriver = run_deriver
        self._last_commit = float("-inf")
        deriver.give_way_to(self.busy)
        self._answer_after_derivation = answer_after_derivation
        self._max_batch = max_batch
        self._timeout = transaction_timeout
        self._probe_interval = probe_interval
        self._queue: asyncio.Queue[tuple[RawHit, asyncio.Future[None]]] = asyncio.Queue(max_queue)
        self._database_down = False
        self._tasks: list[asyncio.Task[None]] = []
        self._spool_lock = asyncio.Lock()
        self._drop_log_interval = drop_log_interval
        self._refusal: str | None = None
        self._dropped_since_log = 0
        self._last_drop_log: float | None = None

    @property
    def refusal(self) -> str | None:
        """Why hits are being dropped now; None while the database or the spool takes them."""
        return self._refusal

    def busy(self) -> bool:
        """Whether hits are arriving right now (committed in the last 100 ms or queued):
        the deriver then gives way (``Deriver``)."""
        return not self._queue.empty() or time.monotonic() - self._last_commit < 0.1

    @property
    def spool_path(self) -> Path:
        return self._spool_dir / "hits.spool"

    async def start(self) -> None:
        """Start writing, replaying the spool and (unless this node leaves it to others)
        deriving."""
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        self._tasks = [
            asyncio.create_task(self._write_forever(), name="ingest-writer"),
            asyncio.create_task(self._replay_forever(), name="ingest-replayer"),
        ]
        if self._run_deriver:
            await self._deriver.start()

    async def stop(self, *, drain_timeout: float = 15.0) -> None:
        """Drain what is queued (to the database or the spool), then stop."""
        deadline = time.monotonic() + drain_timeout
        while not self._queue.empty() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(*DB_ERRORS):
            if not self._database_down:  # leave nothing in the spool that could go now
                await self.replay_spool()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._deriver.stop()

    async def submit(self, hit: RawHit) -> None:
        """Return once ``hit`` is durable (committed or spooled)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((hit, future))
        await future

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            hits = [hit for hit, _ in batch]
            try:
                committed = await self._store(hits)
                if committed and self._answer_after_derivation:
                    await self._derive_now()
            except Exception as error:  # never acknowledge as stored what was not: drop
                self._dropped(len(hits), error)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(HitDropped(str(self._refusal)))
            else:
                self._taking_hits_again()
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _store(self, hits: Sequence[RawHit]) -> bool:
        """Commit ``hits`` (True) or spool them (False); raise when neither takes them."""
        if not self._database_down:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self._timeout):
                    await self._commit(hits)
            except DB_ERRORS as error:
                log.warning("database unavailable (%s); spooling hits", type(error).__name__)
                self._database_down = True
            else:
                metrics.BATCH_SIZE.observe(len(hits))
                metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
                return True
        await self._spool(hits)
        return False

    async def _commit(self, hits: Sequence[RawHit]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_INSERT_RAW, [
                {"part": partition_of(hit.claims.account_id, hit.claims.email_id),
                 "account_id": hit.claims.account_id, "hit": hit.to_json()}
                for hit in hits
            ])
        self._last_commit = time.monotonic()
        self._deriver.wake()

    async def _derive_now(self) -> None:
        """Answer-after-derivation mode: the hits are durable either way, so a failure here
        is the deriver's to retry, never a dropped hit."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._deriver.derive_pending()
        except Exception:
            log.exception("deriving before answering failed; the deriver will retry")

    async def _spool(self, hits: Sequence[RawHit]) -> None:
        payload = "".join(hit.to_json() + "\n" for hit in hits).encode()
        async with self._spool_lock:
            await asyncio.to_thread(_append_durably, self.spool_path, payload)
        metrics.SPOOLED.inc(len(hits))
        metrics.SPOOL_DEPTH.inc(len(hits))

    def _dropped(self, count: int, error: BaseException) -> None:
        metrics.DROPPED.inc(count)
        # The reason without the spool's path: /readyz tells it to anyone who asks.
        detail = error.strerror if isinstance(error, OSError) and error.strerror else error
        self._refusal = (
            "tracking hits are being dropped: the database cannot take them and the spool "
            f"cannot be written ({type(error).__name__}: {detail})"
        )
        self._dropped_since_log += count
        now = time.monotonic()
        if self._last_drop_log is None or now - self._last_drop_log >= self._drop_log_interval:
            # Loud, but once per interval: a flood of hits must not become a flood of logs.
            log.error("DROPPED %d tracking hits (answered, not stored): %s; /readyz fails until "
                      "the spool or the database takes hits again", self._dropped_since_log,
                      self._refusal, exc_info=error)
            self._dropped_since_log = 0
            self._last_drop_log = now

    def _taking_hits_again(self) -> None:
        if self._refusal is None:
            return
        log.warning("tracking hits are stored again; %d more were dropped since the last "
                    "report", self._dropped_since_log)
        self._refusal = None
        self._dropped_since_log = 0
        self._last_drop_log = None

    async def _spool_writable(self) -> None:
        """While dropping: can the spool take hits again? (An empty append changes nothing.)"""
        if self._refusal is None:
            return
        with contextlib.suppress(OSError):
            async with self._spool_lock:
                await asyncio.to_thread(_append_durably, self.spool_path, b"")
            self._taking_hits_again()

    async def _replay_forever(self) -> None:
        while True:
            await self._spool_writable()
            try:
                await self.replay_spool()
            except DB_ERRORS:
                self._database_down = True
            except Exception:
                log.exception("spool replay failed; will retry")
            await asyncio.sleep(self._probe_interval)

    async def replay_spool(self) -> int:
        """Move spooled hits into the database; return how many were replayed."""
        pending = sorted(self._spool_dir.glob("hits.spool*"))
        if not pending:
            if self._database_down:
                await self._probe()
            return 0
        await self._probe()
        async with self._spool_lock:
            if self.spool_path.exists():
                # New hits append to a fresh spool while this one is replayed.
                self.spool_path.rename(self._spool_dir / f"hits.spool.{time.time_ns()}")
        replayed = 0
        for path in sorted(self._spool_dir.glob("hits.spool.[0-9]*")):
            hits = _read_spool(path)
            try:
                for start in range(0, len(hits), self._max_batch):
                    chunk = hits[start : start + self._max_batch]
                    async with asyncio.timeout(self._timeout):
                        await self._commit(chunk)
            except (OperationalError, InterfaceError, OSError, TimeoutError):
                raise  # the database is away again: retry the whole file later
            except SQLAlchemyError:
                # The database answers but refuses these rows: set them aside for an
                # operator instead of retrying forever and blocking the files after them.
                log.exception("spool file %s cannot be stored; kept as .failed", path.name)
                path.rename(path.with_name(path.name.replace("hits.spool.", "failed.spool.")))
                continue
            path.unlink()
            replayed += len(hits)
            metrics.SPOOL_DEPTH.dec(len(hits))
        if replayed:
            log.info("replayed %d spooled hits", replayed)
            if self._answer_after_derivation:
                await self._derive_now()
        return replayed

    async def _probe(self) -> None:
        async with asyncio.timeout(self._timeout), self._engine.begin() as conn:
            await conn.execute(_WRITE_PROBE)
        self._database_down = False
        self._taking_hits_again()


def _read_spool(path: Path) -> list[RawHit]:
    hits = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            hits.append(RawHit.from_json(line))
        except (ValueError, KeyError, TypeError):
            # Only a write cut short by a crash ends like this, and that hit was never
            # acknowledged (acknowledgement waits for fsync).
            log.warning("skipping an incomplete spool line %s:%d", path.name, number)
    return hits


def _append_durably(path: Path, payload: bytes) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # A crash cut the last write short: start on a new line, or the next hit
            # would be glued to the torn one and lost with it.
            payload = b"\n" + payload
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
