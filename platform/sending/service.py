"""Accepting an email to send (R26): from the relay, or composed in the web admin.

``submit`` is the one path both take. In one transaction it:

1. reads the message (``core.message``): who it is from and to, its HTML part, and
   whether it may be touched at all (signed or encrypted mail is not, R27);
2. prepares the tracked email with one copy per recipient (``tracking.emails``), so each
   recipient's hits are their own and nobody is "Someone" (R15, R26);
3. stores the submission once and one delivery per recipient (plus the Sent folder's
   untracked copy when it is configured and the upstream does not file sent mail itself);
4. logs the original on the recipients' records when asked (R1, R23);

and commits. Only then is the submission acknowledged (250 from the relay), so an
accepted message is never lost: the delivery worker (``worker``) sends the copies.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.addresses import valid_address
from sendtrail.contacts.store import ContactRow
from sendtrail.domains.service import tracking_base_url_for
from sendtrail.errors import Forbidden, InvalidInput, NotFound, OutboundNotConfigured, RateLimited
from sendtrail.i18n import N_, _
from sendtrail.records.blobs import BlobStore
from sendtrail.records.logbook import LogInput, log_email
from sendtrail.records.mime import Address, MessageLimits, MessageRefused, parse_message
from sendtrail.records.store import LoggedEmailRow
from sendtrail.sending.core.compose import compose_message
from sendtrail.sending.core.message import (
    Attachment,
    MessageFacts,
    Party,
    read_message,
    with_header,
    without_headers,
)
from sendtrail.sending.store import (
    DeliveryRow,
    OutboundMailRow,
    OutgoingMessageRow,
)
from sendtrail.sending.values import DeliveryKind, DeliveryStatus, DeliveryView, Trackability
from sendtrail.sending.worker import delivery_event_id
from sendtrail.tenancy.accounts import get_settings, tracking_policy_for
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.store import UserRow
from sendtrail.tenancy.values import Principal, Scope
from sendtrail.tracking.core.model import DeliveryMode, EmailKind, RecipientField
from sendtrail.tracking.core.prepare import Recipient
from sendtrail.tracking.core.purposes import ConsentState, TrackingPurpose
from sendtrail.tracking.core.tokens import TokenKeys
from sendtrail.tracking.emails import EmailInput, prepare_email
from sendtrail.tracking.purpose_notes import RecipientStanding, purpose_notes
from sendtrail.tracking.store import TrackedEmailRow
from sendtrail.tracking.stream import EventSink

__all__ = [
    "OVERRIDE_HEADERS",
    "ComposeCheck",
    "ComposeInput",
    "SendContext",
    "Submission",
    "compose_check",
    "deliveries_of",
    "failed_delivery",
    "send_email",
    "sends_in_last_hour",
    "submit",
]

OVERRIDE_HEADERS = ("X-Sendtrail-Track", "X-Sendtrail-Log")
"""Per-message switches a mail client may set; removed before anything is stored."""
NOT_CONFIGURED = N_(
    "Outbound mail is not set up for this account: an admin sets the account's mail "
    "server in Settings → Outbound mail before anyone can send."
)


@dataclass(frozen=True)
class SendContext:
    """What a submission needs besides the message: process settings and stores."""

    keys: TokenKeys
    default_tracking_base_url: str
    blobs: BlobStore
    limits: MessageLimits
    sends_per_hour: int
    max_recipients: int
    sinks: Sequence[EventSink] = ()
    on_queued: Callable[[], None] | None = None
    """Wakes this node's delivery worker once the submission is committed."""


@dataclass(frozen=True)
class Submission:
    email_id: uuid.UUID
    outgoing_id: uuid.UUID
    deliveries: tuple[DeliveryView, ...]
    """One per recipient, in the order of the email's recipients."""
    tracked: bool
    not_tracked_reasons: tuple[str, ...]
    logged: bool


@dataclass(frozen=True)
class ComposeInput:
    """An email written in the web admin's compose window (``sendEmail``)."""

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    html: str | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()
    track: bool | None = None
    log: bool | None = None
    in_reply_to: uuid.UUID | None = None


