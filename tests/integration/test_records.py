"""Records end to end through real HTTP (R1, R3, R7, R23, R24): logging emails with
attachments (structured, raw base64, multipart upload), downloads, sanitised HTML,
replies to tracked emails, timelines and contact search (privacy: test_erasure.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from support import (
    FakeClock,
    Tenant,
    error_codes,
    give_admin_a_paid_seat,
    gql,
    link_paths,
    pixel_path,
    refusal,
)

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\x00\r\n%%EOF"
CSV = "name;city\r\nZoë;Malmö\r\n".encode()
EMAIL_FIELDS = """id subject logged tracked notTrackedReasons fromAddress text htmlUrl sentAt
  messageId recipients { address name field openCount contact { id address name } }
  attachments { id filename contentType size sha256 downloadUrl }
  engagements(filter: {verdicts: [HUMAN, MACHINE, SELF]}) { edges { node {
    type inferred inferredFrom attribution recipient { address } } } }"""
LOG = f"mutation($i: LogEmailInput!) {{ logEmail(input: $i) {{ {EMAIL_FIELDS} }} }}"
EMAIL = f"query($id: ID!) {{ email(id: $id) {{ {EMAIL_FIELDS} }} }}"
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id messageId } messages { recipients messageId html } } }"""
CONTACTS = """query($s: String, $first: Int, $after: String) {
  contacts(search: $s, first: $first, after: $after) {
    edges { node { id address name } } pageInfo { hasNextPage endCursor } } }"""
CONTACT = """query($id: ID!) { contact(id: $id) { id address name legalBasis
  legalBasisChangedAt legalBasisChangedBy lastSalesEmailOpenedAt } }"""
TIMELINE = """query($id: ID!, $first: Int, $after: String) { contact(id: $id) {
  timeline(first: $first, after: $after) { pageInfo { hasNextPage endCursor }
    edges { node { __typename
      ... on Email { id subject logged kind sentAt }
      ... on Engagement { id type occurredAt inferred inferredFrom }
      ... on LegalBasisChange { id at actor before after } } } } } }"""
