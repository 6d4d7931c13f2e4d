"""Issue 12, defect 6: failed sign-ins slow the attacker down, they never lock the victim out.

Five wrong passwords used to lock any known address, admins included, for 15 minutes.
Now each address gets a few free failures, then every further attempt waits 1 s, 2 s,
4 s ... at most a minute after the last failure; the per-client-address limit stays; and
the right password works as soon as the short wait has passed. All of it is stored in
the database, so every node enforces the same wait. Time moves with the app's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from support import PASSWORD, FakeClock, Tenant, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.settings import Settings

WRONG = "not the password"
CAP = 60


def login(client: TestClient[Any], email: str, password: str = PASSWORD) -> Any:
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code in (200, 401, 429), response.text
    return response


def wait_of(response: Any) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    return int(response.headers["retry-after"])


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme"))


def test_wrong_passwords_never_lock_an_admin_out_for_more_than_a_minute(
    app: TestClient[Any], clock: FakeClock, tenant: Tenant
) -> None:
    # Issue 12, defect 6: an attacker who knows the admin's address keeps guessing.
    waits = []
    for _ in range(3):
        assert login(app, tenant.admin_email, WRONG).status_code == 401  # a few free tries
    for _ in range(8):
        waits.append(wait_of(login(app, tenant.admin_email, WRONG)))
        clock.advance(waits[-1])
        assert login(app, tenant.admin_email, WRONG).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, CAP, CAP]  # doubling, capped at a minute
    # The admin, with the right password, gets in once the short wait has passed.
    assert wait_of(login(app, tenant.admin_email)) == CAP
    clock.advance(CAP)
    signed_in = login(app, tenant.admin_email)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["role"] == "ADMIN"


def test_attempts_refused_during_the_wait_do_not_lengthen_it(
    app: TestClient[Any], clock: FakeClock, tenant: Tenant
) -> None:
    for _ in range(4):
        login(app, tenant.admin_email, WRONG)
        clock.advance(1)
    first = wait_of(login(app, tenant.admin_email, WRONG))
    for _ in range(30):  # hammering while refused tests no password and counts for nothing
        assert wait_of(login(app, tenant.admin_email, WRONG)) <= first
    clock.advance(first)
    assert login(app, tenant.admin_email).status_code == 200


def test_the_right_password_waits_like_any_other_attempt(
    app: TestClient[Any], clock: FakeClock, tenant: Tenant
) -> None:
    # The wait comes before the password check, or the answer would confirm a guess.
    for _ in range(3):
        login(app, tenant.admin_email, WRONG)
    assert wait_of(login(app, tenant.admin_email)) == 1
    assert "st_session" not in app.cookies
    variant = login(app, f"  {tenant.admin_email.upper()} ")  # case and spaces share it
    assert wait_of(variant) == 1
    clock.advance(1)
    assert login(app, tenant.admin_email).status_code == 200


def test_the_wait_of_one_address_leaves_the_others_alone(
    app: TestClient[Any], database_url: str, tenant: Tenant
) -> None:
    other = run(seed_tenant(database_url, "Beta"))
    for _ in range(5):
        login(app, tenant.admin_email, WRONG)
    assert login(app, tenant.admin_email).status_code == 429
    assert login(app, other.admin_email).status_code == 200


def test_one_client_address_is_still_limited_across_all_addresses(
    app: TestClient[Any], clock: FakeClock, tenant: Tenant
) -> None:
    # The per-client-address limit stays: 20 failures per 15 minutes, whatever the email.
    for number in range(20):
        assert login(app, f"guess{number}@acme.test", WRONG).status_code == 401
    refused = login(app, tenant.admin_email)
    assert wait_of(refused) > CAP
    assert "minute" in refused.json()["error"]["message"]
    clock.advance(15 * 60)
    assert login(app, tenant.admin_email).status_code == 200


@pytest.fixture
def second_node(settings: Settings, clock: FakeClock) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings, clock=clock),
                    base_url="http://testserver.local") as node:
        yield node


def test_every_node_enforces_the_same_wait(
    app: TestClient[Any], second_node: TestClient[Any], clock: FakeClock, tenant: Tenant
) -> None:
    for node in (app, second_node, app):
        assert login(node, tenant.admin_email, WRONG).status_code == 401
    assert wait_of(login(second_node, tenant.admin_email, WRONG)) == 1
    clock.advance(1)
    assert login(second_node, tenant.admin_email).status_code == 200