@dataclass(frozen=True)
class ComposeCheck:
    """What will apply to an email before it is sent, in sentences (the compose window)."""

    can_send: bool
    track: bool
    log: bool
    notes: tuple[str, ...]


async def compose_check(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    recipients: Sequence[str],
    track: bool | None,
    log: bool | None,
    default_tracking_base_url: str,
) -> ComposeCheck:
    """Say before sending what the rules will do with this email: no outbound mail, the
    account's tracking switch (R18), the sender's seat (R12), privacy mode without a legal
    basis (R16), and whether it is logged (R1, R2)."""
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.WRITE)
    sender = await _sender_of(session, actor, account_id)
    notes: list[str] = []
    can_send = True
    try:
        await _outbound_for(session, account_id)
    except OutboundNotConfigured as missing:
        can_send = False
        notes.append(missing.message)
    policy = await tracking_policy_for(session, account_id, sender.id,
                                       tracking_base_url=default_tracking_base_url)
    tracked = policy.tracking_enabled and (policy.default_track if track is None else track)
    logged = policy.default_log if log is None else log
    addresses = [a for a in (valid_address(r) for r in recipients if len(r) <= 320) if a]
    if not policy.tracking_enabled:
        notes.append(_("Tracking is turned off for the whole account by an admin: nothing in "
                       "this email is tracked."))
    elif not tracked:
        notes.append(_("Tracking is off for this email: no opens or clicks are recorded."))
    else:
        if not policy.click_tracking:
            notes.append(_("Only opens are tracked: click tracking needs a paid Sales seat."))
        settings = await get_settings(session, account_id)
        if settings.tracking_purpose is TrackingPurpose.INDIVIDUAL:
            notes.append(_("Each recipient gets their own copy, so every open and click is "
                           "attributed to the person who made it."))
        notes.extend(purpose_notes(settings, await _standings(session, account_id, addresses)))
    users = set((await session.exec(select(UserRow.email).where(
        UserRow.account_id == account_id))).all())
    if logged and addresses and all(a in users for a in addresses):
        logged = False
        notes.append(_("Only colleagues receive it, so it is not logged on any contact."))
    elif logged:
        notes.append(_("A copy is logged on each recipient's contact record."))
    return ComposeCheck(can_send=can_send, track=tracked, log=logged, notes=tuple(notes))


async def _standings(session: AsyncSession, account_id: uuid.UUID,
                     addresses: Sequence[str]) -> list[RecipientStanding]:
    """What each recipient's tracking purpose depends on (a new address: nothing yet)."""
    if not addresses:
        return []
    known = {row.address: row for row in (await session.exec(select(ContactRow).where(
        ContactRow.account_id == account_id, col(ContactRow.address).in_(addresses),
    ))).all()}
    return [RecipientStanding(address) if address not in known else RecipientStanding(
        address, ConsentState(known[address].tracking_consent),
        known[address].legal_basis != "none") for address in addresses]


async def sends_in_last_hour(
    session: AsyncSession, account_id: uuid.UUID, sender_id: uuid.UUID, now: datetime
) -> int:
    return (await session.exec(select(func.count()).select_from(OutgoingMessageRow).where(
        OutgoingMessageRow.account_id == account_id,
        OutgoingMessageRow.sender_id == sender_id,
        col(OutgoingMessageRow.created_at) > now - timedelta(hours=1),
    ))).one()


