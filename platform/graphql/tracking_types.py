"""GraphQL types of tracked emails and engagements (docs/architecture.md, public contract)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from sendtrail.contacts.consent_values import TrackingConsent
from sendtrail.contacts.store import ContactRow
from sendtrail.contacts.values import LegalBasis
from sendtrail.db.pagination import Page
from sendtrail.errors import NotFound
from sendtrail.graphql.consent_types import TrackingConsentChange, TrackingConsentEnum
from sendtrail.graphql.context import ctx
from sendtrail.graphql.loaders import Loaders
from sendtrail.graphql.selection import asks_for
from sendtrail.graphql.sending_types import Delivery, recipient_deliveries
from sendtrail.graphql.tracking_inputs import (
    AttributionEnum,
    DeliveryModeEnum,
    EmailKindEnum,
    EngagementFilterInput,
    EngagementTypeEnum,
    LegalBasisEnum,
    RecipientActivityEnum,
    RecipientFieldEnum,
    VerdictEnum,
    engagement_filter,
)
from sendtrail.graphql.types import Edge, PageInfo, User, relay_parts
from sendtrail.i18n import _
from sendtrail.records import consent, privacy
from sendtrail.records.store import (
    AttachmentRow,
    LegalBasisChangeRow,
    LoggedEmailRow,
    LoggedRecipientRow,
)
from sendtrail.records.timeline import TimelineEntry, contact_timeline
from sendtrail.sending.service import deliveries_of
from sendtrail.sending.values import DeliveryKind
from sendtrail.tracking import emails, engagements, not_tracked
from sendtrail.tracking.core.classify import is_final
from sendtrail.tracking.core.model import (
    Attribution,
    DeliveryMode,
    EmailKind,
    EngagementType,
    RecipientField,
    Verdict,
)
from sendtrail.tracking.engagements import LinkClicks
from sendtrail.tracking.signals import explain
from sendtrail.tracking.store import EmailRecipientRow, EngagementRow, TrackedEmailRow

__all__ = [
    "Contact",
    "Email",
    "EmailConnection",
    "Engagement",
    "EngagementConnection",
    "Recipient",
    "TrackedLink",
]

@strawberry.type
class TrackedLink:
    index: int
    url: str
    account_id: strawberry.Private[uuid.UUID]
    email_id: strawberry.Private[uuid.UUID]
    known_clicks: strawberry.Private[LinkClicks | None] = None
    """Counted with the email's other links already (``Email.links``)."""

    async def _clicks(self, info: Info) -> LinkClicks:
        if self.known_clicks is not None:
            return self.known_clicks
        loaders = await ctx(info).loaders(info, self.account_id)
        return (await loaders.link_clicks.load(self.email_id)).get(self.index, LinkClicks())

    @strawberry.field(
        description="Human clicks counted in reports (R17: not 'Someone', not machines)."
    )
    async def clicks(self, info: Info) -> int:
        return (await self._clicks(info)).counted

    @strawberry.field(
        description="Clicks by people who cannot be told apart (a shared link or privacy "
                    "mode: 'Someone', R15, R16): shown, but counted in no report (R17)."
    )
    async def clicks_by_someone(self, info: Info) -> int:
        return (await self._clicks(info)).by_someone


