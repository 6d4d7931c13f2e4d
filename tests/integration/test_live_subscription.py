"""The engagementNotifications subscription over graphql-transport-ws, in one process
(every node's view: the cross-node path is tests/e2e/test_live_notifications.py): who may
open the socket (R22, tenant isolation), what arrives, the preference, the timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from queue import Empty
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession
from support import PASSWORD, FakeClock, Tenant, gql, pixel_path, run, seed_tenant

from sendtrail.app import create_app
from sendtrail.settings import Settings

SUBSCRIBE = ("subscription { engagementNotifications { id type who contactName emailId "
             "emailSubject linkUrl message } }")
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { html } } }"""
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
PROTOCOL = ["graphql-transport-ws"]


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))


@contextmanager
def _connect(client: TestClient[Any], payload: dict[str, Any] | None,
             **headers: str) -> Iterator[WebSocketTestSession]:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL,
                                  headers=headers) as socket:
        socket.send_json({"type": "connection_init",
                          **({"payload": payload} if payload is not None else {})})
        yield socket


@contextmanager
def _subscribed(client: TestClient[Any], token: str) -> Iterator[WebSocketTestSession]:
    with _connect(client, {"authorization": f"Bearer {token}"}) as socket:
        ack = socket.receive_json(timeout=5)
        assert ack["type"] == "connection_ack", ack
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        yield socket
        socket.send_json({"id": "1", "type": "complete"})


def _prepare(client: TestClient[Any], clock: FakeClock, tenant: Tenant, subject: str) -> str:
    """A tracked email's pixel path, loadable as a human (scanners open at once: R10)."""
    body = gql(client, PREPARE, {"i": {
        "subject": subject, "html": "<p>Hello <a href='https://shop.test/a'>a</a></p>",
        "recipients": [{"address": "ann@client.test"}]}}, token=tenant.admin_token)
    html = body["data"]["prepareEmail"]["messages"][0]["html"]
    clock.advance(5)
    return pixel_path(html)


