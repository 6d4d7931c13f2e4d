"""`sendtrail demo` tells a story a newcomer can look at, through the product's own paths,
and tells it once (Build §6). Read back over GraphQL as the web admin reads it."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from support import gql, run

from sendtrail.db.engine import Database
from sendtrail.demo import (
    DEMO_ADMIN,
    ORDER_FORM,
    ORDER_FORM_PDF,
    REPLY,
    STORY_SUBJECTS,
    ensure_demo,
)
from sendtrail.settings import Settings

EMAILS = """{ emails(first: 50) { edges { node { id subject deliveryMode logged tracked
  sender { email } recipients { address name openCount clickCount }
  attachments { filename contentType size sha256 } } } } }"""
ENGAGEMENTS = """query($id: ID!) { email(id: $id) {
  engagements(first: 100, filter: {verdicts: [HUMAN, MACHINE]}) { edges { node {
    type verdict category reasons attribution inferred inferredFrom countsInReports
    recipient { address name } contact { address } link { url } } } } } }"""
FEED = """{ activityFeed(first: 50) { edges { node { type inferred attribution
  recipient { address } email { subject } } } } }"""
REPORT = """{ engagementReport(input: {scope: ACCOUNT, interval: DAY}) {
  totals { humanOpens humanClicks machineOpens machineClicks } } }"""
CONTACTS = """{ contacts(first: 50) { edges { node { address name legalBasis
  lastSalesEmailOpenedAt legalBasisHistory { before after }
  timeline(first: 50) { edges { node { __typename
    ... on Email { subject logged tracked attachments { filename contentType sha256 } }
    ... on Engagement { type } } } } } } } }"""


def _demo(database_url: str, settings: Settings) -> dict[str, str]:
    async def make() -> list[str]:
        database = Database(database_url)
        try:
            return await ensure_demo(database, settings)
        finally:
            await database.dispose()

    return dict(line.split(": ", 1) for line in run(make()))


def _nodes(body: dict[str, Any], *path: str) -> list[dict[str, Any]]:
    assert not body.get("errors"), body
    found: Any = body["data"]
    for key in path:
        found = found[key]
    return [edge["node"] for edge in found["edges"]]


def _story(client: Any, token: str) -> dict[str, Any]:
    """Everything a user sees of the demo, in a form two runs can be compared in."""
    emails = _nodes(gql(client, EMAILS, token=token), "emails")
    engagements = {
        email["subject"]: _nodes(gql(client, ENGAGEMENTS, {"id": email["id"]}, token=token),
                                 "email", "engagements")
        for email in emails if email["tracked"]
    }
    return {
        "emails": emails, "engagements": engagements,
        "feed": _nodes(gql(client, FEED, token=token), "activityFeed"),
        "report": gql(client, REPORT, token=token)["data"]["engagementReport"],
        "contacts": _nodes(gql(client, CONTACTS, token=token), "contacts"),
    }


def _by_subject(story: dict[str, Any], subject: str) -> dict[str, Any]:
    (email,) = [e for e in story["emails"] if e["subject"] == subject]
    return email


def test_the_demo_tells_its_story_through_the_product(
    client: Any, database_url: str, settings: Settings
) -> None:
    lines = _demo(database_url, settings)
    assert lines["login"] == DEMO_ADMIN
    assert "example.test" in lines["demo data"]
    story = _story(client, lines["token"])
    # The Emails page lists the tracked ones and the ones only logged (the order form sent
    # by BCC, the contact's reply), each once; logged ones are on the contacts' records too.
    subjects = [email["subject"] for email in story["emails"]]
    assert sorted(subjects) == sorted(STORY_SUBJECTS)
    assert {e["subject"] for e in story["emails"] if not e["tracked"]} == {ORDER_FORM, REPLY}
    # Every contact of the story is made up, and marked so.
    assert story["contacts"]
    assert all(c["address"].endswith(".example.test") for c in story["contacts"])

    # Per-recipient copies: opens and clicks by people, attributed to named recipients.
    proposal = _by_subject(story, "Proposal for Northwind: Q1 rollout")
    assert proposal["deliveryMode"] == "PER_RECIPIENT"
    hits = story["engagements"][proposal["subject"]]
    human = [h for h in hits if h["verdict"] == "HUMAN" and not h["inferred"]]
    assert {(h["type"], h["recipient"]["name"]) for h in human} >= {
        ("OPEN", "Priya Patel"), ("CLICK", "Priya Patel"), ("CLICK", "Tom Becker")}
    assert all(h["attribution"] == "RECIPIENT" for h in human)
    assert all(h["countsInReports"] for h in human)
    counts = {r["name"]: (r["openCount"], r["clickCount"]) for r in proposal["recipients"]}
    assert counts["Priya Patel"][0] >= 2
    assert counts["Priya Patel"][1] == 1

    # R10: machines, decided by the shipped classifier, stored with their reasons.
    machine = Counter((h["type"], h["category"]) for h in hits if h["verdict"] == "MACHINE")
    assert machine[("CLICK", "click_burst")] == 2  # the link scanner, over every link
    assert machine[("OPEN", "apple_privacy_proxy")] == 1
    assert all(h["reasons"] and not h["countsInReports"]
               for h in hits if h["verdict"] == "MACHINE")

    # R7: Tom's click with no human open before it implies one.
    (inferred,) = [h for h in hits if h["inferred"] and h["inferredFrom"] == "CLICK"
                   and h["verdict"] == "HUMAN"]
    assert inferred["recipient"]["name"] == "Tom Becker"

    # R24: Priya's logged reply to her copy counts as a reply to the tracked email.
    (reply,) = [h for h in hits if h["type"] == "REPLY"]
    assert (reply["verdict"], reply["recipient"]["name"]) == ("HUMAN", "Priya Patel")

    # R15: one message to three people shares its pixel: "Someone".
    kickoff = _by_subject(story, "Contoso kickoff: agenda for Thursday")
    assert (kickoff["deliveryMode"], len(kickoff["recipients"])) == ("SINGLE_MESSAGE", 3)
    shared = story["engagements"][kickoff["subject"]]
    assert {(h["type"], h["attribution"]) for h in shared if h["verdict"] == "HUMAN"} == {
        ("OPEN", "SOMEONE"), ("CLICK", "SOMEONE")}
    assert any(h["category"] == "prefetch" for h in shared if h["verdict"] == "MACHINE")

    # R23: a logged email with its attachment, on the contact's record.
    contacts = {c["address"]: c for c in story["contacts"]}
    priya = contacts["priya.patel@northwind.example.test"]
    (order_form,) = [edge["node"] for edge in priya["timeline"]["edges"]
                     if edge["node"].get("subject") == ORDER_FORM]
    assert (order_form["logged"], order_form["tracked"]) == (True, False)
    (pdf,) = order_form["attachments"]
    assert (pdf["filename"], pdf["contentType"]) == ("northwind-order-form.pdf",
                                                     "application/pdf")
    assert pdf["sha256"] == hashlib.sha256(ORDER_FORM_PDF).hexdigest()

    # R16: a contact with a legal basis, its history, and dates moved by counted activity.
    assert priya["legalBasis"] == "CONTRACT"
    assert priya["legalBasisHistory"] == [{"before": "NONE", "after": "CONTRACT"}]
    assert priya["lastSalesEmailOpenedAt"] is not None
    timeline = Counter((item["__typename"], item.get("subject") or item.get("type"))
                       for item in (edge["node"] for edge in priya["timeline"]["edges"]))
    assert timeline[("Email", REPLY)] == timeline[("Email", ORDER_FORM)] == 1
    assert timeline[("Engagement", "REPLY")] == 1

    # The activity feed of the demo login (who sent those emails) and the overview report.
    feed = story["feed"]
    assert {"OPEN", "CLICK", "REPLY"} <= {item["type"] for item in feed}
    assert any(item["attribution"] == "SOMEONE" for item in feed)
    assert any(item["inferred"] for item in feed)
    totals = story["report"]["totals"]
    assert totals["humanOpens"] >= 3
    assert totals["humanClicks"] >= 2
    assert totals["machineOpens"] >= 2
    assert totals["machineClicks"] >= 2


def test_a_second_run_adds_nothing_and_prints_fresh_credentials(
    client: Any, database_url: str, settings: Settings
) -> None:
    first = _demo(database_url, settings)
    before = _story(client, first["token"])
    second = _demo(database_url, settings)
    assert second["token"] != first["token"]
    assert second["relay password"] != first["relay password"]
    assert _story(client, second["token"]) == before


def test_the_relay_password_is_a_send_only_token(
    client: Any, database_url: str, settings: Settings
) -> None:
    lines = _demo(database_url, settings)
    assert lines["relay"].startswith("off")  # the test settings run no relay
    body = gql(client, "{ viewer { email } }", token=lines["relay password"])
    assert body["data"] is None or body["data"].get("viewer") is None  # it reads nothing
    assert body["errors"]
    tokens = gql(client, "{ apiTokens { name scopes } }", token=lines["token"])
    assert {"name": "demo relay (send only)", "scopes": ["SEND"]} in tokens["data"]["apiTokens"]