@strawberry.type
class Contact:
    id: strawberry.ID
    address: str
    name: str | None
    legal_basis: LegalBasisEnum  # type: ignore[valid-type]
    last_sales_email_opened_at: datetime | None
    last_sales_email_clicked_at: datetime | None
    last_clicked_at: datetime | None
    legal_basis_changed_at: datetime | None = None
    legal_basis_changed_by: str | None = None
    tracking_consent: TrackingConsentEnum = strawberry.field(  # type: ignore[valid-type]
        default=TrackingConsent.UNKNOWN,
        description="Consent to individual tracking (R29), kept apart from the legal basis.")
    last_open_on: date | None = strawberry.field(
        default=None, description="The deliverability purpose's one fact (R28): the day of "
        "the contact's last open, overwritten at each open.")
    account_id: strawberry.Private[uuid.UUID | None] = None

    @strawberry.field(description="Emails, engagements and legal-basis changes, newest first.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> TimelineConnection:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            page = await contact_timeline(
                session, principal, await context.account_id(info), uuid.UUID(self.id),
                first=first, after=after,
            )
        public_url = context.settings.http.public_url
        nodes = await engagement_nodes(info, [entry.item for entry, _ in page.items
                                              if isinstance(entry.item, EngagementRow)])
        return TimelineConnection(
            edges=[TimelineEdge(node=timeline_node(entry, public_url, nodes), cursor=cursor)
                   for entry, cursor in page.items],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @strawberry.field(description="Every change of the legal basis, newest first (R16).")
    async def legal_basis_history(self, info: Info) -> list[LegalBasisChange]:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            rows = await privacy.legal_basis_history(
                session, principal, await context.account_id(info), uuid.UUID(self.id)
            )
        return [LegalBasisChange.from_row(row) for row in rows]

    @strawberry.field(description="Every recorded tracking consent, newest first, with "
                                  "its source, wording and who recorded it (R29).")
    async def tracking_consent_history(self, info: Info) -> list[TrackingConsentChange]:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            rows = await consent.tracking_consent_history(
                session, principal, await context.account_id(info), uuid.UUID(self.id)
            )
        return [TrackingConsentChange.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: ContactRow) -> Contact:
        return cls(
            id=strawberry.ID(str(row.id)), address=row.address, name=row.name,
            legal_basis=LegalBasis(row.legal_basis),
            last_sales_email_opened_at=row.last_sales_email_opened_at,
            last_sales_email_clicked_at=row.last_sales_email_clicked_at,
            last_clicked_at=row.last_clicked_at,
            legal_basis_changed_at=row.legal_basis_changed_at,
            legal_basis_changed_by=row.legal_basis_changed_by,
            tracking_consent=TrackingConsent(row.tracking_consent),
            last_open_on=row.last_open_on,
        )


async def _contact(
    info: Info, account_id: uuid.UUID, contact_id: uuid.UUID | None
) -> Contact | None:
    if contact_id is None:
        return None
    row = await (await ctx(info).loaders(info, account_id)).contact.load(contact_id)
    return Contact.from_row(row) if row else None


NO_STATS = engagements.RecipientStats()
STATS_FIELDS = frozenset({"openCount", "clickCount", "firstOpenedAt", "lastOpenedAt", "hints"})
"""Recipient fields worked out from the email's engagements (``recipient_stats_of``)."""


async def _recipient_stats(
    info: Info, loaders: Loaders, email_id: uuid.UUID
) -> Mapping[int, engagements.RecipientStats]:
    """The email's recipient statistics when the operation asks for any (once per email
    and request, loaders.py), else nothing: an activity feed naming recipients needs none."""
    if not asks_for(info, STATS_FIELDS):
        return {}
    return await loaders.recipient_stats.load(email_id)


@dataclass(frozen=True)
class EngagementNodes:
    """The emails, recipients and links a page of engagements names, by key."""

    emails: Mapping[uuid.UUID, Email] = field(default_factory=dict)
    recipients: Mapping[tuple[uuid.UUID, int], Recipient] = field(default_factory=dict)
    links: Mapping[tuple[uuid.UUID, int], TrackedLink] = field(default_factory=dict)


NO_NODES = EngagementNodes()


async def engagement_nodes(info: Info, rows: Sequence[EngagementRow]) -> EngagementNodes:
    """What the operation asks of these engagements' email, recipient and link, fetched for
    all of them together (one loader batch each) rather than awaited per engagement and
    field: on an email's page that was 200 awaited lookups (issue 14)."""
    if not rows:
        return NO_NODES
    account_id = rows[0].account_id
    loaders = await ctx(info).loaders(info, account_id)
    emails: dict[uuid.UUID, Email] = {}
    if asks_for(info, frozenset({"email"})):
        ids = list(dict.fromkeys(row.email_id for row in rows))
        emails = {row.id: Email.from_row(row)
                  for row in await loaders.email.load_many(ids) if row is not None}
    recipients: dict[tuple[uuid.UUID, int], Recipient] = {}
    if asks_for(info, frozenset({"recipient"})):
        keys = list(dict.fromkeys((row.email_id, row.recipient_idx) for row in rows
                                  if row.recipient_idx is not None))
        found = [row for row in await loaders.recipient.load_many(keys) if row is not None]
        stats: dict[uuid.UUID, Mapping[int, engagements.RecipientStats]] = {}
        if asks_for(info, STATS_FIELDS):
            ids = list(dict.fromkeys(row.email_id for row in found))
            stats = dict(zip(ids, await loaders.recipient_stats.load_many(ids), strict=True))
        recipients = {(row.email_id, row.idx): Recipient.from_row(
            row, stats.get(row.email_id, {}).get(row.idx, NO_STATS)) for row in found}
    links: dict[tuple[uuid.UUID, int], TrackedLink] = {}
    if asks_for(info, frozenset({"link"})):
        ids = list(dict.fromkeys(row.email_id for row in rows if row.link_idx is not None))
        for email_id, urls in zip(ids, await loaders.links.load_many(ids), strict=True):
            links.update({(email_id, index): TrackedLink(index=index, url=url,
                                                         account_id=account_id,
                                                         email_id=email_id)
                          for index, url in urls.items()})
    return EngagementNodes(emails, recipients, links)


@strawberry.type
class Recipient:
    id: strawberry.ID
    address: str
    name: str | None
    field: RecipientFieldEnum  # type: ignore[valid-type]
    account_id: strawberry.Private[uuid.UUID]
    contact_id: strawberry.Private[uuid.UUID]
    email_id: strawberry.Private[uuid.UUID | None]
    """The tracked email; None for a participant of a logged email (nothing is tracked)."""
    index: strawberry.Private[int]
    first_open_kept: strawberry.Private[datetime | None] = None
    """The first open the deriver keeps on the recipient: it outlives the engagements that
    retention folds away (issue 16, item 4)."""
    clicked_at: datetime | None = strawberry.field(
        default=None, description="The recipient's first counted click (tracked emails).")
    replied_at: datetime | None = strawberry.field(
        default=None, description="When the recipient first replied, as logged (R24).")
    activity: RecipientActivityEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="How far the recipient went: opened, clicked, replied "
        "(none for the participants of an email only logged).")

    stats: strawberry.Private[engagements.RecipientStats] = NO_STATS
    """Fetched by the field that returns recipients, for all of them at once, when the
    operation asks for any of ``STATS_FIELDS`` (graphql/selection.py): these fields are
    then plain values, not one awaited lookup per recipient and field."""

    @strawberry.field
    def open_count(self) -> int:
        return self.stats.open_count

    @strawberry.field
    def click_count(self) -> int:
        return self.stats.click_count

    @strawberry.field
    def first_opened_at(self) -> datetime | None:
        # Past the retention window the engagements are gone but the recipient's first
        # open is kept (as the emails list shows it): the earlier of the two.
        seen, kept = self.stats.first_opened_at, self.first_open_kept
        return min(seen, kept) if seen is not None and kept is not None else seen or kept

    @strawberry.field
    def last_opened_at(self) -> datetime | None:
        return self.stats.last_opened_at

    @strawberry.field(description="Why there may be several opens (R8).")
    def hints(self) -> list[str]:
        return list(self.stats.hints)

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        return await _contact(info, self.account_id, self.contact_id)

    @classmethod
    def from_logged(cls, row: LoggedRecipientRow) -> Recipient:
        return cls(
            id=strawberry.ID(f"{row.logged_email_id}:{row.idx}"), address=row.address,
            name=row.name, field=RecipientField(row.field), account_id=row.account_id,
            contact_id=row.contact_id, email_id=None, index=row.idx,
        )

    @classmethod
    def from_row(cls, row: EmailRecipientRow,
                 stats: engagements.RecipientStats = NO_STATS) -> Recipient:
        return cls(
            id=strawberry.ID(f"{row.email_id}:{row.idx}"), address=row.address, name=row.name,
            field=RecipientField(row.field), account_id=row.account_id,
            contact_id=row.contact_id, email_id=row.email_id, index=row.idx,
            clicked_at=row.first_human_click_at, replied_at=row.replied_at,
            activity=emails.recipient_activity(row), first_open_kept=row.first_human_open_at,
            stats=stats,
        )


