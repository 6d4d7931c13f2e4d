"""The tracking withdrawal link (issue 16, item 3; R29) through real HTTP, on both databases.

When the account turns it on, every tracked email carries a footer link on its tracking host
(a custom domain included), in the account's words or the default. Its page explains and
offers one button: a GET (what mail scanners send) changes nothing; the POST records
WITHDRAWN for that recipient's contact with the page's words as proof, once. A forged token
is a 404 page, an erased contact has nothing to withdraw, and the page speaks English,
German or French as the browser asks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from support import (
    FakeClock,
    Tenant,
    give_admin_a_paid_seat,
    gql,
    gql_data,
    gql_ok,
    pixel_path,
    run,
    seed_tenant,
)

from sendtrail.app import create_app
from sendtrail.db.engine import create_sync_engine
from sendtrail.settings import DomainSettings, Settings

HTML = ('<html><body><p>Hi,</p><p>See <a href="https://shop.test/pricing">our pricing</a>.'
        "</p></body></html>")
PREPARE = """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
  email { id } messages { recipients html text } senderCopy { html } } }"""
SETTINGS = """mutation($i: AccountSettingsInput!) { updateAccountSettings(input: $i) {
  id } }"""
CONTACTS = "query($s: String) { contacts(search: $s) { edges { node { id address } } } }"
CONTACT = """query($id: ID!) { contact(id: $id) { trackingConsent
  trackingConsentHistory { consent source wording actor } } }"""
EMAIL = """query($id: ID!) { email(id: $id) { links { url clicks }
  recipients { address clickCount }
  engagements { edges { node { type } } } } }"""
AUDIT = "{ auditLog(first: 50) { edges { node { action summary } } } }"
ERASE = "mutation($c: ID!) { eraseContact(contactId: $c) { contactId } }"
FOOTER = re.compile(r'<a href="http://testserver\.local(/w/[^"]+)"[^>]*>([^<]*)</a>')
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
EXPLANATION = "The sender of this email can see whether and when you open it."


@pytest.fixture
def domain_settings(settings: Settings) -> Settings:
    # The custom domain map reloads every poll interval: short here.
    return replace(settings, domains=DomainSettings(worker=False, poll_seconds=0.2))


@pytest.fixture
def app(domain_settings: Settings, clock: FakeClock) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(domain_settings, clock=clock),
                    base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
def acme(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Acme", seats={}))



def turn_on(app: Any, tenant: Tenant, text: str | None = None) -> None:
    gql_ok(app, tenant.admin_token, SETTINGS, {"i": {"withdrawalLink": True,
                                                 "withdrawalLinkText": text}})


def send(app: Any, tenant: Tenant) -> dict[str, Any]:
    """One tracked email, one message per recipient (ann, then ben)."""
    prepared: dict[str, Any] = gql_ok(app, tenant.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": HTML, "text": "See https://shop.test/pricing",
        "deliveryMode": "PER_RECIPIENT",
        "recipients": [{"address": "ann@client.test"}, {"address": "ben@client.test"}],
    }})["prepareEmail"]
    return prepared


def footer(html: str) -> tuple[str, str]:
    """The footer link's path and words."""
    match = FOOTER.search(html)
    assert match, html
    return match.group(1), match.group(2)


def contact(app: Any, tenant: Tenant, address: str) -> Any:
    edges = gql_ok(app, tenant.admin_token, CONTACTS, {"s": address})["contacts"]["edges"]
    (node,) = [e["node"] for e in edges if e["node"]["address"] == address]
    found = gql_ok(app, tenant.admin_token, CONTACT, {"id": node["id"]})["contact"]
    return {"id": node["id"], **found}


def _sql(database_url: str, statement: str, **params: Any) -> Any:
    engine = create_sync_engine(database_url)
    with engine.begin() as conn:
        rows = conn.execute(text(statement), params).all() if statement.startswith(
            "SELECT") else conn.execute(text(statement), params)
    engine.dispose()
    return rows


