"""Who opened what, at a glance (issue 15, item 6): each email's counted opens, clicks and
replies per recipient, its first open and reply and its last activity, kept as hits are
derived and replies logged (R7, R10, R24), filtered and sorted in the emails list; and the
same values when migration 0015 works them out from stored engagements."""

from __future__ import annotations

from typing import Any

from alembic import command
from litestar.testing import TestClient
from support import (
    FakeClock,
    Tenant,
    give_admin_a_paid_seat,
    gql,
    link_paths,
    pixel_path,
)

from sendtrail.migrations import alembic_config

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { recipients messageId html } } }"""
LOG = "mutation($i: LogEmailInput!) { logEmail(input: $i) { id } }"
LIST = """query($f: EmailFilterInput, $o: EmailOrder, $first: Int, $after: String) {
  emails(filter: $f, orderBy: $o, first: $first, after: $after) {
    edges { node { subject openedAt repliedAt lastActivityAt sentAt openedRecipients
      clickedRecipients repliedRecipients recipients { address activity clickedAt repliedAt } } }
    pageInfo { endCursor hasNextPage } } }"""


def _prepare(client: TestClient[Any], tenant: Tenant, subject: str,
             *addresses: str) -> dict[str, dict[str, str]]:
    body = gql(client, PREPARE, {"i": {
        "subject": subject, "deliveryMode": "PER_RECIPIENT",
        "html": '<p>Hi <a href="https://a.example.test/offer">offer</a></p>',
        "recipients": [{"address": address} for address in addresses]}},
        token=tenant.admin_token)
    assert body.get("errors") is None, body
    return {m["recipients"][0]: m for m in body["data"]["prepareEmail"]["messages"]}


def _hit(client: TestClient[Any], path: str, agent: str = CHROME) -> None:
    answer = client.get(path, headers={"User-Agent": agent})
    assert answer.status_code in (200, 302), answer.text


def _reply(client: TestClient[Any], tenant: Tenant, sender: str, message_id: str) -> None:
    body = gql(client, LOG, {"i": {
        "subject": "Re: offer", "text": "Yes please", "from": {"address": sender},
        "recipients": [{"address": tenant.admin_email}], "inReplyTo": message_id}},
        token=tenant.admin_token)
    assert body.get("errors") is None, body


def _listed(client: TestClient[Any], tenant: Tenant, **variables: Any) -> list[dict[str, Any]]:
    body = gql(client, LIST, variables, token=tenant.admin_token)
    assert body.get("errors") is None, body
    return [edge["node"] for edge in body["data"]["emails"]["edges"]]


def _story(client: TestClient[Any], tenant: Tenant, clock: FakeClock) -> None:
    """Offer: Ann opens, Ben clicks (an implied open, R7) and replies (an email logged,
    "Re: offer"), Cy does nothing but a scanner loads his pixel (MACHINE, R10). Reminder:
    nobody opens. Notes: only logged. Update: Dee opens, later than everything else."""
    offer = _prepare(client, tenant, "Offer", "ann@client.test", "ben@client.test",
                     "cy@client.test")
    clock.advance(60)
    _prepare(client, tenant, "Reminder", "eve@client.test")
    clock.advance(60)
    update = _prepare(client, tenant, "Update", "dee@client.test")
    clock.advance(1)
    body = gql(client, LOG, {"i": {"subject": "Notes", "text": "Call notes",
                                   "recipients": [{"address": "fay@client.test"}]}},
               token=tenant.admin_token)
    assert body.get("errors") is None, body
    clock.advance(600)
    _hit(client, pixel_path(offer["ann@client.test"]["html"]))
    _hit(client, pixel_path(offer["cy@client.test"]["html"]), SCANNER)
    clock.advance(60)
    _hit(client, link_paths(offer["ben@client.test"]["html"])[0])
    clock.advance(60)
    _reply(client, tenant, "ben@client.test", offer["ben@client.test"]["messageId"])
    clock.advance(60)
    _hit(client, pixel_path(update["dee@client.test"]["html"]))


def test_the_list_says_who_opened_clicked_and_replied_and_filters_and_sorts_by_it(
    app_client: TestClient[Any], acme: Tenant, clock: FakeClock, database_url: str,
) -> None:
    give_admin_a_paid_seat(app_client, database_url, acme)  # clicks are tracked (R12)
    _story(app_client, acme, clock)
    by_subject = {email["subject"]: email for email in _listed(app_client, acme)}
    offer = by_subject["Offer"]
    assert (offer["openedRecipients"], offer["clickedRecipients"],
            offer["repliedRecipients"]) == (2, 1, 1)
    assert [(r["address"], r["activity"]) for r in offer["recipients"]] == [
        ("ann@client.test", "OPENED"), ("ben@client.test", "REPLIED"),
        ("cy@client.test", "NOT_OPENED")]  # the scanner's open is not Cy's (R10)
    ben = offer["recipients"][1]
    assert ben["clickedAt"] is not None
    assert ben["repliedAt"] > ben["clickedAt"]
    assert offer["openedAt"] < offer["repliedAt"] == offer["lastActivityAt"]
    reminder = by_subject["Reminder"]
    assert (reminder["openedAt"], reminder["openedRecipients"]) == (None, 0)
    assert reminder["lastActivityAt"] == reminder["sentAt"]  # no activity yet
    notes = by_subject["Notes"]
    assert (notes["openedRecipients"], notes["lastActivityAt"]) == (0, notes["sentAt"])

    def subjects(**variables: Any) -> list[str]:
        return [email["subject"] for email in _listed(app_client, acme, **variables)]

    # Ben's reply is an email only logged too, sent (and so last active) as it was logged.
    assert subjects() == ["Re: offer", "Notes", "Update", "Reminder", "Offer"]  # newest sent
    by_activity = subjects(o="LAST_ACTIVITY")
    assert by_activity[0] == "Update"
    assert set(by_activity[1:3]) == {"Offer", "Re: offer"}  # the same moment: the reply's
    assert by_activity[3:] == ["Notes", "Reminder"]
    assert subjects(f={"activity": "NOT_OPENED"}) == ["Reminder"]  # logged ones: never
    assert subjects(f={"activity": "OPENED"}) == ["Update", "Offer"]
    assert subjects(f={"activity": "OPENED_NOT_REPLIED"}) == ["Update"]
    assert subjects(f={"activity": "REPLIED"}) == ["Offer"]
    # Paging by last activity, one at a time, gives the same order; a cursor of the other
    # order is refused in words rather than giving a wrong page.
    seen, after = [], None
    while True:
        body = gql(app_client, LIST, {"o": "LAST_ACTIVITY", "first": 1, "after": after},
                   token=acme.admin_token)
        connection = body["data"]["emails"]
        seen += [edge["node"]["subject"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == by_activity
    sent_cursor = gql(app_client, LIST, {"first": 1}, token=acme.admin_token)[
        "data"]["emails"]["pageInfo"]["endCursor"]
    wrong = gql(app_client, LIST, {"o": "LAST_ACTIVITY", "first": 1, "after": sent_cursor},
                token=acme.admin_token)
    assert "belongs to a different list" in wrong["errors"][0]["message"]


def test_the_migration_works_out_the_same_values_from_stored_engagements(
    app_client: TestClient[Any], acme: Tenant, clock: FakeClock, database_url: str,
) -> None:
    give_admin_a_paid_seat(app_client, database_url, acme)
    _story(app_client, acme, clock)
    kept = _listed(app_client, acme)
    config = alembic_config(database_url)
    command.downgrade(config, "0014")
    command.upgrade(config, "head")
    assert _listed(app_client, acme) == kept
