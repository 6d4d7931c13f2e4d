"""Persistence of custom tracking domains, their certificates, the ACME account and the
HTTP-01 challenges being answered.

Hostnames are unique across all accounts (a hostname can point at one account only), so
``tracking_domain.hostname`` carries a global unique index. The ACME account and pending
challenges belong to the platform, not to a tenant: a challenge request arrives with
nothing but a Host header and a token.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from sendtrail.db.tenant import TenantOwned
from sendtrail.db.types import text_field, utc_field, utcnow

__all__ = ["AcmeAccountRow", "AcmeChallengeRow", "CertificateRow", "TrackingDomainRow"]




class TrackingDomainRow(SQLModel, TenantOwned, table=True):
    __tablename__ = "tracking_domain"
    __table_args__ = (
        Index("ux_tracking_domain_hostname", "hostname", unique=True),
        Index("ix_tracking_domain_due", "next_check_at"),
    )

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    hostname: str = Field(max_length=253)
    """ASCII (punycode) form: what DNS, ACME, TLS and Host headers use."""
    hostname_unicode: str = Field(max_length=253)
    purpose: str = Field(default="sales", max_length=16)
    business_unit: str | None = Field(default=None, max_length=100)
    status: str = Field(default="pending_dns", max_length=16)
    last_error: str | None = Field(default=None, max_length=1000)
    """Why the domain is not (or no longer) fully working, in words."""
    verification_token: str = Field(max_length=100)
    cname_target: str = Field(max_length=253)
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by: uuid.UUID | None = None
    verified_at: datetime | None = utc_field(default=None, nullable=True)
    last_checked_at: datetime | None = utc_field(default=None, nullable=True)
    next_check_at: datetime | None = utc_field(default=None, nullable=True)
    """When the worker looks at it next (DNS, issuance, renewal, re-verification)."""
    failures: int = 0
    """Consecutive failed issuance attempts (the per-hostname limit counts these)."""
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    certificate_expires_at: datetime | None = utc_field(default=None, nullable=True)
    renew_at: datetime | None = utc_field(default=None, nullable=True)


class CertificateRow(SQLModel, TenantOwned, table=True):
    """The certificate a domain serves (one per domain; a renewal replaces it)."""

    __tablename__ = "tracking_certificate"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    domain_id: uuid.UUID = Field(primary_key=True)
    hostname: str = Field(max_length=253)
    chain_pem: str = text_field()
    key_encrypted: str = text_field()
    """The private key, encrypted with SENDTRAIL_SECRET_KEYS (domains.secretbox)."""
    serial: str = Field(max_length=100)
    not_before: datetime = utc_field()
    not_after: datetime = utc_field()
    issued_at: datetime = utc_field(default_factory=utcnow)


class AcmeAccountRow(SQLModel, table=True):
    """The platform's one ACME account per directory URL."""

    __tablename__ = "acme_account"

    directory_url: str = Field(primary_key=True, max_length=500)
    key_encrypted: str = text_field()
    account_uri: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field(default_factory=utcnow)


class AcmeChallengeRow(SQLModel, table=True):
    """An HTTP-01 key authorization being served under /.well-known/acme-challenge/."""

    __tablename__ = "acme_challenge"

    token: str = Field(primary_key=True, max_length=200)
    hostname: str = Field(max_length=253)
    key_authorization: str = Field(max_length=500)
    expires_at: datetime = utc_field()
