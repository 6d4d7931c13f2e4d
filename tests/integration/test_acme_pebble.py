"""ACME issuance against a real Pebble that resolves names through a real DNS server.

Pebble validates HTTP-01 by connecting to ``<hostname>:<pebble.http01_port>``; the DNS
server (pebble-challtestsrv) maps each test hostname to 127.0.0.1 with no AAAA record,
and a tiny HTTP server here answers the challenges that ``publish`` stored.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from components import (
    REJECTED_HOSTNAME,
    ChallTestSrv,
    Pebble,
    PebbleFactory,
    free_port,
)
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import PolicyBuilder, Store

from sendtrail.domains.acme_issuer import AcmeFailure, AcmeIssuer, new_account_key
from sendtrail.domains.acme_schedule import renewal_time

CHALLENGE_PREFIX = "/.well-known/acme-challenge/"
SHORT_VALIDITY = 3600


@dataclass
class ChallengeBoard:
    """What Sendtrail would store and serve: token -> key authorization, per Host."""

    answers: dict[str, str] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    hosts_asked: list[str] = field(default_factory=list)
    tamper: bool = False

    def publish(self, token: str, key_authorization: str) -> None:
        self.published.append(token)
        self.answers[token] = key_authorization + ("-wrong" if self.tamper else "")

    def unpublish(self, token: str) -> None:
        self.unpublished.append(token)
        self.answers.pop(token, None)


def _serve(board: ChallengeBoard, port: int) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            board.hosts_asked.append(self.headers.get("Host", ""))
            answer = None
            if self.path.startswith(CHALLENGE_PREFIX):
                answer = board.answers.get(self.path.removeprefix(CHALLENGE_PREFIX))
            body = (answer or "not found").encode()
            self.send_response(200 if answer else 404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def board(pebble: Pebble) -> Iterator[ChallengeBoard]:
    """Challenge answers served on the port Pebble validates HTTP-01 on."""
    board = ChallengeBoard()
    server = _serve(board, pebble.http01_port)
    yield board
    server.shutdown()
    server.server_close()


def _point_at_loopback(challtestsrv: ChallTestSrv, hostname: str) -> None:
    challtestsrv.clear(hostname)
    challtestsrv.add_a(hostname, ["127.0.0.1"])


def _assert_chains_to(chain_pem: str, root_pem: str, hostname: str) -> None:
    leaf, *intermediates = x509.load_pem_x509_certificates(chain_pem.encode())
    roots = x509.load_pem_x509_certificates(root_pem.encode())
    verifier = (
        PolicyBuilder().store(Store(roots)).time(dt.datetime.now(dt.UTC))
        .build_server_verifier(x509.DNSName(hostname))
    )
    verified = verifier.verify(leaf, intermediates)
    assert verified[-1] in roots


def test_issues_a_certificate_for_the_hostname_and_reuses_the_account(
    pebble: Pebble, challtestsrv: ChallTestSrv, board: ChallengeBoard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hostname = "shop-links.customer.test"
    _point_at_loopback(challtestsrv, hostname)
    account_key = new_account_key()
    issuer = AcmeIssuer(pebble.directory_url, account_key, ca_bundle=pebble.ca_bundle_path)

    issued = issuer.issue(hostname, publish=board.publish, unpublish=board.unpublish)

    leaf = x509.load_pem_x509_certificate(issued.chain_pem.encode())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [hostname]
    _assert_chains_to(issued.chain_pem, pebble.roots_pem(), hostname)
    assert issued.serial == format(leaf.serial_number, "x")
    assert (issued.not_before, issued.not_after) == (
        leaf.not_valid_before_utc, leaf.not_valid_after_utc
    )
    private = serialization.load_pem_private_key(issued.key_pem.encode(), password=None)
    assert private.public_key() == leaf.public_key()
    assert len(board.published) == 1
    assert board.published == board.unpublished
    assert hostname in " ".join(board.hosts_asked)
    account_uri = issuer.account_uri
    assert account_uri is not None
    assert account_uri.startswith("https://127.0.0.1:")

    # The stored account URI and key are used as they are: no new registration.
    registrations: list[AcmeIssuer] = []
    original = AcmeIssuer.register

    def counted(self: AcmeIssuer) -> str:
        registrations.append(self)
        return original(self)

    monkeypatch.setattr(AcmeIssuer, "register", counted)
    again = AcmeIssuer(
        pebble.directory_url, account_key, ca_bundle=pebble.ca_bundle_path,
        account_uri=account_uri,
    )
    second = again.issue(hostname, publish=board.publish, unpublish=board.unpublish)
    assert registrations == []
    assert again.account_uri == account_uri
    assert second.serial != issued.serial


def test_wrong_key_authorization_is_a_readable_failure(
    pebble: Pebble, challtestsrv: ChallTestSrv, board: ChallengeBoard,
) -> None:
    hostname = "wrong-answer.customer.test"
    _point_at_loopback(challtestsrv, hostname)
    board.tamper = True
    issuer = AcmeIssuer(pebble.directory_url, ca_bundle=pebble.ca_bundle_path)

    with pytest.raises(AcmeFailure) as caught:
        issuer.issue(hostname, publish=board.publish, unpublish=board.unpublish)

    failure = caught.value
    assert failure.problem_type == "urn:ietf:params:acme:error:unauthorized"
    assert hostname in failure.reason
    assert "did not match" in failure.reason
    assert failure.retryable  # e.g. DNS still moving to Sendtrail; the failure cap applies
    assert not failure.platform_problem
    assert board.published == board.unpublished
    assert board.answers == {}


def test_no_server_on_the_hostname_is_a_retryable_failure(
    pebble_factory: PebbleFactory, challtestsrv: ChallTestSrv,
) -> None:
    silent = pebble_factory(http01_port=free_port())  # nothing listens there
    hostname = "nobody-home.customer.test"
    _point_at_loopback(challtestsrv, hostname)
    board = ChallengeBoard()
    issuer = AcmeIssuer(silent.directory_url, ca_bundle=silent.ca_bundle_path)

    with pytest.raises(AcmeFailure) as caught:
        issuer.issue(hostname, publish=board.publish, unpublish=board.unpublish)

    failure = caught.value
    assert failure.problem_type == "urn:ietf:params:acme:error:connection"
    assert hostname in failure.reason
    assert "connection refused" in failure.reason
    assert failure.retryable
    assert board.published == board.unpublished



def test_hostname_the_ca_refuses_is_not_retried(pebble: Pebble, board: ChallengeBoard) -> None:
    issuer = AcmeIssuer(pebble.directory_url, ca_bundle=pebble.ca_bundle_path)

    with pytest.raises(AcmeFailure) as caught:
        issuer.issue(REJECTED_HOSTNAME, publish=board.publish, unpublish=board.unpublish)

    assert caught.value.problem_type == "urn:ietf:params:acme:error:rejectedIdentifier"
    assert REJECTED_HOSTNAME in caught.value.reason
    assert not caught.value.retryable
    assert board.published == []


def test_renewal_is_planned_two_thirds_into_the_lifetime_pebble_gives(
    pebble_factory: PebbleFactory, challtestsrv: ChallTestSrv,
) -> None:
    short = pebble_factory(validity_seconds=SHORT_VALIDITY)
    hostname = "short-lived.customer.test"
    _point_at_loopback(challtestsrv, hostname)
    board = ChallengeBoard()
    server = _serve(board, short.http01_port)
    try:
        issuer = AcmeIssuer(short.directory_url, ca_bundle=short.ca_bundle_path)
        issued = issuer.issue(hostname, publish=board.publish, unpublish=board.unpublish)
    finally:
        server.shutdown()
        server.server_close()

    lifetime = issued.not_after - issued.not_before
    # Pebble sets notAfter = notBefore + period - 1 s.
    assert abs(lifetime - dt.timedelta(seconds=SHORT_VALIDITY)) <= dt.timedelta(seconds=1)
    renew_at = renewal_time(issued.not_before, issued.not_after)
    assert renew_at - issued.not_before == lifetime * 2 / 3
    assert issued.not_before < renew_at < issued.not_after
    _assert_chains_to(issued.chain_pem, short.roots_pem(), hostname)


def test_untrusted_acme_server_is_a_platform_problem(pebble: Pebble) -> None:
    issuer = AcmeIssuer(pebble.directory_url)  # the system store does not trust Pebble

    with pytest.raises(AcmeFailure) as caught:
        issuer.issue("any.customer.test", publish=_never, unpublish=_never)

    assert caught.value.platform_problem
    assert "SENDTRAIL_ACME_CA_BUNDLE" in caught.value.reason


def test_unreachable_acme_server_is_a_retryable_platform_problem() -> None:
    directory_url = f"https://127.0.0.1:{free_port()}/dir"
    issuer = AcmeIssuer(directory_url)

    with pytest.raises(AcmeFailure) as caught:
        issuer.issue("any.customer.test", publish=_never, unpublish=_never)

    assert caught.value.platform_problem
    assert caught.value.retryable
    assert directory_url in caught.value.reason


def _never(*args: str) -> None:
    raise AssertionError("nothing may be published when the CA cannot be reached")


def test_account_the_ca_forgot_is_registered_again(
    pebble: Pebble, challtestsrv: ChallTestSrv, board: ChallengeBoard,
) -> None:
    hostname = "forgotten-account.customer.test"
    _point_at_loopback(challtestsrv, hostname)
    stale = pebble.directory_url.replace("/dir", "/my-account/does-not-exist")
    with AcmeIssuer(
        pebble.directory_url, new_account_key(), ca_bundle=pebble.ca_bundle_path,
        account_uri=stale,
    ) as issuer:
        issuer.issue(hostname, publish=board.publish, unpublish=board.unpublish)

    assert issuer.account_uri is not None
    assert issuer.account_uri != stale


def test_registering_an_existing_key_finds_its_account(pebble: Pebble) -> None:
    key = new_account_key()
    with AcmeIssuer(pebble.directory_url, key, ca_bundle=pebble.ca_bundle_path) as first:
        uri = first.register()
    with AcmeIssuer(pebble.directory_url, key, ca_bundle=pebble.ca_bundle_path) as second:
        assert second.register() == uri
    with AcmeIssuer(pebble.directory_url, ca_bundle=pebble.ca_bundle_path) as other:
        assert other.register() != uri
