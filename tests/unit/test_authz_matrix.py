"""The authorization matrix (issue 12, defect 14): every object x action x role x credential.

The expected outcomes are the table below, written by reading the rules (R19: admins
manage the account, users send and read; R25: support staff read everything, change
nothing; API tokens narrow their user's role by scope), never derived from ``policy.csv``
or the authorizer, so a change of either that breaks a rule fails here. A matrix like
this would have caught defect 1 (a token minting a stronger token): see
``test_token_limits.py`` for what a credential may put into a new token.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from uuid import uuid4

import pytest

from sendtrail.errors import EntitlementRequired, Forbidden
from sendtrail.tenancy.authz import Authorizer
from sendtrail.tenancy.permissions import AuthzAction, AuthzObject
from sendtrail.tenancy.values import PAID_SEATS, Principal, Role, Scope, Seat

OWN = uuid4()
OTHER = uuid4()
Obj, R, W = AuthzObject, AuthzAction.READ, AuthzAction.WRITE
Y, N = True, False
READ, WRITE, ADMIN = Scope.READ, Scope.WRITE, Scope.ADMIN

# object, action: may an admin's / a user's web session, support staff; the scope a token
# of a role that may needs (admin: what only admins may do, even reading).
TABLE: list[tuple[AuthzObject, AuthzAction, bool, bool, bool, Scope]] = [
    # object                action admin user support token needs
    (Obj.ACCOUNT,             R,     Y,    Y,   Y,      READ),
    (Obj.ACCOUNT,             W,     Y,    N,   N,      ADMIN),
    (Obj.SETTINGS,            R,     Y,    N,   Y,      ADMIN),
    (Obj.SETTINGS,            W,     Y,    N,   N,      ADMIN),
    (Obj.USERS,               R,     Y,    Y,   Y,      READ),
    (Obj.USERS,               W,     Y,    N,   N,      ADMIN),
    (Obj.AUDIT_LOG,           R,     Y,    N,   Y,      ADMIN),
    (Obj.AUDIT_LOG,           W,     Y,    N,   N,      ADMIN),
    (Obj.API_TOKENS_OWN,      R,     Y,    Y,   Y,      READ),
    (Obj.API_TOKENS_OWN,      W,     Y,    Y,   N,      WRITE),
    (Obj.API_TOKENS_ALL,      R,     Y,    N,   Y,      ADMIN),
    (Obj.API_TOKENS_ALL,      W,     Y,    N,   N,      ADMIN),
    (Obj.EMAILS,              R,     Y,    Y,   Y,      READ),
    (Obj.EMAILS,              W,     Y,    Y,   N,      WRITE),
    (Obj.EMAILS_OF_OTHERS,    R,     Y,    N,   Y,      ADMIN),
    (Obj.EMAILS_OF_OTHERS,    W,     Y,    N,   N,      ADMIN),
    (Obj.ENGAGEMENTS,         R,     Y,    Y,   Y,      READ),
    (Obj.ENGAGEMENTS,         W,     Y,    N,   N,      ADMIN),
    (Obj.ACCOUNT_REPORTS,     R,     Y,    N,   Y,      ADMIN),
    (Obj.ACCOUNT_REPORTS,     W,     Y,    N,   N,      ADMIN),
    (Obj.CONTACTS,            R,     Y,    Y,   Y,      READ),
    (Obj.CONTACTS,            W,     Y,    Y,   N,      WRITE),
    (Obj.DOMAINS,             R,     Y,    Y,   Y,      READ),
    (Obj.DOMAINS,             W,     Y,    N,   N,      ADMIN),
    (Obj.WEBHOOKS,            R,     Y,    N,   Y,      ADMIN),
    (Obj.WEBHOOKS,            W,     Y,    N,   N,      ADMIN),
    (Obj.OUTBOUND_MAIL,       R,     Y,    N,   Y,      ADMIN),
    (Obj.OUTBOUND_MAIL,       W,     Y,    N,   N,      ADMIN),
]  # fmt: skip

# The scope combinations the web admin offers (any non-empty set of the four checkboxes),
# and what each holds: admin includes write, write includes read and send (the SMTP relay's
# scope, which includes nothing else). The closure is written out here by hand rather than
# asked of the code under test.
_GRANTS: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.SEND: frozenset({Scope.SEND}),
    Scope.WRITE: frozenset({Scope.READ, Scope.WRITE, Scope.SEND}),
    Scope.ADMIN: frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN, Scope.SEND}),
}
TOKEN_KINDS: dict[str, tuple[frozenset[Scope], frozenset[Scope]]] = {
    "+".join(scope.value for scope in chosen): (
        frozenset(chosen), frozenset().union(*(_GRANTS[scope] for scope in chosen))
    )
    for size in range(1, len(_GRANTS) + 1)
    for chosen in itertools.combinations(_GRANTS, size)
}
CREDENTIALS = ("session", *(f"token[{kind}]" for kind in TOKEN_KINDS))


def test_the_table_covers_every_object_and_action() -> None:
    assert {(row[0], row[1]) for row in TABLE} == {(o, a) for o in AuthzObject for a in AuthzAction}
    assert len(TABLE) == len(AuthzObject) * len(AuthzAction)


def test_the_token_kinds_are_every_combination_the_ui_offers() -> None:
    offered = {scopes for scopes, _ in TOKEN_KINDS.values()}
    assert len(offered) == 2 ** len(Scope) - 1  # every non-empty set of the checkboxes


@pytest.fixture(scope="module")
def authz() -> Authorizer:
    return Authorizer()


def member(role: Role, credential: str, account: uuid.UUID = OWN) -> Principal:
    scopes = frozenset(Scope)
    if credential != "session":
        scopes = TOKEN_KINDS[credential.removeprefix("token[").removesuffix("]")][0]
    return Principal(login_id=uuid4(), email=f"{role.value}@x.test", account_id=account,
                     user_id=uuid4(), role=role, scopes=scopes,
                     via_token=credential != "session")


def staff(account: uuid.UUID = OWN) -> Principal:
    # Support staff act on whichever account they chose to inspect (the header).
    return Principal(login_id=uuid4(), email="support@x.test", account_id=account, is_staff=True)


@dataclass(frozen=True)
class Case:
    who: str
    credential: str
    obj: AuthzObject
    act: AuthzAction
    allowed: bool

    def __str__(self) -> str:
        verdict = "allow" if self.allowed else "deny"
        return f"{self.who}-{self.credential}-{self.obj.value}-{self.act.value}-{verdict}"


def _cases() -> list[Case]:
    cases = []
    for obj, act, admin_may, user_may, support_may, needs in TABLE:
        for role, role_may in ((Role.ADMIN, admin_may), (Role.USER, user_may)):
            for credential in CREDENTIALS:
                allowed = role_may
                if credential != "session":
                    held = TOKEN_KINDS[credential[6:-1]][1]
                    allowed = role_may and needs in held
                cases.append(Case(role.value, credential, obj, act, allowed))
        cases.append(Case("support", "session", obj, act, support_may))
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_credential_may_do_exactly_what_the_rules_say(authz: Authorizer, case: Case) -> None:
    # Issue 12, defect 14; R19 (roles), R25 (support reads only), token scopes.
    principal = staff() if case.who == "support" else member(Role(case.who), case.credential)
    assert authz.allowed(principal, OWN, case.obj, case.act) is case.allowed


@pytest.mark.parametrize("case", [c for c in CASES if c.who != "support"], ids=str)
def test_no_credential_reaches_into_another_account(authz: Authorizer, case: Case) -> None:
    # Tenant isolation: a member's role and scopes hold in their own account only.
    principal = member(Role(case.who), case.credential, account=OWN)
    assert authz.allowed(principal, OTHER, case.obj, case.act) is False


@pytest.mark.parametrize(("obj", "act"), [(row[0], row[1]) for row in TABLE],
                         ids=str)
def test_support_reads_any_account_they_inspect_and_writes_none(
    authz: Authorizer, obj: AuthzObject, act: AuthzAction
) -> None:
    # R25: support staff are in no account; their chosen account is any account.
    assert authz.allowed(staff(OTHER), OTHER, obj, act) is (act is R)


@pytest.mark.parametrize(
    ("principal", "account", "obj", "act", "fragment"),
    [
        (staff(), OTHER, Obj.SETTINGS, W, "read-only"),
        (member(Role.ADMIN, "token[read]"), OWN, Obj.SETTINGS, W, "write scope"),
        (member(Role.ADMIN, "token[read+write]"), OWN, Obj.USERS, W, "admin scope"),
        (member(Role.USER, "session"), OWN, Obj.SETTINGS, W, "ask an admin"),
        (member(Role.USER, "session"), OWN, Obj.AUDIT_LOG, R, "read audit log"),
        (member(Role.USER, "session"), OWN, Obj.WEBHOOKS, R, "read webhook endpoints"),
        (member(Role.ADMIN, "session"), OTHER, Obj.USERS, R, "ask an admin"),
    ],
    ids=[
        "support-write-is-read-only",
        "read-token-needs-write-scope",
        "token-needs-admin-scope",
        "user-told-to-ask-admin",
        "message-names-object-readably",
        "message-names-webhooks-readably",
        "foreign-account-refused",
    ],
)
def test_require_raises_forbidden_with_actionable_message(
    authz: Authorizer,
    *,
    principal: Principal,
    account: uuid.UUID,
    obj: AuthzObject,
    act: AuthzAction,
    fragment: str,
) -> None:
    with pytest.raises(Forbidden, match=fragment) as caught:
        authz.require(principal, account, obj, act)
    assert caught.value.code == "FORBIDDEN"
    assert "_" not in caught.value.message  # object names are spelled for people
    assert ":" not in caught.value.message.split(";")[0]


def test_principal_without_role_or_staff_flag_is_refused(authz: Authorizer) -> None:
    nobody = Principal(login_id=uuid4(), email="n@x.test", account_id=OWN, user_id=uuid4())
    assert not authz.allowed(nobody, OWN, Obj.ACCOUNT, R)


def test_checks_leave_no_role_behind(authz: Authorizer) -> None:
    # Groupings live only for one check; a later check of a role-less principal with the
    # same user id must not inherit the admin role.
    same_user = uuid4()
    was_admin = Principal(
        login_id=uuid4(), email="a@x.test", account_id=OWN, user_id=same_user, role=Role.ADMIN
    )
    assert authz.allowed(was_admin, OWN, Obj.SETTINGS, W)
    demoted = Principal(login_id=uuid4(), email="a@x.test", account_id=OWN, user_id=same_user)
    assert not authz.allowed(demoted, OWN, Obj.SETTINGS, W)


# --- Seat entitlements (R12) ---------------------------------------------------------


def test_free_seat_has_no_click_tracking(authz: Authorizer) -> None:
    assert authz.has_feature(Seat.FREE, "click_tracking") is False  # R12


@pytest.mark.parametrize("seat", PAID_SEATS, ids=str)
def test_every_paid_seat_has_click_tracking(authz: Authorizer, seat: Seat) -> None:
    assert authz.has_feature(seat, "click_tracking") is True  # R12


def test_unknown_feature_name_raises_key_error(authz: Authorizer) -> None:
    with pytest.raises(KeyError, match="teleportation"):
        authz.has_feature(Seat.SALES_ENTERPRISE, "teleportation")


def test_require_feature_on_free_seat_says_a_paid_seat_is_needed(authz: Authorizer) -> None:
    with pytest.raises(EntitlementRequired, match="paid Sales seat") as caught:
        authz.require_feature(Seat.FREE, "click_tracking")  # R12
    assert caught.value.code == "ENTITLEMENT_REQUIRED"


@pytest.mark.parametrize("seat", PAID_SEATS, ids=str)
def test_require_feature_passes_for_paid_seats(authz: Authorizer, seat: Seat) -> None:
    authz.require_feature(seat, "click_tracking")
