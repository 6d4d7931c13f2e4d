"""An email page's R8 hints are worked out by the database (issue 14): they must say
exactly what the pure core says of the same opens (``multiple_open_hints``), for IPv4 and
IPv6 networks, quick repeats, alternating networks and inferred opens — on both backends,
with every open made through the real pixel and click endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from support import (
    FakeClock,
    FromAddress,
    Tenant,
    give_admin_a_paid_seat,
    gql_data,
    link_paths,
    pixel_path,
    run,
    seed_tenant,
)

from sendtrail.app import create_app
from sendtrail.settings import Settings
from sendtrail.tracking.core.hints import OpenSeen, multiple_open_hints

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
HTML = '<html><body><p>See <a href="https://shop.test/pricing">our pricing</a>.</p></body></html>'
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { recipients html } } }"""
RECIPIENTS = """query($id: ID!) { email(id: $id) { recipients {
  address openCount clickCount firstOpenedAt lastOpenedAt hints } } }"""

THROUGH_FRAGMENTS = """query($id: ID!) { email(id: $id) {
  recipients { address ...Seen }
  engagements(first: 100) { edges { node { ... on Engagement {
    recipient { address clickCount ...Seen } } } } } } }
fragment Seen on Recipient { openCount hints }"""
JUST_BEFORE = timedelta(milliseconds=1)
# Per recipient: (seconds to wait, what happens, from which address), in time order.
SCRIPTS: dict[str, list[tuple[int, str, str]]] = {
    "quick.same.network": [(120, "open", "198.51.100.7"), (30, "open", "198.51.100.9")],
    "slow.same.address": [(120, "open", "198.51.100.7"), (90, "open", "198.51.100.7")],
    "alternating": [(120, "open", "203.0.113.5"), (10, "open", "2001:db8:1:2::5"),
                    (10, "open", "203.0.113.6")],
    "ipv6.same.48": [(120, "open", "2001:db8:1:2::5"), (20, "open", "2001:db8:1:ffff::9")],
    "ipv6.other.48": [(120, "open", "2001:db8:1:2::5"), (20, "open", "2001:db8:2:2::5")],
    "inferred.then.open": [(120, "click", "198.51.100.20"), (3600, "open", "198.51.100.21")],
    "once": [(120, "open", "198.51.100.30")],
    "three.quick": [(120, "open", "192.0.2.44"), (5, "open", "192.0.2.44"),
                    (5, "open", "192.0.2.45"), (7200, "open", "198.51.100.44")],
}



@pytest.fixture
def client(settings: Settings,
           clock: FakeClock) -> Iterator[tuple[TestClient[Any], FromAddress]]:
    app = FromAddress(create_app(settings, clock=clock), "192.0.2.1")
    with TestClient(app, base_url="http://testserver.local") as test_client:  # type: ignore[arg-type]
        yield test_client, app


def test_hints_from_the_database_say_what_the_core_says_of_the_same_opens(
    client: tuple[TestClient[Any], FromAddress], database_url: str, clock: FakeClock
) -> None:
    app_client, seen_from = client
    tenant: Tenant = run(seed_tenant(database_url, "Hints", seats={}))
    give_admin_a_paid_seat(app_client, database_url, tenant)  # clicks are tracked (R12)
    token = tenant.admin_token
    prepared = gql_data(app_client, PREPARE, {"i": {
        "subject": "Pricing", "html": HTML, "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": f"{name}@client.test"} for name in SCRIPTS]}},
        token=token, field="prepareEmail")
    copies = {m["recipients"][0]: m["html"] for m in prepared["messages"]}
    expected: dict[str, list[OpenSeen]] = {}
    for name, script in SCRIPTS.items():
        html = copies[f"{name}@client.test"]
        opens: list[OpenSeen] = []
        for wait, action, address in script:
            clock.advance(wait)
            seen_from.address = address
            at: datetime = clock()
            if action == "open":
                answer = app_client.get(pixel_path(html), headers={"User-Agent": CHROME})
                assert answer.status_code == 200
                opens.append(OpenSeen(at, address))
            else:  # a click with no open before it: an open is inferred (R7), at its address
                answer = app_client.get(link_paths(html)[0], headers={"User-Agent": CHROME},
                                        follow_redirects=False)
                assert answer.status_code in (302, 303, 307)
                opens.append(OpenSeen(at, address, inferred=True))
        expected[name] = opens

    email = gql_data(app_client, RECIPIENTS, {"id": prepared["email"]["id"]}, token=token,
                     field="email")
    shown = {r["address"].split("@")[0]: r for r in email["recipients"]}
    for name, opens in expected.items():
        recipient = shown[name]
        assert recipient["openCount"] == len(opens), name  # R7, R8
        assert recipient["firstOpenedAt"] is not None
        # An inferred open is stored just before the click it is inferred from (R7).
        first = datetime.fromisoformat(recipient["firstOpenedAt"])
        last = datetime.fromisoformat(recipient["lastOpenedAt"])
        assert abs(first - min(o.at for o in opens)) <= JUST_BEFORE, name
        assert abs(last - max(o.at for o in opens)) <= JUST_BEFORE, name
        assert tuple(recipient["hints"]) == multiple_open_hints(opens), name  # R8
    # The script covers each hint, so agreeing is not agreeing on nothing.
    every_hint = " ".join(h for r in shown.values() for h in r["hints"])
    for words in ("preview pane", "2 different networks", "was inferred from a click"):
        assert words in every_hint
    assert shown["once"]["hints"] == []
    # The statistics are fetched once for the list that shows them (graphql/selection.py):
    # asked through a fragment, or on an engagement's recipient, they are the same.
    through = gql_data(app_client, THROUGH_FRAGMENTS, {"id": prepared["email"]["id"]},
                       token=token, field="email")
    assert {r["address"]: (r["openCount"], r["hints"]) for r in through["recipients"]} == {
        r["address"]: (r["openCount"], r["hints"]) for r in email["recipients"]}
    for edge in through["engagements"]["edges"]:
        recipient = edge["node"]["recipient"]
        assert recipient is not None
        name = recipient["address"].split("@")[0]
        assert (recipient["openCount"], recipient["clickCount"], recipient["hints"]) == (
            shown[name]["openCount"], shown[name]["clickCount"], shown[name]["hints"])
    assert not any("preview pane" in h for h in shown["slow.same.address"]["hints"])
    assert not any("networks" in h for h in shown["ipv6.same.48"]["hints"])