def test_the_footer_link_is_there_only_when_the_account_turns_it_on_in_its_words(
    app: Any, acme: Tenant
) -> None:
    """R29: no footer by default; the default words once on; the account's own words,
    escaped, when it sets them. The text part is left as written."""
    off = send(app, acme)
    assert "/w/" not in off["messages"][0]["html"]
    turn_on(app, acme)
    ann, ben = send(app, acme)["messages"]
    ann_path, words = footer(ann["html"])
    assert words == "Stop tracking whether I open this"
    assert footer(ben["html"])[0] != ann_path  # each recipient their own signed token
    assert ann["html"].index("/w/") < ann["html"].index("</body>")
    assert ann["text"] == "See https://shop.test/pricing"
    turn_on(app, acme, "Ne me suivez plus & merci")
    custom = send(app, acme)["messages"][0]["html"]
    assert footer(custom)[1] == "Ne me suivez plus &amp; merci"


def test_following_the_footer_link_is_not_a_click_and_a_get_changes_nothing(
    app: Any, acme: Tenant, database_url: str
) -> None:
    """R29: a scanner fetching the link (GET, twice) withdraws nobody and counts no click."""
    give_admin_a_paid_seat(app, database_url, acme)  # so that links are tracked at all
    turn_on(app, acme)
    prepared = send(app, acme)
    path, _words = footer(prepared["messages"][0]["html"])
    for _ in range(2):
        page = app.get(path, headers={"User-Agent": CHROME}, follow_redirects=False)
        assert page.status_code == 200
        assert EXPLANATION in page.text
        assert '<form method="post"><button type="submit">Stop tracking me</button>' in page.text
        assert page.headers["cache-control"] == "no-store"
    ann = contact(app, acme, "ann@client.test")
    assert (ann["trackingConsent"], ann["trackingConsentHistory"]) == ("UNKNOWN", [])
    email = gql_data(app, EMAIL, {"id": prepared["email"]["id"]}, token=acme.admin_token,
                     field="email")
    assert email["links"] == [{"url": "https://shop.test/pricing", "clicks": 0}]
    assert email["engagements"]["edges"] == []


def test_confirming_withdraws_that_recipient_once_with_the_page_as_proof(
    app: Any, acme: Tenant, database_url: str
) -> None:
    """R29: the POST records WITHDRAWN (source EMAIL_LINK, the page's words, the recipient
    as actor), audited; a second confirmation records nothing more; the other recipient
    keeps their consent."""
    turn_on(app, acme)
    ann_message, _ben = send(app, acme)["messages"]
    path, _words = footer(ann_message["html"])
    done = app.post(path, follow_redirects=False)
    assert done.status_code == 200
    assert "Your opens are no longer tracked" in done.text
    assert "already sent you or will send you" in done.text
    again = app.post(path, follow_redirects=False)
    assert (again.status_code, "Your opens are no longer tracked" in again.text) == (200, True)
    ann = contact(app, acme, "ann@client.test")
    assert ann["trackingConsent"] == "WITHDRAWN"
    (change,) = ann["trackingConsentHistory"]
    assert (change["consent"], change["source"], change["actor"]) == (
        "WITHDRAWN", "EMAIL_LINK", "recipient (email link)")
    assert EXPLANATION in change["wording"]
    assert "[Stop tracking me]" in change["wording"]
    # Seen later, the page says it is done, without a button.
    later = app.get(path)
    assert "Your opens are no longer tracked" in later.text
    assert "<form" not in later.text
    assert contact(app, acme, "ben@client.test")["trackingConsent"] == "UNKNOWN"
    audited = _sql(database_url, "SELECT actor, target FROM audit_entry WHERE action = "
                   "'contact.tracking_consent_recorded'")
    assert [tuple(row) for row in audited] == [("recipient (email link)", f"contact {ann['id']}")]
    log = gql_ok(app, acme.admin_token, AUDIT)["auditLog"]["edges"]
    (said,) = [e["node"]["summary"] for e in log
               if e["node"]["action"] == "contact.tracking_consent_recorded"]
    assert said == ("The recipient recorded tracking consent as withdrawn for ann@client.test "
                    "(through the link in an email)")