async def submit(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    raw: bytes,
    *,
    envelope_from: str,
    envelope_recipients: Sequence[str],
    source: Literal["relay", "compose"],
    context: SendContext,
    now: datetime,
    track: bool | None = None,
    log: bool | None = None,
) -> Submission:
    """Store ``raw`` for delivery to ``envelope_recipients`` and commit (module doc).

    ``actor`` is the sender: a session or token holding ``write``, or a relay token holding
    ``send``. ``track``/``log`` override the message's ``X-Sendtrail-*`` headers, which
    override the sender's defaults (R2).
    """
    sender = await _sender_of(session, actor, account_id)
    as_sender = _writer(actor)
    if valid_address(envelope_from) != sender.email:
        raise Forbidden(_("You can only send as yourself ({email}).").format(email=sender.email))
    recipients = _envelope(envelope_recipients, context.max_recipients)
    outbound = await _outbound_for(session, account_id)
    if await sends_in_last_hour(session, account_id, sender.id, now) >= context.sends_per_hour:
        raise RateLimited(
            # One sentence as before (a limit of one an hour is no real setting).
            _("You have sent {count} emails in the last hour, the most allowed; try again "
              "later or ask an admin to raise SENDTRAIL_SENDS_PER_HOUR.").format(
                count=context.sends_per_hour),
            retry_after_seconds=600,
        )
    facts = read_message(raw)
    written_from = valid_address(facts.sender.address) if facts.sender else None
    if written_from != sender.email:
        raise Forbidden(
            _("The From header must be your own address ({email}), not {written}.").format(
                email=sender.email, written=facts.sender.address) if facts.sender else
            _("The From header must be your own address ({email}), not missing.").format(
                email=sender.email)
        )
    track = facts.track_override if track is None else track
    log = facts.log_override if log is None else log
    stored = without_headers(raw, OVERRIDE_HEADERS)
    trackable = facts.trackability is Trackability.HTML
    base_url = await tracking_base_url_for(
        session, account_id, email_kind=EmailKind.SALES.value,
        default=context.default_tracking_base_url, now=now,
    )
    row, prepared = await prepare_email(
        session, as_sender, account_id,
        EmailInput(
            kind=EmailKind.SALES, subject=facts.subject.strip() or "(no subject)",
            html=facts.html if trackable else None, text=facts.text,
            recipients=_recipients(facts, recipients),
            delivery_mode=DeliveryMode.PER_RECIPIENT, track=track, sender_id=sender.id,
        ),
        keys=context.keys, tracking_base_url=base_url, now=now, commit=False,
    )
    if not trackable and facts.untracked_reason:
        row.not_tracked_reasons = [facts.untracked_reason]
    if facts.message_id:  # the client's own: replies name it (records/replies.py finds it)
        row.message_id = facts.message_id[:998]
    else:
        stored = with_header(stored, "Message-ID", row.message_id)
    session.add(row)
    tracked = prepared.open_tracking or prepared.click_tracking
    outgoing = OutgoingMessageRow(
        account_id=account_id, email_id=row.id, sender_id=sender.id,
        envelope_from=sender.email, source=source, trackability=facts.trackability.value,
        raw=stored, created_at=now,
    )
    session.add(outgoing)
    deliveries = [
        DeliveryRow(
            account_id=account_id, message_id=outgoing.id, idx=index, email_id=row.id,
            kind=DeliveryKind.RECIPIENT.value, recipient=message.recipients[0],
            html=message.html if tracked and trackable else None, next_attempt_at=now,
            created_at=now,
        )
        for index, message in enumerate(prepared.messages)
    ]
    if outbound.imap_host and not outbound.upstream_files_sent:
        deliveries.append(DeliveryRow(
            account_id=account_id, message_id=outgoing.id, idx=len(deliveries),
            email_id=row.id, kind=DeliveryKind.SENT_FOLDER.value, recipient=sender.email,
            next_attempt_at=now, created_at=now,
        ))
    session.add_all(deliveries)
    logged = await _log_original(
        session, as_sender, account_id, row, raw=stored, facts=facts, log=log, context=context,
        now=now,
    )
    if not logged:
        await session.commit()
    if context.on_queued is not None:
        context.on_queued()
    return Submission(
        email_id=row.id, outgoing_id=outgoing.id,
        deliveries=tuple(_view(d) for d in deliveries if d.kind == DeliveryKind.RECIPIENT),
        tracked=tracked, not_tracked_reasons=tuple(row.not_tracked_reasons), logged=logged,
    )