def _next(socket: WebSocketTestSession, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = socket.receive_json(timeout=timeout)
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["engagementNotifications"]
    return data


def test_a_human_open_reaches_its_sender_live(app_client: TestClient[Any], clock: FakeClock,
                                              acme: Tenant) -> None:
    with _subscribed(app_client, acme.admin_token) as socket:
        pixel = _prepare(app_client, clock, acme, "Proposal")
        assert app_client.get(pixel, headers={"User-Agent": CHROME}).status_code == 200
        note = _next(socket)
    assert note["type"] == "OPEN"
    assert note["who"] == "ann@client.test"
    assert note["contactName"] is None  # the email named no one; the contact has no name
    assert note["emailSubject"] == "Proposal"
    assert note["message"] == "ann@client.test opened \u201cProposal\u201d"


def test_a_live_notification_names_the_contact_but_never_someone(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant
) -> None:
    """Issue 15, item 7: the toast says who, by name when known; 'Someone' stays anonymous
    even when the people who share the pixel have names (R15)."""
    named = gql(app_client, PREPARE, {"i": {
        "subject": "Named", "html": "<p>Hello</p>",
        "recipients": [{"address": "ann@client.test", "name": "Ann Archer"}]}},
        token=acme.admin_token)["data"]["prepareEmail"]["messages"][0]["html"]
    shared = gql(app_client, PREPARE, {"i": {
        "subject": "Shared", "html": "<p>Hello</p>",
        "recipients": [{"address": "ann@client.test", "name": "Ann Archer"},
                       {"address": "ben@client.test", "name": "Ben Baker"}]}},
        token=acme.admin_token)["data"]["prepareEmail"]["messages"][0]["html"]
    clock.advance(5)
    with _subscribed(app_client, acme.admin_token) as socket:
        app_client.get(pixel_path(named), headers={"User-Agent": CHROME})
        first = _next(socket)
        app_client.get(pixel_path(shared), headers={"User-Agent": CHROME})
        second = _next(socket)
    assert (first["who"], first["contactName"]) == ("ann@client.test", "Ann Archer")
    assert (second["who"], second["contactName"]) == ("Someone", None)


def test_a_logged_reply_notifies_its_sender_live(app_client: TestClient[Any], clock: FakeClock,
                                                 acme: Tenant) -> None:
    """R22 + R24: a reply logged over the API is an engagement like a pixel hit."""
    prepared = gql(app_client, """mutation { prepareEmail(input: {subject: "Quote",
      html: "<p>Our quote</p>", recipients: [{address: "ann@client.test"}]}) {
      messages { messageId } } }""", token=acme.admin_token)["data"]["prepareEmail"]
    with _subscribed(app_client, acme.admin_token) as socket:
        logged = gql(app_client, "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }",
                     {"i": {"subject": "Re: Quote", "text": "Yes please",
                            "from": {"address": "ann@client.test"},
                            "recipients": [{"address": acme.admin_email}],
                            "inReplyTo": prepared["messages"][0]["messageId"]}},
                     token=acme.admin_token)
        assert logged.get("errors") is None, logged
        notes = [_next(socket), _next(socket)]
    # The reply, and the open it implies (the pixel never loaded: R7), in either order.
    assert sorted(note["message"] for note in notes) == [
        "ann@client.test opened \u201cQuote\u201d",
        "ann@client.test replied to \u201cQuote\u201d",
    ]


def test_the_preference_none_silences_and_opens_resumes(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant
) -> None:
    mutation = ("mutation($p: NotificationPreference!) { updateNotificationPreference("
                "preference: $p) { notificationPreference } }")
    body = gql(app_client, mutation, {"p": "NONE"}, token=acme.admin_token)
    assert body["data"]["updateNotificationPreference"]["notificationPreference"] == "NONE"
    with _subscribed(app_client, acme.admin_token) as socket:
        silenced = _prepare(app_client, clock, acme, "Silenced")
        app_client.get(silenced, headers={"User-Agent": CHROME})  # returns once stored
        # The preference is read as the event reaches the socket: let it get there first.
        with pytest.raises(Empty):
            socket.receive_json(timeout=0.5)
        gql(app_client, mutation, {"p": "OPENS"}, token=acme.admin_token)
        heard = _prepare(app_client, clock, acme, "Heard")
        app_client.get(heard, headers={"User-Agent": CHROME})
        assert _next(socket)["emailSubject"] == "Heard"  # the silenced open never came


def test_a_revoked_token_stops_its_socket_before_the_next_notification(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant
) -> None:
    created = gql(app_client, 'mutation { createApiToken(input: {name: "phone"}) { '
                  'apiToken { id } secret } }', token=acme.admin_token)["data"]["createApiToken"]
    with _subscribed(app_client, created["secret"]) as socket:
        revoked = gql(app_client, "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
                      {"id": created["apiToken"]["id"]}, token=acme.admin_token)
        assert revoked.get("errors") is None, revoked
        pixel = _prepare(app_client, clock, acme, "After revocation")
        app_client.get(pixel, headers={"User-Agent": CHROME})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json(timeout=5)  # the close, not the notification
    assert closed.value.code == 4403


def test_the_web_admin_session_cookie_opens_the_socket_until_sign_out(
    app_client: TestClient[Any], clock: FakeClock, acme: Tenant
) -> None:
    signed_in = app_client.post("/auth/login", json={"email": acme.admin_email,
                                                     "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    cookie, csrf = signed_in.cookies["st_session"], signed_in.json()["csrfToken"]
    app_client.cookies.clear()
    with _connect(app_client, {}, cookie=f"st_session={cookie}") as socket:
        assert socket.receive_json(timeout=5)["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        first = _prepare(app_client, clock, acme, "Seen in the browser")
        app_client.get(first, headers={"User-Agent": CHROME})
        assert _next(socket)["emailSubject"] == "Seen in the browser"
        signed_out = app_client.post("/auth/logout", headers={
            "Cookie": f"st_session={cookie}", "X-CSRF-Token": csrf})
        assert signed_out.status_code < 400, signed_out.text
        second = _prepare(app_client, clock, acme, "After sign-out")
        app_client.get(second, headers={"User-Agent": CHROME})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json(timeout=5)
    assert closed.value.code == 4403


@pytest.mark.parametrize("payload", [
    None,
    {"authorization": "Bearer st_not_a_real_token"},
    {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": 42},
])
def test_a_socket_without_a_valid_credential_is_closed(client: TestClient[Any],
                                                      payload: dict[str, Any] | None) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, _connect(client, payload) as socket:
        socket.receive_json(timeout=5)
    assert closed.value.code == 4403


def test_a_token_asking_for_another_accounts_stream_is_closed(
    client: TestClient[Any], acme: Tenant, database_url: str
) -> None:
    rival = run(seed_tenant(database_url, "Rival", seats={}))
    with pytest.raises(WebSocketDisconnect) as closed, _connect(
        client, {"authorization": f"Bearer {acme.admin_token}", "account": rival.account_id}
    ) as socket:
        socket.receive_json(timeout=5)
    assert closed.value.code == 4403


def _app(settings: Settings, **notifications: float) -> TestClient[Any]:
    tuned = replace(settings, notifications=replace(settings.notifications, **notifications))
    return TestClient(create_app(tuned), base_url="http://testserver.local")


def test_a_socket_that_never_sends_connection_init_is_closed(settings: Settings) -> None:
    with _app(settings, socket_init_timeout_seconds=0.3) as client, pytest.raises(
        WebSocketDisconnect
    ) as closed, client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        socket.receive_json(timeout=5)
    assert closed.value.code == 4408


def test_an_idle_socket_is_closed_but_a_subscribed_one_stays(settings: Settings,
                                                             database_url: str) -> None:
    tenant = run(seed_tenant(database_url, "Idle", seats={}))
    with _app(settings, socket_idle_timeout_seconds=0.5) as client:
        with _connect(client, {"authorization": f"Bearer {tenant.admin_token}"}) as idle:
            assert idle.receive_json(timeout=5)["type"] == "connection_ack"
            with pytest.raises(WebSocketDisconnect) as closed:
                idle.receive_json(timeout=5)  # nothing more comes: the server closes
        assert (closed.value.code, closed.value.detail) == (1000, "Idle timeout")
        with _subscribed(client, tenant.admin_token) as listening:
            with pytest.raises(Empty):  # still open after twice the idle time
                listening.receive_json(timeout=1.0)
            listening.send_json({"type": "ping"})
            assert listening.receive_json(timeout=5)["type"] == "pong"


def test_an_aggregate_hit_notifies_no_one(app_client: TestClient[Any], clock: FakeClock,
                                          acme: Tenant) -> None:
    """R28: under the aggregate purpose a person's open is only counted; no notification
    names anyone. The first note the socket gets is the later individual email's."""
    purpose = ("mutation($p: TrackingPurpose!) { updateAccountSettings(input: "
               "{trackingPurpose: $p}) { id } }")
    with _subscribed(app_client, acme.admin_token) as socket:
        assert gql(app_client, purpose, {"p": "AGGREGATE"},
                   token=acme.admin_token).get("errors") is None
        counted = _prepare(app_client, clock, acme, "Counted only")
        assert app_client.get(counted, headers={"User-Agent": CHROME}).status_code == 200
        assert gql(app_client, purpose, {"p": "INDIVIDUAL"},
                   token=acme.admin_token).get("errors") is None
        named = _prepare(app_client, clock, acme, "Named")
        assert app_client.get(named, headers={"User-Agent": CHROME}).status_code == 200
        note = _next(socket)
    assert (note["emailSubject"], note["who"]) == ("Named", "ann@client.test")
