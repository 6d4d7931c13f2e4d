"""Issue 12, defect 14: ``policy.csv`` names only registered objects, actions and roles.

The registry (``AuthzObject``, ``AuthzAction``) is what every check in the code names;
the policy is data. A misspelt object in the policy would silently grant nothing, and an
object no policy line names would be reachable by admins (``*``) only without anyone
having decided so: both fail here.
"""

from __future__ import annotations

import ast
import csv
from importlib import resources
from pathlib import Path

import pytest

from sendtrail.tenancy.authz import FEATURES
from sendtrail.tenancy.permissions import AuthzAction, AuthzObject
from sendtrail.tenancy.values import Role, Seat

PACKAGE = Path(str(resources.files("sendtrail")))

#: Objects only admins (through ``*``) and support staff (reading ``*``) reach, on purpose:
#: plain users neither change the account nor read other people's work (R19).
ADMIN_ONLY = {
    AuthzObject.SETTINGS: "account-wide switches are an admin's (R16, R18)",
    AuthzObject.AUDIT_LOG: "who did what in the account is for admins",
    AuthzObject.API_TOKENS_ALL: "other users' credentials",
    AuthzObject.EMAILS_OF_OTHERS: "sending in another user's name",
    AuthzObject.ACCOUNT_REPORTS: "reports over every sender's emails",
    AuthzObject.WEBHOOKS: "webhooks send the account's activity out of it",
    AuthzObject.OUTBOUND_MAIL: "the server all the account's mail goes through, its logins",
}


def policy_lines() -> list[list[str]]:
    text = (resources.files("sendtrail.tenancy") / "policy.csv").read_text()
    rows = csv.reader(line for line in text.splitlines() if line and not line.startswith("#"))
    return [[cell.strip() for cell in row] for row in rows]


def test_policy_has_only_permission_lines() -> None:
    assert {row[0] for row in policy_lines()} == {"p"}
    assert all(len(row) == 5 for row in policy_lines())


def test_every_role_permission_names_a_registered_object_and_action() -> None:
    subjects = {role.value for role in Role} | {"support"}
    for _, subject, domain, obj, act in policy_lines():
        if subject.startswith("seat:"):
            continue
        assert subject in subjects, subject
        assert domain == "*"  # permissions hold in every account; roles are per account
        assert obj == "*" or obj in set(AuthzObject), f"{obj!r} is not an AuthzObject"
        assert act == "*" or act in set(AuthzAction), f"{act!r} is not an AuthzAction"


def test_every_seat_entitlement_names_a_seat_and_a_registered_feature() -> None:
    for _, subject, _domain, obj, act in policy_lines():
        if not subject.startswith("seat:"):
            continue
        assert Seat(subject.removeprefix("seat:"))
        assert obj.removeprefix("feature:") in FEATURES, obj
        assert act == "use"


def test_each_object_is_granted_to_plain_users_or_deliberately_admin_only() -> None:
    named = {row[3] for row in policy_lines() if row[1] == Role.USER.value}
    for obj in AuthzObject:
        assert (obj.value in named) != (obj in ADMIN_ONLY), (
            f"{obj.value}: name it in policy.csv for users, or list it in ADMIN_ONLY"
        )


def test_admins_and_support_reach_every_object_by_wildcard() -> None:
    lines = {tuple(row[1:]) for row in policy_lines()}
    assert ("admin", "*", "*", "read") in lines
    assert ("admin", "*", "*", "write") in lines
    assert ("support", "*", "*", "read") in lines
    assert not any(row[1] == "support" and row[4] != "read" for row in policy_lines())


def _enforce_calls() -> list[tuple[Path, int, ast.Call]]:
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"require", "allowed", "refusal"}):
                calls.append((path, node.lineno, node))
    return calls


def test_the_code_checks_permissions_in_many_places() -> None:
    assert len(_enforce_calls()) > 20  # the scan below would pass vacuously otherwise


@pytest.mark.parametrize("where", _enforce_calls(),
                         ids=lambda where: f"{where[0].relative_to(PACKAGE)}:{where[1]}")
def test_no_permission_check_names_a_free_string(where: tuple[Path, int, ast.Call]) -> None:
    # Every enforce call names the registry, so mypy refuses a typo (issue 12, defect 14).
    _, _, call = where
    for argument in (*call.args, *(keyword.value for keyword in call.keywords)):
        assert not (isinstance(argument, ast.Constant) and isinstance(argument.value, str))