async def send_email(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    email: ComposeInput,
    *,
    context: SendContext,
    now: datetime,
    message_host: str,
) -> Submission:
    """``sendEmail``: compose the message, then ``submit`` it like the relay would."""
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.WRITE)
    sender = await _sender_of(session, actor, account_id)
    # First what names other objects: another account's email is simply not found.
    in_reply_to, references = await _thread_of(session, actor, account_id, email.in_reply_to)
    if not (email.html and email.html.strip()) and not (email.text and email.text.strip()):
        raise InvalidInput(_("Write something: the email has no body."))
    if not email.to:
        raise InvalidInput(_("Give the email at least one To recipient."))
    parties = {field: tuple(_party(a) for a in group)
               for field, group in (("to", email.to), ("cc", email.cc), ("bcc", email.bcc))}
    raw = compose_message(
        sender=Party(sender.email, sender.name), to=parties["to"], cc=parties["cc"],
        bcc=parties["bcc"], subject=email.subject.strip(), html=email.html, text=email.text,
        attachments=email.attachments, message_id=f"<{uuid.uuid4()}@{message_host}>",
        date=now, in_reply_to=in_reply_to, references=references,
    )
    return await submit(
        session, actor, account_id, raw, envelope_from=sender.email,
        envelope_recipients=[p.address for group in parties.values() for p in group],
        source="compose", context=context, now=now, track=email.track, log=email.log,
    )


async def deliveries_of(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID
) -> list[DeliveryRow]:
    """Every delivery of an email (recipients first, then the Sent folder and bounces)."""
    rows = await session.exec(select(DeliveryRow).where(
        DeliveryRow.account_id == account_id, DeliveryRow.email_id == email_id,
    ).order_by(col(DeliveryRow.created_at), col(DeliveryRow.idx)))
    return list(rows.all())


async def failed_delivery(
    session: AsyncSession, account_id: uuid.UUID, email_id: uuid.UUID, event_id: uuid.UUID
) -> tuple[str, DeliveryRow] | None:
    """The email's subject and the failed copy a live ``delivery_failed`` event names."""
    email = (await session.exec(select(TrackedEmailRow).where(
        TrackedEmailRow.account_id == account_id, TrackedEmailRow.id == email_id,
    ))).one_or_none()
    if email is None:
        return None
    for row in await deliveries_of(session, account_id, email_id):
        if delivery_event_id(row.message_id, row.idx) == event_id:
            return email.subject, row
    return None


def _view(row: DeliveryRow) -> DeliveryView:
    return DeliveryView(
        message_id=row.message_id, recipient=row.recipient, status=DeliveryStatus(row.status),
        attempts=row.attempts, last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.RETRYING else None,
    )


def _writer(actor: Principal) -> Principal:
    """The sender as the email use cases see them: the relay's ``send`` scope is exactly
    "write an email as oneself", so such a token acts with ``write`` here and nowhere else."""
    if not actor.via_token or Scope.WRITE in actor.held_scopes:
        return actor
    if Scope.SEND not in actor.held_scopes:
        raise Forbidden(_("Sending needs an API token with the send scope."))
    return replace(actor, scopes=frozenset({Scope.READ, Scope.WRITE}))


async def _sender_of(session: AsyncSession, actor: Principal, account_id: uuid.UUID) -> UserRow:
    if actor.user_id is None:
        raise Forbidden(_("Only a user of the account can send email; support staff cannot."))
    user = (await session.exec(select(UserRow).where(
        UserRow.account_id == account_id, UserRow.id == actor.user_id,
    ))).one_or_none()
    if user is None or not user.active:
        raise Forbidden(_("Your user is deactivated in this account, so you cannot send."))
    return user


def _envelope(addresses: Sequence[str], limit: int) -> list[str]:
    found: dict[str, None] = {}
    for written in addresses:
        address = valid_address(written) if len(written) <= 320 else None
        if address is None:
            raise InvalidInput(_("{address} is not a valid email address.").format(
                address=repr(written[:100])))
        found[address] = None
    if not found:
        raise InvalidInput(_("Give the email at least one recipient."))
    if len(found) > limit:
        raise InvalidInput(_("An email can have at most {limit} recipients.").format(
            limit=limit))
    return list(found)


