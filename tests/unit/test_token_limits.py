"""Issue 12, defect 1: what a credential may put into a new API token (pure rule).

Every creator credential (a web session, or a token of each scope combination the web
admin offers) against every scope combination asked for, for an admin and a plain user
(R19): a new token never holds more than its creator, nor outlives it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from sendtrail.errors import Forbidden
from sendtrail.tenancy.permissions import new_token_expiry, refuse_lasting_grant
from sendtrail.tenancy.values import Principal, Role, Scope

READ, WRITE, ADMIN, SEND = Scope.READ, Scope.WRITE, Scope.ADMIN, Scope.SEND
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)

# What each combination the web admin offers holds (admin includes write includes read
# and send; send, for the SMTP relay, includes nothing else), written out by hand rather
# than asked of the code under test.
HOLDS: dict[str, tuple[frozenset[Scope], frozenset[Scope]]] = {
    "read": (frozenset({READ}), frozenset({READ})),
    "send": (frozenset({SEND}), frozenset({SEND})),
    "read+send": (frozenset({READ, SEND}), frozenset({READ, SEND})),
    "write": (frozenset({WRITE}), frozenset({READ, WRITE, SEND})),
    "admin": (frozenset({ADMIN}), frozenset({READ, WRITE, ADMIN, SEND})),
    "read+write": (frozenset({READ, WRITE}), frozenset({READ, WRITE, SEND})),
    "read+admin": (frozenset({READ, ADMIN}), frozenset({READ, WRITE, ADMIN, SEND})),
    "write+admin": (frozenset({WRITE, ADMIN}), frozenset({READ, WRITE, ADMIN, SEND})),
    "read+write+admin": (frozenset({READ, WRITE, ADMIN}), frozenset(Scope)),
}


def creator(role: Role, credential: str, expires_at: datetime | None = None) -> Principal:
    via_token = credential != "session"
    return Principal(
        login_id=uuid4(), email="a@x.test", account_id=uuid4(), user_id=uuid4(), role=role,
        scopes=HOLDS[credential][0] if via_token else frozenset(Scope), via_token=via_token,
        expires_at=expires_at,
    )


CASES = [
    (role, made_with, asked)
    for role in Role
    for made_with in ("session", *HOLDS)
    for asked in HOLDS
]


@pytest.mark.parametrize(("role", "made_with", "asked"), CASES,
                         ids=[f"{r.value}-{m}-asks-{a}" for r, m, a in CASES])
def test_a_new_token_never_holds_more_than_its_creator(
    role: Role, made_with: str, asked: str
) -> None:
    # A session creates up to its user's role; a token up to its own scopes (R19).
    held_by_creator = frozenset(Scope) if made_with == "session" else HOLDS[made_with][1]
    if role is Role.USER:
        held_by_creator -= {ADMIN}  # a plain user's tokens never have the admin scope
    allowed = HOLDS[asked][1] <= held_by_creator
    wanted = HOLDS[asked][0]
    if allowed:
        assert new_token_expiry(creator(role, made_with), owner_role=role, scopes=wanted,
                                expires_at=None) is None
    else:
        with pytest.raises(Forbidden) as refused:
            new_token_expiry(creator(role, made_with), owner_role=role, scopes=wanted,
                             expires_at=None)
        assert refused.value.code == "FORBIDDEN"
        assert "admin" in refused.value.message or "scopes" in refused.value.message


def test_the_refusal_names_what_the_creator_holds_and_what_was_asked() -> None:
    with pytest.raises(Forbidden) as refused:
        new_token_expiry(creator(Role.ADMIN, "read+write"), owner_role=Role.ADMIN,
                         scopes=frozenset({READ, WRITE, ADMIN}), expires_at=None)
    message = refused.value.message
    assert "has the scopes read, write" in message
    assert "(admin asked for)" in message
    assert "web admin" in message  # where to get a stronger token instead


def test_an_admin_session_may_make_an_admin_token_for_another_admin_only() -> None:
    session = creator(Role.ADMIN, "session")
    assert new_token_expiry(session, owner_role=Role.ADMIN, scopes=frozenset(Scope),
                            expires_at=None) is None
    with pytest.raises(Forbidden, match="Only an admin's token"):
        new_token_expiry(session, owner_role=Role.USER, scopes=frozenset(Scope),
                         expires_at=None)


IN_10_MIN = NOW + timedelta(minutes=10)
IN_5_MIN = NOW + timedelta(minutes=5)
NEXT_YEAR = NOW + timedelta(days=365)


@pytest.mark.parametrize(
    ("made_with", "creator_expires", "asked", "gets"),
    [
        ("session", None, None, None),
        ("session", None, NEXT_YEAR, NEXT_YEAR),
        ("token", None, None, None),
        ("token", None, NEXT_YEAR, NEXT_YEAR),
        ("token", IN_10_MIN, None, IN_10_MIN),  # no expiry asked: the creator's
        ("token", IN_10_MIN, IN_5_MIN, IN_5_MIN),
        ("token", IN_10_MIN, IN_10_MIN, IN_10_MIN),
        ("token", IN_10_MIN, NEXT_YEAR, "refused"),
    ],
    ids=["session-never", "session-dated", "lasting-token-never", "lasting-token-dated",
         "expiring-token-never-gets-its-expiry", "expiring-token-sooner",
         "expiring-token-same", "expiring-token-later-refused"],
)
def test_a_token_made_with_a_token_never_outlives_it(
    made_with: str, creator_expires: datetime | None, asked: datetime | None,
    gets: datetime | str | None,
) -> None:
    maker = creator(Role.ADMIN, "session" if made_with == "session" else "read+write+admin",
                    creator_expires)
    if gets == "refused":
        with pytest.raises(Forbidden) as refused:
            new_token_expiry(maker, owner_role=Role.ADMIN, scopes=frozenset({READ}),
                             expires_at=asked)
        assert "2026-12-03 10:10:00 UTC" in refused.value.message
        assert "leave expiresAt out" in refused.value.message
    else:
        assert new_token_expiry(maker, owner_role=Role.ADMIN, scopes=frozenset({READ}),
                                expires_at=asked) == gets


@pytest.mark.parametrize(
    ("made_with", "expires", "refused"),
    [("session", None, False), ("read+write+admin", None, False),
     ("read+write+admin", IN_10_MIN, True), ("admin", IN_10_MIN, True)],
    ids=["session", "lasting-token", "expiring-token", "expiring-admin-only-token"],
)
def test_only_credentials_that_do_not_expire_make_lasting_grants(
    made_with: str, expires: datetime | None, refused: bool
) -> None:
    # Issue 12, defect 1 (class): an admin role or a webhook endpoint outlives the token.
    maker = creator(Role.ADMIN, made_with, expires)
    if refused:
        with pytest.raises(Forbidden, match="expires on 2026-12-03 10:10:00 UTC"):
            refuse_lasting_grant(maker, what="make someone an admin")
    else:
        refuse_lasting_grant(maker, what="make someone an admin")
