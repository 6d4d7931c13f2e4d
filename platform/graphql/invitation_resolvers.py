"""Mutation fields of invitations (issue 15, defect 3): resend and revoke (admins).

``inviteUser`` (mutations.py) makes the first one; the reads hang off ``User.invitation``.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from sendtrail.graphql.context import ctx
from sendtrail.graphql.types import User
from sendtrail.secretbox import secret_box
from sendtrail.sending.invitations import InvitationSent, resend_and_email
from sendtrail.tenancy import invitations
from sendtrail.tenancy.users import parse_id

__all__ = ["InvitationMutation", "user_with_link"]


def user_with_link(sent: InvitationSent) -> User:
    """The user as ``inviteUser``/``resendInvitation`` answer: their link, this once."""
    user = User.from_row(sent.user)
    user.issued = (sent.invitation, sent.link)
    return user


@strawberry.type
class InvitationMutation:
    @strawberry.mutation(description="Send a user who has not set a password a new "
                         "invitation; the previous link stops working. sendEmail: false "
                         "only makes a link to copy (admins).")
    async def resend_invitation(self, info: Info, id: strawberry.ID,
                                send_email: bool = True) -> User:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            sent = await resend_and_email(
                session, context.settings, secret_box(context.settings.secrets.keys),
                principal, await context.account_id(info), user_id=parse_id(id, "user"),
                email=send_email, now=context.now(),
            )
        return user_with_link(sent)

    @strawberry.mutation(description="Withdraw a user's pending invitation: the link stops "
                         "working and the user is deactivated, freeing their seat (admins).")
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> User:
        context = ctx(info)
        principal = await context.actor(info)
        async with context.db() as session:
            row = await invitations.revoke(session, principal, await context.account_id(info),
                                           user_id=parse_id(id, "user"), now=context.now())
        return User.from_row(row)
