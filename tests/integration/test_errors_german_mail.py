"""The server's errors in the reader's language (issue 15, item 12): sending, webhooks,
tracking domains and reports, through real HTTP GraphQL on both backends.

The admin's ``sendtrail_language`` cookie, or an integrator's ``Accept-Language``, asks for
German; without either the answer is English, word for word as before. Error codes never
change with the language.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from support import Tenant, gql, refusal

UPDATE_OUTBOUND = """mutation($i: OutboundMailInput!) { updateOutboundMail(input: $i) {
  configured } }"""
CREATE_WEBHOOK = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  secret } }"""
ADD_DOMAIN = """mutation($i: AddTrackingDomainInput!) { addTrackingDomain(input: $i) { id } }"""
SEND = """mutation($i: SendEmailInput!) { sendEmail(input: $i) { email { id } } }"""
OPENED = ["engagement.opened"]
REPORT = """query($i: EngagementReportInput) { engagementReport(input: $i) { since } }"""

# (operation, variables, code, English, German)
CASES = {
    "outbound mail without a host": (
        UPDATE_OUTBOUND, {"i": {"host": " ", "port": 587, "security": "STARTTLS"}},
        "BAD_USER_INPUT",
        "Give the SMTP server's host name.",
        "Geben Sie den Hostnamen des SMTP-Servers an.",
    ),
    "outbound mail with a bad port": (
        UPDATE_OUTBOUND, {"i": {"host": "8.8.8.8", "port": 0, "security": "TLS"}},
        "BAD_USER_INPUT",
        "The SMTP port must be between 1 and 65535 (587 for STARTTLS submission, 465 for "
        "TLS).",
        "Der SMTP-Port muss zwischen 1 und 65535 liegen (587 für die Einlieferung mit "
        "STARTTLS, 465 für TLS).",
    ),
    "outbound mail on a private network": (
        UPDATE_OUTBOUND, {"i": {"host": "10.1.2.3", "port": 587, "security": "STARTTLS"}},
        "BAD_USER_INPUT",
        "Mail may not be sent through 10.1.2.3: it is a private address. Set "
        "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE=true to use a mail server on your own network.",
        "Über 10.1.2.3 darf keine E-Mail gesendet werden: Es ist eine private Adresse. "
        "Setzen Sie SENDTRAIL_OUTBOUND_ALLOW_PRIVATE=true, um einen Mailserver in Ihrem "
        "eigenen Netz zu verwenden.",
    ),
    "a webhook URL that is not http": (
        CREATE_WEBHOOK, {"i": {"url": "ftp://hooks.example.com/", "eventTypes": OPENED}},
        "BAD_USER_INPUT",
        "A webhook URL must start with https:// (or http://).",
        "Eine Webhook-URL muss mit https:// (oder http://) beginnen.",
    ),
    "a webhook URL to a loopback address": (
        CREATE_WEBHOOK, {"i": {"url": "https://127.0.0.1/hook", "eventTypes": OPENED}},
        "BAD_USER_INPUT",
        "Webhooks may not be sent to 127.0.0.1: it is a loopback address.",
        "Webhooks dürfen nicht an 127.0.0.1 gesendet werden: Es ist eine Loopback-Adresse.",
    ),
    "a wildcard tracking domain": (
        ADD_DOMAIN, {"i": {"hostname": "*.example.com"}},
        "BAD_USER_INPUT",
        "Wildcards are not supported: enter one hostname, e.g. links.example.com, and add "
        "each further hostname separately.",
        "Platzhalter werden nicht unterstützt: Geben Sie einen Hostnamen ein, z. B. "
        "links.example.com, und fügen Sie jeden weiteren Hostnamen einzeln hinzu.",
    ),
    "sending without outbound mail": (
        SEND, {"i": {"to": ["ann@client.test"], "subject": "Hi", "html": "<p>Hi</p>"}},
        "OUTBOUND_NOT_CONFIGURED",
        "Outbound mail is not set up for this account: an admin sets the account's mail "
        "server in Settings → Outbound mail before anyone can send.",
        "Ausgehende E-Mail ist für dieses Konto nicht eingerichtet: Ein Administrator legt "
        "den Mailserver des Kontos unter Einstellungen → Ausgehende E-Mail fest, bevor "
        "jemand senden kann.",
    ),
    "a report range too long": (
        REPORT, {"i": {"interval": "HOUR", "since": "2030-05-01T00:00:00Z",
                       "until": "2030-06-01T00:00:00Z"}},
        "BAD_USER_INPUT",
        "A report shows at most 192 hours; choose a shorter range or a longer interval.",
        "Ein Bericht zeigt höchstens 192 Stunden; wählen Sie einen kürzeren Zeitraum oder "
        "ein längeres Intervall.",
    ),
}
ASKING_FOR_GERMAN = {
    "the admin's cookie": {"Cookie": "sendtrail_language=de"},
    "Accept-Language": {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"},
}


def _refused(client: TestClient[Any], case: str, token: str,
             headers: dict[str, str]) -> tuple[str, str]:
    operation, variables, *_said = CASES[case]
    return refusal(gql(client, operation, variables, token=token, headers=headers))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("asking", ASKING_FOR_GERMAN)
def test_errors_come_back_in_german_when_the_reader_asks_and_the_code_stays(
    client: TestClient[Any], acme: Tenant, case: str, asking: str
) -> None:
    _operation, _variables, code, _english, german = CASES[case]
    assert _refused(client, case, acme.admin_token, ASKING_FOR_GERMAN[asking]) == (code, german)


@pytest.mark.parametrize("case", CASES)
def test_errors_stay_english_word_for_word_without_a_language(
    client: TestClient[Any], acme: Tenant, case: str
) -> None:
    _operation, _variables, code, english, _german = CASES[case]
    assert _refused(client, case, acme.admin_token, {}) == (code, english)
    # A language we do not speak is English too.
    assert _refused(client, case, acme.admin_token, {"Accept-Language": "fr-FR"}) == (
        code, english)