SET_BASIS = """mutation($c: ID!, $b: LegalBasis!) { setContactLegalBasis(contactId: $c, basis: $b) {
  legalBasis legalBasisChangedAt legalBasisChangedBy } }"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def log(app: Any, token: str, **fields: Any) -> dict[str, Any]:
    body = gql(app, LOG, {"i": fields}, token=token)
    assert body.get("errors") is None, body
    email: dict[str, Any] = body["data"]["logEmail"]
    return email


def ok(app: Any, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = gql(app, query, variables, token=token)
    assert body.get("errors") is None, body
    data: dict[str, Any] = body["data"]
    return data


def contact_id(app: Any, token: str, address: str) -> str:
    edges = ok(app, token, CONTACTS, {"s": address})["contacts"]["edges"]
    (match,) = [e["node"]["id"] for e in edges if e["node"]["address"] == address]
    return str(match)


def timeline(app: Any, token: str, contact: str, first: int = 100) -> list[dict[str, Any]]:
    """The whole timeline, page by page (asserting each page is well formed)."""
    items: list[dict[str, Any]] = []
    after = None
    while True:
        page = ok(app, token, TIMELINE, {"id": contact, "first": first, "after": after})
        connection = page["contact"]["timeline"]
        assert len(connection["edges"]) <= first
        items += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return items
        after = connection["pageInfo"]["endCursor"]


def when(item: dict[str, Any]) -> str:
    return str(item.get("sentAt") or item.get("occurredAt") or item.get("at"))


def path(url: str) -> str:
    return urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def raw_message(sender: str, *, with_from: bool = True) -> bytes:
    message = EmailMessage()
    if with_from:
        message["From"] = f"Uma User <{sender}>"
    message["To"] = "Ann Lee <Ann.Lee@Client.test>"
    message["Cc"] = "ben@client.test"
    message["Subject"] = "Quote, revised"
    message["Date"] = "Tue, 04 Mar 2025 09:30:00 +0100"
    message["Message-ID"] = "<quote-42@mail.acme.test>"
    message.set_content("Hello Ann,\nthe revised quote is attached.\n")
    message.add_alternative("<p>Hello Ann, the <b>revised</b> quote is attached.</p>",
                            subtype="html")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="quote.pdf")
    message.add_attachment(CSV, maintype="text", subtype="csv", filename="prices.csv")
    return message.as_bytes()


def test_structured_log_lands_on_each_recipient_with_downloadable_attachments(
    app: Any, acme: Tenant, rival: Tenant
) -> None:
    email = log(app, acme.user_token, subject="Proposal", text="Plain words",
                html="<p>Rich <b>words</b></p>",
                recipients=[{"address": "  Ann.Lee@Client.TEST ", "name": "Ann Lee"},
                            {"address": "ben@client.test", "field": "CC"},
                            {"address": "cara@other.test", "field": "BCC"}],
                attachments=[{"filename": "proposal.pdf", "contentBase64": b64(PDF),
                              "contentType": "application/pdf"},
                             {"filename": "prices.csv", "contentBase64": b64(CSV),
                              "contentType": "text/csv"}])
    assert (email["logged"], email["tracked"]) == (True, False)
    assert "no opens" in " ".join(email["notTrackedReasons"])  # R1
    assert email["fromAddress"] == acme.user_email
    assert email["text"] == "Plain words"
    assert [(r["address"], r["field"], r["contact"]["address"]) for r in email["recipients"]] == [
        ("ann.lee@client.test", "TO", "ann.lee@client.test"),
        ("ben@client.test", "CC", "ben@client.test"),
        ("cara@other.test", "BCC", "cara@other.test")]
    assert email["recipients"][0]["contact"]["name"] == "Ann Lee"
    assert email["engagements"]["edges"] == []  # R1: logging alone records nothing
    for recipient in email["recipients"]:  # R23: on the timeline of each recipient
        items = timeline(app, acme.user_token, recipient["contact"]["id"])
        assert [(i["__typename"], i["id"], i["logged"]) for i in items] == [
            ("Email", email["id"], True)]
    by_name = {a["filename"]: a for a in email["attachments"]}
    assert set(by_name) == {"proposal.pdf", "prices.csv"}
    for name, data in (("proposal.pdf", PDF), ("prices.csv", CSV)):
        attachment = by_name[name]
        assert (attachment["size"], attachment["sha256"]) == (
            len(data), hashlib.sha256(data).hexdigest())
        response = app.get(path(attachment["downloadUrl"]), headers=bearer(acme.user_token))
        assert response.status_code == 200, response.text
        assert response.content == data
        assert response.headers["content-disposition"].startswith("attachment;")
        assert name in response.headers["content-disposition"]
        assert response.headers["x-content-type-options"] == "nosniff"
        url = path(attachment["downloadUrl"])
        assert app.get(url, headers=bearer(rival.admin_token)).status_code == 404
        assert app.get(url).status_code == 401
    login = app.post("/auth/login", json={"email": acme.admin_email,
                                          "password": "correct horse battery"})
    assert login.status_code == 200, login.text  # the web admin downloads with its cookie
    assert app.get(path(by_name["prices.csv"]["downloadUrl"])).content == CSV
    app.cookies.clear()
    assert refusal(gql(app, EMAIL, {"id": email["id"]}, token=rival.admin_token))[0] == \
        "NOT_FOUND"
    assert app.get(path(email["htmlUrl"]), headers=bearer(rival.admin_token)).status_code == 404
    again = ok(app, acme.admin_token, EMAIL, {"id": email["id"]})["email"]
    assert again["attachments"] == email["attachments"]
    ann = ok(app, acme.admin_token, CONTACT, {"id": email["recipients"][0]["contact"]["id"]})
    assert ann["contact"]["lastSalesEmailOpenedAt"] is None  # R1


@pytest.mark.parametrize("transport", ["rawBase64", "upload"])
def test_raw_message_is_logged_like_structured_fields(
    app: Any, acme: Tenant, transport: str
) -> None:
    raw = raw_message(acme.user_email)
    if transport == "rawBase64":
        email = log(app, acme.user_token, rawBase64=b64(raw))
    else:  # graphql-multipart-request-spec: operations, map, then the file
        response = app.post(
            "/graphql", headers=bearer(acme.user_token),
            data={"operations": json.dumps({"query": LOG, "variables": {"i": {"raw": None}}}),
                  "map": json.dumps({"0": ["variables.i.raw"]})},
            files={"0": ("quote.eml", raw, "message/rfc822")})
        assert response.status_code == 200, response.text
        assert response.json().get("errors") is None, response.json()
        email = response.json()["data"]["logEmail"]
    assert (email["subject"], email["messageId"]) == ("Quote, revised", "<quote-42@mail.acme.test>")
    assert datetime.fromisoformat(email["sentAt"]) == datetime(2025, 3, 4, 8, 30, tzinfo=UTC)
    assert email["fromAddress"] == acme.user_email
    assert "revised quote is attached" in email["text"]
    assert [(r["address"], r["field"]) for r in email["recipients"]] == [
        ("ann.lee@client.test", "TO"), ("ben@client.test", "CC")]
    html = app.get(path(email["htmlUrl"]), headers=bearer(acme.user_token))
    assert "<b>revised</b>" in html.text
    assert sorted((a["filename"], a["contentType"], a["size"]) for a in email["attachments"]) == [
        ("prices.csv", "text/csv", len(CSV)), ("quote.pdf", "application/pdf", len(PDF))]
    for attachment in email["attachments"]:
        data = app.get(path(attachment["downloadUrl"]), headers=bearer(acme.user_token)).content
        assert data == (PDF if attachment["filename"] == "quote.pdf" else CSV)
    for recipient in email["recipients"]:
        assert [i["id"] for i in timeline(app, acme.user_token, recipient["contact"]["id"])] \
            == [email["id"]]
    assert email["engagements"]["edges"] == []


@pytest.mark.parametrize(("fields", "says"), [
    ({"rawBase64": "this is *not* base64!"}, "base64"),
    ({"rawBase64": b64(raw_message("x@acme.test", with_from=False))}, "From"),
    ({"rawBase64": ""}, "empty"),
    ({"subject": "Hi", "recipients": [{"address": "ann@client.test"}],
      "attachments": [{"filename": "a.bin", "contentBase64": "%%%"}]}, "base64"),
    ({"subject": "Hi"}, "recipients"),
])
def test_unreadable_input_is_refused_with_a_clear_message(
    app: Any, acme: Tenant, fields: dict[str, Any], says: str
) -> None:
    code, message = refusal(gql(app, LOG, {"i": fields}, token=acme.user_token))
    assert code == "BAD_USER_INPUT"
    assert says.lower() in message.lower(), message
    assert ok(app, acme.user_token, CONTACTS, {})["contacts"]["edges"] == []


def _tracked(app: Any, tenant: Tenant) -> dict[str, Any]:
    data = ok(app, tenant.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": "<p>Our pricing</p>", "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": "ann@client.test", "name": "Ann"},
                       {"address": "ben@client.test", "field": "CC"}]}})
    prepared: dict[str, Any] = data["prepareEmail"]
    return prepared


def _engagements(app: Any, tenant: Tenant, email_id: str) -> list[tuple[Any, ...]]:
    email = ok(app, tenant.admin_token, EMAIL, {"id": email_id})["email"]
    return [(n["type"], (n["recipient"] or {}).get("address"), n["inferred"], n["inferredFrom"],
             n["attribution"]) for n in (e["node"] for e in email["engagements"]["edges"])]


def test_reply_to_a_per_recipient_copy_is_a_reply_and_an_inferred_open(
    app: Any, acme: Tenant, clock: FakeClock
) -> None:
    prepared = _tracked(app, acme)
    ann_copy = prepared["messages"][0]
    assert ann_copy["recipients"] == ["ann@client.test"]
    assert ann_copy["messageId"] != prepared["email"]["messageId"]
    clock.advance(3600)  # the pixel never loaded (images blocked)
    reply = log(app, acme.admin_token, subject="Re: Pricing", text="Sounds good",
                **{"from": {"address": "Ann@Client.test", "name": "Ann"}},
                recipients=[{"address": acme.admin_email}], inReplyTo=ann_copy["messageId"])
    assert reply["fromAddress"] == "ann@client.test"
    assert _engagements(app, acme, prepared["email"]["id"]) == [
        ("REPLY", "ann@client.test", False, None, "RECIPIENT"),
        ("OPEN", "ann@client.test", True, "REPLY", "RECIPIENT")]  # R7, R24
    email = ok(app, acme.admin_token, EMAIL, {"id": prepared["email"]["id"]})["email"]
    ann = next(r for r in email["recipients"] if r["address"] == "ann@client.test")
    assert ann["openCount"] == 1
    items = timeline(app, acme.admin_token, ann["contact"]["id"])
    labels = [i.get("subject") or i.get("type") for i in items]
    # The reply and its REPLY engagement share an instant; the inferred open is just before
    # it; the logged copy of the tracked email (prepareEmail logs by default, R2) is oldest.
    assert sorted(labels[:2]) == ["REPLY", "Re: Pricing"]
    assert labels[2:] == ["OPEN", "Pricing"]
    assert reply["id"] in [i["id"] for i in items[:2]]
    assert [when(i) for i in items] == sorted((when(i) for i in items), reverse=True)
    contact = ok(app, acme.admin_token, CONTACT, {"id": ann["contact"]["id"]})["contact"]
    # An open inferred from a click moves this date (deriver); one inferred from a reply
    # must too (R7, R16): the contact did read the sales email.
    assert contact["lastSalesEmailOpenedAt"] is not None


def test_a_reply_writes_its_rows_in_the_order_the_deriver_writes_them(
    app: Any, acme: Tenant, clock: FakeClock
) -> None:
    """The deriver and a logged reply can touch the same recipient, contact and rollup rows
    at once; on PostgreSQL, taking their locks in opposite orders makes one of them fail
    with a deadlock (a reply lost to the sender's timeline, R24). Both write engagements,
    then the recipient, then the email, then the contact, then the rollups."""
    prepared = _tracked(app, acme)
    clock.advance(3600)
    written: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        if words and words[0] in ("INSERT", "UPDATE"):
            table = words[2] if words[0] == "INSERT" else words[1]
            written.append(table.strip('"'))

    event.listen(Engine, "before_cursor_execute", remember)
    try:
        log(app, acme.admin_token, subject="Re: Pricing", text="Yes",
            **{"from": {"address": "ann@client.test"}}, recipients=[{"address": acme.admin_email}],
            inReplyTo=prepared["messages"][0]["messageId"])
    finally:
        event.remove(Engine, "before_cursor_execute", remember)
    # Logging first adds the sender as a contact if new (ON CONFLICT DO NOTHING: no lock
    # on an existing row) and the logged email; the reply's rows come after.
    reply = written[written.index("engagement"):]
    order = ["engagement", "email_recipient", "tracked_email", "contact", "engagement_rollup"]
    firsts = [reply.index(table) for table in order]  # each is written (R7, R16)
    assert firsts == sorted(firsts), reply
    assert all(at > firsts[3] for at, table in enumerate(reply)
               if table.startswith("engagement_rollup")), reply


def test_a_click_after_a_reply_implies_no_second_open(
    app: Any, acme: Tenant, clock: FakeClock, database_url: str
) -> None:
    """The open a reply implied (R7, R24) is the recipient's first open: a later click of
    theirs is a click, not another inferred open."""
    give_admin_a_paid_seat(app, database_url, acme)  # links are tracked on paid seats (R12)
    data = ok(app, acme.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": '<p><a href="https://acme.test/pricing">Pricing</a></p>',
        "deliveryMode": "PER_RECIPIENT", "recipients": [{"address": "ann@client.test"}]}})
    prepared = data["prepareEmail"]
    (ann_copy,) = prepared["messages"]
    clock.advance(3600)
    log(app, acme.admin_token, subject="Re: Pricing", **{"from": {"address": "ann@client.test"}},
        recipients=[{"address": acme.admin_email}], inReplyTo=ann_copy["messageId"])
    clock.advance(600)
    (link,) = link_paths(ann_copy["html"])
    assert app.get(link, headers={"User-Agent": OUTLOOK}, follow_redirects=False
                   ).status_code == 302
    assert sorted(_engagements(app, acme, prepared["email"]["id"])) == [
        ("CLICK", "ann@client.test", False, None, "RECIPIENT"),
        ("OPEN", "ann@client.test", True, "REPLY", "RECIPIENT"),
        ("REPLY", "ann@client.test", False, None, "RECIPIENT")]


def test_reply_after_a_human_open_and_replies_that_match_nothing(
    app: Any, acme: Tenant, rival: Tenant, clock: FakeClock
) -> None:
    prepared = _tracked(app, acme)
    ann_copy, ben_copy = prepared["messages"]
    clock.advance(60)
    assert app.get(pixel_path(ben_copy["html"]), headers={"User-Agent": OUTLOOK}).status_code == 200
    clock.advance(600)
    log(app, acme.admin_token, subject="Re: Pricing", **{"from": {"address": "ben@client.test"}},
        recipients=[{"address": acme.admin_email}], inReplyTo="<unrelated@mail.client.test>",
        references=[prepared["email"]["messageId"], ben_copy["messageId"]])
    email_id = prepared["email"]["id"]
    assert _engagements(app, acme, email_id) == [
        ("REPLY", "ben@client.test", False, None, "RECIPIENT"),
        ("OPEN", "ben@client.test", False, None, "RECIPIENT")]  # no inferred open added
    before = _engagements(app, acme, email_id)
    # Another account cannot make replies count on Acme's email.
    log(app, rival.admin_token, subject="Re: Pricing", **{"from": {"address": "ann@client.test"}},
        recipients=[{"address": rival.admin_email}], inReplyTo=ann_copy["messageId"])
    assert _engagements(app, acme, email_id) == before
    for sender, in_reply_to in (
        ("ann@client.test", f"<{uuid.uuid4()}@testserver.local>"),  # unknown email
        ("ann@client.test", f"<{prepared['email']['id']}@another.host>"),  # wrong host
        ("eve@elsewhere.test", prepared["email"]["messageId"]),  # not a recipient
        # Not a recipient either, though replying to Ann's copy (e.g. forwarded to Eve):
        # Ann did not reply, so no REPLY "from the recipient" may be put on her.
        ("eve@elsewhere.test", ann_copy["messageId"]),
    ):
        log(app, acme.admin_token, subject="Re: Pricing", **{"from": {"address": sender}},
            recipients=[{"address": acme.admin_email}], inReplyTo=in_reply_to)
        assert _engagements(app, acme, email_id) == before, (sender, in_reply_to)


NASTY = """<p>Hello <b>there</b> <a href="https://acme.test/offer">offer</a></p>
<script>alert('x')</script><img src="x" onerror="alert('onerror')">
<a href="javascript:alert('js')" onclick="alert('onclick')">click</a>
<a href="JaVaScRiPt&colon;alert('js2')">again</a>
<svg onload="alert('svg')"><circle r="4"/></svg><iframe src="https://evil.test/frame"></iframe>
<form action="https://evil.test/steal"><input name="password"></form>
<div style="background:url(https://evil.test/track.png)">styled</div>
<style>body { background: url('https://evil.test/style.png') }</style>
<img src="https://tracker.test/open.gif" alt="remote"><img src="//tracker.test/proto.gif">
<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">"""
FORBIDDEN = ("<script", "alert(", "onerror", "onclick", "onload", "javascript", "<svg",
             "<iframe", "<form", "<input", "url(", "<style", "evil.test", "style=")


def test_logged_html_is_served_sanitised_with_a_strict_policy(app: Any, acme: Tenant) -> None:
    email = log(app, acme.user_token, subject="Newsletter", html=NASTY,
                recipients=[{"address": "ann@client.test"}])
    blocked = app.get(path(email["htmlUrl"]), headers=bearer(acme.user_token))
    allowed = app.get(path(email["htmlUrl"]) + "?remote_images=true",
                      headers=bearer(acme.user_token))
    for response in (blocked, allowed):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "sandbox" in policy
        assert "script-src" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        page = response.text.lower()
        assert [bad for bad in FORBIDDEN if bad in page] == []
        assert "hello <b>there</b>" in page
        assert 'href="https://acme.test/offer"' in page
    assert "tracker.test" not in blocked.text  # remote images only when asked for
    assert 'src="https://tracker.test/open.gif"' in allowed.text
    assert app.get(path(email["htmlUrl"]), headers={}).status_code == 401
    # Inline images the policy allows (img-src data:) must survive sanitising too.
    assert 'src="data:image/png' in blocked.text


def test_timeline_is_newest_first_across_kinds_and_pages_each_item_once(
    app: Any, acme: Tenant, clock: FakeClock
) -> None:
    first = log(app, acme.user_token, subject="First", recipients=[{"address": "ann@client.test"}])
    ann = contact_id(app, acme.user_token, "ann@client.test")
    clock.advance(10)
    ok(app, acme.admin_token, SET_BASIS, {"c": ann, "b": "CONSENT"})
    clock.advance(10)
    marketing = ok(app, acme.admin_token, PREPARE, {"i": {
        "kind": "MARKETING", "subject": "Spring sale", "html": "<p>Sale</p>",
        "recipients": [{"address": "ann@client.test"}]}})["prepareEmail"]
    clock.advance(10)
    app.get(pixel_path(marketing["messages"][0]["html"]), headers={"User-Agent": OUTLOOK})
    clock.advance(10)
    backdated = log(app, acme.user_token, subject="Backdated",
                    sentAt=(clock.now.replace(year=clock.now.year - 1)).isoformat(),
                    recipients=[{"address": "ann@client.test"}])
    for _ in range(3):  # same-second items across kinds: ties broken by id, never lost
        log(app, acme.user_token, subject="Burst", recipients=[{"address": "ann@client.test"}])
    whole = timeline(app, acme.admin_token, ann)
    assert [when(i) for i in whole] == sorted((when(i) for i in whole), reverse=True)
    assert len({i["id"] for i in whole}) == len(whole)
    assert whole[-1]["id"] == backdated["id"]
    assert first["id"] in [i["id"] for i in whole]
    for size in (1, 2, 3):
        paged = timeline(app, acme.admin_token, ann, first=size)
        assert [i["id"] for i in paged] == [i["id"] for i in whole], size
    bad = gql(app, TIMELINE, {"id": ann, "after": "garbage"}, token=acme.admin_token)
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    ok(app, acme.admin_token, "mutation { updateAccountSettings(input: "
       "{marketingTracking: false}) { id } }", {})
    hidden = timeline(app, acme.admin_token, ann, first=2)  # R3: activity hidden, email kept
    assert [i["id"] for i in hidden] == [i["id"] for i in whole if i.get("type") != "OPEN"]
    # R3: the marketing email is there, once (not also as its logged copy, R2).
    assert [(i["__typename"], i.get("subject") or i.get("type") or i.get("after"))
            for i in whole] == [("Email", "Burst")] * 3 + [
        ("Engagement", "OPEN"), ("Email", "Spring sale"), ("LegalBasisChange", "CONSENT"),
        ("Email", "First"), ("Email", "Backdated")]
    assert whole[4]["kind"] == "MARKETING"


def test_contacts_search_by_address_or_name_and_paging(
    app: Any, acme: Tenant, rival: Tenant
) -> None:
    log(app, acme.user_token, subject="Hello", recipients=[
        {"address": "ann.lee@client.test", "name": "Ann Lee"},
        {"address": "bob@stone.test", "name": "Bob Stone"},
        {"address": "Carol@CLIENT.test"},
        {"address": "dan@elsewhere.test", "name": "Dan Client"},
        {"address": "first_last@under.test", "name": "Fi Last"}])
    log(app, rival.user_token, subject="Hi", recipients=[{"address": "zed@client.test"}])

    def search(text: str | None, token: str = acme.user_token) -> list[str]:
        edges = ok(app, token, CONTACTS, {"s": text})["contacts"]["edges"]
        return sorted(e["node"]["address"] for e in edges)

    assert search("CLIENT") == ["ann.lee@client.test", "carol@client.test", "dan@elsewhere.test"]
    assert search("stone") == ["bob@stone.test"]
    assert search("ann LEE") == ["ann.lee@client.test"]
    assert search("  lee ") == ["ann.lee@client.test"]
    assert search("nobody") == []
    assert search("client", rival.user_token) == ["zed@client.test"]
    seen: list[str] = []
    after = None
    while True:
        page = ok(app, acme.user_token, CONTACTS, {"first": 2, "after": after})["contacts"]
        assert len(page["edges"]) <= 2
        seen += [e["node"]["address"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(search(None))
    assert len(seen) == 5
    assert search("_") == ["first_last@under.test"]  # a literal underscore, not a wildcard
    assert search("%") == []
