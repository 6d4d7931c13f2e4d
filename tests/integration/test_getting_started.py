"""The first run's checklist through GraphQL (issue 15, item 8), on both backends: each
step ticks itself from what exists — the account's outbound mail, a colleague, a tracking
domain for everyone in the account; a tracked email sent from Sendtrail for the person who
sent it — and one account's progress is never another's."""

from __future__ import annotations

from typing import Any

from integration.test_sending import configure
from support import Tenant, gql_data, run, seed_tenant

from sendtrail.sending.getting_started import relay_login
from sendtrail.sending.values import SmtpEndpoint, SmtpSecurity
from sendtrail.settings import SendingSettings, Settings

CHECKLIST = "{ gettingStarted { complete relay { host } steps { id done adminOnly } } }"
SEND = "mutation($i: SendEmailInput!) { sendEmail(input: $i) { email { id } } }"
ADD_DOMAIN = "mutation($i: AddTrackingDomainInput!) { addTrackingDomain(input: $i) { id } }"
UPSTREAM = SmtpEndpoint("smtp.acme.test", 587, SmtpSecurity.STARTTLS, "mailer", "secret")


def _done(client: Any, token: str) -> set[str]:
    checklist = gql_data(client, CHECKLIST, token=token, field="gettingStarted")
    assert checklist["relay"] is None  # the relay is off in these settings
    assert checklist["complete"] is (len(checklist["steps"]) == sum(
        step["done"] for step in checklist["steps"]))
    assert {step["id"]: step["adminOnly"] for step in checklist["steps"]} == {
        "OUTBOUND_MAIL": True, "MAIL_CLIENT": False, "FIRST_EMAIL": False,
        "INVITE_COLLEAGUE": True, "TRACKING_DOMAIN": True}
    return {step["id"] for step in checklist["steps"] if step["done"]}


def test_each_step_ticks_itself_for_the_account_or_the_person(
    client: Any, database_url: str, settings: Settings
) -> None:
    acme: Tenant = run(seed_tenant(database_url, "Acme"))
    other: Tenant = run(seed_tenant(database_url, "Other"))
    # seed_tenant adds a colleague to its admin: that step is done from the start.
    assert _done(client, acme.admin_token) == {"INVITE_COLLEAGUE"}

    configure(settings, acme, UPSTREAM)  # R26
    gql_data(client, SEND, {"i": {"to": ["ann@client.test"], "subject": "Hello",
                                  "html": "<p>Hi Ann</p>", "track": True}},
             token=acme.user_token, field="sendEmail")
    gql_data(client, ADD_DOMAIN, {"i": {"hostname": "t.acme.test"}}, token=acme.admin_token,
             field="addTrackingDomain")
    account_wide = {"OUTBOUND_MAIL", "INVITE_COLLEAGUE", "TRACKING_DOMAIN"}
    assert _done(client, acme.user_token) == account_wide | {"FIRST_EMAIL"}
    assert _done(client, acme.admin_token) == account_wide  # the user sent it, not the admin
    assert _done(client, other.admin_token) == {"INVITE_COLLEAGUE"}  # nothing of Acme's


def test_an_untracked_email_is_not_the_first_tracked_one(
    client: Any, database_url: str, settings: Settings
) -> None:
    acme: Tenant = run(seed_tenant(database_url, "Acme"))
    configure(settings, acme, UPSTREAM)
    gql_data(client, SEND, {"i": {"to": ["ann@client.test"], "subject": "Plain",
                                  "html": "<p>Hi</p>", "track": False}},
             token=acme.admin_token, field="sendEmail")
    assert "FIRST_EMAIL" not in _done(client, acme.admin_token)


def test_the_relay_login_names_the_server_a_mail_client_reaches() -> None:  # R26
    off = SendingSettings()
    assert relay_login(off, "https://crm.example.test", "ada@acme.test") is None
    everywhere = SendingSettings(submission_port=587, submission_host="0.0.0.0")  # noqa: S104
    login = relay_login(everywhere, "https://crm.example.test:8443", "ada@acme.test")
    assert login is not None
    assert (login.host, login.port, login.starttls, login.username) == (
        "crm.example.test", 587, False, "ada@acme.test")
    own = SendingSettings(submission_port=2587, submission_host="mail.acme.test")
    named = relay_login(own, "https://crm.example.test", "ada@acme.test")
    assert named is not None
    assert named.host == "mail.acme.test"
