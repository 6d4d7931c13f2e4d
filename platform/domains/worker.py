"""The domain worker: verification, issuance, renewal and re-verification (R21).

Every ``sendtrail serve`` node may run it: due domains are claimed with a lease, so two
nodes never work on the same domain at once, and a node that dies leaves a lease that
expires. Every node also writes the certificates of usable domains into its certificate
directory (one ``<hostname>.pem`` holding chain and key, replaced atomically), which the
TLS front loads by SNI — a renewal is picked up by the next handshake, without a reload.

Lifecycle: PENDING_DNS →(CNAME + TXT + CAA pass)→ VERIFIED → ISSUING → ACTIVE
→(two thirds of the lifetime)→ RENEWING → ACTIVE. An ACTIVE domain is re-verified every
``recheck_seconds``; if DNS no longer points to us it becomes DNS_CHANGED (not used for
new emails) until fixed. Issuance failures are retried with backoff; after
``MAX_FAILURES_PER_HOSTNAME`` consecutive ones a first issuance is FAILED (the admin
retries with ``verifyTrackingDomain``); a failed renewal keeps the current certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from sendtrail.db.engine import create_sync_engine
from sendtrail.db.types import utcnow
from sendtrail.domains import challenges
from sendtrail.domains import findings as say
from sendtrail.domains.acme_issuer import AcmeIssuer, IssuedCertificate, new_account_key
from sendtrail.domains.acme_problems import AcmeFailure
from sendtrail.domains.acme_schedule import (
    MAX_FAILURES_PER_HOSTNAME,
    renewal_time,
    retry_delay,
)
from sendtrail.domains.service import USABLE, Status, apply_check, check_dns, clip
from sendtrail.domains.store import AcmeAccountRow, CertificateRow, TrackingDomainRow
from sendtrail.secretbox import SecretBox
from sendtrail.settings import Settings

__all__ = ["DomainWorker", "cert_dir_of"]

log = logging.getLogger(__name__)

DOMAINS = TrackingDomainRow.__table__  # type: ignore[attr-defined]
CERTIFICATES = CertificateRow.__table__  # type: ignore[attr-defined]
ACCOUNTS = AcmeAccountRow.__table__  # type: ignore[attr-defined]
LEASE = timedelta(minutes=10)
CLAIM_BATCH = 5
ROTATION_CHECK_SECONDS = 600.0
KEY_CONTEXT = b"tracking certificate key:"
ACCOUNT_KEY_CONTEXT = b"acme account key"


def cert_dir_of(settings: Settings) -> Path:
    return settings.domains.cert_dir or settings.data_dir / "certs"


class DomainWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrets)
        self._box = SecretBox(settings.secrets.keys)
        self._sync_engine = create_sync_engine(settings.database.url)
        self._cert_dir = cert_dir_of(settings)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._rotated_at = float("-inf")

    # -- running ---------------------------------------------------------------------------

    async def start(self, *, process: bool = True) -> None:
        """Sync certificates now and keep doing so; with ``process``, also do due work."""
        try:
            await self.sync_certificates()
        except Exception:  # the API serves even when certificates cannot be written now
            log.exception("could not write the tracking domains' certificates at start")
        self._task = asyncio.create_task(self._run_forever(process), name="sendtrail-domain")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._sync_engine.dispose()

    def wake(self) -> None:
        self._wake.set()

    async def _run_forever(self, process: bool) -> None:
        while True:
            try:
                if process:
                    await self.run_once(self._clock())
                    if time.monotonic() - self._rotated_at > ROTATION_CHECK_SECONDS:
                        self._rotated_at = time.monotonic()
                        await self.rotate_keys()
                await self.sync_certificates()
            except Exception:
                log.exception("the domain worker failed a round; it tries again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.domains.poll_seconds)
            self._wake.clear()

    async def run_once(self, now: datetime) -> int:
        """Work on what is due at ``now``; return how many domains were handled.

        Domains are claimed one at a time, right before being worked on, so a lease never
        runs out while an earlier domain of the same round is still being issued.
        """
        handled = 0
        for _ in range(CLAIM_BATCH):
            claimed = await self._claim(now, lease_from=self._clock())
            if claimed is None:
                break
            account_id, domain_id = claimed
            try:
                await self._handle(account_id, domain_id, now)
            except Exception:
                log.exception("domain %s: unexpected failure", domain_id)
                await self._release(account_id, domain_id, now + timedelta(minutes=5),
                                    "An internal error interrupted this step; it is retried.")
            handled += 1
        return handled

    async def _claim(self, now: datetime, *, lease_from: datetime
                     ) -> tuple[uuid.UUID, uuid.UUID] | None:
        due = and_(DOMAINS.c.next_check_at <= now,
                   or_(DOMAINS.c.lease_until.is_(None), DOMAINS.c.lease_until < lease_from))
        async with self._engine.begin() as conn:
            query = select(DOMAINS.c.account_id, DOMAINS.c.id).where(due) \
                .order_by(DOMAINS.c.next_check_at).limit(1)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            taken = await conn.execute(update(DOMAINS).where(
                DOMAINS.c.account_id == row.account_id, DOMAINS.c.id == row.id, due,
            ).values(lease_until=lease_from + LEASE))
            if taken.rowcount != 1:  # another node was quicker (SQLite has no SKIP LOCKED)
                return None
        return row.account_id, row.id

    async def _release(self, account_id: uuid.UUID, domain_id: uuid.UUID,
                       next_check_at: datetime, error: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(DOMAINS).where(
                DOMAINS.c.account_id == account_id, DOMAINS.c.id == domain_id,
            ).values(lease_until=None, next_check_at=next_check_at, last_error=error))

    # -- one domain ------------------------------------------------------------------------

    async def _load(self, account_id: uuid.UUID, domain_id: uuid.UUID) -> TrackingDomainRow | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(DOMAINS).where(
                DOMAINS.c.account_id == account_id, DOMAINS.c.id == domain_id))).first()
        return TrackingDomainRow.model_validate(row._mapping) if row is not None else None

    async def _save(self, domain: TrackingDomainRow, **extra: Any) -> None:
        values = {
            name: getattr(domain, name) for name in (
                "status", "last_error", "verified_at", "last_checked_at", "next_check_at",
                "failures", "certificate_expires_at", "renew_at",
            )
        }
        async with self._engine.begin() as conn:
            await conn.execute(update(DOMAINS).where(
                DOMAINS.c.account_id == domain.account_id, DOMAINS.c.id == domain.id,
            ).values({**values, "lease_until": None, **extra}))

    async def _handle(self, account_id: uuid.UUID, domain_id: uuid.UUID, now: datetime) -> None:
        domain = await self._load(account_id, domain_id)
        if domain is None:
            return  # removed meanwhile
        expires = domain.certificate_expires_at
        if domain.status in USABLE and expires is not None and expires <= now:
            domain.status = Status.FAILED
            domain.last_error = clip(
                say.CERTIFICATE_EXPIRED.format(previous=domain.last_error or ""))
            domain.next_check_at = None
        elif domain.status == Status.FAILED:
            domain.next_check_at = None
        elif domain.status in (Status.VERIFIED, Status.ISSUING):
            await self._issue(domain, now)
        else:
            # PENDING_DNS, DNS_CHANGED, ACTIVE, RENEWING: DNS first; renew only if it holds.
            apply_check(domain, await check_dns(domain, self._settings), now=now,
                        recheck_seconds=self._settings.domains.recheck_seconds)
            renew_due = domain.renew_at is not None and domain.renew_at <= now
            if domain.status in USABLE and renew_due:
                domain.status = Status.RENEWING
                await self._issue(domain, now)
        await self._save(domain)
        if domain.status == Status.ACTIVE:
            # After the save: other nodes (and this one) write what the database says.
            await self.sync_certificates()

    async def _issue(self, domain: TrackingDomainRow, now: datetime) -> None:
        renewing = domain.status == Status.RENEWING
        if not renewing:
            domain.status = Status.ISSUING
            await self._save(domain, lease_until=now + LEASE)
        try:
            issued = await asyncio.to_thread(self._issue_blocking, domain.hostname)
        except AcmeFailure as failure:
            self._failed(domain, failure, now, renewing=renewing)
            return
        await self._store_certificate(domain, issued)
        domain.status, domain.failures, domain.last_error = Status.ACTIVE, 0, None
        domain.certificate_expires_at = issued.not_after
        domain.renew_at = renewal_time(issued.not_before, issued.not_after)
        recheck = self._clock() + timedelta(seconds=self._settings.domains.recheck_seconds)
        domain.next_check_at = min(recheck, domain.renew_at)

    def _failed(self, domain: TrackingDomainRow, failure: AcmeFailure, now: datetime, *,
                renewing: bool) -> None:
        if failure.platform_problem:
            # Our CA connection or account is at fault, not the customer's hostname: the
            # operator is told in the log; the hostname's failure count is left alone.
            log.error("ACME trouble while issuing for %s: %s", domain.hostname, failure.reason)
            domain.last_error = clip(say.ON_OUR_SIDE.format(reason=failure.reason))
            domain.next_check_at = now + retry_delay(max(domain.failures, 1) + 2, self._rng)
            return
        domain.failures += 1
        if renewing:
            # The current certificate keeps serving; keep trying while it is valid, at
            # least a few times before it expires however short-lived it is.
            log.warning("renewing the certificate of %s failed: %s", domain.hostname,
                        failure.reason)
            domain.last_error = clip(say.RENEWING_FAILED.format(reason=failure.reason))
            delay = retry_delay(domain.failures, self._rng)
            expires = domain.certificate_expires_at
            if expires is not None and expires > now:
                delay = min(delay, (expires - now) / 3)
            domain.next_check_at = now + delay
            return
        if not failure.retryable or domain.failures >= MAX_FAILURES_PER_HOSTNAME:
            domain.status = Status.FAILED
            domain.last_error = clip(say.ISSUING_FAILED.format(reason=failure.reason))
            domain.next_check_at = None
            return
        domain.status = Status.ISSUING
        delay = retry_delay(domain.failures, self._rng)
        domain.last_error = clip(say.ISSUING_RETRIED.format(reason=failure.reason,
                                                            delay=_minutes(delay)))
        domain.next_check_at = now + delay

    # -- ACME (blocking, in a worker thread) ------------------------------------------------

    def _issue_blocking(self, hostname: str) -> IssuedCertificate:
        settings = self._settings
        directory = settings.acme_directory_url
        with self._sync_engine.begin() as conn:
            account = conn.execute(select(ACCOUNTS).where(
                ACCOUNTS.c.directory_url == directory)).first()
        if account is not None:
            key_pem = self._box.decrypt(account.key_encrypted,
                                        context=ACCOUNT_KEY_CONTEXT).decode()
            if self._box.needs_rotation(account.key_encrypted):  # a newer secret key is first
                self._remember_account(directory, key_pem, account.account_uri)
        else:
            key_pem = new_account_key()
        issuer = AcmeIssuer(directory, key_pem, ca_bundle=settings.acme_ca_bundle,
                            account_uri=account.account_uri if account is not None else None)
        try:
            if account is None:  # one platform account per CA, made on first use
                self._remember_account(directory, key_pem, issuer.register())
            issued = issuer.issue(
                hostname,
                publish=lambda token, answer: challenges.publish(
                    self._sync_engine, token=token, hostname=hostname,
                    key_authorization=answer, now=utcnow()),
                unpublish=lambda token: challenges.unpublish(self._sync_engine, token=token),
            )
            if account is not None and issuer.account_uri != account.account_uri:
                self._remember_account(directory, key_pem, issuer.account_uri)
            return issued
        finally:
            issuer.close()

    def _remember_account(self, directory: str, key_pem: str, uri: str | None) -> None:
        encrypted = self._box.encrypt(key_pem.encode(), context=ACCOUNT_KEY_CONTEXT)
        with self._sync_engine.begin() as conn:
            conn.execute(ACCOUNTS.delete().where(ACCOUNTS.c.directory_url == directory))
            conn.execute(ACCOUNTS.insert().values(
                directory_url=directory, key_encrypted=encrypted, account_uri=uri,
                created_at=utcnow()))

    async def _store_certificate(self, domain: TrackingDomainRow,
                                 issued: IssuedCertificate) -> None:
        values = dict(
            hostname=domain.hostname, chain_pem=issued.chain_pem,
            # Bound to the hostname: a key copied to another domain's row does not decrypt.
            key_encrypted=self._box.encrypt(issued.key_pem.encode(),
                                            context=KEY_CONTEXT + domain.hostname.encode()),
            serial=issued.serial, not_before=issued.not_before, not_after=issued.not_after,
            issued_at=self._clock(),
        )
        async with self._engine.begin() as conn:
            still_there = (await conn.execute(select(DOMAINS.c.id).where(
                DOMAINS.c.account_id == domain.account_id, DOMAINS.c.id == domain.id,
            ))).first()
            if still_there is None:  # removed while the CA was working: keep nothing
                return
            await conn.execute(CERTIFICATES.delete().where(
                CERTIFICATES.c.account_id == domain.account_id,
                CERTIFICATES.c.domain_id == domain.id))
            await conn.execute(CERTIFICATES.insert().values(
                account_id=domain.account_id, domain_id=domain.id, **values))

    # -- serving ---------------------------------------------------------------------------

    async def rotate_keys(self) -> int:
        """Re-encrypt certificate keys made under an older secret key (after a rotation in
        SENDTRAIL_SECRET_KEYS), so the old secret can be retired; returns how many."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(
                CERTIFICATES.c.account_id, CERTIFICATES.c.domain_id, CERTIFICATES.c.hostname,
                CERTIFICATES.c.key_encrypted))).all()
        rotated = 0
        for row in rows:
            if not self._box.needs_rotation(row.key_encrypted):
                continue
            context = KEY_CONTEXT + row.hostname.encode()
            try:
                fresh = self._box.rotate(row.key_encrypted, context=context)
            except Exception:
                log.exception("could not re-encrypt the certificate key of %s", row.hostname)
                continue
            async with self._engine.begin() as conn:
                await conn.execute(update(CERTIFICATES).where(
                    CERTIFICATES.c.account_id == row.account_id,
                    CERTIFICATES.c.domain_id == row.domain_id,
                    CERTIFICATES.c.key_encrypted == row.key_encrypted,
                ).values(key_encrypted=fresh))
            rotated += 1
        return rotated

    async def sync_certificates(self) -> None:
        """Write usable domains' certificates for the TLS front; remove the others."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(
                select(CERTIFICATES.c.hostname, CERTIFICATES.c.serial,
                       CERTIFICATES.c.chain_pem, CERTIFICATES.c.key_encrypted)
                .join(DOMAINS, and_(DOMAINS.c.account_id == CERTIFICATES.c.account_id,
                                    DOMAINS.c.id == CERTIFICATES.c.domain_id))
                .where(DOMAINS.c.status.in_([*USABLE, Status.DNS_CHANGED]))
            )).all()
        await asyncio.to_thread(self._write_certificates, rows)

    def _write_certificates(self, rows: Sequence[Any]) -> None:
        directory = self._cert_dir
        group = self._settings.domains.cert_group
        directory.mkdir(parents=True, exist_ok=True, mode=0o750 if group else 0o700)
        if group:  # the TLS front's workers (another user) read the files through the group
            shutil.chown(directory, group=group)
            directory.chmod(0o750)
        file_mode = 0o640 if group else 0o600
        wanted = set()
        for row in rows:
            wanted.add(f"{row.hostname}.pem")
            try:
                self._write_certificate(directory, row, file_mode, group)
            except Exception:  # e.g. encrypted with a key no longer configured
                log.exception("could not write the certificate of %s", row.hostname)
        # Only files Sendtrail wrote (they have a .serial beside them) are ever removed.
        for serial_file in directory.glob("*.serial"):
            pem = serial_file.with_suffix(".pem")
            if pem.name not in wanted:
                pem.unlink(missing_ok=True)
                serial_file.unlink(missing_ok=True)

    def _write_certificate(self, directory: Path, row: Any, file_mode: int,
                           group: str | None) -> None:
        pem_file = directory / f"{row.hostname}.pem"
        serial_file = directory / f"{row.hostname}.serial"
        if pem_file.exists() and serial_file.exists() and serial_file.read_text() == row.serial:
            return
        key_pem = self._box.decrypt(row.key_encrypted,
                                    context=KEY_CONTEXT + row.hostname.encode()).decode()
        _replace(pem_file, row.chain_pem.rstrip("\n") + "\n" + key_pem, mode=file_mode,
                 group=group)
        _replace(serial_file, row.serial, mode=file_mode, group=group)


def _replace(path: Path, content: str, *, mode: int, group: str | None = None) -> None:
    """Write ``path`` atomically: a reader sees the old file or the new one, never half."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    os.chmod(temporary, mode)
    if group:
        shutil.chown(temporary, group=group)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _minutes(delay: timedelta) -> str:
    minutes = max(1, round(delay.total_seconds() / 60))
    if minutes >= 120:
        return say.HOURS[1].format(count=round(minutes / 60))
    return say.MINUTES[0 if minutes == 1 else 1].format(count=minutes)
