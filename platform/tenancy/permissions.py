"""The authorization registry: every object and action a check may name (pure, no I/O).

Every ``authorizer().require(...)`` names an ``AuthzObject`` and an ``AuthzAction``, never a
free string, so a typo is a type error and ``policy.csv`` can be checked against this list
(``tests/unit/test_authz_registry.py``). Also here: what a credential may put into a new
API token, and which grants an expiring token may not make (issue 12, defect 1).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sendtrail.errors import Forbidden
from sendtrail.i18n import N_, _
from sendtrail.tenancy.values import Principal, Role, Scope, held_scopes

__all__ = ["AuthzAction", "AuthzObject", "new_token_expiry", "refuse_lasting_grant"]


class AuthzAction(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class AuthzObject(enum.StrEnum):
    """What a role's permissions in ``policy.csv`` are about, in one account."""

    ACCOUNT = "account"
    """The account itself: name, seats bought and used."""
    SETTINGS = "settings"
    """Account-wide tracking and privacy switches (R16, R18)."""
    USERS = "users"
    """The account's users, their roles, seats and active state (R19)."""
    AUDIT_LOG = "audit_log"
    API_TOKENS_OWN = "api_tokens:own"
    """The caller's own API tokens."""
    API_TOKENS_ALL = "api_tokens:all"
    """Every user's API tokens, and tokens made for another user."""
    EMAILS = "emails"
    """Tracked and logged emails: one's own to prepare and log, the account's to read."""
    EMAILS_OF_OTHERS = "emails:others"
    """Preparing an email in another user's name (``senderId``)."""
    ENGAGEMENTS = "engagements"
    ACCOUNT_REPORTS = "account_reports"
    """Reports over every sender's emails, not only one's own."""
    CONTACTS = "contacts"
    DOMAINS = "domains"
    """Custom tracking domains (R21)."""
    WEBHOOKS = "webhooks"
    OUTBOUND_MAIL = "outbound_mail"
    """The account's upstream SMTP server, Sent folder, DKIM keys and every user's upstream
    login (R26, R27). A user reads only whether it is configured (through ``emails``) and
    manages their own upstream login (``emails`` write)."""

    @property
    def label(self) -> str:
        """The object as a refusal names it to a person."""
        return _LABELS.get(self, self.value.replace("_", " "))


_LABELS = {
    AuthzObject.API_TOKENS_OWN: N_("API tokens"),
    AuthzObject.API_TOKENS_ALL: N_("other users' API tokens"),
    AuthzObject.EMAILS_OF_OTHERS: N_("emails in another user's name"),
    AuthzObject.DOMAINS: N_("tracking domains"),
    AuthzObject.WEBHOOKS: N_("webhook endpoints"),
    AuthzObject.ACCOUNT_REPORTS: N_("account-wide reports"),
    AuthzObject.OUTBOUND_MAIL: N_("the account's outbound mail settings"),
}
# The other objects' labels (their values), for the reader's language (``_(obj.label)``).
PLAIN_LABELS = (N_("account"), N_("settings"), N_("users"), N_("audit log"), N_("emails"),
                N_("engagements"), N_("contacts"))


def _listed(scopes: frozenset[Scope]) -> str:
    order = list(Scope)
    return ", ".join(scope.value for scope in sorted(scopes, key=order.index)) or _("none")


def new_token_expiry(
    creator: Principal,
    *,
    owner_role: Role,
    scopes: frozenset[Scope],
    expires_at: datetime | None,
) -> datetime | None:
    """The expiry a new token gets; ``Forbidden`` when it would hold more than its creator.

    A token never exceeds its owner's role, nor the scopes or the expiry of the API token
    that creates it: asked for no expiry, a token made with an expiring token expires with
    it; asked for a later one, it is refused. A web session creates up to the owner's role.
    """
    if Scope.ADMIN in scopes and owner_role is not Role.ADMIN:
        raise Forbidden(_("Only an admin's token can have the admin scope."))
    if not creator.via_token:
        return expires_at
    missing = held_scopes(scopes) - creator.held_scopes
    if missing:
        raise Forbidden(_(
            "This API token has the scopes {held}; a token it creates "
            "cannot have more ({missing} asked for). Create it signed in to the "
            "web admin, or with a token that has those scopes."
        ).format(held=_listed(creator.scopes), missing=_listed(missing)))
    limit = creator.expires_at
    if limit is None:
        return expires_at
    if expires_at is None:
        return limit
    if expires_at > limit:
        ends = f"{limit.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        raise Forbidden(_(
            "This API token expires on {ends} and a token it creates cannot outlive it:"
            " ask for an expiry at or before then, or leave expiresAt out"
            " to get the same one."
        ).format(ends=ends))
    return expires_at


# What callers outside tenancy say a token cannot do (sending, notifications, domains),
# marked here for the reader's language: ``refuse_lasting_grant`` says ``_(what)``.
LASTING_GRANTS = (
    N_("choose the server the account's mail is sent through"),
    N_("choose where webhooks send the account's events"),
    N_("take a webhook signing secret"),
    N_("add a tracking domain, which new emails' links use"),
)


def refuse_lasting_grant(actor: Principal, *, what: str) -> None:
    """``Forbidden`` when an expiring API token would ``what``: a grant that outlasts it.

    An admin role given, a webhook endpoint (or its URL, or its signing secret) that keeps
    sending the account's events out, a tracking domain that new emails' links go through:
    each would hold on after the token that made it expired (issue 12, defect 1). What
    stays within the account and grants no one anything (emails, contacts, a plain user,
    a seat) remains allowed.
    """
    if actor.via_token and actor.expires_at is not None:
        ends = f"{actor.expires_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        raise Forbidden(_(
            "This API token expires on {ends}, so it cannot {what}, which would outlast "
            "it. Do it signed in to the web admin, or with a token that does not expire."
        ).format(ends=ends, what=_(what)))
