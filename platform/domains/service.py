"""Custom tracking domains, as admins manage them (R20, R21): add, list, verify, remove.

The lifecycle itself (DNS checks, issuance, renewal, re-verification) runs in
``domains.worker``; this module records what admins ask for and what they are shown:
the DNS records to create, the status and the reason behind it.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.tenant import unscoped
from sendtrail.domains.dns_check import DnsConfig, verify_domain
from sendtrail.domains.hostnames import (
    parse_hostname,
    verification_record_name,
    verification_token,
)
from sendtrail.domains.store import CertificateRow, TrackingDomainRow
from sendtrail.errors import Conflict, EntitlementRequired, InvalidInput, NotFound
from sendtrail.i18n import N_, _
from sendtrail.settings import Settings
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.permissions import refuse_lasting_grant
from sendtrail.tenancy.store import AccountRow
from sendtrail.tenancy.values import Principal

__all__ = [
    "DnsRecord",
    "Status",
    "add_domain",
    "apply_check",
    "cname_target_for",
    "dns_config",
    "dns_records",
    "get_domain",
    "in_use",
    "list_domains",
    "remove_domain",
    "tracking_base_url_for",
    "verify_now",
]

MAX_DOMAINS_PER_ACCOUNT = 20
SHARDS = 16


class Status:
    """Where a domain is in its lifecycle (stored lower-case, shown upper-case)."""

    PENDING_DNS = "pending_dns"
    """Waiting for the CNAME and TXT records (checked again every few minutes)."""
    VERIFIED = "verified"
    """DNS is right; a certificate is about to be requested."""
    ISSUING = "issuing"
    """A certificate is being requested (or retried after a failure)."""
    ACTIVE = "active"
    """Serving with a certificate; new emails of the account use it."""
    RENEWING = "renewing"
    """Active, with the certificate being renewed (the current one keeps serving)."""
    DNS_CHANGED = "dns_changed"
    """Was active, but DNS no longer points to us: not used for new emails until fixed."""
    FAILED = "failed"
    """Gave up (e.g. the CA refused repeatedly); ``verifyTrackingDomain`` tries again."""


USABLE = (Status.ACTIVE, Status.RENEWING)


def in_use(row: TrackingDomainRow, now: datetime) -> bool:
    """Whether new emails use it: usable, with a certificate that has not expired."""
    return row.status in USABLE and row.certificate_expires_at is not None \
        and row.certificate_expires_at > now


@dataclass(frozen=True)
class DnsRecord:
    type: str
    name: str
    value: str
    purpose: str


def cname_target_for(account: AccountRow, default_domain: str) -> str:
    """The account's tracking host, ``<shard>.<region>.<default domain>`` (R20)."""
    shard = int(account.id.hex[:8], 16) % SHARDS
    return f"t{shard}.{account.region}.{default_domain}".lower()


def dns_records(row: TrackingDomainRow) -> list[DnsRecord]:
    return [
        DnsRecord("CNAME", row.hostname, row.cname_target,
                  _("Sends tracked links and pixels on this hostname to Sendtrail.")),
        DnsRecord("TXT", verification_record_name(row.hostname), row.verification_token,
                  _("Proves that you control this hostname.")),
    ]


def dns_config(settings: Settings) -> DnsConfig:
    return DnsConfig(nameservers=settings.dns_nameservers)


def _platform_domains(settings: Settings) -> list[str]:
    """Every domain the platform itself answers on (issue 12, defect 7)."""
    hosts = [settings.tracking.default_domain, settings.smtp.logging_domain]
    for url in (settings.http.public_url, settings.tracking.base_url):
        host = urlsplit(url).hostname
        if host:
            hosts.append(host)
    return hosts


