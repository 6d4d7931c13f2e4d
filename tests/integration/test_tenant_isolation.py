"""Every root field of the schema, run as account A against account B's ids (tenant isolation).

The fields and their arguments come from the schema itself, so a field added later is
exercised without touching this file; the test fails if a field cannot be exercised.

B holds data of every kind A could reach, sending included (R26, R27): outbound mail
settings, a DKIM key, users' own upstream logins, and a sent email with its deliveries,
delivered through B's own upstream (an aiosmtpd server, ``tests/mail_components.py``).
A has an upstream too, so A's ``sendEmail`` succeeds in the walk and the delivery worker,
which serves every account, has A's copies to send as well.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import dkim
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
    is_required_argument,
    is_required_input_field,
)
from litestar.testing import TestClient
from mail_components import MailTls, UpstreamSink, UpstreamSinkFactory
from support import (
    Tenant,
    deliver_queued,
    error_codes,
    give_upstream,
    gql,
    gql_data,
    run,
    seed_tenant,
)

from sendtrail.app import create_app
from sendtrail.graphql.schema import build_schema
from sendtrail.settings import GraphQLSettings, SendingSettings, Settings

MAX_DEPTH = 3
"""Object levels below the root field: enough for ``edges { node { account { ... } } }``."""

ALLOW_LIST: dict[str, str] = {
    "Subscription.engagementNotifications": "runs over the WebSocket only: a token of A asking "
    "for B's stream is closed (tests/integration/test_live_subscription.py, "
    "tests/e2e/test_live_notifications.py) and no event of B reaches A's socket (same files).",
    "Subscription.deliveryNotifications": "runs over the WebSocket only: a failure of A's "
    "delivery reaches A's socket and never B's (tests/integration/test_sending.py).",
}
"""``"Query.field"`` -> why it cannot be called generically (and where it is tested)."""


@pytest.fixture
def settings(settings: Settings, mail_tls: MailTls) -> Settings:
    """Upstream servers on loopback are allowed (SENDTRAIL_OUTBOUND_ALLOW_PRIVATE), as in
    the sending tests; the delivery worker runs by hand (``deliver_queued``)."""
    return replace(settings, sending=SendingSettings(
        delivery_worker=False, outbound_allow_private=True,
        outbound_ca_bundle=mail_tls.ca_bundle, delivery_timeout_seconds=10))


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    """The app with introspection on: the walk compares the served schema with the code's.

    Production serves no introspection (issue 12, defect 7); this is the one place that
    reads the served roots, to prove no root field escapes the walk.
    """
    app = create_app(replace(settings, graphql=GraphQLSettings(introspection=True)))
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


B_STATE = """{ account { name settings { trackingEnabled privacyMode selfOpenSuppression
  marketingTracking marketingLinkTracking defaultTrack defaultLog trackingPurpose
  exemptPurpose withdrawalLink withdrawalLinkText } seats { seat used }
  outboundMail { configured host port security username passwordSet imapHost imapPort
    imapSecurity imapUsername imapPasswordSet sentFolder upstreamFilesSent perUserLogins
    updatedAt dkimKeys { domain selector dnsName dnsRecord createdAt } } }
  users { edges { node { id email role seat active outboundLogin { username updatedAt } } } }
  apiTokens { id revoked }
  emails { edges { node { id subject messageId recipients { address openCount }
    deliveries { recipient status attempts lastError sentAt } sentFolderCopy { status } } } }
  engagements(filter: {verdicts: [HUMAN, MACHINE, SELF]}) { edges { node { id verdict } } }
  contacts { edges { node { id address legalBasis trackingConsent lastOpenOn
    trackingConsentHistory { at consent source wording actor } timeline { edges { node {
    __typename ... on Email { id subject } } } } } } }
  webhookEndpoints { id url active eventTypes } trackingDomains { id hostname status } }"""

SERVED_ROOTS = """{ __schema { queryType { name fields { name } }
  mutationType { name fields { name } } subscriptionType { name fields { name } } } }"""

EXAMPLES: dict[str, dict[str, Any]] = {
    "Mutation.sendEmail": {"input": {"to": ["dana@alpha-walk.test"], "subject": "Alpha walk",
                                     "html": "<p>Hello <a href='https://alpha.test/'>you</a></p>"}},
}
"""``"Root.field"`` -> the arguments of its call without ids, where the harmless values
would only be refused: A's own successful answer is then checked for B's data too."""

UNKNOWN_ID = str(uuid.uuid4())
"""An id of nobody: B's ids must be answered exactly like it."""