def _recipients(facts: MessageFacts, envelope: list[str]) -> tuple[Recipient, ...]:
    """Each envelope recipient with its name and field from the headers; one the headers
    do not show is a Bcc recipient (its copy carries no Bcc header either)."""
    shown: dict[str, tuple[str | None, RecipientField]] = {}
    for field, parties in ((RecipientField.BCC, facts.bcc), (RecipientField.CC, facts.cc),
                           (RecipientField.TO, facts.to)):
        for party in parties:
            address = valid_address(party.address)
            if address is not None:
                shown[address] = (party.name, field)
    order = {RecipientField.TO: 0, RecipientField.CC: 1, RecipientField.BCC: 2}
    listed = [
        Recipient(address=a, name=shown.get(a, (None, RecipientField.BCC))[0],
                  field=shown.get(a, (None, RecipientField.BCC))[1])
        for a in envelope
    ]
    return tuple(sorted(listed, key=lambda r: order[r.field]))


async def _outbound_for(session: AsyncSession, account_id: uuid.UUID) -> OutboundMailRow:
    # With per-user logins, a sender without their own login sends with the account's
    # (endpoints.route_for), so only the account's settings are needed here.
    outbound = (await session.exec(select(OutboundMailRow).where(
        OutboundMailRow.account_id == account_id))).one_or_none()
    if outbound is None:
        raise OutboundNotConfigured(_(NOT_CONFIGURED))
    return outbound


def _party(written: str) -> Party:
    address = valid_address(written) if len(written) <= 320 else None
    if address is None:
        raise InvalidInput(_("{address} is not a valid email address.").format(
            address=repr(written[:100])))
    return Party(address, None)


async def _thread_of(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID,
    email_id: uuid.UUID | None,
) -> tuple[str | None, tuple[str, ...]]:
    """The threading headers of a reply to one of the account's emails (tracked or
    logged): ``In-Reply-To`` its Message-ID, ``References`` its chain plus it."""
    if email_id is None:
        return None, ()
    authorizer().require(actor, account_id, AuthzObject.EMAILS, AuthzAction.READ)
    tracked = (await session.exec(select(TrackedEmailRow).where(
        TrackedEmailRow.account_id == account_id, TrackedEmailRow.id == email_id,
    ))).one_or_none()
    if tracked is not None:
        return tracked.message_id, (tracked.message_id,)
    logged = (await session.exec(select(LoggedEmailRow).where(
        LoggedEmailRow.account_id == account_id, LoggedEmailRow.id == email_id,
    ))).one_or_none()
    if logged is None:
        raise NotFound(_("No email with id {id} to reply to.").format(id=email_id))
    if not logged.message_id:
        return None, ()
    return logged.message_id, (*logged.references[-20:], logged.message_id)


async def _log_original(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    email: TrackedEmailRow,
    *,
    raw: bytes,
    facts: MessageFacts,
    log: bool | None,
    context: SendContext,
    now: datetime,
) -> bool:
    """Log the message as the sender wrote it (untracked) when asked or by default (R2);
    commits the caller's transaction when it logs. Never logs on colleagues alone."""
    if log is None:
        policy = await tracking_policy_for(
            session, account_id, email.sender_id, tracking_base_url=email.tracking_base_url
        )
        log = policy.default_log
    if not log:
        return False
    users = set((await session.exec(select(UserRow.email).where(
        UserRow.account_id == account_id))).all())
    outsiders = [p for p in (*facts.to, *facts.cc, *facts.bcc) if p.address.lower() not in users]
    if not outsiders:
        return False
    try:
        parsed = parse_message(raw, context.limits)
        attachments = parsed.attachments
        html, text = parsed.html, parsed.text
    except MessageRefused:  # encrypted or hostile: log what the headers say
        attachments, html, text = (), None, None
    groups = {name: tuple(Address(p.address, p.name) for p in parties)
              for name, parties in (("to", facts.to), ("cc", facts.cc), ("bcc", facts.bcc))}
    sender = facts.sender or Party("", None)  # submit() checked that From is the sender
    email.logged = True  # log_email commits it with everything above, or nothing
    session.add(email)
    await log_email(
        session, actor, account_id,
        LogInput(
            subject=email.subject, sender=Address(sender.address, sender.name),
            to=groups["to"], cc=groups["cc"], bcc=groups["bcc"], sent_at=now, text=text,
            html=html, message_id=email.message_id, in_reply_to=facts.in_reply_to,
            references=facts.references, attachments=attachments, source="sent",
            tracked_email_id=email.id,
        ),
        blobs=context.blobs, now=now, limits=context.limits, sinks=context.sinks,
    )
    return True
