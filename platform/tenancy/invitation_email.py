"""The invitation email's words, in the inviting admin's language (issue 15, item 12).

The admin invites while signed in to the web admin, so the request's language (their
``sendtrail_language`` cookie) is the email's: an admin who works in German invites in
German. ``sending.invitations`` composes, signs and sends the message around these words.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from sendtrail.i18n import _
from sendtrail.moments import spoken_moment

__all__ = ["InvitationWording", "invitation_wording"]


@dataclass(frozen=True)
class InvitationWording:
    subject: str
    text: str
    html: str


def invitation_wording(*, who: str, inviter_address: str, invitee_name: str | None,
                       account: str, link: str, expires_at: datetime) -> InvitationWording:
    """Subject, plain text and HTML of the invitation ``who`` sends to join ``account``."""
    until = f"{spoken_moment(expires_at)} UTC"
    greeting = _("Hello {name},").format(name=invitee_name) if invitee_name else _("Hello,")
    invited = _("{who} ({address}) invited you to join {account} on Sendtrail, where you "
                "see when the people you email open and click.")
    choose = _("Choose your password and sign in here (the link works once, until {until}):")
    sign_in = _("Choose your password and sign in")
    ignore = _("If you did not expect this invitation, ignore this email: nothing happens "
               "until the link is used.")
    text = (f"{greeting}\n\n{invited.format(who=who, address=inviter_address, account=account)}"
            f"\n\n{choose.format(until=until)}\n{link}\n\n{ignore}\n")
    e = html.escape
    body = (f"<p>{e(greeting)}</p><p>"
            + e(invited).format(who=e(who), address=e(inviter_address),
                                account=f"<strong>{e(account)}</strong>")
            + f'</p><p><a href="{e(link)}">{e(sign_in)}</a></p>'
            + "<p>" + e(_("The link works once, until {until}.")).format(until=e(until))
            + f"</p><p>{e(ignore)}</p>")
    subject = _("{who} invited you to {account} on Sendtrail").format(who=who, account=account)
    return InvitationWording(subject=subject, text=text, html=body)