def test_a_forged_altered_or_borrowed_token_gets_a_404_page(app: Any, acme: Tenant) -> None:
    """R29: only a withdrawal token we signed opens the page; a pixel's token does not, and
    the withdrawal token is no pixel. Never a server error."""
    turn_on(app, acme)
    prepared = send(app, acme)
    html = prepared["messages"][0]["html"]
    path, _words = footer(html)
    token = path.removeprefix("/w/")
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    pixel_token = pixel_path(html).removeprefix("/o/").removesuffix(".gif")
    for bad in ("nonsense", altered, pixel_token, token + "=", "%00", "x" * 9000):
        for method in (app.get, app.post):
            page = method(f"/w/{bad}", follow_redirects=False)
            assert page.status_code == 404, (bad, page.status_code)
            assert "This link is not valid" in page.text
    # The footer's token loaded as a pixel records no open.
    assert app.get(f"/o/{token}.gif", headers={"User-Agent": CHROME}).status_code == 200
    email = gql_data(app, EMAIL, {"id": prepared["email"]["id"]}, token=acme.admin_token,
                     field="email")
    assert email["engagements"]["edges"] == []
    assert contact(app, acme, "ann@client.test")["trackingConsentHistory"] == []


def test_an_erased_contact_has_nothing_to_withdraw(app: Any, acme: Tenant) -> None:
    """R29 with erasure: the link of an erased recipient says so, and records nothing."""
    turn_on(app, acme)
    path, _words = footer(send(app, acme)["messages"][0]["html"])
    gql_ok(app, acme.admin_token, ERASE, {"c": contact(app, acme, "ann@client.test")["id"]})
    for method in (app.get, app.post):
        page = method(path)
        assert page.status_code == 410
        assert "Nothing to withdraw" in page.text
        assert "<form" not in page.text


@pytest.mark.parametrize(
    ("accept_language", "language", "title", "button"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Ihre Öffnungen nicht mehr erfassen?",
         "Nicht mehr erfassen"),
        ("fr-CH, fr;q=0.9, en;q=0.5", "fr", "Ne plus suivre vos ouvertures ?",
         "Ne plus me suivre"),
        ("es-ES, it;q=0.8", "en", "Stop tracking your opens?", "Stop tracking me"),
    ],
)
def test_the_page_speaks_the_browsers_language(
    app: Any, acme: Tenant, accept_language: str, language: str, title: str, button: str
) -> None:
    """R29: English, German or French from the browser's Accept-Language (else English),
    for the question, the confirmation and the refusal alike; the proof is in its words."""
    turn_on(app, acme)
    path, _words = footer(send(app, acme)["messages"][0]["html"])
    headers = {"Accept-Language": accept_language}
    page = app.get(path, headers=headers)
    assert f'<html lang="{language}">' in page.text
    assert title in page.text
    assert f">{button}</button>" in page.text
    done = app.post(path, headers=headers)
    assert done.headers["content-language"] == language
    assert {"de": "nicht mehr erfasst", "fr": "ne sont plus suivies",
            "en": "no longer tracked"}[language] in done.text
    wording = contact(app, acme, "ann@client.test")["trackingConsentHistory"][0]["wording"]
    assert f"[{button}]" in wording
    refused = app.get("/w/nonsense", headers=headers)
    assert refused.status_code == 404
    assert {"de": "Dieser Link ist ungültig", "fr": "Ce lien n'est pas valide",
            "en": "This link is not valid"}[language] in refused.text


