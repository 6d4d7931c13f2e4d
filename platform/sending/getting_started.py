"""The first run's checklist (issue 15, item 8): what a new account still has to do before
Sendtrail is useful, each step read from what exists, so it ticks itself when done.

Steps, in the order a new account takes them: connect outbound mail (admins, R26), point a
mail client at the relay (R26), send a first tracked email from a contact (R26), invite a
colleague (admins, R19), add a tracking domain (admins, R21). A step is about the account
when anyone may do it for everyone (outbound mail, a colleague, a domain) and about the
person asking when it is their own (their mail client, their first email). Five small
existence queries, each answered by an index that leads with ``account_id``.
"""

from __future__ import annotations

import enum
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.domains.store import TrackingDomainRow
from sendtrail.sending.store import OutboundMailRow, OutgoingMessageRow
from sendtrail.settings import SendingSettings
from sendtrail.tenancy.store import UserRow
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.store import TrackedEmailRow

__all__ = ["RelayLogin", "Step", "StepState", "getting_started", "relay_login"]


class Step(enum.StrEnum):
    OUTBOUND_MAIL = "outbound_mail"
    MAIL_CLIENT = "mail_client"
    FIRST_EMAIL = "first_email"
    INVITE_COLLEAGUE = "invite_colleague"
    TRACKING_DOMAIN = "tracking_domain"


ADMIN_STEPS = frozenset({Step.OUTBOUND_MAIL, Step.INVITE_COLLEAGUE, Step.TRACKING_DOMAIN})
"""Steps only an admin can take (the others see them ticked or waiting for an admin)."""


@dataclass(frozen=True)
class StepState:
    step: Step
    done: bool
    admin_only: bool


@dataclass(frozen=True)
class RelayLogin:
    """What a mail client needs to send through the relay: server, port, security, login.
    The password is an API token with the ``send`` scope, created by the person."""

    host: str
    port: int
    starttls: bool
    username: str


def relay_login(settings: SendingSettings, public_url: str, email: str) -> RelayLogin | None:
    """The relay as a mail client reaches it, or ``None`` when it is off. A relay bound to
    every interface is reached by the server's public name."""
    if not settings.submission_port:
        return None
    host = settings.submission_host
    if _is_wildcard(host):
        host = urlsplit(public_url).hostname or host
    starttls = bool(settings.submission_tls_cert and settings.submission_tls_key)
    return RelayLogin(host=host, port=settings.submission_port, starttls=starttls,
                      username=email)


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return host == ""


async def getting_started(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> list[StepState]:
    """Each step and whether it is done, for ``actor`` in ``account_id``."""
    users = (await session.exec(
        select(func.count()).select_from(UserRow).where(UserRow.account_id == account_id)
    )).one()
    done = {
        Step.OUTBOUND_MAIL: await _exists(session, select(OutboundMailRow.account_id).where(
            OutboundMailRow.account_id == account_id)),
        Step.MAIL_CLIENT: await _sent_by(session, actor, account_id, "relay"),
        Step.FIRST_EMAIL: await _sent_by(session, actor, account_id, "compose"),
        Step.INVITE_COLLEAGUE: users > 1,
        Step.TRACKING_DOMAIN: await _exists(session, select(TrackingDomainRow.id).where(
            TrackingDomainRow.account_id == account_id)),
    }
    return [StepState(step, done[step], step in ADMIN_STEPS) for step in Step]


async def _exists(session: AsyncSession, query: Any) -> bool:
    return (await session.exec(query.limit(1))).first() is not None


async def _sent_by(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, source: str
) -> bool:
    """Whether ``actor`` sent a tracked email this way (staff, who send nothing: never)."""
    if actor.user_id is None:
        return False
    return await _exists(session, select(OutgoingMessageRow.id).join(
        TrackedEmailRow, (col(TrackedEmailRow.account_id) == OutgoingMessageRow.account_id)
        & (col(TrackedEmailRow.id) == OutgoingMessageRow.email_id),
    ).where(
        OutgoingMessageRow.account_id == account_id,
        OutgoingMessageRow.sender_id == actor.user_id,
        OutgoingMessageRow.source == source,
        col(TrackedEmailRow.open_tracking).is_(True),
    ))
