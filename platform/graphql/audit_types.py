"""The audit log in GraphQL: entries as sentences, support visits with their reads, the
actor filter's choices (issue 15, defect 5). The stored fields (``actor``, ``action``,
``target``, ``before``, ``after``) stay as they were for integrators; the sentences and names
are in the reader's language (issue 15, item 12)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.scalars import JSON

from sendtrail.db.pagination import Page
from sendtrail.graphql.types import Edge, PageInfo
from sendtrail.i18n import _
from sendtrail.records.audit_lookup import audit_names
from sendtrail.tenancy.audit_log import AuditLogEntry
from sendtrail.tenancy.audit_wording import (
    ActorKind,
    AuditKind,
    Names,
    ReadRefs,
    actor_details,
    describe,
    describe_read,
    describe_visit,
    kind_of,
    refs_of,
    spoken_name,
    things_read,
)
from sendtrail.tenancy.store import AuditEntryRow

__all__ = ["AuditActor", "AuditEntry", "AuditEntryConnection", "AuditKindEnum", "AuditLogFilter",
           "AuditRead",
           "audit_actors", "audit_connection"]

AuditKindEnum = strawberry.enum(
    AuditKind, name="AuditKind",
    description="What an audit entry is about; OTHER: an action this version has no words for.")
AuditActorKindEnum = strawberry.enum(
    ActorKind, name="AuditActorKind",
    description="USER of the account, SUPPORT staff, or SYSTEM (the command line, a worker).")


@strawberry.input(description="Which audit entries to list; every field narrows the list.")
class AuditLogFilter:
    actor: str | None = strawberry.field(default=None, description="An `AuditActor.label` "
                                         "from `auditActors`; their API tokens' entries too.")
    kind: AuditKindEnum | None = None  # type: ignore[valid-type]
    since: datetime | None = strawberry.field(default=None, description="Inclusive.")
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.type(description="Who made an audit entry, by name.")
class AuditActor:
    label: str = strawberry.field(description="As stored in `AuditEntry.actor` (an API token's "
                                  "suffix left out): pass it as `auditLog(actor:)`.")
    name: str = strawberry.field(description="How sentences name them: 'Ada Admin', "
                                 "'Support staff (sam@…)'.")
    email: str | None
    kind: AuditActorKindEnum  # type: ignore[valid-type]
    via_token: bool


@strawberry.type(description="One read of a support visit.")
class AuditRead:
    at: datetime
    action: str = strawberry.field(description="As stored: support.read or support.search.")
    summary: str = strawberry.field(description="What was looked at: \"the email 'Proposal'\".")
    target: str | None = strawberry.field(description="As stored.")


@strawberry.type(description="One change, or one support visit (its reads in `reads`; its "
                  "id, action and target are those of its last read).")
class AuditEntry:
    id: strawberry.ID
    at: datetime = strawberry.field(description="When; a support visit's last read.")
    actor: str
    action: str
    target: str | None
    before: JSON | None
    after: JSON | None
    kind: AuditKindEnum  # type: ignore[valid-type]
    actor_details: AuditActor
    summary: str = strawberry.field(description="The entry as a sentence: 'Ada Admin turned "
                                    "privacy mode on'.")
    started_at: datetime = strawberry.field(description="A support visit's first read; "
                                            "else `at`.")
    reads: list[AuditRead] = strawberry.field(description="A support visit's searches and "
                                              "reads, oldest first (at most 200 per entry); "
                                              "empty for other entries.")
    read_count: int = strawberry.field(description="How many reads `reads` holds (0 for "
                                       "entries that are not a support visit).")

    @classmethod
    def of(cls, entry: AuditLogEntry, names: Names) -> AuditEntry:
        head = entry.head
        details = actor_details(head.actor, names)
        reads: list[AuditRead] = []
        if entry.is_visit:
            oldest_first = list(reversed(entry.rows))
            things = [thing for row in oldest_first for thing in _things(row, names)]
            summary = describe_visit(head.actor, things, names)
            reads = [AuditRead(at=row.at, action=row.action, summary=_read_summary(row, names),
                               target=row.target)
                     for row in oldest_first]
        else:
            summary = describe(head.action, head.actor, head.target, before=head.before,
                               after=head.after, names=names)
        return cls(
            id=strawberry.ID(str(head.id)), at=head.at, actor=head.actor, action=head.action,
            target=head.target, before=cast(JSON, head.before), after=cast(JSON, head.after),
            kind=kind_of(head.action),
            actor_details=AuditActor(label=details.label.removesuffix(" (API token)"),
                                     name=spoken_name(details), email=details.email,
                                     kind=details.kind, via_token=details.via_token),
            summary=summary, started_at=entry.rows[-1].at, reads=reads, read_count=len(reads),
        )


def _things(row: AuditEntryRow, names: Names) -> list[str]:
    if row.action == "support.search":
        return [_("the account list")]
    return things_read(row.target, names.reads())


def _read_summary(row: AuditEntryRow, names: Names) -> str:
    if row.action == "support.search":
        # The search's own sentence without the actor: 'found this account by …'.
        sentence = describe(row.action, row.actor, row.target, names=names)
        return sentence.removeprefix(spoken_name(actor_details(row.actor, names)) + " ")
    return describe_read(row.target, names.reads())


@strawberry.type
class AuditEntryConnection:
    edges: list[Edge[AuditEntry]]
    page_info: PageInfo


async def audit_connection(
    session: AsyncSession, account_id: uuid.UUID, page: Page[AuditLogEntry]
) -> AuditEntryConnection:
    """The page's entries in words; the names they mention are read in one query per kind."""
    refs = ReadRefs()
    for entry, _cursor in page.items:
        for row in entry.rows:
            refs.merge(refs_of(row.action, row.actor, row.target))
    names = await audit_names(session, account_id, refs)
    return AuditEntryConnection(
        edges=[Edge(node=AuditEntry.of(entry, names), cursor=cursor)
               for entry, cursor in page.items],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )


async def audit_actors(
    session: AsyncSession, account_id: uuid.UUID, labels: list[str]
) -> list[AuditActor]:
    refs = ReadRefs()
    for label in labels:
        refs.merge(refs_of("", label, None))
    names = await audit_names(session, account_id, refs)
    actors = []
    for label in labels:
        details = actor_details(label, names)
        actors.append(AuditActor(label=label, name=spoken_name(details), email=details.email,
                                 kind=details.kind, via_token=False))
    return actors
