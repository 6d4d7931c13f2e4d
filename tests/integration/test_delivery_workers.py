"""The delivery worker serves every account, and any number of them run at once (R26, R27).

Real components: the app on both backends, aiosmtpd servers playing each account's own
mail server (``tests/mail_components.py``). Workers run here by hand: one pass
(``deliver_queued``), or two in the background as two nodes would run them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from typing import Any

import dkim
import pytest
from litestar.testing import TestClient
from mail_components import MailTls, UpstreamSink, UpstreamSinkFactory
from support import Tenant, deliver_queued, give_upstream, gql_data, run, seed_tenant

from sendtrail.db.engine import Database
from sendtrail.secretbox import secret_box
from sendtrail.sending.worker import DeliveryWorker
from sendtrail.settings import SendingSettings, Settings

OWN_LOGIN = """mutation($i: OutboundLoginInput!) { updateOutboundLogin(input: $i)
  { username } }"""
DKIM_KEY = "mutation($i: DkimKeyInput!) { setDkimKey(input: $i) { dnsName dnsRecord } }"
SEND = """mutation($i: SendEmailInput!) { sendEmail(input: $i) { email { id messageId } } }"""
DELIVERIES = """query($id: ID!) { email(id: $id) { deliveries { recipient status attempts } } }"""
HTML = '<p>Hello, see <a href="https://example.test/offer">the offer</a></p>'


@pytest.fixture
def settings(settings: Settings, mail_tls: MailTls) -> Settings:
    """Upstream servers on loopback allowed, their certificate trusted (as in production
    with SENDTRAIL_OUTBOUND_ALLOW_PRIVATE and SENDTRAIL_OUTBOUND_CA_BUNDLE)."""
    return replace(settings, sending=SendingSettings(
        delivery_worker=False, outbound_allow_private=True,
        outbound_ca_bundle=mail_tls.ca_bundle, delivery_timeout_seconds=10))


def dkim_key(client: TestClient[Any], tenant: Tenant, selector: str) -> dict[bytes, bytes]:
    """A generated DKIM key for the admin's domain: its record, where DNS would have it."""
    domain = tenant.admin_email.rpartition("@")[2]
    key = gql_data(client, DKIM_KEY, {"i": {"domain": domain, "selector": selector}},
                   token=tenant.admin_token, field="setDkimKey")
    return {f"{key['dnsName']}.".encode(): key["dnsRecord"].encode()}


def verifies(content: bytes, published: dict[bytes, bytes]) -> bool:
    return bool(dkim.verify(content, dnsfunc=lambda name, timeout=5: published.get(name)))


def send(client: TestClient[Any], tenant: Tenant, to: list[str],
         subject: str = "Proposal") -> dict[str, str]:
    sent: dict[str, str] = gql_data(client, SEND, {"i": {
        "to": to, "subject": subject, "html": HTML}}, token=tenant.admin_token,
        field="sendEmail")["email"]
    return sent


def test_each_accounts_copies_leave_through_that_accounts_own_upstream(
    client: TestClient[Any], database_url: str, settings: Settings,
    upstream_sink_factory: UpstreamSinkFactory,
) -> None:
    # R26: mail leaves through the account's own mail server (or the sender's own login),
    # signed with the account's own DKIM key, though one worker serves every account.
    acme = run(seed_tenant(database_url, "Acme"))
    rival = run(seed_tenant(database_url, "Rival"))
    acme_sink = upstream_sink_factory()  # STARTTLS, alice
    rival_sink = upstream_sink_factory(security="tls", username="bob", password="hunter2")
    give_upstream(client, acme, acme_sink.endpoint())
    # Rival's users send with their own login; the account's own would be refused.
    give_upstream(client, rival, rival_sink.endpoint(), host="localhost", username="rival-shared",
                  password="not-bobs-password", perUserLogins=True)
    gql_data(client, OWN_LOGIN, {"i": {"username": "bob", "password": "hunter2"}},
             token=rival.admin_token, field="updateOutboundLogin")
    acme_key = dkim_key(client, acme, "acme1")
    rival_key = dkim_key(client, rival, "rival1")
    # The same recipients from both: only the account decides the route.
    recipients = ["ann@client.test", "ben@client.test"]
    acme_email = send(client, acme, recipients)
    rival_email = send(client, rival, recipients)

    assert deliver_queued(settings) == 4  # one pass, both accounts' copies
    for sink, tenant, email, login, own_key, other_key in (
        (acme_sink, acme, acme_email, "alice", acme_key, rival_key),
        (rival_sink, rival, rival_email, "bob", rival_key, acme_key),
    ):
        copies = sink.wait_for(2)
        assert len(copies) == 2
        assert sorted(r for c in copies for r in c.rcpt_tos) == recipients
        for copy in copies:
            assert (copy.mail_from, copy.message_id, copy.login, copy.tls) == (
                tenant.admin_email, email["messageId"], login, True)
            assert verifies(copy.content, own_key)
            assert not verifies(copy.content, other_key)
        shown = gql_data(client, DELIVERIES, {"id": email["id"]}, token=tenant.admin_token,
                         field="email")["deliveries"]
        assert [(d["recipient"], d["status"]) for d in shown] == [
            (r, "SENT") for r in recipients]


def test_two_workers_at_once_deliver_every_copy_exactly_once(
    client: TestClient[Any], database_url: str, settings: Settings,
    upstream_sink: UpstreamSink,
) -> None:
    # R27 and the worker's claim (sending/worker.py): two nodes' workers share the queue,
    # and no copy is sent twice, nor by both.
    acme = run(seed_tenant(database_url, "Acme"))
    give_upstream(client, acme, upstream_sink.endpoint())
    emails = [send(client, acme, [f"r{n}-{i}@client.test" for i in range(5)], f"Offer {n}")
              for n in range(4)]
    expected = {(e["messageId"], f"r{n}-{i}@client.test")
                for n, e in enumerate(emails) for i in range(5)}

    async def two_nodes() -> None:
        nodes = []
        for name in ("node-a.localhost", "node-b.localhost"):
            sending = replace(settings.sending, helo_name=name, delivery_poll_seconds=0.05)
            nodes.append(DeliveryWorker(Database(settings.database.url), sending,
                                        box=secret_box(settings.secrets.keys), concurrency=2))
        for node in nodes:
            await node.start()
        try:
            deadline = time.monotonic() + 30
            while not expected <= set(upstream_sink.delivery_counts()):
                assert time.monotonic() < deadline, upstream_sink.delivery_counts()
                await asyncio.sleep(0.05)
        finally:
            for node in nodes:
                await node.stop()  # lets attempts in flight finish: a late double shows
            for node in nodes:
                await node._database.dispose()

    run(two_nodes())
    counts = upstream_sink.delivery_counts()
    assert set(counts) == expected
    assert [key for key, count in counts.items() if count != 1] == []
    by_node = Counter(t.helo for t in upstream_sink.transactions)
    assert set(by_node) == {"node-a.localhost", "node-b.localhost"}, by_node  # both worked
    for email in emails:
        shown = gql_data(client, DELIVERIES, {"id": email["id"]}, token=acme.admin_token,
                         field="email")["deliveries"]
        assert {(d["status"], d["attempts"]) for d in shown} == {("SENT", 1)}
