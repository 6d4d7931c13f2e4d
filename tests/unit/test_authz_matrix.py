"""The authorization matrix: role x account x object x action, token scopes, seat entitlements."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import uuid4

import pytest

from sendtrail.errors import EntitlementRequired, Forbidden
from sendtrail.tenancy.authz import Authorizer
from sendtrail.tenancy.values import PAID_SEATS, Principal, Role, Scope, Seat

OWN = uuid4()
OTHER = uuid4()
ADMIN_OBJECTS = ("account", "settings", "users", "audit_log", "api_tokens:own", "api_tokens:all",
                 "account_reports")


@pytest.fixture(scope="module")
def authz() -> Authorizer:
    return Authorizer()


def admin(scopes: frozenset[Scope] = frozenset(Scope), *, via_token: bool = False) -> Principal:
    return Principal(
        login_id=uuid4(),
        email="admin@x.test",
        account_id=OWN,
        user_id=uuid4(),
        role=Role.ADMIN,
        scopes=scopes,
        via_token=via_token,
    )


def user(scopes: frozenset[Scope] = frozenset(Scope), *, via_token: bool = False) -> Principal:
    return Principal(
        login_id=uuid4(),
        email="user@x.test",
        account_id=OWN,
        user_id=uuid4(),
        role=Role.USER,
        scopes=scopes,
        via_token=via_token,
    )


def staff() -> Principal:
    # Support staff act on whichever account they chose to inspect.
    return Principal(login_id=uuid4(), email="support@x.test", account_id=OTHER, is_staff=True)


@dataclass(frozen=True)
class Row:
    who: str
    account: uuid.UUID
    obj: str
    act: str
    allowed: bool

    def __str__(self) -> str:
        where = "own" if self.account == OWN else "other"
        verdict = "allow" if self.allowed else "deny"
        return f"{self.who}-{where}-{self.obj}-{self.act}-{verdict}"


PRINCIPALS = {"admin": admin, "user": user, "support": staff}

USER_GRANTS = {
    ("account", "read"),
    ("users", "read"),
    ("api_tokens:own", "read"),
    ("api_tokens:own", "write"),
}

ROWS: list[Row] = [
    # R19: an admin may do everything in its own account, and nothing in another one.
    *(Row("admin", OWN, obj, act, True) for obj in ADMIN_OBJECTS for act in ("read", "write")),
    *(Row("admin", OTHER, obj, act, False) for obj in ADMIN_OBJECTS for act in ("read", "write")),
    # A plain user reads the account and its users and manages only their own tokens.
    *(
        Row("user", OWN, obj, act, (obj, act) in USER_GRANTS)
        for obj in ADMIN_OBJECTS
        for act in ("read", "write")
    ),
    *(Row("user", OTHER, obj, act, False) for obj in ADMIN_OBJECTS for act in ("read", "write")),
    # Support staff read every account, their own choice or any other, but never write.
    *(Row("support", acc, obj, "read", True) for acc in (OWN, OTHER) for obj in ADMIN_OBJECTS),
    *(Row("support", acc, obj, "write", False) for acc in (OWN, OTHER) for obj in ADMIN_OBJECTS),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_role_permissions_by_account_object_and_action(authz: Authorizer, row: Row) -> None:
    principal = PRINCIPALS[row.who]()
    assert authz.allowed(principal, row.account, row.obj, row.act) is row.allowed


def test_user_cannot_write_users_or_settings_nor_read_audit_log(authz: Authorizer) -> None:
    member = user()
    assert authz.allowed(member, OWN, "users", "read")
    assert not authz.allowed(member, OWN, "users", "write")
    assert not authz.allowed(member, OWN, "settings", "write")
    assert not authz.allowed(member, OWN, "audit_log", "read")


@dataclass(frozen=True)
class TokenRow:
    name: str
    role: Role
    scopes: frozenset[Scope]
    obj: str
    act: str
    allowed: bool


READ = frozenset({Scope.READ})
READ_WRITE = frozenset({Scope.READ, Scope.WRITE})
ALL = frozenset(Scope)

TOKEN_ROWS: list[TokenRow] = [
    TokenRow("admin-read-token-reads-users", Role.ADMIN, READ, "users", "read", True),
    TokenRow(
        "admin-read-token-cannot-write-tokens", Role.ADMIN, READ, "api_tokens:own", "write", False
    ),
    TokenRow("admin-read-token-cannot-write-users", Role.ADMIN, READ, "users", "write", False),
    TokenRow(
        "admin-write-token-cannot-write-users", Role.ADMIN, READ_WRITE, "users", "write", False
    ),
    TokenRow(
        "admin-write-token-cannot-write-settings",
        Role.ADMIN,
        READ_WRITE,
        "settings",
        "write",
        False,
    ),
    TokenRow(
        "admin-write-token-cannot-read-audit-log",
        Role.ADMIN,
        READ_WRITE,
        "audit_log",
        "read",
        False,
    ),
    TokenRow(
        "admin-write-token-writes-own-tokens",
        Role.ADMIN,
        READ_WRITE,
        "api_tokens:own",
        "write",
        True,
    ),
    TokenRow("admin-admin-token-writes-users", Role.ADMIN, ALL, "users", "write", True),
    TokenRow("admin-admin-token-writes-settings", Role.ADMIN, ALL, "settings", "write", True),
    TokenRow("admin-admin-token-reads-audit-log", Role.ADMIN, ALL, "audit_log", "read", True),
    # The admin scope never lifts a plain user above their role.
    TokenRow("user-admin-token-cannot-write-users", Role.USER, ALL, "users", "write", False),
    TokenRow(
        "user-read-token-cannot-write-own-tokens", Role.USER, READ, "api_tokens:own", "write", False
    ),
    TokenRow(
        "user-write-token-writes-own-tokens", Role.USER, READ_WRITE, "api_tokens:own", "write", True
    ),
]


@pytest.mark.parametrize("row", TOKEN_ROWS, ids=lambda row: row.name)
def test_token_scopes_narrow_role_permissions(authz: Authorizer, row: TokenRow) -> None:
    make = admin if row.role is Role.ADMIN else user
    principal = make(row.scopes, via_token=True)
    assert authz.allowed(principal, OWN, row.obj, row.act) is row.allowed


def test_token_scopes_never_widen_into_another_account(authz: Authorizer) -> None:
    assert not authz.allowed(admin(ALL, via_token=True), OTHER, "account", "read")


@pytest.mark.parametrize(
    ("principal", "account", "obj", "act", "fragment"),
    [
        (staff(), OTHER, "settings", "write", "read-only"),
        (admin(READ, via_token=True), OWN, "settings", "write", "write scope"),
        (admin(READ_WRITE, via_token=True), OWN, "users", "write", "admin scope"),
        (user(), OWN, "settings", "write", "ask an admin"),
        (user(), OWN, "audit_log", "read", "read audit log"),
        (admin(), OTHER, "users", "read", "ask an admin"),
    ],
    ids=[
        "support-write-is-read-only",
        "read-token-needs-write-scope",
        "token-needs-admin-scope",
        "user-told-to-ask-admin",
        "message-names-object-readably",
        "foreign-account-refused",
    ],
)
def test_require_raises_forbidden_with_actionable_message(
    authz: Authorizer,
    *,
    principal: Principal,
    account: uuid.UUID,
    obj: str,
    act: str,
    fragment: str,
) -> None:
    with pytest.raises(Forbidden, match=fragment) as caught:
        authz.require(principal, account, obj, act)
    assert caught.value.code == "FORBIDDEN"
    assert "_" not in caught.value.message  # object names are spelled for people


def test_require_passes_silently_when_allowed(authz: Authorizer) -> None:
    authz.require(admin(), OWN, "settings", "write")
    authz.require(staff(), OWN, "audit_log", "read")


def test_principal_without_role_or_staff_flag_is_refused(authz: Authorizer) -> None:
    nobody = Principal(login_id=uuid4(), email="n@x.test", account_id=OWN, user_id=uuid4())
    assert not authz.allowed(nobody, OWN, "account", "read")


def test_checks_leave_no_role_behind(authz: Authorizer) -> None:
    # Groupings live only for one check; a later check of a role-less principal with the
    # same user id must not inherit the admin role.
    same_user = uuid4()
    was_admin = Principal(
        login_id=uuid4(), email="a@x.test", account_id=OWN, user_id=same_user, role=Role.ADMIN
    )
    assert authz.allowed(was_admin, OWN, "settings", "write")
    demoted = Principal(login_id=uuid4(), email="a@x.test", account_id=OWN, user_id=same_user)
    assert not authz.allowed(demoted, OWN, "settings", "write")


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