@strawberry.type
class Attachment:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int
    sha256: str
    download_url: str

    @classmethod
    def from_row(cls, row: AttachmentRow, public_url: str) -> Attachment:
        return cls(id=strawberry.ID(str(row.id)), filename=row.filename,
                   content_type=row.content_type, size=row.size, sha256=row.sha256,
                   download_url=f"{public_url}/records/attachments/{row.id}")


@strawberry.type
class Email:
    id: strawberry.ID
    kind: EmailKindEnum  # type: ignore[valid-type]
    subject: str
    sent_at: datetime | None
    message_id: str | None = strawberry.field(description="The RFC 5322 Message-ID to send with.")
    tracked: bool
    logged: bool
    delivery_mode: DeliveryModeEnum  # type: ignore[valid-type]
    open_tracking: bool
    click_tracking: bool
    not_tracked_reasons: list[str]
    from_address: str | None = strawberry.field(
        default=None, description="The From address of a logged email (may be a contact)."
    )
    text: str | None = strawberry.field(default=None, description="Logged emails: text body.")
    html_url: str | None = strawberry.field(
        default=None,
        description="Logged emails: the HTML body, sanitised, for a sandboxed frame (R23).",
    )
    account_id: strawberry.Private[uuid.UUID]
    sender_id: strawberry.Private[uuid.UUID | None]
    logged_row: strawberry.Private[LoggedEmailRow | None] = None
    opened_at: datetime | None = strawberry.field(
        default=None, description="The first counted open, by a recipient or Someone.")
    replied_at: datetime | None = strawberry.field(
        default=None, description="The first logged reply (R24).")
    last_activity_at: datetime | None = strawberry.field(
        default=None, description="The latest counted open, click or reply; the send time "
        "until there is one.")

    async def _tally(self, info: Info) -> emails.RecipientTally:
        if self.logged_row is not None:
            return emails.RecipientTally()
        loaders = await ctx(info).loaders(info, self.account_id)
        return await loaders.recipient_tallies.load(uuid.UUID(self.id))

    @strawberry.field(description="How many recipients it was sent to (To, Cc and Bcc).")
    async def recipient_count(self, info: Info) -> int:
        if self.logged_row is not None:
            loaders = await ctx(info).loaders(info, self.account_id)
            logged = await loaders.logged_recipients.load(uuid.UUID(self.id))
            return sum(row.field != "from" for row in logged)  # as ``recipients`` lists them
        return (await self._tally(info)).recipients

    @strawberry.field(description="How many recipients opened it (counted opens, seen or "
                      "inferred; R7).")
    async def opened_recipients(self, info: Info) -> int:
        return (await self._tally(info)).opened

    @strawberry.field(description="How many recipients clicked a link in it.")
    async def clicked_recipients(self, info: Info) -> int:
        return (await self._tally(info)).clicked

    @strawberry.field(description="How many recipients replied (R24).")
    async def replied_recipients(self, info: Info) -> int:
        return (await self._tally(info)).replied

    @strawberry.field(description="The user who sent (or logged) it.")
    async def sender(self, info: Info) -> User:
        if self.sender_id is None:
            raise NotFound("The user who logged this email no longer exists.")
        loaders = await ctx(info).loaders(info, self.account_id)
        row = await loaders.user.load(self.sender_id)
        if row is None:
            raise NotFound(f"No user with id {self.sender_id} in this account.")
        return User.from_row(row)

    @strawberry.field
    async def recipients(self, info: Info) -> list[Recipient]:
        loaders = await ctx(info).loaders(info, self.account_id)
        email_id = uuid.UUID(self.id)
        if self.logged_row is not None:
            logged = await loaders.logged_recipients.load(email_id)
            return [Recipient.from_logged(row) for row in logged if row.field != "from"]
        rows = await loaders.recipients.load(email_id)
        stats = await _recipient_stats(info, loaders, email_id)
        return [Recipient.from_row(row, stats.get(row.idx, NO_STATS)) for row in rows]

    @strawberry.field(description="Links rewritten for click tracking.")
    async def links(self, info: Info) -> list[TrackedLink]:
        loaders = await ctx(info).loaders(info, self.account_id)
        email_id = uuid.UUID(self.id)
        found = await loaders.links.load(email_id)
        clicks = await loaders.link_clicks.load(email_id) if found else {}
        return [TrackedLink(index=index, url=url, account_id=self.account_id, email_id=email_id,
                            known_clicks=clicks.get(index, LinkClicks()))
                for index, url in sorted(found.items())]

    @strawberry.field(description="Each recipient's delivery, for emails sent through "
                      "Sendtrail (the relay or sendEmail); empty otherwise (R27).")
    async def deliveries(self, info: Info) -> list[Delivery]:
        if self.logged_row is not None:
            return []
        async with ctx(info).db() as session:
            rows = await deliveries_of(session, self.account_id, uuid.UUID(self.id))
        return recipient_deliveries(rows)

    @strawberry.field(description="The sender's untracked copy filed in their Sent folder, "
                      "when one is set up (R27).")
    async def sent_folder_copy(self, info: Info) -> Delivery | None:
        if self.logged_row is not None:
            return None
        async with ctx(info).db() as session:
            rows = await deliveries_of(session, self.account_id, uuid.UUID(self.id))
        return next((Delivery.from_row(r) for r in rows
                     if r.kind == DeliveryKind.SENT_FOLDER), None)

    @strawberry.field(description="Logged emails only.")
    async def attachments(self, info: Info) -> list[Attachment]:
        if not self.logged:
            return []
        context = ctx(info)
        loaders = await context.loaders(info, self.account_id)
        logged_id = self.logged_row.id if self.logged_row else None
        if logged_id is None:  # a tracked email whose copy was logged too
            copy = await loaders.logged_copy.load(uuid.UUID(self.id))
            logged_id = copy.id if copy else None
        if logged_id is None:
            return []
        base = context.settings.http.public_url
        return [Attachment.from_row(row, base) for row in await loaders.attachments.load(logged_id)]

    @strawberry.field
    async def engagements(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: EngagementFilterInput | None = None,
    ) -> EngagementConnection:
        context = ctx(info)
        principal = await context.actor(info)
        wanted = engagement_filter(filter, email_id=uuid.UUID(self.id))
        async with context.db() as session:
            page = await engagements.list_engagements(
                session, principal, self.account_id, filter=wanted, first=first, after=after
            )
        return await EngagementConnection.of(info, page)

    @classmethod
    def from_row(cls, row: TrackedEmailRow) -> Email:
        return cls(
            id=strawberry.ID(str(row.id)), kind=EmailKind(row.kind), subject=row.subject,
            sent_at=row.sent_at, message_id=row.message_id,
            tracked=row.open_tracking or row.click_tracking, logged=row.logged,
            delivery_mode=DeliveryMode(row.delivery_mode), open_tracking=row.open_tracking,
            click_tracking=row.click_tracking,
            not_tracked_reasons=[not_tracked.explain(reason) for reason in row.not_tracked_reasons],
            account_id=row.account_id, sender_id=row.sender_id, opened_at=row.opened_at,
            replied_at=row.replied_at, last_activity_at=row.last_activity_at,
        )

    @classmethod
    def from_logged(cls, row: LoggedEmailRow, *, public_url: str) -> Email:
        return cls(
            id=strawberry.ID(str(row.id)), kind=EmailKind.SALES, subject=row.subject,
            sent_at=row.sent_at, message_id=row.message_id,
            tracked=row.tracked_email_id is not None, logged=True,
            delivery_mode=DeliveryMode.SINGLE_MESSAGE, open_tracking=False,
            click_tracking=False, not_tracked_reasons=[
                _("Logged copy: logging alone records no opens or clicks.")
            ] if row.tracked_email_id is None else [],
            from_address=row.sender_address, text=row.text,
            html_url=f"{public_url}/records/emails/{row.id}/html" if row.html else None,
            account_id=row.account_id, sender_id=row.sender_id, logged_row=row,
            last_activity_at=row.last_activity_at,
        )


