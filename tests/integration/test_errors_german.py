"""The server's refusals in the reader's language (issue 15, item 12), over real HTTP.

The web admin sends its person's choice as the ``sendtrail_language`` cookie; integrators
send ``Accept-Language``. Either way a refusal — a typed GraphQL error, a failed sign-in, an
unknown or expired invitation link, a GraphQL transport error — comes back in German with
its code and status unchanged; without either, in English as before. Both backends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from support import PASSWORD, FakeClock, Tenant, gql, gql_data, refusal

GERMAN_READERS = {
    "cookie": {"Cookie": "sendtrail_language=de"},
    "accept-language": {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"},
}
NOBODY = "00000000-0000-4000-8000-000000000000"
INVITE = """mutation($input: InviteUserInput!) { inviteUser(input: $input) {
  id invitation { link } } }"""


@pytest.fixture(params=[*GERMAN_READERS, "english"])
def reader(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _headers(reader: str) -> dict[str, str]:
    return dict(GERMAN_READERS.get(reader, {}))


def _say(reader: str, english: str, german: str) -> str:
    return english if reader == "english" else german


def _refused(client: TestClient[Any], reader: str, query: str, *, token: str,
             variables: dict[str, Any] | None = None) -> tuple[str, str]:
    return refusal(gql(client, query, variables, token=token, headers=_headers(reader)))


def test_typed_graphql_errors_speak_the_readers_language_with_their_codes(
    app: TestClient[Any], acme: Tenant, reader: str
) -> None:
    assert _refused(app, reader, f'{{ user(id: "{NOBODY}") {{ id }} }}',
                    token=acme.admin_token) == (
        "NOT_FOUND",
        _say(reader, f"No user with id {NOBODY} in this account.",
             f"In diesem Konto gibt es keinen Benutzer mit der ID {NOBODY}."),
    )
    assert _refused(app, reader, '{ user(id: "not-an-id") { id } }',
                    token=acme.admin_token) == (
        "NOT_FOUND",
        _say(reader, "No user with id 'not-an-id'.",
             "Benutzer mit der ID 'not-an-id' gibt es nicht."),
    )
    assert _refused(app, reader, "{ users(first: -1) { edges { node { id } } } }",
                    token=acme.admin_token) == (
        "BAD_USER_INPUT",
        _say(reader, "'first' must be zero or more.", "'first' muss null oder größer sein."),
    )
    assert _refused(app, reader, "{ auditLog(first: 5) { edges { node { action } } } }",
                    token=acme.user_token) == (
        "FORBIDDEN",
        _say(reader, "Your role does not allow you to read audit log; ask an admin of your "
             "account.",
             "Ihre Rolle erlaubt es Ihnen nicht, das Prüfprotokoll zu lesen; wenden Sie sich "
             "an einen Administrator Ihres Kontos."),
    )
    # A scalar refuses while the variables are coerced, before any resolver runs.
    body = gql(app, "query($at: DateTime!) { auditLog(first: 1, filter: {since: $at}) "
               "{ edges { node { action } } } }", {"at": "yesterday"},
               token=acme.admin_token, headers=_headers(reader))
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert _say(reader, "is not a date-time", "ist keine Zeitangabe") in error["message"]


def test_no_credential_is_refused_in_the_readers_language(
    app: TestClient[Any], reader: str
) -> None:
    assert refusal(gql(app, "{ viewer { id } }", headers=_headers(reader))) == (
        "UNAUTHENTICATED",
        _say(reader, "Sign in, or send an API token as 'Authorization: Bearer st_...'.",
             "Melden Sie sich an, oder senden Sie ein API-Token als 'Authorization: Bearer "
             "st_...'."),
    )


def test_a_failed_sign_in_speaks_the_readers_language(
    app: TestClient[Any], acme: Tenant, reader: str
) -> None:
    answer = app.post("/auth/login", json={"email": acme.admin_email, "password": "wrong!"},
                      headers=_headers(reader))
    assert answer.status_code == 401
    assert answer.json() == {"error": {
        "code": "UNAUTHENTICATED",
        "message": _say(reader, "Wrong email or password.",
                        "E-Mail-Adresse oder Passwort ist falsch."),
    }}
    signed_in = app.post("/auth/login", json={"email": acme.admin_email, "password": PASSWORD},
                         headers=_headers(reader))
    assert signed_in.status_code == 200


def test_unknown_and_expired_invitation_links_speak_the_readers_language(
    app: TestClient[Any], acme: Tenant, clock: FakeClock, reader: str
) -> None:
    unknown = app.get("/auth/invitation", headers={"X-Sendtrail-Invitation": "not-a-link",
                                                   **_headers(reader)})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"
    assert unknown.json()["error"]["message"].startswith(_say(
        reader, "This invitation link is not known.",
        "Dieser Einladungslink ist nicht bekannt."))

    invited = gql_data(app, INVITE, {"input": {"email": "sam@acme.test"}},
                       token=acme.admin_token, field="inviteUser")
    token = invited["invitation"]["link"].split("#", 1)[1]
    clock.advance(8 * 24 * 3600)  # past the week an invitation lasts
    expired = app.get("/auth/invitation", headers={"X-Sendtrail-Invitation": token,
                                                   **_headers(reader)})
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "GONE"
    message = expired.json()["error"]["message"]
    if reader == "english":
        assert message.startswith("This invitation link expired on ")
        assert message.endswith(f" UTC. Ask {acme.admin_email} to send you a new one.")
    else:
        assert message.startswith("Dieser Einladungslink ist am ")
        expired_at = clock.now - timedelta(days=1)  # a week after the invitation
        assert f" um {expired_at:%H:%M} UTC abgelaufen." in message
        assert message.endswith(f"Bitten Sie {acme.admin_email}, Ihnen einen neuen zu senden.")


def test_graphql_transport_errors_speak_the_readers_language(
    app: TestClient[Any], reader: str
) -> None:
    answer = app.get("/graphql", params={"query": "mutation { __typename }"},
                     headers=_headers(reader))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.json() == {"errors": [{
        "message": _say(reader, "Mutations are sent with POST; GET serves queries only.",
                        "Mutations werden mit POST gesendet; GET dient nur für Queries."),
        "extensions": {"code": "BAD_REQUEST"},
    }]}
    not_json = app.post("/graphql", content=b"query=1",
                        headers={"Content-Type": "text/plain", **_headers(reader)})
    assert not_json.status_code == 415
    assert not_json.json()["errors"][0]["message"].startswith(
        _say(reader, "Send the operation as JSON", "Senden Sie die Operation als JSON"))


def test_validation_errors_are_cached_per_language(app: TestClient[Any], acme: Tenant) -> None:
    # The same document is validated once per language: German first must not make the
    # English answer German (strawberry caches validation results by document).
    query = "{ __schema { queryType { name } } }"
    german = gql(app, query, token=acme.admin_token, headers=GERMAN_READERS["cookie"])
    english = gql(app, query, token=acme.admin_token)
    assert german["errors"][0]["message"].startswith("Introspection ist auf diesem Server")
    assert english["errors"][0]["message"].startswith("Introspection is turned off")
    assert german["errors"][0]["extensions"] == english["errors"][0]["extensions"]
