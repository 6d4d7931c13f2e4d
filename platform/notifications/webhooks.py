"""Webhook endpoints, as an account's admins manage them, and their deliveries.

Use cases (``(session, actor, account_id, *, ...)``, each a transaction, writes audited):
create an endpoint (its secret is returned once), update it (re-enabling a disabled one
resumes the messages it held; events while it is off are not queued at all), rotate its
secret (the old one keeps signing until it
expires), delete it (with its messages), list deliveries and their attempts, replay a
delivery (same ``webhook-id``), and send a test message. Targets are checked against the
SSRF rules of ``targets`` when saved, and again by the dispatcher at every attempt.
``forget_engagements`` deletes what was queued or sent about erased engagements (R17).
"""

from __future__ import annotations

import enum
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.db.pagination import Page, keyset_page
from sendtrail.errors import Conflict, InvalidInput, NotFound
from sendtrail.i18n import N_, _
from sendtrail.notifications.outbox import EVENT_TYPES, TEST_EVENT_TYPE, new_message_id
from sendtrail.notifications.signing import new_webhook_secret
from sendtrail.notifications.store import (
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from sendtrail.notifications.targets import Resolver, pin_target, system_resolver
from sendtrail.secretbox import SecretBox
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.permissions import refuse_lasting_grant
from sendtrail.tenancy.values import Principal

__all__ = [
    "MAX_ENDPOINTS",
    "DeliveryStatus",
    "attempts_of",
    "create_endpoint",
    "delete_endpoint",
    "forget_engagements",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "replay_delivery",
    "rotate_secret",
    "send_test",
    "update_endpoint",
]

MAX_ENDPOINTS = 20
MAX_KEEP_OLD_HOURS = 7 * 24
MAX_DESCRIPTION = 200
_MESSAGE_ID = re.compile(r"msg_[0-9a-f]{32}")


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    """Waiting for its next attempt (or being attempted)."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every attempt of the schedule failed; replay it to try again."""
    DISABLED = "disabled"
    """Held while its endpoint is disabled; sent when the endpoint is enabled again."""
    SUPPRESSED = "suppressed"
    """Not sent, and never will be: just before sending, its engagement was found
    reclassified as not HUMAN (e.g. a link scanner's click burst) for an endpoint that
    takes only human activity, or erased. ``lastError`` says which."""

OBJECT = AuthzObject.WEBHOOKS
# What an expiring token may not do (tenancy.permissions.refuse_lasting_grant), translated
# where that sentence is written.
SENDS_OUT = N_("choose where webhooks send the account's events")


async def list_endpoints(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> list[WebhookEndpointRow]:
    authorizer().require(actor, account_id, OBJECT, AuthzAction.READ)
    rows = await session.exec(
        select(WebhookEndpointRow).where(WebhookEndpointRow.account_id == account_id)
        .order_by(col(WebhookEndpointRow.created_at), col(WebhookEndpointRow.id))
    )
    return list(rows.all())


async def get_endpoint(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, endpoint_id: uuid.UUID,
    *, act: AuthzAction = AuthzAction.READ,
) -> WebhookEndpointRow:
    authorizer().require(actor, account_id, OBJECT, act)
    row = (await session.exec(
        select(WebhookEndpointRow).where(WebhookEndpointRow.account_id == account_id,
                                         WebhookEndpointRow.id == endpoint_id)
    )).one_or_none()
    if row is None:
        raise NotFound(_("No webhook endpoint with id {id}.").format(id=endpoint_id))
    return row


def _event_types(values: Sequence[str]) -> list[str]:
    choices = ", ".join(EVENT_TYPES)
    if len(values) > len(EVENT_TYPES):
        raise InvalidInput(_("Choose at most {count} event types, each once: {choices}."
                             ).format(count=len(EVENT_TYPES), choices=choices))
    chosen: list[str] = []
    for value in (value.strip() for value in values):
        if value not in EVENT_TYPES:
            shown = value if len(value) <= 64 and value.isprintable() else value[:64] + "..."
            raise InvalidInput(_("Unknown event type {value}; use any of: {choices}.").format(
                value=repr(shown), choices=choices))
        if value in chosen:
            raise InvalidInput(_("The event type {value} is listed twice; list each once."
                                 ).format(value=value))
        chosen.append(value)
    if not chosen:
        raise InvalidInput(_("Choose at least one event type: {choices}.").format(
            choices=choices))
    return chosen


def _description(value: str | None) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_DESCRIPTION:
        raise InvalidInput(_("A webhook endpoint's description may be at most "
                             "{limit} characters.").format(limit=MAX_DESCRIPTION))
    # Control characters (NUL, which PostgreSQL cannot store, line breaks, tabs, escape
    # sequences) and lone surrogates (which no database encodes) have no place in a label.
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise InvalidInput(_("A webhook endpoint's description may not contain control "
                             "characters (such as line breaks, tabs or NUL)."))
    return value or None


async def _checked_url(url: str, *, allow_loopback: bool, resolver: Resolver) -> str:
    """The URL, once its rules and resolved addresses pass (checked again at each attempt)."""
    await pin_target(url, allow_loopback=allow_loopback, resolver=resolver)
    return url.strip()


def _snapshot(row: WebhookEndpointRow) -> dict[str, Any]:
    return {"url": row.url, "eventTypes": list(row.event_types), "active": row.active,
            "description": row.description, "includeNonHuman": row.include_non_human}


SECRET_CONTEXT = b"webhook signing secret"


def _secret_entry(secret: str, now: datetime, box: SecretBox) -> dict[str, Any]:
    """Stored encrypted (it must be readable to sign, so it cannot be hashed)."""
    return {"secret": box.encrypt(secret.encode(), context=SECRET_CONTEXT),
            "created_at": now.isoformat(), "expires_at": None}


async def create_endpoint(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    url: str,
    event_types: Sequence[str],
    description: str | None = None,
    include_non_human: bool = False,
    allow_loopback: bool = False,
    resolver: Resolver = system_resolver,
    now: datetime,
    box: SecretBox,
) -> tuple[WebhookEndpointRow, str]:
    """The new endpoint and its signing secret (``whsec_...``), never shown again."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.WRITE)
    refuse_lasting_grant(actor, what=SENDS_OUT)
    count = (await session.exec(
        select(func.count()).select_from(WebhookEndpointRow)
        .where(WebhookEndpointRow.account_id == account_id)
    )).one()
    if count >= MAX_ENDPOINTS:
        raise Conflict(_("An account may have at most {limit} webhook endpoints; "
                         "delete one first.").format(limit=MAX_ENDPOINTS))
    secret = new_webhook_secret()
    row = WebhookEndpointRow(
        account_id=account_id,
        url=await _checked_url(url, allow_loopback=allow_loopback, resolver=resolver),
        description=_description(description),
        event_types=_event_types(event_types),
        include_non_human=include_non_human,
        secrets=[_secret_entry(secret, now, box)],
        created_at=now,
        created_by=actor.user_id,
    )
    session.add(row)
    audit.record(session, actor, account_id, action="webhook_endpoint.created",
                 target=f"webhook endpoint {row.url}", after=_snapshot(row))
    await session.commit()
    return row, secret


async def _move_messages(
    session: AsyncSession, endpoint: WebhookEndpointRow, held: str, **values: Any
) -> None:
    """Change the endpoint's messages in status ``held`` (held while disabled, resumed
    after)."""
    await session.exec(update(WebhookMessageRow).where(
        col(WebhookMessageRow.account_id) == endpoint.account_id,
        col(WebhookMessageRow.endpoint_id) == endpoint.id,
        col(WebhookMessageRow.status) == held,
    ).values(**values))


async def update_endpoint(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    endpoint_id: uuid.UUID,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    include_non_human: bool | None = None,
    active: bool | None = None,
    allow_loopback: bool = False,
    resolver: Resolver = system_resolver,
    now: datetime,
) -> WebhookEndpointRow:
    """Change what is given. ``active=True`` on a disabled endpoint resumes its held
    messages now; ``active=False`` holds them (``disabled``) until it is enabled again."""
    row = await get_endpoint(session, actor, account_id, endpoint_id, act=AuthzAction.WRITE)
    before = _snapshot(row)
    if url is not None:
        refuse_lasting_grant(actor, what=SENDS_OUT)
        row.url = await _checked_url(url, allow_loopback=allow_loopback, resolver=resolver)
    if event_types is not None:
        row.event_types = _event_types(event_types)
    if description is not None:
        row.description = _description(description)
    if include_non_human is not None:
        row.include_non_human = include_non_human
    if active is True and not row.active:
        row.active, row.disabled_reason = True, None
        await _move_messages(session, row, "disabled", status="pending", next_attempt_at=now,
                             attempts=0)
    elif active is False and row.active:
        row.active, row.disabled_reason = False, f"Disabled by {actor.actor_label}."
        await _move_messages(session, row, "pending", status="disabled", next_attempt_at=None)
    after = _snapshot(row)
    if after != before:
        session.add(row)
        audit.record(session, actor, account_id, action="webhook_endpoint.updated",
                     target=f"webhook endpoint {row.url}", before=before, after=after)
    await session.commit()
    return row


async def rotate_secret(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    endpoint_id: uuid.UUID,
    keep_old_for_hours: int = 24,
    now: datetime,
    box: SecretBox,
) -> tuple[WebhookEndpointRow, str]:
    """A new secret (returned once) signs from now on; the current ones keep signing too
    for ``keep_old_for_hours`` (0: they stop at once), so receivers can switch over."""
    if not 0 <= keep_old_for_hours <= MAX_KEEP_OLD_HOURS:
        raise InvalidInput(_("Keep the old secret for 0 to {limit} hours.").format(
            limit=MAX_KEEP_OLD_HOURS))
    row = await get_endpoint(session, actor, account_id, endpoint_id, act=AuthzAction.WRITE)
    refuse_lasting_grant(actor, what=N_("take a webhook signing secret"))
    until = now + timedelta(hours=keep_old_for_hours)
    kept = []
    for entry in row.secrets:
        expires = entry.get("expires_at")
        ends = min(datetime.fromisoformat(expires), until) if expires else until
        if ends > now:
            kept.append({**entry, "expires_at": ends.isoformat()})
    secret = new_webhook_secret()
    row.secrets = [_secret_entry(secret, now, box), *kept]
    session.add(row)
    audit.record(session, actor, account_id, action="webhook_endpoint.secret_rotated",
                 target=f"webhook endpoint {row.url}",
                 after={"oldSecretsExpireAt": until.isoformat() if kept else None})
    await session.commit()
    return row, secret


async def delete_endpoint(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    endpoint_id: uuid.UUID,
) -> None:
    """Delete the endpoint, its messages and their attempts (nothing more is sent)."""
    row = await get_endpoint(session, actor, account_id, endpoint_id, act=AuthzAction.WRITE)
    for table in (WebhookAttemptRow, WebhookMessageRow):
        await session.exec(delete(table).where(
            col(table.account_id) == account_id, col(table.endpoint_id) == row.id))
    await session.delete(row)
    audit.record(session, actor, account_id, action="webhook_endpoint.deleted",
                 target=f"webhook endpoint {row.url}", before=_snapshot(row))
    await session.commit()


async def list_deliveries(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    endpoint_id: uuid.UUID,
    status: DeliveryStatus | None = None,
    first: int | None,
    after: str | None,
) -> Page[WebhookMessageRow]:
    """The endpoint's messages, newest first."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.READ)
    statement = select(WebhookMessageRow).where(
        WebhookMessageRow.account_id == account_id, WebhookMessageRow.endpoint_id == endpoint_id
    )
    if status is not None:
        statement = statement.where(WebhookMessageRow.status == status.value)
    return await keyset_page(
        session, statement,
        keys=[WebhookMessageRow.created_at, WebhookMessageRow.id],  # type: ignore[list-item]
        descending=True, first=first, after=after,
    )


async def attempts_of(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, message_ids: Sequence[str]
) -> dict[str, list[WebhookAttemptRow]]:
    """The attempts of these messages, oldest first, in one query."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.READ)
    found: dict[str, list[WebhookAttemptRow]] = {message_id: [] for message_id in message_ids}
    if not message_ids:
        return found
    rows = await session.exec(
        select(WebhookAttemptRow).where(
            WebhookAttemptRow.account_id == account_id,
            col(WebhookAttemptRow.message_id).in_(list(message_ids)),
        ).order_by(col(WebhookAttemptRow.at), col(WebhookAttemptRow.duration_ms))
    )
    for row in rows.all():
        found[row.message_id].append(row)
    return found


async def _message(
    session: AsyncSession, account_id: uuid.UUID, message_id: str
) -> WebhookMessageRow:
    if not _MESSAGE_ID.fullmatch(message_id):  # no id we made: not found (not a query)
        raise NotFound(_("No webhook delivery with this id."))
    row = (await session.exec(
        select(WebhookMessageRow).where(WebhookMessageRow.account_id == account_id,
                                        WebhookMessageRow.id == message_id)
    )).one_or_none()
    if row is None:
        raise NotFound(_("No webhook delivery with id {id}.").format(id=repr(message_id)))
    return row


async def replay_delivery(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    message_id: str, now: datetime,
) -> WebhookMessageRow:
    """Send the message again now, with the same ``webhook-id`` (a new round of attempts)."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.WRITE)
    row = await _message(session, account_id, message_id)
    endpoint = await get_endpoint(session, actor, account_id, row.endpoint_id,
                                  act=AuthzAction.WRITE)
    if not endpoint.active:
        raise Conflict(_("This endpoint is disabled: enable it again (updateWebhookEndpoint) "
                         "before replaying its deliveries."))
    # One guarded UPDATE: a dispatcher may lease the message at any moment, and its
    # attempt (recorded only while its lease holds) must not be overwritten, nor this
    # replay be lost under it.
    m = WebhookMessageRow
    replayed = await session.exec(update(WebhookMessageRow).where(
        col(m.account_id) == account_id, col(m.id) == row.id,
        or_(col(m.lease_until).is_(None), col(m.lease_until) <= now),
    ).values(status="pending", next_attempt_at=now, attempts=0, lease_until=None))
    if not replayed.rowcount:
        await session.rollback()
        raise Conflict(_("This delivery is being attempted right now; replay it when the "
                         "attempt has finished."))
    audit.record(session, actor, account_id, action="webhook_delivery.replayed",
                 target=f"webhook delivery {row.id} to {endpoint.url}")
    await session.commit()
    await session.refresh(row)
    return row


async def send_test(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    endpoint_id: uuid.UUID, now: datetime,
) -> WebhookMessageRow:
    """Queue a ``webhook.test`` message to the endpoint (whatever it subscribes to)."""
    endpoint = await get_endpoint(session, actor, account_id, endpoint_id, act=AuthzAction.WRITE)
    if not endpoint.active:
        raise Conflict(_("This endpoint is disabled: enable it again to send it a test."))
    timestamp = now.isoformat().replace("+00:00", "Z")
    row = WebhookMessageRow(
        account_id=account_id, id=new_message_id(), endpoint_id=endpoint.id,
        event_type=TEST_EVENT_TYPE, created_at=now, next_attempt_at=now,
        # Nothing personal goes to the third party: no address or name of who sent it.
        payload={"type": TEST_EVENT_TYPE, "timestamp": timestamp,
                 "data": {"endpointId": str(endpoint.id),
                          "message": "A test message from Sendtrail."}},
    )
    session.add(row)
    await session.commit()
    return row


async def forget_engagements(
    session_or_conn: AsyncSession | AsyncConnection,
    account_id: uuid.UUID,
    engagement_ids: Sequence[uuid.UUID],
) -> int:
    """Delete the messages reporting these engagements, and their attempts, in the caller's
    transaction (erasure, R17): pending ones are never sent, sent ones leave no copy here.
    A dispatcher attempting one right now finds its lease gone and records nothing. The
    number of messages deleted."""
    ids = list(engagement_ids)
    if not ids:
        return 0
    m, a = WebhookMessageRow.__table__.c, WebhookAttemptRow.__table__.c  # type: ignore[attr-defined]
    forgotten = 0
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start:start + 500]
        of_them = select(m.id).where(m.account_id == account_id, m.engagement_id.in_(chunk))
        statements = (
            delete(WebhookAttemptRow.__table__).where(  # type: ignore[attr-defined]
                a.account_id == account_id, a.message_id.in_(of_them)),
            delete(WebhookMessageRow.__table__).where(  # type: ignore[attr-defined]
                m.account_id == account_id, m.engagement_id.in_(chunk)),
        )
        for statement in statements:
            if isinstance(session_or_conn, AsyncSession):
                result = await session_or_conn.exec(statement)
            else:
                result = await session_or_conn.execute(statement)
        forgotten += result.rowcount
    return forgotten