def test_the_link_works_on_the_accounts_custom_tracking_domain(
    app: Any, acme: Tenant, database_url: str
) -> None:
    """R29 with R20/R21: the footer is on the account's custom tracking domain, its page
    answers there, and another account's token is not found on it."""
    rival = run(seed_tenant(database_url, "Rival", seats={}))
    body = gql(app, 'mutation { addTrackingDomain(input: {hostname: "links.acme.test"}) '
                    "{ id } }", token=acme.admin_token)
    assert body.get("errors") is None, body
    _sql(database_url, "UPDATE tracking_domain SET status = 'active', "
         "certificate_expires_at = :later WHERE hostname = :h",
         h="links.acme.test", later=datetime.now(UTC) + timedelta(days=60))
    turn_on(app, acme)
    turn_on(app, rival)
    html = send(app, acme)["messages"][0]["html"]
    match = re.search(r'<a href="https://links\.acme\.test(/w/[^"]+)"', html)
    assert match, html
    theirs, _words = footer(send(app, rival)["messages"][0]["html"])
    time.sleep(0.5)  # the host map reloads every poll interval (0.2 s here)
    on_domain = {"Host": "links.acme.test"}
    assert app.get(match.group(1), headers=on_domain).status_code == 200
    assert app.get(theirs, headers=on_domain).status_code == 404  # R21
    assert app.post(theirs, headers=on_domain).status_code == 404
    assert contact(app, rival, "ann@client.test")["trackingConsent"] == "UNKNOWN"
    assert app.post(match.group(1), headers=on_domain).status_code == 200
    assert contact(app, acme, "ann@client.test")["trackingConsent"] == "WITHDRAWN"


def test_a_footer_link_quoted_in_a_later_email_stays_as_it_is_and_is_no_tracked_link(
    app: Any, acme: Tenant, database_url: str
) -> None:
    """R29 with R8: a reply quoting Ann's footer keeps her link as it was (never a click
    token), says why, and still gets its own footer."""
    give_admin_a_paid_seat(app, database_url, acme)
    turn_on(app, acme)
    ann = send(app, acme)["messages"][0]["html"]
    quoted_path, _words = footer(ann)
    quoted = f"http://testserver.local{quoted_path}"
    body = gql(app, """mutation($i: PrepareEmailInput!) { prepareEmail(input: $i) {
      notTrackedReasons email { id } messages { html } } }""", {"i": {
        "subject": "Re: Pricing", "recipients": [{"address": "ann@client.test"}],
        "html": f'<p>Thanks!</p><blockquote><a href="{quoted}">Stop tracking whether I open '
                'this</a> <a href="https://shop.test/pricing">pricing</a></blockquote>'}},
        token=acme.admin_token)
    assert body.get("errors") is None, body
    reply = body["data"]["prepareEmail"]
    html = reply["messages"][0]["html"]
    assert f'href="{quoted}"' in html  # as quoted
    assert len(re.findall(r'href="http://testserver\.local/w/', html)) == 2  # + its own
    assert len(re.findall(r'href="http://testserver\.local/c/', html)) == 1  # pricing only
    assert any("withdrawal link copied from an earlier email" in reason
               for reason in reply["notTrackedReasons"])
    email = gql_data(app, EMAIL, {"id": reply["email"]["id"]}, token=acme.admin_token,
                     field="email")
    assert email["links"] == [{"url": "https://shop.test/pricing", "clicks": 0}]


def test_a_shared_message_and_the_senders_copy_withdraw_nobody_and_say_why(
    app: Any, acme: Tenant
) -> None:
    """R29 with R15: one message to Ann and Ben cannot tell who follows its link, and the
    sender's own copy is theirs: each page says so, offers no button, and a POST records
    nothing."""
    turn_on(app, acme)
    shared = gql_ok(app, acme.admin_token, PREPARE, {"i": {
        "subject": "Pricing", "html": HTML,
        "recipients": [{"address": "ann@client.test"}, {"address": "ben@client.test"}],
    }})["prepareEmail"]
    (message,) = shared["messages"]
    own = re.search(r'<a href="http://testserver\.local(/w/[^"]+)"', shared["senderCopy"]["html"])
    assert own, shared["senderCopy"]["html"]
    for path, title in ((footer(message["html"])[0], "This link cannot tell who you are"),
                        (own.group(1), "This is the sender's own copy")):
        for method in (app.get, app.post):
            page = method(path)
            assert page.status_code == 200
            assert title in page.text
            assert "<form" not in page.text
    for address in ("ann@client.test", "ben@client.test"):
        assert contact(app, acme, address)["trackingConsentHistory"] == []
