"""GraphQL types of invitations (issue 15, defect 3): a user's invitation and status."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from sendtrail.tenancy.invitations import InvitationState, state_of
from sendtrail.tenancy.store import InvitationRow

__all__ = ["Invitation", "InvitationStateEnum", "UserStatus", "user_status"]


class UserStatus(enum.Enum):
    ACTIVE = "active"
    INVITED = "invited"
    DEACTIVATED = "deactivated"


UserStatusEnum = strawberry.enum(
    UserStatus, name="UserStatus",
    description="INVITED: holds their seat but cannot sign in until they accept the "
    "invitation (set a password). DEACTIVATED: cannot sign in; holds no seat.",
)
InvitationStateEnum = strawberry.enum(
    InvitationState, name="InvitationState",
    description="PENDING: the link works until expiresAt. REPLACED: a newer link replaced it.",
)


def user_status(active: bool, invitation: InvitationRow | None, now: datetime) -> UserStatus:
    if not active:
        return UserStatus.DEACTIVATED
    if invitation is not None and invitation.closed_reason is None:
        return UserStatus.INVITED  # pending or expired: not accepted yet
    return UserStatus.ACTIVE


@strawberry.type(description="The link an invited user sets their password with.")
class Invitation:
    state: InvitationStateEnum  # type: ignore[valid-type]
    created_at: datetime
    expires_at: datetime
    sent_at: datetime | None = strawberry.field(
        description="When the account's mail server accepted the email; null: not emailed.")
    email_problem: str | None = strawberry.field(
        description="Why the invitation was not emailed, in words.")
    invited_by: str
    link: str | None = strawberry.field(
        description="The link to copy: only in the reply of inviteUser and resendInvitation "
        "(only its hash is stored); null everywhere else.")

    @classmethod
    def from_row(cls, row: InvitationRow, now: datetime, link: str | None = None) -> Invitation:
        return cls(state=state_of(row, now), created_at=row.created_at,
                   expires_at=row.expires_at, sent_at=row.sent_at,
                   email_problem=row.email_problem, invited_by=row.invited_by, link=link)