@strawberry.type
class Engagement:
    id: strawberry.ID
    type: EngagementTypeEnum  # type: ignore[valid-type]
    occurred_at: datetime
    attribution: AttributionEnum  # type: ignore[valid-type]
    inferred: bool
    inferred_from: EngagementTypeEnum | None  # type: ignore[valid-type]
    verdict: VerdictEnum  # type: ignore[valid-type]
    category: str = strawberry.field(description="Which rule decided the verdict.")
    reasons: list[str]  # stored in English, shown in the reader's language
    ruleset: str = strawberry.field(description="Version of the classification rules used.")
    counts_in_reports: bool
    row: strawberry.Private[EngagementRow]
    nodes: strawberry.Private[EngagementNodes] = field(default_factory=lambda: NO_NODES)
    """What ``email``, ``recipient`` and ``link`` return, fetched for a whole page of
    engagements at once by ``engagement_nodes`` (those fields are then plain values)."""

    @strawberry.field
    def email(self) -> Email:
        found = self.nodes.emails.get(self.row.email_id)
        if found is None:
            raise NotFound(f"No email with id {self.row.email_id}.")
        return found

    @strawberry.field(description="Null when attributed to 'Someone'.")
    def recipient(self) -> Recipient | None:
        if self.row.recipient_idx is None:
            return None
        return self.nodes.recipients.get((self.row.email_id, self.row.recipient_idx))

    @strawberry.field(description="Null when attributed to 'Someone'.")
    async def contact(self, info: Info) -> Contact | None:
        return await _contact(info, self.row.account_id, self.row.contact_id)

    @strawberry.field(description="Whether the verdict is final: its settle window (the "
                      "burst window, 10 seconds) has passed, so no later hit re-judges it "
                      "(R30). Until then it is provisional; a change is announced as "
                      "engagement.reclassified.")
    def final(self, info: Info) -> bool:
        return is_final(self.row.occurred_at, ctx(info).now())

    @strawberry.field
    def link(self) -> TrackedLink | None:
        if self.row.link_idx is None:
            return None
        return self.nodes.links.get((self.row.email_id, self.row.link_idx))

    @classmethod
    def from_row(cls, row: EngagementRow, nodes: EngagementNodes | None = None) -> Engagement:
        return cls(
            id=strawberry.ID(str(row.id)), type=EngagementType(row.type),
            occurred_at=row.occurred_at, attribution=Attribution(row.attribution),
            inferred=row.inferred,
            inferred_from=EngagementType(row.inferred_from) if row.inferred_from else None,
            verdict=Verdict(row.verdict), category=row.category,
            reasons=[explain(reason) for reason in row.reasons],
            ruleset=row.ruleset, counts_in_reports=row.counts_in_reports, row=row,
            nodes=nodes or NO_NODES,
        )


