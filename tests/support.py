"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a synchronous test (the app's TestClient owns its own loop)."""
    return asyncio.run(coroutine)


# --- seeding tenants ---------------------------------------------------------------------

import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from litestar.testing import TestClient  # noqa: E402
from litestar.testing.websocket_test_session import WebSocketTestSession  # noqa: E402

from sendtrail.db.engine import Database  # noqa: E402
from sendtrail.db.types import utcnow  # noqa: E402
from sendtrail.sending.values import SmtpEndpoint  # noqa: E402
from sendtrail.settings import Settings  # noqa: E402
from sendtrail.tenancy.onboarding import create_account  # noqa: E402
from sendtrail.tenancy.tokens import create_api_token  # noqa: E402
from sendtrail.tenancy.users import add_user_row  # noqa: E402
from sendtrail.tenancy.values import Principal, Role, Scope, Seat  # noqa: E402

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Tenant:
    account_id: str
    slug: str
    admin_id: str
    admin_email: str
    admin_token: str
    """Admin user, token with read+write+admin scopes."""
    user_id: str
    user_email: str
    user_token: str
    """Plain user on a free seat, token with read+write scopes."""


async def seed_tenant(url: str, name: str, *, seats: dict[Seat, int] | None = None) -> Tenant:
    """An account with an admin (password PASSWORD) and a free-seat user, each with a token."""
    database = Database(url)
    slug = name.lower().replace(" ", "-")
    try:
        async with database.session(account_id=None) as session:
            account, admin = await create_account(
                session,
                name=name,
                admin_email=f"admin@{slug}.test",
                admin_password=PASSWORD,
                seats={Seat.SALES_STARTER: 1} if seats is None else seats,
            )
        async with database.session(account_id=account.id) as session:
            user = await add_user_row(
                session, account.id, email=f"user@{slug}.test", name="Uma User",
                role=Role.USER, seat=Seat.FREE,
            )
            await session.commit()
            tokens = []
            for person, scopes in (
                (admin, {Scope.READ, Scope.WRITE, Scope.ADMIN}),
                (user, {Scope.READ, Scope.WRITE}),
            ):
                actor = Principal(login_id=uuid.uuid4(), email=person.email,
                                  account_id=account.id, user_id=person.id,
                                  role=Role(person.role))
                _, secret = await create_api_token(
                    session, actor, account.id, name="test", scopes=frozenset(scopes),
                    now=utcnow(),
                )
                tokens.append(secret)
        return Tenant(
            account_id=str(account.id), slug=account.slug,
            admin_id=str(admin.id), admin_email=admin.email, admin_token=tokens[0],
            user_id=str(user.id), user_email=user.email, user_token=tokens[1],
        )
    finally:
        await database.dispose()


def gql(
    client: TestClient[Any],
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation; asserts a 200 JSON answer and returns the body."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    response = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    # Whatever a test sends, a person's input never comes back as a masked server error.
    assert "INTERNAL_SERVER_ERROR" not in error_codes(body), body
    return body


def gql_data(
    client: TestClient[Any],
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    field: str,
) -> Any:
    """POST an operation that must succeed (no errors) and return ``data[field]``."""
    body = gql(client, query, variables, token=token)
    assert body.get("errors") is None, body
    return body["data"][field]


def gql_ok(client: TestClient[Any], token: str, query: str,
           variables: dict[str, Any] | None = None) -> Any:
    """POST an operation that must succeed (no errors) and return its whole ``data``."""
    body = gql(client, query, variables, token=token)
    assert body.get("errors") is None, body
    return body["data"]


@contextmanager
def subscribed(client: TestClient[Any], token: str,
               query: str) -> Iterator[WebSocketTestSession]:
    """A graphql-transport-ws socket authenticated with ``token`` and subscribed to ``query``."""
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init",
                          "payload": {"authorization": f"Bearer {token}"}})
        assert socket.receive_json(timeout=5)["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        yield socket
        socket.send_json({"id": "1", "type": "complete"})


class FromAddress:
    """The app as seen from a client address the test chooses (and may change between
    requests); litestar's TestClient says 'testclient'."""

    def __init__(self, app: Any, address: str) -> None:
        self.app, self.address = app, address

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (self.address, 50000)}
        await self.app(scope, receive, send)


def engagement_nodes(email: dict[str, Any]) -> list[dict[str, Any]]:
    """The engagements of an ``email { engagements { edges { node … } } }`` answer."""
    return [edge["node"] for edge in email["engagements"]["edges"]]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    """The one error of a refused operation, as (code, message); nothing was returned."""
    assert body["data"] is None or all(v is None for v in body["data"].values()), body
    (error,) = body["errors"]
    return error["extensions"]["code"], error["message"]


class FakeClock:
    """A clock tests move by hand (the app's only time source, see ``create_app``)."""

    def __init__(self) -> None:
        from datetime import UTC, datetime  # noqa: PLC0415

        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta  # noqa: PLC0415

        self.now += timedelta(seconds=seconds)


