"""``create_app(settings)``: the litestar application, wiring only."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException

from sendtrail.db.engine import Database
from sendtrail.db.statistics import analyze, keep_statistics
from sendtrail.db.types import utcnow
from sendtrail.domains.directory import DomainDirectory
from sendtrail.domains.worker import DomainWorker
from sendtrail.errors import RateLimited, SendtrailError
from sendtrail.node_locks import HeldLock, claim_spool_dir
from sendtrail.notifications.dispatcher import WebhookDispatcher
from sendtrail.notifications.fanout import PostgresFanout
from sendtrail.notifications.outbox import WebhookOutbox
from sendtrail.notifications.webhooks import forget_engagements
from sendtrail.records.services import RecordsConfig
from sendtrail.records.smtp import SmtpListener
from sendtrail.secretbox import secret_box
from sendtrail.sending.relay import RelayLimits, SubmissionRelay, tls_context
from sendtrail.sending.service import SendContext
from sendtrail.sending.worker import DeliveryWorker
from sendtrail.settings import Settings
from sendtrail.tracking.core.tokens import TokenKeys
from sendtrail.tracking.deriver import Deriver
from sendtrail.tracking.http import TrackingEndpoints
from sendtrail.tracking.ingest import Ingestor
from sendtrail.tracking.retention import run_retention
from sendtrail.tracking.signals import load_signals
from sendtrail.tracking.stream import (
    EngagementStream,
    EventSink,
    LocalFanout,
    LoopBoundSink,
)
from sendtrail.web.acme_routes import acme_challenge
from sendtrail.web.admin_ui import admin_ui_router
from sendtrail.web.auth_routes import session_info, sign_in, sign_out
from sendtrail.web.export_routes import export_emails, export_engagements
from sendtrail.web.graphql_endpoint import graphql_controller
from sendtrail.web.health import healthz, readyz
from sendtrail.web.invitation_routes import accept_invitation, show_invitation
from sendtrail.web.json_depth import JsonDepthGuard
from sendtrail.web.reader_language import reader_language
from sendtrail.web.records_routes import download_attachment, logged_email_html
from sendtrail.web.request_host import one_host_header
from sendtrail.web.tracking_routes import click, metrics, pixel
from sendtrail.web.withdrawal_routes import confirm_withdrawal, show_withdrawal

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("sendtrail.app")


def _sendtrail_error(_: Request[Any, Any, Any], error: SendtrailError) -> Response[Any]:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return Response(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.http_status,
        headers=headers,
        media_type=MediaType.JSON,
    )


def _http_error(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    # Litestar's own 4xx (bad JSON, missing fields, unknown route) in our error shape.
    return Response(
        {"error": {"code": "BAD_REQUEST" if error.status_code < 500 else "INTERNAL",
                   "message": error.detail}},
        status_code=error.status_code,
        headers=error.headers,
        media_type=MediaType.JSON,
    )


async def _start_delivery(
    app: Litestar, database: Database, settings: Settings, clock: Callable[[], datetime], *,
    sinks: tuple[EventSink, ...],
) -> DeliveryWorker:
    """Any node may deliver: copies are leased in the database (sending/worker.py); every
    node can wake its own worker after a submission."""
    delivery = DeliveryWorker(database, settings.sending, clock=clock,
                              box=secret_box(settings.secrets.keys), sinks=sinks)
    app.state.wake_delivery = delivery.wake
    if settings.sending.delivery_worker:
        await delivery.start()
    return delivery


async def _start_relay(
    settings: Settings, keys: TokenKeys, records: RecordsConfig, sinks: Sequence[EventSink],
    *, wake_delivery: Callable[[], None] | None, clock: Callable[[], datetime],
) -> SubmissionRelay | None:
    """The SMTP submission relay, started, when a port is set (R26). It runs on its own
    thread and loop: sinks and the delivery worker's wake-up cross back to this loop."""
    sending = settings.sending
    if not sending.submission_port:
        return None
    tls = None
    if sending.submission_tls_cert is not None and sending.submission_tls_key is not None:
        tls = tls_context(sending.submission_tls_cert, sending.submission_tls_key)
    loop = asyncio.get_running_loop()

    def wake() -> None:
        if wake_delivery is not None:
            loop.call_soon_threadsafe(wake_delivery)

    context = SendContext(
        keys=keys, default_tracking_base_url=settings.tracking.base_url, blobs=records.blobs,
        limits=records.limits, sends_per_hour=sending.sends_per_hour,
        max_recipients=sending.max_recipients,
        sinks=[LoopBoundSink(sink, loop) for sink in sinks],
        on_queued=wake,
    )
    relay = SubmissionRelay(
        database_url=settings.database.url, context=context,
        limits=RelayLimits(max_message_bytes=sending.max_message_bytes,
                           max_recipients=sending.max_recipients,
                           sends_per_hour=sending.sends_per_hour),
        host=sending.submission_host, port=sending.submission_port,
        server_name=sending.helo_name, tls=tls, clock=clock,
    )
    await asyncio.to_thread(relay.start)
    return relay


