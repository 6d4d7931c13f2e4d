"""Authorization with casbin: RBAC with domains (account = domain), plus seat entitlements.

The model and the role permissions ship as package data (``rbac_model.conf``,
``policy.csv``). Role assignments come from the database with each request's principal
and are added to the enforcer only for the duration of a check, so a role change takes
effect at once on every node.
"""

from __future__ import annotations

import logging
import threading
import uuid
from functools import cache
from importlib import resources

import casbin

from sendtrail.errors import EntitlementRequired, Forbidden
from sendtrail.i18n import N_, _
from sendtrail.tenancy.permissions import AuthzAction, AuthzObject
from sendtrail.tenancy.values import Principal, Role, Scope, Seat

__all__ = ["FEATURES", "Authorizer", "AuthzAction", "AuthzObject", "authorizer"]

#: Entitlements by name, with the sentence shown when a seat lacks one (Sentry's registry).
FEATURES: dict[str, str] = {
    "click_tracking": N_("Click tracking needs a paid Sales seat (Starter, Professional or "
                         "Enterprise); emails from free seats get open tracking only."),
}


def _domain(account_id: uuid.UUID) -> str:
    return f"account:{account_id}"


class Authorizer:
    """One casbin enforcer per process; role groupings are synced per principal."""

    def __init__(self) -> None:
        package = resources.files("sendtrail.tenancy")
        with (
            resources.as_file(package / "rbac_model.conf") as model,
            resources.as_file(package / "policy.csv") as policy,
        ):
            # casbin logs its whole policy at INFO on load; that is noise in a server log.
            logging.getLogger("casbin").setLevel(logging.WARNING)
            self._enforcer = casbin.Enforcer(str(model), str(policy))
        self._lock = threading.Lock()

    def _grouping(self, principal: Principal) -> tuple[str, str, str] | None:
        if principal.is_staff:
            return (principal.subject, "support", "*")
        if principal.role is not None and principal.account_id is not None:
            return (principal.subject, principal.role.value, _domain(principal.account_id))
        return None

    def _enforce_as(
        self, principal: Principal, domain: str, obj: AuthzObject, act: AuthzAction
    ) -> bool:
        # The principal's one grouping lives only for this check, so the enforcer never
        # holds stale roles and stays O(1) however many users exist.
        grouping = self._grouping(principal)
        if grouping is None:
            return False
        # The SMTP listener checks from its own thread: one check at a time.
        with self._lock:
            self._enforcer.add_grouping_policy(*grouping)
            try:
                return bool(
                    self._enforcer.enforce(principal.subject, domain, obj.value, act.value)
                )
            finally:
                self._enforcer.remove_grouping_policy(*grouping)

    def _enforce_role(self, role: Role, domain: str, obj: AuthzObject, act: AuthzAction) -> bool:
        with self._lock:
            return bool(self._enforcer.enforce(role.value, domain, obj.value, act.value))

    def refusal(
        self, principal: Principal, account_id: uuid.UUID, obj: AuthzObject, act: AuthzAction
    ) -> str | None:
        """``None`` when ``principal`` may ``act`` on ``obj`` in ``account_id``, else why not.

        API tokens narrow what their user's role allows: a ``read`` token never writes, and
        a token without the ``admin`` scope acts with a plain user's permissions at most
        (``admin`` includes ``write``, which includes ``read``).
        """
        domain = _domain(account_id)
        if not self._enforce_as(principal, domain, obj, act):
            if principal.is_staff and act is not AuthzAction.READ:
                return _("Support access is read-only.")
            sentence = (
                _("Your role does not allow you to read {what}; ask an admin of your account.")
                if act is AuthzAction.READ else
                _("Your role does not allow you to write {what}; ask an admin of your account.")
            )
            return sentence.format(what=_(obj.label))
        held = principal.held_scopes
        if Scope.READ not in held:
            return _("This API token only submits mail to the SMTP relay (the send scope); "
                     "create a token with the read scope to use the API.")
        if act is AuthzAction.WRITE and Scope.WRITE not in held:
            return _("This API token is read-only; create a token with the write scope.")
        if (
            principal.via_token
            and Scope.ADMIN not in held
            and not self._enforce_role(Role.USER, domain, obj, act)
        ):
            return _("This needs an API token with the admin scope (and an admin user).")
        return None

    def allowed(
        self, principal: Principal, account_id: uuid.UUID, obj: AuthzObject, act: AuthzAction
    ) -> bool:
        return self.refusal(principal, account_id, obj, act) is None

    def require(
        self, principal: Principal, account_id: uuid.UUID, obj: AuthzObject, act: AuthzAction
    ) -> None:
        reason = self.refusal(principal, account_id, obj, act)
        if reason is not None:
            raise Forbidden(reason)

    def has_feature(self, seat: Seat, feature: str) -> bool:
        if feature not in FEATURES:
            raise KeyError(f"unknown entitlement {feature!r}")
        with self._lock:
            return bool(
                self._enforcer.enforce(f"seat:{seat.value}", "*", f"feature:{feature}", "use")
            )

    def require_feature(self, seat: Seat, feature: str) -> None:
        if not self.has_feature(seat, feature):
            raise EntitlementRequired(_(FEATURES[feature]))


@cache
def authorizer() -> Authorizer:
    """The process-wide authorizer (casbin parses its model and policy once)."""
    return Authorizer()