# --- people other than a tenant's admin and user --------------------------------------------

STAFF_PASSWORD = "support-staff-password"


async def _grant_support(url: str, email: str) -> None:
    from sendtrail.tenancy.auth import grant_support  # noqa: PLC0415

    database = Database(url)
    try:
        async with database.session(account_id=None) as session:
            await grant_support(session, email=email, password=STAFF_PASSWORD)
    finally:
        await database.dispose()


def grant_support_staff(url: str, email: str) -> None:
    """A support staff login (no account), password STAFF_PASSWORD."""
    run(_grant_support(url, email))


def sign_in_as_staff(client: TestClient[Any], email: str) -> dict[str, str]:
    """Sign in a granted staff member; the headers their cookie session's writes need."""
    response = client.post("/auth/login", json={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["isStaff"] is True
    return {"X-CSRF-Token": response.json()["csrfToken"]}


def set_seats_purchased(database_url: str, account_id: str, seat: str, quantity: int) -> None:
    """What the account has bought of ``seat`` (purchases have no API: set in the database)."""
    from sqlalchemy import text  # noqa: PLC0415

    from sendtrail.db.engine import create_sync_engine  # noqa: PLC0415

    stored_id = account_id.replace("-", "") if database_url.startswith("sqlite") else account_id
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE seat_purchase SET quantity = :q WHERE seat = :s "
                              "AND account_id = :a"), {"q": quantity, "s": seat, "a": stored_id})
    finally:
        engine.dispose()


def give_admin_a_paid_seat(client: TestClient[Any], database_url: str, tenant: Tenant) -> None:
    """Buy one Sales Starter seat and assign it to the admin."""
    set_seats_purchased(database_url, tenant.account_id, "sales_starter", 1)
    body = gql(client, 'mutation($id: ID!) { updateUser(input: {id: $id, seat: SALES_STARTER}) '
               '{ seat } }', {"id": tenant.admin_id}, token=tenant.admin_token)
    assert body["data"]["updateUser"]["seat"] == "SALES_STARTER", body


# --- what a prepared email carries ---------------------------------------------------------

def pixel_path(html: str) -> str:
    """The path of the tracking pixel in HTML prepared for the test server's host."""
    import re  # noqa: PLC0415

    match = re.search(r'<img src="http://testserver\.local(/o/[^"]+\.gif)"', html)
    assert match, html
    return match.group(1)


def link_paths(html: str) -> list[str]:
    """The paths of the tracked links in HTML prepared for the test server's host."""
    import re  # noqa: PLC0415

    return re.findall(r'href="http://testserver\.local(/c/[^"]+)"', html)


# --- the delivery worker, run by hand ------------------------------------------------------

def deliver_queued(settings: Settings, clock: Callable[[], datetime] | None = None) -> int:
    """One pass of a delivery worker (``settings.sending``, which serves every account) over
    the queued copies: the attempts it made. ``clock`` defaults to the real one."""
    from sendtrail.secretbox import secret_box  # noqa: PLC0415
    from sendtrail.sending.worker import DeliveryWorker  # noqa: PLC0415

    async def once() -> int:
        database = Database(settings.database.url)
        worker = DeliveryWorker(database, settings.sending, box=secret_box(settings.secrets.keys),
                                clock=clock or utcnow)
        try:
            return await worker.run_once()
        finally:
            await database.dispose()

    return run(once())


def give_upstream(client: TestClient[Any], tenant: Tenant, endpoint: SmtpEndpoint,
                  **fields: Any) -> None:
    """The account's outbound mail (R26) through ``endpoint`` (an upstream sink's), as its
    admin sets it in Settings → Outbound mail; ``fields`` add to or override the input."""
    body = gql(client, "mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) "
               "{ configured } }", {"i": {
                   "host": endpoint.host, "port": endpoint.port,
                   "security": endpoint.security.name, "username": endpoint.username,
                   "password": endpoint.password, **fields}}, token=tenant.admin_token)
    assert body.get("errors") is None, body
    assert body["data"]["updateOutboundMail"]["configured"] is True


def rows_mentioning(database_url: str, needles: list[str]) -> list[tuple[str, str]]:
    """(table, row) of every stored row, in every table, that contains one of ``needles``."""
    from sqlalchemy import select  # noqa: PLC0415
    from sqlmodel import SQLModel  # noqa: PLC0415

    from sendtrail.db.engine import create_sync_engine  # noqa: PLC0415
    from sendtrail.migrations import register_all_tables  # noqa: PLC0415

    register_all_tables()
    engine = create_sync_engine(database_url)
    found = []
    try:
        with engine.connect() as connection:
            for table in SQLModel.metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    text = str(tuple(row)).lower()
                    if any(needle.lower() in text for needle in needles):
                        found.append((table.name, text))
    finally:
        engine.dispose()
    return found