async def list_domains(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> list[TrackingDomainRow]:
    authorizer().require(actor, account_id, AuthzObject.DOMAINS, AuthzAction.READ)
    rows = await session.exec(select(TrackingDomainRow).where(
        TrackingDomainRow.account_id == account_id
    ).order_by(col(TrackingDomainRow.created_at), col(TrackingDomainRow.id)))
    return list(rows.all())


async def get_domain(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, domain_id: uuid.UUID
) -> TrackingDomainRow:
    authorizer().require(actor, account_id, AuthzObject.DOMAINS, AuthzAction.READ)
    row = await session.get(TrackingDomainRow, (account_id, domain_id))
    if row is None:
        raise NotFound(_("No tracking domain with this id in your account."))
    return row


async def add_domain(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    hostname: str,
    purpose: str,
    business_unit: str | None,
    settings: Settings,
    now: datetime,
) -> TrackingDomainRow:
    """Add a hostname (R21); it waits for its DNS records (PENDING_DNS)."""
    authorizer().require(actor, account_id, AuthzObject.DOMAINS, AuthzAction.WRITE)
    refuse_lasting_grant(actor, what=N_("add a tracking domain, which new emails' links use"))
    parsed = parse_hostname(hostname, platform_domains=_platform_domains(settings))
    account = await session.get(AccountRow, account_id)
    if account is None:
        raise NotFound(_("Your account no longer exists."))
    unit = (business_unit or "").strip() or None
    if purpose == "marketing":
        if not account.business_units:
            raise EntitlementRequired(_(
                "Marketing link domains are set per business unit, which needs the "
                "business-units add-on. Sales & service domains need no add-on."
            ))
        if unit is None:
            raise InvalidInput(_("Say which business unit this marketing domain is for."))
        if len(unit) > 100 or not unit.isprintable():
            raise InvalidInput(_("Business unit names are at most 100 printable characters."))
    elif unit is not None:
        raise InvalidInput(_("Only marketing domains belong to a business unit; leave it out."))
    taken = (await session.exec(unscoped(select(TrackingDomainRow).where(
        TrackingDomainRow.hostname == parsed.ascii
    )))).first()
    if taken is not None:
        raise Conflict(
            _("{hostname} is already added to your account.")
            .format(hostname=parsed.unicode)
            if taken.account_id == account_id else
            _("{hostname} is already in use by another Sendtrail account. If it is "
              "yours, ask them to remove it, or contact support.")
            .format(hostname=parsed.unicode)
        )
    count = len(await list_domains(session, actor, account_id))
    if count >= MAX_DOMAINS_PER_ACCOUNT:
        raise InvalidInput(_("An account can have at most {limit} tracking "
                             "domains; remove one you no longer use.").format(
            limit=MAX_DOMAINS_PER_ACCOUNT))
    row = TrackingDomainRow(
        account_id=account_id, hostname=parsed.ascii, hostname_unicode=parsed.unicode,
        purpose=purpose, business_unit=unit, status=Status.PENDING_DNS,
        last_error=N_("Waiting for the DNS records below to be created."),  # stored: English
        verification_token=verification_token(),
        cname_target=cname_target_for(account, settings.tracking.default_domain),
        created_at=now, created_by=actor.user_id, next_check_at=now,
    )
    session.add(row)
    audit.record(session, actor, account_id, action="tracking_domain.added",
                 target=parsed.ascii, after={"purpose": purpose, "businessUnit": unit})
    try:
        await session.commit()
    except IntegrityError:  # added by someone else at the same moment
        await session.rollback()
        raise Conflict(_("{hostname} was just added by another account or admin.").format(
            hostname=parsed.unicode)) from None
    await session.refresh(row)
    return row


MAX_REASON = 1000
"""``tracking_domain.last_error`` holds this many characters."""
DNS_CHECK_TIMEOUT = 30.0
"""A whole verification (CNAME, TXT, CAA climbing) never takes longer than this."""


def clip(reason: str | None) -> str | None:
    if reason is None or len(reason) <= MAX_REASON:
        return reason
    return reason[: MAX_REASON - 1] + "\u2026"


@dataclass(frozen=True)
class DnsVerdict:
    ok: bool
    reason: str
    temporary: bool
    """Our lookup failed (timeout, SERVFAIL): nothing is known about the records."""


async def check_dns(row: TrackingDomainRow, settings: Settings) -> DnsVerdict:
    """Verify the domain's records, within ``DNS_CHECK_TIMEOUT`` whatever DNS does."""
    try:
        async with asyncio.timeout(DNS_CHECK_TIMEOUT):
            check = await verify_domain(
                row.hostname, expected_target=row.cname_target, token=row.verification_token,
                ca_identifiers=settings.domains.caa_identifiers, config=dns_config(settings),
            )
    except TimeoutError:
        return DnsVerdict(False, f"The DNS servers for {row.hostname} took too long to "
                          "answer; Sendtrail checks again in a few minutes.", temporary=True)
    reason = " ".join(finding.reason for finding in check.findings if not finding.ok)
    return DnsVerdict(check.ok, reason, temporary=not check.ok and check.retryable)


def apply_check(row: TrackingDomainRow, verdict: DnsVerdict, *, now: datetime,
                recheck_seconds: float) -> None:
    """Move a domain on after a DNS check (shared by the worker and ``verify_now``)."""
    row.last_checked_at = now
    recheck = now + timedelta(seconds=recheck_seconds)
    if verdict.ok:
        if row.status in (Status.PENDING_DNS, Status.FAILED):
            row.status, row.verified_at, row.failures = Status.VERIFIED, now, 0
            row.last_error = None
            row.next_check_at = now  # issue right away
            return
        if row.status == Status.DNS_CHANGED:
            row.status = Status.ACTIVE
        if row.status == Status.ACTIVE:
            row.last_error = None
        row.next_check_at = min(recheck, row.renew_at) if row.renew_at else recheck
        return
    soon = now + timedelta(seconds=min(recheck_seconds, 300))
    if row.status in USABLE and verdict.temporary:
        # A resolver blip says nothing about the customer's records: keep serving.
        row.last_error = clip(f"The last DNS check could not finish: {verdict.reason}")
        row.next_check_at = soon
        return
    if row.status in USABLE:
        row.status = Status.DNS_CHANGED
        row.last_error = clip(f"{verdict.reason} New emails use the default tracking host "
                              "until this is fixed; links already sent keep working while "
                              "the certificate lasts.")
    else:
        row.last_error = clip(verdict.reason)
    row.next_check_at = soon


async def verify_now(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    domain_id: uuid.UUID,
    *,
    settings: Settings,
    now: datetime,
) -> TrackingDomainRow:
    """Check DNS right away (the admin just created the records); FAILED domains retry."""
    authorizer().require(actor, account_id, AuthzObject.DOMAINS, AuthzAction.WRITE)
    row = await get_domain(session, actor, account_id, domain_id)
    await session.commit()  # no transaction stays open while DNS answers
    verdict = await check_dns(row, settings)
    apply_check(row, verdict, now=now, recheck_seconds=settings.domains.recheck_seconds)
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return row


async def remove_domain(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, domain_id: uuid.UUID
) -> None:
    """Remove a domain and its certificate (audited); emails already sent with it stop
    being tracked once DNS no longer points here."""
    authorizer().require(actor, account_id, AuthzObject.DOMAINS, AuthzAction.WRITE)
    row = await get_domain(session, actor, account_id, domain_id)
    certificate = await session.get(CertificateRow, (account_id, domain_id))
    if certificate is not None:
        await session.delete(certificate)
    audit.record(session, actor, account_id, action="tracking_domain.removed",
                 target=row.hostname, before={"status": row.status.upper()})
    await session.delete(row)
    await session.commit()


async def tracking_base_url_for(
    session: AsyncSession, account_id: uuid.UUID, *, email_kind: str, default: str,
    now: datetime,
) -> str:
    """Where new emails' links and pixels point (R20, R21): the account's active domain for
    the email's kind (marketing emails: a marketing domain), else ``default``."""
    purpose = "marketing" if email_kind == "marketing" else "sales"
    row = (await session.exec(select(TrackingDomainRow).where(
        TrackingDomainRow.account_id == account_id, TrackingDomainRow.purpose == purpose,
        col(TrackingDomainRow.status).in_(USABLE),
        col(TrackingDomainRow.certificate_expires_at) > now,
    ).order_by(col(TrackingDomainRow.created_at)))).first()
    return f"https://{row.hostname}" if row is not None else default