async def _start_logging_listener(
    settings: Settings, records: RecordsConfig, sinks: Sequence[EventSink]
) -> SmtpListener | None:
    """The inbound SMTP logging listener, started, when a port is set (R23)."""
    if not settings.smtp.port:
        return None
    smtp = SmtpListener(
        database_url=settings.database.url, blobs=records.blobs,
        logging_domain=settings.smtp.logging_domain, limits=records.limits,
        host=settings.http.host, port=settings.smtp.port,
        sinks=[LoopBoundSink(sink, asyncio.get_running_loop()) for sink in sinks],
    )
    await asyncio.to_thread(smtp.start)
    return smtp


async def _stop_on_thread(listener: SmtpListener | SubmissionRelay | None) -> None:
    """Stop an SMTP server that runs on its own thread (it joins that thread)."""
    if listener is not None:
        await asyncio.to_thread(listener.stop)


def _ingestion(
    database: Database, settings: Settings, sinks: Sequence[EventSink],
    clock: Callable[[], datetime], spool_dir: Path,
) -> Ingestor:
    """The two stages: the hot path's raw-hit writer and the deriver behind it."""
    tracking = settings.tracking
    signals = load_signals(settings.tracking.signals_dir)
    deriver = Deriver(database.engine, signals=signals, sinks=sinks,
                      batch=tracking.derive_batch, poll_seconds=tracking.derive_poll_seconds,
                      busy_share=tracking.derive_busy_share, clock=clock)
    return Ingestor(database.engine, spool_dir=spool_dir, deriver=deriver,
                    run_deriver=tracking.deriver,
                    answer_after_derivation=tracking.answer_after_derivation)


class _OnePerNode:
    """The SMTP listeners (logging, submission) of a node, run by whichever of its processes
    holds ``lock_path`` (sendtrail.node_locks); the others try every second and take over
    within about a second of its death.

    One process rather than SO_REUSEPORT in each: aiosmtpd's Controller proves it is up by
    connecting to its own port, and with the port shared that connection may reach another
    process's listener, so its start would time out; a shared port would also let a stray
    second server on the machine take half the connections instead of failing to bind.
    SMTP here is a trickle next to HTTP (and has its own thread and loop): one process
    serves it.
    """

    def __init__(
        self, lock_path: Path,
        start: Callable[[], Awaitable[list[SmtpListener | SubmissionRelay]]],
    ) -> None:
        self._lock_path, self._start = lock_path, start
        self._lock: HeldLock | None = None
        self._listeners: list[SmtpListener | SubmissionRelay] = []
        self._waiting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the listeners now if this process may; else keep trying in the background."""
        if not await self._try():
            self._waiting = asyncio.create_task(self._take_over(), name="smtp-take-over")

    async def _try(self) -> bool:
        lock = HeldLock.try_take(self._lock_path)
        if lock is None:
            return False
        try:
            self._listeners = await self._start()
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        return True

    async def _take_over(self) -> None:
        pause = 1.0
        while True:
            try:
                if await self._try():
                    return
            except Exception:  # e.g. another program holds the port: try again, less often
                log.exception("could not start the SMTP listeners; trying again in %.0f s",
                              pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)
                continue
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
            with suppress(asyncio.CancelledError):
                await self._waiting
        for listener in self._listeners:
            await _stop_on_thread(listener)
        if self._lock is not None:
            self._lock.release()


async def _start_smtp(
    settings: Settings, keys: TokenKeys, records: RecordsConfig, sinks: Sequence[EventSink],
    *, wake_delivery: Callable[[], None], clock: Callable[[], datetime],
) -> _OnePerNode:
    """The logging listener and the relay, in one process of the node (``_OnePerNode``)."""

    async def start() -> list[SmtpListener | SubmissionRelay]:
        smtp = await _start_logging_listener(settings, records, sinks)
        try:
            relay = await _start_relay(settings, keys, records, sinks,
                                       wake_delivery=wake_delivery, clock=clock)
        except BaseException:
            await _stop_on_thread(smtp)
            raise
        return [listener for listener in (relay, smtp) if listener is not None]

    ports = (settings.smtp.port, settings.sending.submission_port)
    listeners = _OnePerNode(settings.data_dir / f"smtp-{ports[0]}-{ports[1]}.lock", start)
    if any(ports):
        await listeners.start()
    return listeners


def _freeze_startup_objects(*, only_if: bool) -> None:
    """Everything built at start-up (schema, metadata, policies) lives as long as the process:
    out of the collector's sight (``gc.freeze``), a full collection no longer walks it, and
    the hot path loses the tens-of-milliseconds pauses that made its p99."""
    if not only_if:
        return
    gc.collect()
    gc.freeze()


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it, so that a pass cut short returns its
    connection before the pool is disposed (an app stopped within milliseconds leaked one
    otherwise)."""
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


