"""Custom tracking domains over GraphQL (R21): thin resolvers over ``domains.service``."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from sendtrail.domains import findings, service
from sendtrail.domains.store import TrackingDomainRow
from sendtrail.graphql.context import ctx
from sendtrail.tenancy.users import parse_id

__all__ = ["DomainMutation", "DomainQuery", "TrackingDomain"]


@strawberry.enum(description="Sales & service links, or marketing links of a business unit.")
class DomainPurpose(enum.Enum):
    SALES = "sales"
    MARKETING = "marketing"


@strawberry.type(description="A DNS record to create at the hostname's DNS provider.")
class DnsRecord:
    type: str
    name: str
    value: str
    purpose: str = strawberry.field(description="What the record is for, in words.")


@strawberry.type
class TrackingDomain:
    id: strawberry.ID
    hostname: str = strawberry.field(description="As DNS has it (punycode for IDNs).")
    hostname_unicode: str = strawberry.field(description="As people read it.")
    purpose: DomainPurpose
    business_unit: str | None
    status: str = strawberry.field(description=(
        "PENDING_DNS, VERIFIED, ISSUING, ACTIVE, RENEWING, DNS_CHANGED or FAILED; "
        "lastError says why it is not (or no longer) ACTIVE."))
    dns_records: list[DnsRecord]
    last_error: str | None
    verified_at: datetime | None
    last_checked_at: datetime | None
    certificate_expires_at: datetime | None
    renew_at: datetime | None = strawberry.field(
        description="When the certificate is renewed (two thirds into its lifetime).")
    in_use: bool = strawberry.field(description="Whether new emails use it now (R21).")
    created_at: datetime

    @classmethod
    def from_row(cls, row: TrackingDomainRow, now: datetime) -> TrackingDomain:
        return cls(
            id=strawberry.ID(str(row.id)), hostname=row.hostname,
            hostname_unicode=row.hostname_unicode, purpose=DomainPurpose(row.purpose),
            business_unit=row.business_unit, status=row.status.upper(),
            dns_records=[DnsRecord(type=r.type, name=r.name, value=r.value, purpose=r.purpose)
                         for r in service.dns_records(row)],
            last_error=findings.explain(row.last_error), verified_at=row.verified_at,
            last_checked_at=row.last_checked_at,
            certificate_expires_at=row.certificate_expires_at, renew_at=row.renew_at,
            in_use=service.in_use(row, now), created_at=row.created_at,
        )


@strawberry.input
class AddTrackingDomainInput:
    hostname: str
    purpose: DomainPurpose = DomainPurpose.SALES
    business_unit: str | None = None


@strawberry.type
class DomainQuery:
    @strawberry.field(description="The account's custom tracking domains (R21).")
    async def tracking_domains(self, info: Info) -> list[TrackingDomain]:
        context = ctx(info)
        account_id = await context.account_id(info)
        async with context.db() as session:
            rows = await service.list_domains(session, await context.actor(info), account_id)
        return [TrackingDomain.from_row(row, context.now()) for row in rows]


@strawberry.type
class DomainMutation:
    @strawberry.mutation(description="Add a hostname; the answer lists the DNS records to "
                         "create (R21).")
    async def add_tracking_domain(self, info: Info, input: AddTrackingDomainInput
                                  ) -> TrackingDomain:
        context = ctx(info)
        actor = await context.actor(info)
        async with context.db() as session:
            row = await service.add_domain(
                session, actor, await context.account_id(info), hostname=input.hostname,
                purpose=input.purpose.value, business_unit=input.business_unit,
                settings=context.settings, now=context.now(),
            )
        return TrackingDomain.from_row(row, context.now())

    @strawberry.mutation(description="Check the DNS records now (and retry a FAILED domain).")
    async def verify_tracking_domain(self, info: Info, id: strawberry.ID) -> TrackingDomain:
        context = ctx(info)
        actor = await context.actor(info)
        async with context.db() as session:
            row = await service.verify_now(
                session, actor, await context.account_id(info), parse_id(id, "tracking domain"),
                settings=context.settings, now=context.now(),
            )
        return TrackingDomain.from_row(row, context.now())

    @strawberry.mutation(description="Remove a tracking domain and its certificate (audited).")
    async def remove_tracking_domain(self, info: Info, id: strawberry.ID) -> bool:
        context = ctx(info)
        actor = await context.actor(info)
        async with context.db() as session:
            await service.remove_domain(session, actor, await context.account_id(info),
                                        parse_id(id, "tracking domain"))
        return True