_fresh = itertools.count(1)


@dataclass(frozen=True)
class Call:
    field: str
    """``Query.user`` / ``Mutation.revokeApiToken``."""
    document: str
    variables: dict[str, Any]
    b_id: str | None
    """The id of B's this call passes in every ID position, if it has any."""


def _selection(kind: GraphQLOutputType, depth: int) -> str | None:
    """Every leaf field, and object fields down to ``MAX_DEPTH``; None if nothing to select."""
    named = get_named_type(kind)
    if isinstance(named, GraphQLUnionType):  # every member, through inline fragments
        members = [(member.name, _selection(member, depth)) for member in named.types]
        parts = [f"... on {name} {sub}" for name, sub in members if sub]
        return "{ __typename " + " ".join(parts) + " }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    if depth > MAX_DEPTH:
        return None
    parts = []
    for name, field in named.fields.items():
        if any(is_required_argument(arg) for arg in field.args.values()):
            continue  # a sub-field needing arguments is a root field's job, not a leaf's
        sub = _selection(field.type, depth + 1)
        if sub is not None:
            parts.append(f"{name} {sub}".strip())
    return "{ " + " ".join(parts) + " }" if parts else None


def _has_id(kind: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    named = get_named_type(kind)
    if isinstance(named, GraphQLScalarType):
        return named.name == "ID"
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return any(_has_id(f.type, seen | {named.name}) for f in named.fields.values())
    return False


def _needs_id(kind: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    """Whether every value of ``kind`` holds an ID (a required ID position)."""
    named = get_named_type(kind)
    if isinstance(named, GraphQLScalarType):
        return named.name == "ID"
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return any(_needs_id(f.type, seen | {named.name})
                   for f in named.fields.values() if is_required_input_field(f))
    return False


def _value(name: str, kind: GraphQLInputType, b_id: str | None) -> Any:
    """A harmless valid value of ``kind``, with ``b_id`` in every ID position (``None``: only
    in the required ones, and ``kind`` has none)."""
    if isinstance(kind, GraphQLNonNull):
        return _value(name, kind.of_type, b_id)
    if isinstance(kind, GraphQLList):
        return [_value(name, kind.of_type, b_id)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            key: _value(key, field.type, b_id)
            for key, field in kind.fields.items()
            if is_required_input_field(field) or (b_id is not None and _has_id(field.type))
        }
    scalar: dict[str, Any] = {
        "ID": b_id,
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "DateTime": "2099-01-01T00:00:00+00:00",
        "JSON": {},
    }
    if kind.name == "String" and "email" in name.lower():
        return f"someone-{next(_fresh)}@a.test"
    return scalar.get(kind.name, "x")


def _calls(root: str, name: str, field: GraphQLField, b_ids: list[str]) -> Iterator[Call]:
    """One call per id of B's; a field whose ids are all optional is also called without any
    (with ``EXAMPLES``' input), so what it answers A on success is checked as well."""
    selection = _selection(field.type, 1)
    assert selection is not None, f"{root}.{name}: its return type has nothing to select"
    optional = {arg_name: arg for arg_name, arg in field.args.items()
                if not is_required_argument(arg) and _has_id(arg.type)}
    required = {arg_name: arg for arg_name, arg in field.args.items()
                if is_required_argument(arg)}
    wants_id = any(_has_id(arg.type) for arg in (optional | required).values())
    needs_id = any(_needs_id(arg.type) for arg in required.values())
    operation = "query" if root == "Query" else "mutation"
    for b_id in ([] if needs_id else [None]) + (b_ids if wants_id else []):
        args = required | (optional if b_id is not None else {})
        variables = {key: _value(key, arg.type, b_id) for key, arg in args.items()}
        if b_id is None:
            variables |= EXAMPLES.get(f"{root}.{name}", {})
        definitions = ", ".join(f"${key}: {arg.type}" for key, arg in args.items())
        call_args = ", ".join(f"{key}: ${key}" for key in args)
        document = (
            f"{operation} Isolation{'(' + definitions + ')' if definitions else ''} "
            f"{{ {name}{'(' + call_args + ')' if call_args else ''} {selection} }}"
        )
        yield Call(f"{root}.{name}", document, variables, b_id)


def _root_fields() -> dict[str, GraphQLField]:
    schema = build_schema()._schema
    fields: dict[str, GraphQLField] = {}
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            fields.update({f"{root.name}.{name}": f for name, f in root.fields.items()})
    return fields


def _answered(data: dict[str, Any] | None) -> bool:
    """Whether any root field answered with a value (an empty list is no answer)."""

    def has_value(value: Any) -> bool:
        if isinstance(value, list):
            return any(has_value(item) for item in value)
        if isinstance(value, dict) and "edges" in value:  # an empty connection
            return has_value(value["edges"])
        return value is not None

    return any(has_value(value) for value in (data or {}).values())


def _b_secrets(
    client: Any, b: Tenant, sending: BravoSending
) -> tuple[list[str], list[str]]:
    """B's ids of every kind, and every string that would identify B in an answer."""
    body = gql(client, "{ apiTokens { id prefix } account { name loggingAddress } }",
               token=b.admin_token)
    assert body.get("errors") is None, body
    token_ids = [token["id"] for token in body["data"]["apiTokens"]]
    assert len(token_ids) == 2
    email = _b_tracked_email(client, b)
    hook = gql(client, """mutation { createWebhookEndpoint(input: {
      url: "https://1.1.1.1/bravo-hook", eventTypes: ["engagement.opened"]}) {
      endpoint { id } secret } }""", token=b.admin_token)
    assert hook.get("errors") is None, hook
    hook_id = hook["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    domain = gql(client, """mutation { addTrackingDomain(input: {hostname: "links.bravo.test"})
      { id dnsRecords { value } } }""", token=b.admin_token)
    assert domain.get("errors") is None, domain
    domain_id = domain["data"]["addTrackingDomain"]["id"]
    ids = [b.account_id, b.admin_id, b.user_id, *token_ids, *email["ids"], hook_id, domain_id,
           *sending.ids]
    strings = [
        *sending.strings, *ids, b.slug, b.admin_email, b.user_email, b.admin_token, b.user_token,
        body["data"]["account"]["name"], body["data"]["account"]["loggingAddress"],
        *(token["prefix"] for token in body["data"]["apiTokens"]), *email["strings"],
        hook["data"]["createWebhookEndpoint"]["secret"], "bravo-hook", "links.bravo.test",
        # B's ownership token (the CNAME target is a shard host that A may share).
        domain["data"]["addTrackingDomain"]["dnsRecords"][1]["value"],
    ]
    return ids, strings


SEND = """mutation($i: SendEmailInput!) { sendEmail(input: $i) {
  email { id messageId } deliveries { recipient status } } }"""
B_OUTBOUND = {
    "host": "bravo-mail.localhost", "security": "NONE", "username": "bravo-smtp-account",
    "password": "bravo-smtp-password", "imapHost": "bravo-imap.localhost",
    "imapUsername": "bravo-imap-user", "imapPassword": "bravo-imap-password",
    "upstreamFilesSent": True, "perUserLogins": True,
}
"""B's mail server: its own name (``*.localhost`` is loopback, RFC 6761) and logins, so any
of them in one of A's answers is a leak; each user sends with their own login."""
B_LOGINS = {"admin": ("bravo-rep-login", "bravo-rep-password"),
            "user": ("bravo-uma-login", "bravo-uma-password")}
B_SELECTOR = "bravosel2026"
B_SUBJECT = "Bravo outbound secret"
B_QUEUED_SUBJECT = "Bravo queued secret"


@dataclass(frozen=True)
class BravoSending:
    """What B sends with, and what B sent (``_b_sending``)."""

    sink: UpstreamSink
    """B's own mail server; it accepts only the B admin's own login."""
    published: dict[bytes, bytes]
    """B's DKIM record, where DNS would have it."""
    queued_message_id: str
    """The Message-ID of an email of B's whose copy waits in the queue while A walks."""
    ids: list[str]
    strings: list[str]

    def signed_by_b(self, content: bytes) -> bool:
        return bool(dkim.verify(content, dnsfunc=lambda name, timeout=5:
                                self.published.get(name)))


def _b_sending(client: Any, settings: Settings, b: Tenant,
               upstream_sink_factory: UpstreamSinkFactory) -> BravoSending:
    """B's upstream with users' own logins, a DKIM key, an email B sent through it and one
    still queued."""
    login, password = B_LOGINS["admin"]
    sink = upstream_sink_factory(security="none", username=login, password=password)
    give_upstream(client, b, sink.endpoint(), **B_OUTBOUND)
    for who, token in (("admin", b.admin_token), ("user", b.user_token)):
        username, secret = B_LOGINS[who]
        gql_data(client, """mutation($i: OutboundLoginInput!) { updateOutboundLogin(input: $i)
          { username } }""", {"i": {"username": username, "password": secret}}, token=token,
                 field="updateOutboundLogin")
    domain = b.admin_email.rpartition("@")[2]
    key = gql_data(client, """mutation($i: DkimKeyInput!) { setDkimKey(input: $i)
      { dnsRecord } }""", {"i": {"domain": domain, "selector": B_SELECTOR}},
                   token=b.admin_token, field="setDkimKey")
    published = {f"{B_SELECTOR}._domainkey.{domain}.".encode(): key["dnsRecord"].encode()}

    def send(subject: str) -> dict[str, str]:
        email: dict[str, str] = gql_data(client, SEND, {"i": {
            "to": ["carol@bravo-client.test"], "subject": subject,
            "html": "<p>Our terms, <a href='https://bravo-shop.test/terms'>here</a></p>"}},
                                         token=b.admin_token, field="sendEmail")["email"]
        return email

    sent = send(B_SUBJECT)
    assert deliver_queued(settings) == 1
    queued = send(B_QUEUED_SUBJECT)
    bravo = BravoSending(
        sink, published, queued["messageId"], ids=[sent["id"], queued["id"]], strings=[
            *(str(B_OUTBOUND[k]) for k in ("host", "username", "password", "imapHost",
                                           "imapUsername", "imapPassword")),
            *(part for pair in B_LOGINS.values() for part in pair), B_SELECTOR,
            key["dnsRecord"].partition("p=")[2], B_SUBJECT, B_QUEUED_SUBJECT,
            sent["messageId"], queued["messageId"],
        ])
    (copy,) = sink.wait_for(1)
    # Sent through the sender's own login, signed with B's key (R26).
    assert (copy.login, copy.rcpt_tos, copy.message_id) == (
        login, ("carol@bravo-client.test",), sent["messageId"])
    assert bravo.signed_by_b(copy.content)
    email = gql_data(client, """query($id: ID!) { email(id: $id) { deliveries { status }
      sentFolderCopy { status } } }""", {"id": sent["id"]}, token=b.admin_token,
                     field="email")
    # The upstream files sent mail itself: no copy of Sendtrail's in the Sent folder (R27).
    assert email == {"deliveries": [{"status": "SENT"}], "sentFolderCopy": None}
    return bravo


def _b_tracked_email(client: Any, b: Tenant) -> dict[str, list[str]]:
    """A tracked email of B's with a recorded hit, a contact and a recipient."""
    prepared = gql(client, """mutation { prepareEmail(input: {subject: "Bravo secret plan",
      html: "<p>Hi <a href='https://bravo-shop.test/deal'>deal</a></p>",
      recipients: [{address: "carol@bravo-client.test"}]}) {
      email { id messageId } messages { html } } }""", token=b.admin_token)
    assert prepared.get("errors") is None, prepared
    data = prepared["data"]["prepareEmail"]
    pixel = data["messages"][0]["html"].split('src="http://testserver.local', 1)[1].split('"')[0]
    assert client.get(pixel).status_code == 200
    details = gql(client, """query($id: ID!) { email(id: $id) {
      recipients { id contact { id } }
      engagements(filter: {verdicts: [HUMAN, MACHINE, SELF]}) { edges { node { id } } } } }""",
                  {"id": data["email"]["id"]}, token=b.admin_token)["data"]["email"]
    (recipient,) = details["recipients"]
    engagement_ids = [edge["node"]["id"] for edge in details["engagements"]["edges"]]
    assert engagement_ids, "B's pixel hit was not recorded"
    ids = [data["email"]["id"], recipient["contact"]["id"], *engagement_ids]
    return {"ids": ids, "strings": [*ids, recipient["id"], data["email"]["messageId"],
                                    "carol@bravo-client.test", "Bravo secret plan"]}


def _check(
    call: Call, who: str, body: dict[str, Any], b_strings: list[str],
    unknown_codes: dict[tuple[str, str], list[str]],
) -> None:
    where = f"{call.field} as A's {who} with id {call.b_id}: {json.dumps(body)}"
    codes = error_codes(body)
    # INTERNAL is a TenantScopeMissing (the guard caught a resolver crossing tenants).
    assert not {"INTERNAL", "INTERNAL_SERVER_ERROR"} & set(codes), where
    assert "GRAPHQL_VALIDATION_FAILED" not in codes, f"cannot exercise {where}"
    leaked = [s for s in b_strings if s in json.dumps(body.get("data"))]
    assert not leaked, f"B's {leaked} in the data of {where}"
    for error in body.get("errors") or []:
        named = [s for s in b_strings if s in error["message"]]
        assert set(named) <= {call.b_id}, f"B's {named} in an error of {where}"
        if named:
            assert error["extensions"]["code"] == "NOT_FOUND", where
    if call.b_id is None:
        return
    if call.b_id == UNKNOWN_ID:
        unknown_codes[call.field, who] = codes
        return
    # The role may forbid the action before any lookup; otherwise B's id does not exist for A.
    allowed = {"NOT_FOUND"} | ({"FORBIDDEN"} if who == "user" else set())
    if codes:
        assert set(codes) <= allowed, f"expected NOT_FOUND for {where}"
    else:
        assert not _answered(body.get("data")), f"B's object answered {where}"
    assert codes == unknown_codes[call.field, who], f"B's id answers unlike an unknown id: {where}"


def test_every_root_field_as_account_a_never_reaches_account_b(
    client: Any, database_url: str, settings: Settings,
    upstream_sink_factory: UpstreamSinkFactory,
) -> None:
    a = run(seed_tenant(database_url, "Alpha Isolation"))
    b = run(seed_tenant(database_url, "Bravo Isolation"))
    bravo = _b_sending(client, settings, b, upstream_sink_factory)
    b_ids, b_strings = _b_secrets(client, b, bravo)
    a_sink = upstream_sink_factory()
    give_upstream(client, a, a_sink.endpoint())
    before = gql(client, B_STATE, token=b.admin_token)
    assert before.get("errors") is None, before
    shown = [s for s in bravo.strings if "password" not in s]
    assert all(s in json.dumps(before) for s in shown), "B's sending data, as B reads it"

    fields = _root_fields()
    served = gql(client, SERVED_ROOTS, token=a.admin_token)["data"]["__schema"]
    assert {
        f"{root['name']}.{field['name']}" for root in served.values() if root
        for field in root["fields"]
    } == set(fields), "the app serves other root fields than build_schema() builds"
    exercised: set[str] = set()
    succeeded: set[tuple[str, str]] = set()
    unknown_codes: dict[tuple[str, str], list[str]] = {}
    calls = 0
    for qualified, field in fields.items():
        if qualified in ALLOW_LIST:
            continue
        root, name = qualified.split(".")
        # The unknown id goes first: B's ids must get exactly its answer (no existence oracle).
        for call in _calls(root, name, field, [UNKNOWN_ID, *b_ids]):
            for who, token in (("admin", a.admin_token), ("user", a.user_token)):
                body = gql(client, call.document, call.variables, token=token)
                calls += 1
                _check(call, who, body, b_strings, unknown_codes)
                exercised.add(call.field)
                if call.b_id is None and not body.get("errors"):
                    succeeded.add((call.field, who))

    # A's own sending worked in the walk (so its answer was checked for B's data too) ...
    assert {("Mutation.sendEmail", "admin"), ("Mutation.sendEmail", "user")} <= succeeded
    # ... and A writing to B's contact and B's admin is A's own business: A's upstream
    # (the walk removed it: set it again), A's contact, nothing of B's (B_STATE below).
    give_upstream(client, a, a_sink.endpoint())
    gql_data(client, SEND, {"i": {"to": ["carol@bravo-client.test", b.admin_email],
                                  "subject": "Alpha to Bravo's people", "html": "<p>Hi</p>",
                                  "log": True}}, token=a.admin_token, field="sendEmail")
    carol = gql_data(client, '{ contacts(search: "carol@bravo-client.test") { edges { node '
                     '{ id } } } }', token=a.admin_token, field="contacts")["edges"]
    assert len(carol) == 1
    assert carol[0]["node"]["id"] not in b_ids
    after = gql(client, B_STATE, token=b.admin_token)
    assert after == before, "account B changed while A was calling the API"

    # The worker serves every account: in one pass, A's copies leave through A's upstream
    # and B's queued one through B's, with its sender's own login and B's signature (R26).
    # The walk's inviteUser and resendInvitation emailed A's invitees at once, through A's
    # upstream too (issue 15, defect 3): A's own addresses only.
    invited = [t for t in a_sink.transactions
               if (t.message_id or "").endswith("@sendtrail.invitation>")]
    assert all(r.endswith("@a.test") for t in invited for r in t.rcpt_tos), invited
    assert deliver_queued(settings) == 5
    assert sorted(r for t in a_sink.wait_for(4 + len(invited)) if t not in invited
                  for r in t.rcpt_tos) == sorted([
        "dana@alpha-walk.test", "dana@alpha-walk.test", "carol@bravo-client.test",
        b.admin_email])
    assert {t.login for t in a_sink.transactions} == {"alice"}
    assert not any(b"DKIM-Signature" in t.content for t in a_sink.transactions)  # no key of A's
    _, queued = bravo.sink.wait_for(2)
    assert (queued.login, queued.message_id) == (B_LOGINS["admin"][0], bravo.queued_message_id)
    assert bravo.signed_by_b(queued.content)
    assert exercised == set(fields) - set(ALLOW_LIST), (
        f"not exercised: {sorted(set(fields) - set(ALLOW_LIST) - exercised)}"
    )
    print(f"tenant isolation: {len(exercised)} root fields, {calls} calls, "
          f"{len(succeeded)} answered without ids")