def create_app(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow, freeze_gc: bool = False,
) -> Litestar:
    """The application. ``clock`` is the only time source of requests (tests move it).
    ``freeze_gc``: the process serves this one app (``sendtrail serve``), so what start-up
    builds may leave the collector's sight for good; a test process builds many apps and
    must not keep each one's objects forever."""
    keys = TokenKeys.derive(settings.secrets.keys)
    records = RecordsConfig.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = Database(settings.database.url)
        await analyze(database.engine)  # SQLite's planner statistics, before any writer starts
        stream = EngagementStream()
        # Several nodes share PostgreSQL: live events cross them by NOTIFY (embedded: local).
        fanout = (
            PostgresFanout(settings.database.url, stream)
            if database.dialect == "postgresql" else LocalFanout(stream)
        )
        dispatcher = WebhookDispatcher(database.engine, settings.notifications, clock=clock,
                                       box=secret_box(settings.secrets.keys))
        # The outbox always writes (any node may deliver); this one delivers if asked to.
        sinks = (fanout, WebhookOutbox(clock=clock, on_queued=dispatcher.wake))
        # Processes of one node (`serve --workers N`) share the data dir: a spool each.
        spool_dir, spool_lock = claim_spool_dir(settings.data_dir / "spool")
        ingestor = _ingestion(database, settings, sinks, clock, spool_dir)
        app.state.database = database
        app.state.stream = stream
        app.state.token_keys = keys
        app.state.clock = clock
        app.state.records = replace(records, sinks=sinks)  # logged replies notify too
        directory = DomainDirectory(database.engine,
                                    refresh_seconds=min(5.0, settings.domains.poll_seconds))
        await directory.start()
        app.state.tracking = TrackingEndpoints(
            keys=keys,
            ingestor=ingestor,
            trusted_proxies=settings.http.trusted_proxies,
            secure_cookies=settings.tracking.base_url.startswith("https:"),
            clock=clock,
            host_owner=directory.owner,
        )
        domain_worker = DomainWorker(database.engine, settings, clock=clock)
        # Every node writes certificates for its TLS front; workers also issue and renew.
        await domain_worker.start(process=settings.domains.worker)
        if isinstance(fanout, PostgresFanout):
            await fanout.start()
        await ingestor.start()
        if settings.notifications.webhook_dispatcher:
            await dispatcher.start()
        delivery = await _start_delivery(app, database, settings, clock, sinks=(fanout,))
        listeners = await _start_smtp(settings, keys, records, sinks,
                                      wake_delivery=delivery.wake, clock=clock)
        # Webhook messages about folded engagements go with them, as for an erasure (R17).
        retention = asyncio.create_task(run_retention(database.engine, clock=clock,
                                                      on_folded=forget_engagements))
        statistics = asyncio.create_task(keep_statistics(database.engine))
        _freeze_startup_objects(only_if=freeze_gc)
        try:
            yield
        finally:
            await _cancel(retention)
            await _cancel(statistics)
            await listeners.stop()
            await ingestor.stop()  # drains what this process has queued
            spool_lock.release()
            await dispatcher.stop()
            await delivery.stop()
            await domain_worker.stop()
            await directory.stop()
            if isinstance(fanout, PostgresFanout):
                await fanout.stop()
            await database.dispose()

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            sign_in,
            sign_out,
            session_info,
            show_invitation,
            accept_invitation,
            pixel,
            click,
            show_withdrawal,
            confirm_withdrawal,
            metrics,
            download_attachment,
            logged_email_html,
            export_emails,
            export_engagements,
            acme_challenge,
            graphql_controller(settings),
            admin_ui_router(),
        ],
        lifespan=[lifespan],
        # Every route, the tracking mounts included, sees exactly one Host (issue 12, defect 4),
        # and no decoder recurses into a hostile body (issue 12, defect 8).
        # Each request speaks its reader's language (issue 15, item 12), refusals included.
        middleware=[reader_language, one_host_header, JsonDepthGuard],
        exception_handlers={SendtrailError: _sendtrail_error, HTTPException: _http_error},
        debug=settings.http.debug,
        # Logging is configured by the process (uvicorn in `sendtrail serve`), not by a
        # background queue thread per app instance.
        logging_config=None,
    )
    app.state.settings = settings
    return app


def app_from_env() -> Litestar:
    """The application with settings read from the environment: the factory each process of
    ``sendtrail serve --workers N`` imports (``sendtrail.app:app_from_env``)."""
    return create_app(Settings.from_env(), freeze_gc=True)
