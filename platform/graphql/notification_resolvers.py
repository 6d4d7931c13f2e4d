"""Live notifications: the ``engagementNotifications`` subscription and the user's preference.

A notification's ``message`` is composed here, as it is delivered, in the subscriber's
language (the subscription runs in its WebSocket's request, whose cookie chose it)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from sendtrail.graphql.context import ctx, socket_ctx
from sendtrail.graphql.tracking_inputs import EngagementTypeEnum
from sendtrail.graphql.types import NotificationPreferenceEnum, User
from sendtrail.i18n import N_, _
from sendtrail.notifications import live
from sendtrail.notifications.rules import NotificationPreference
from sendtrail.tracking.core.model import EngagementType

__all__ = ["EngagementNotification", "NotificationMutation", "NotificationSubscription"]

log = logging.getLogger(__name__)

MESSAGES = {
    "open": N_("{who} opened \u201c{subject}\u201d"),
    "click": N_("{who} clicked a link in \u201c{subject}\u201d"),
    "reply": N_("{who} replied to \u201c{subject}\u201d"),
}
"""What a notification says, per engagement type; ``who`` is the recipient's address."""
SOMEONE = "Someone"
"""``who`` when nobody can be named (R15, R16): the sentence then says it in words."""
SOMEONE_SAID = N_("Someone")
"""'Someone' inside a sentence that names whoever it was (a reclassification)."""
RECLASSIFIED_MESSAGES = {
    "open": N_("The open of \u201c{subject}\u201d by {who} was a scanner, not a person: it no "
               "longer counts."),
    "click": N_("The click in \u201c{subject}\u201d by {who} was a scanner, not a person: it "
                "no longer counts."),
}
"""What a notification taking back an earlier one says (R30)."""
SOMEONE_MESSAGES = {
    "open": N_("Someone opened \u201c{subject}\u201d"),
    "click": N_("Someone clicked a link in \u201c{subject}\u201d"),
    "reply": N_("Someone replied to \u201c{subject}\u201d"),
}


def message_of(note: live.LiveNotification) -> str:
    """The notification as a sentence in the subscriber's language."""
    if note.reclassified:
        template = RECLASSIFIED_MESSAGES.get(note.type)
        who = _(SOMEONE_SAID) if note.who == SOMEONE else note.who
        return _(template).format(who=who, subject=note.email_subject) if template else (
            note.message)
    template = (SOMEONE_MESSAGES if note.who == SOMEONE else MESSAGES).get(note.type)
    if template is None:  # a type this version has no words for: as the engine says it
        return note.message
    return _(template).format(who=note.who, subject=note.email_subject)


@strawberry.type(description="A recipient engaged with one of the viewer's tracked emails.")
class EngagementNotification:
    id: strawberry.ID = strawberry.field(description="The engagement's id.")
    type: EngagementTypeEnum  # type: ignore[valid-type]
    occurred_at: datetime
    who: str = strawberry.field(
        description="The recipient's address, or 'Someone' when the activity cannot be "
        "attributed to one recipient (shared pixel, privacy mode: R15, R16)."
    )
    contact_id: strawberry.ID | None
    contact_name: str | None = strawberry.field(
        description="The contact's name, else the name the email gave the recipient; null "
        "when not known or for 'Someone'."
    )
    email_id: strawberry.ID
    email_subject: str
    link_url: str | None = strawberry.field(description="The clicked link, for clicks.")
    message: str = strawberry.field(description="A sentence to show, e.g. in a desktop "
                                    "notification.")
    reclassified: bool = strawberry.field(
        default=False, description="This takes back an earlier notification: the engagement "
        "turned out to be a scanner's, not a person's (R30); it no longer counts.")

    @classmethod
    def from_live(cls, note: live.LiveNotification) -> EngagementNotification:
        return cls(
            id=strawberry.ID(str(note.engagement_id)), type=EngagementType(note.type),
            occurred_at=note.occurred_at, who=note.who,
            contact_id=strawberry.ID(str(note.contact_id)) if note.contact_id else None,
            contact_name=note.who_name,
            email_id=strawberry.ID(str(note.email_id)), email_subject=note.email_subject,
            link_url=note.link_url, message=message_of(note), reclassified=note.reclassified,
        )


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="The viewer's own tracked emails, live: HUMAN opens, and clicks with a "
        "paid seat, as the viewer's notification preference allows (R22). Never MACHINE "
        "or SELF activity, nothing while tracking is off for the account."
    )
    async def engagement_notifications(
        self, info: Info
    ) -> AsyncGenerator[EngagementNotification, None]:
        socket = socket_ctx(info)
        subscriber = socket.subscriber
        if subscriber.account_id is None or subscriber.user_id is None:
            return
        account_id = subscriber.account_id
        async for event in socket.stream.subscribe(account_id, subscriber.user_id):
            try:
                async with socket.database.session(account_id=account_id) as session:
                    note = await live.notification_for(session, subscriber, event)
            except Exception:  # a database hiccup costs one notification, not the stream
                log.exception("could not prepare a live notification")
                continue
            if note is None:
                continue
            # The token may have been revoked (or the session ended) since the socket opened.
            if socket.still_authorized is not None and not await socket.still_authorized():
                if socket.close is not None:
                    await socket.close(4403, "Forbidden")
                return
            yield EngagementNotification.from_live(note)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Choose which live notifications you get (R22).")
    async def update_notification_preference(
        self, info: Info, preference: NotificationPreferenceEnum  # type: ignore[valid-type]
    ) -> User:
        context = ctx(info)
        actor = await context.actor(info)
        async with context.db() as session:
            row = await live.set_preference(session, actor, NotificationPreference(preference))
        return User.from_row(row)