@strawberry.type
class EmailConnection:
    edges: list[Edge[Email]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[TrackedEmailRow | LoggedEmailRow], *,
                  public_url: str) -> EmailConnection:
        def email(row: TrackedEmailRow | LoggedEmailRow) -> Email:
            if isinstance(row, LoggedEmailRow):
                return Email.from_logged(row, public_url=public_url)
            return Email.from_row(row)

        edges, page_info = relay_parts(page, email)
        return cls(edges=edges, page_info=page_info)


@strawberry.type
class EngagementConnection:
    edges: list[Edge[Engagement]]
    page_info: PageInfo

    @classmethod
    async def of(cls, info: Info, page: Page[EngagementRow]) -> EngagementConnection:
        nodes = await engagement_nodes(info, [row for row, _ in page.items])
        edges, page_info = relay_parts(page, lambda row: Engagement.from_row(row, nodes))
        return cls(edges=edges, page_info=page_info)


@strawberry.type
class LegalBasisChange:
    id: strawberry.ID
    at: datetime
    actor: str
    before: LegalBasisEnum  # type: ignore[valid-type]
    after: LegalBasisEnum  # type: ignore[valid-type]

    @classmethod
    def from_row(cls, row: LegalBasisChangeRow) -> LegalBasisChange:
        return cls(id=strawberry.ID(str(row.id)), at=row.at, actor=row.actor,
                   before=LegalBasis(row.before), after=LegalBasis(row.after))


TimelineItem = Annotated[Email | Engagement | LegalBasisChange,
                         strawberry.union("TimelineItem")]


@strawberry.type
class TimelineEdge:
    node: TimelineItem
    cursor: str


@strawberry.type
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo


def timeline_node(entry: TimelineEntry, public_url: str,
                  nodes: EngagementNodes) -> Email | Engagement | LegalBasisChange:
    item = entry.item
    if isinstance(item, LoggedEmailRow):
        return Email.from_logged(item, public_url=public_url)
    if isinstance(item, TrackedEmailRow):
        return Email.from_row(item)
    if isinstance(item, EngagementRow):
        return Engagement.from_row(item, nodes)
    return LegalBasisChange.from_row(item)


@strawberry.type
class ContactConnection:
    edges: list[Edge[Contact]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[ContactRow]) -> ContactConnection:
        edges, page_info = relay_parts(page, Contact.from_row)
        return cls(edges=edges, page_info=page_info)
