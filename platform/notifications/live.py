"""A subscriber's live notifications: which stored engagements they hear about, and in what words.

The stream carries every stored engagement of every account; this is where one user's
view of it is decided (R22 through ``rules.decide``), with the user's preference, seat
and the account's tracking switch read when the event arrives — so turning tracking off
or changing the preference takes effect at once, on every node.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.contacts.store import ContactRow
from sendtrail.notifications.rules import NotificationPreference, decide
from sendtrail.tenancy.authz import authorizer
from sendtrail.tenancy.store import AccountSettingsRow, UserRow
from sendtrail.tenancy.users import own_profile
from sendtrail.tenancy.values import Principal, Seat
from sendtrail.tracking.store import (
    EmailRecipientRow,
    EngagementRow,
    TrackedEmailRow,
    TrackedLinkRow,
)
from sendtrail.tracking.stream import EngagementEvent

__all__ = [
    "LiveNotification", "is_for", "notification_for", "preference_of", "set_preference"
]

VERBS = {"open": "opened", "click": "clicked a link in", "reply": "replied to"}


@dataclass(frozen=True)
class LiveNotification:
    engagement_id: uuid.UUID
    type: str
    occurred_at: datetime
    who: str
    """The recipient's address, or 'Someone' (shared pixel, privacy mode: R15, R16)."""
    contact_id: uuid.UUID | None
    email_id: uuid.UUID
    email_subject: str
    link_url: str | None
    who_name: str | None = None
    """The contact's name, else the name the email gave the recipient; None for 'Someone'."""
    reclassified: bool = False
    """Taking back an earlier notification: this engagement turned out to be a machine's
    (R30). Sent to whoever its first verdict notified."""

    @property
    def message(self) -> str:
        return f"{self.who} {VERBS.get(self.type, self.type)} \u201c{self.email_subject}\u201d"


def is_for(subscriber: Principal, event: EngagementEvent) -> bool:
    """Cheap pre-filter before any database read: the subscriber's own, notifiable events."""
    return (
        event.notify
        and event.account_id == subscriber.account_id
        and event.sender_id == subscriber.user_id
    )


async def notification_for(
    session: AsyncSession, subscriber: Principal, event: EngagementEvent
) -> LiveNotification | None:
    """The notification ``subscriber`` gets for ``event``, or None (R9, R10, R15-R18, R22)."""
    if not is_for(subscriber, event) or subscriber.user_id is None:
        return None
    account_id = event.account_id
    user = await session.get(UserRow, (account_id, subscriber.user_id))
    settings = await session.get(AccountSettingsRow, account_id)
    email = await session.get(TrackedEmailRow, (account_id, event.email_id))
    engagement = await session.get(EngagementRow, (account_id, event.engagement_id))
    if user is None or not user.active or email is None or engagement is None:
        return None
    address = name = None
    if engagement.recipient_idx is not None and engagement.attribution == "recipient":
        recipient = await session.get(
            EmailRecipientRow, (account_id, event.email_id, engagement.recipient_idx)
        )
        address = recipient.address if recipient is not None else None
        name = await _name_of(session, account_id, engagement.contact_id, recipient)
    decision = decide(
        engagement_type=engagement.type,
        # A burst may have turned it MACHINE since; a reclassification goes to whoever its
        # first verdict (HUMAN) notified.
        verdict="human" if event.reclassified else engagement.verdict,
        email_kind=email.kind,
        tracking_enabled=settings.tracking_enabled if settings is not None else True,
        click_entitled=authorizer().has_feature(Seat(user.seat), "click_tracking"),
        preference=preference_of(user),
        recipient_address=address,
    )
    if not decision.notify or decision.who is None:
        return None
    link_url = None
    if engagement.link_idx is not None:
        link = await session.get(TrackedLinkRow, (account_id, event.email_id, engagement.link_idx))
        link_url = link.url if link is not None else None
    return LiveNotification(
        engagement_id=engagement.id, type=engagement.type, occurred_at=engagement.occurred_at,
        who=decision.who, contact_id=engagement.contact_id if address else None,
        email_id=email.id, email_subject=email.subject, link_url=link_url,
        who_name=name if address else None, reclassified=event.reclassified,
    )


async def _name_of(session: AsyncSession, account_id: uuid.UUID, contact_id: uuid.UUID | None,
                   recipient: EmailRecipientRow | None) -> str | None:
    """As the activity feed names people: the contact's name (kept up to date on the contact)
    first, then the name the email's header gave the recipient."""
    contact = await session.get(ContactRow, (account_id, contact_id)) if contact_id else None
    if contact is not None and contact.name:
        return contact.name
    return recipient.name if recipient is not None else None


def preference_of(user: UserRow) -> NotificationPreference:
    return _preference(user.notification_preference)


def _preference(stored: str) -> NotificationPreference:
    try:
        return NotificationPreference(stored)
    except ValueError:
        return NotificationPreference.OPENS_AND_CLICKS


async def set_preference(
    session: AsyncSession, actor: Principal, preference: NotificationPreference
) -> UserRow:
    """Change the actor's own live-notification preference (their own profile: any role)."""
    user = await own_profile(session, actor, "notification preferences")
    user.notification_preference = preference.value
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return user
