"""Certificates for custom tracking domains from an ACME CA, over HTTP-01.

Blocking (``requests`` underneath): callers run it in a worker thread, one issuer per
thread. The flow, after certbot's ``acme/examples/http01_example.py``:

1. Load the platform's account key (``new_account_key()`` makes one; the caller stores it
   encrypted) and fetch the directory (``directory_url``, trusting ``ca_bundle``).
2. Register the one platform account, or reuse the stored account URI as is
   (``account_uri``; registered again only if the CA no longer knows it).
3. ``issue(hostname, publish=, unpublish=)``: a new ECDSA P-256 key and CSR for the
   hostname, ``new_order``, pick HTTP-01, ``publish(token, key_authorization)`` (the caller
   stores it; Sendtrail serves it under ``/.well-known/acme-challenge/<token>`` for that
   Host), answer the challenge, poll and finalise with a deadline, ``unpublish(token)``
   in all cases, and return the chain, key, validity and serial.

Every failure leaves as ``AcmeFailure`` (see ``acme_problems``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from acme import challenges, client, errors, messages
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from josepy.jwa import ES256, RS256, JWASignature
from josepy.jwk import JWK, JWKEC, JWKRSA

from sendtrail.domains.acme_problems import AcmeFailure, from_problem
from sendtrail.i18n import _

__all__ = ["AcmeFailure", "AcmeIssuer", "IssuedCertificate", "new_account_key"]

Publish = Callable[[str, str], None]
Unpublish = Callable[[str], None]

DEFAULT_TIMEOUT = dt.timedelta(seconds=90)
USER_AGENT = "sendtrail-acme"
_T = TypeVar("_T")


@dataclass(frozen=True)
class IssuedCertificate:
    chain_pem: str
    """Leaf first, then the intermediates, as the CA sent them."""
    key_pem: str
    """The certificate's private key (PKCS#8 PEM, unencrypted: encrypt it before storing)."""
    not_before: dt.datetime
    not_after: dt.datetime
    serial: str
    """Lower-case hexadecimal."""


def new_account_key() -> str:
    """A fresh ACME account key (ECDSA P-256, PKCS#8 PEM)."""
    return _private_pem(ec.generate_private_key(ec.SECP256R1()))


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _jwk(account_key_pem: str) -> tuple[JWK, JWASignature]:
    key = serialization.load_pem_private_key(account_key_pem.encode(), password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return JWKEC(key=key), ES256
    if isinstance(key, rsa.RSAPrivateKey):
        return JWKRSA(key=key), RS256
    raise ValueError("The ACME account key must be ECDSA P-256 or RSA")


def _csr(hostname: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def _http01(order: messages.OrderResource, hostname: str) -> messages.ChallengeBody:
    for authorization in order.authorizations:
        for challenge in authorization.body.challenges:
            if isinstance(challenge.chall, challenges.HTTP01):
                return challenge
    raise AcmeFailure(_(
        "The certificate authority offered no HTTP-01 challenge for {host}, the only "
        "kind Sendtrail answers.").format(host=hostname), False, platform_problem=True,
    )


def _issued(fullchain_pem: str, key_pem: str) -> IssuedCertificate:
    leaf = x509.load_pem_x509_certificates(fullchain_pem.encode())[0]
    return IssuedCertificate(
        chain_pem=fullchain_pem, key_pem=key_pem,
        not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
        serial=format(leaf.serial_number, "x"),
    )


class AcmeIssuer:
    """The platform's ACME account at one CA; issues one hostname at a time."""

    def __init__(
        self, directory_url: str, account_key_pem: str | None = None, *,
        ca_bundle: str | None = None, account_uri: str | None = None,
        contact_email: str | None = None, timeout: dt.timedelta = DEFAULT_TIMEOUT,
    ) -> None:
        """``account_key_pem`` None: a new key is made (store ``account_key_pem`` after)."""
        if account_key_pem is None:
            if account_uri is not None:
                raise ValueError("an account URI needs the account key it was registered with")
            account_key_pem = new_account_key()
        self.directory_url = directory_url
        self.account_key_pem = account_key_pem
        self._key, alg = _jwk(account_key_pem)
        self._contact_email = contact_email
        self._timeout = timeout
        # requests takes a CA bundle path where acme's annotation says bool.
        verify: bool | str = ca_bundle if ca_bundle else True
        self._net = client.ClientNetwork(
            self._key, alg=alg, verify_ssl=verify,  # type: ignore[arg-type]
            user_agent=USER_AGENT,
        )
        self._client: client.ClientV2 | None = None
        self._account_uri = account_uri
        if account_uri:
            self._net.account = messages.RegistrationResource(
                uri=account_uri, body=messages.Registration()
            )

    @property
    def account_uri(self) -> str | None:
        """The account URI to store (may change when the CA forgot the stored one)."""
        return self._account_uri

    def close(self) -> None:
        self._net.session.close()

    def __enter__(self) -> AcmeIssuer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def register(self) -> str:
        """Register the platform account, or find it by key; returns its URI."""
        acme = self._acme("(account registration)")
        self._net.account = None
        registration = messages.NewRegistration.from_data(
            email=self._contact_email, terms_of_service_agreed=True
        )

        def new_or_existing() -> messages.RegistrationResource:
            try:
                return acme.new_account(registration)
            except errors.ConflictError as existing:  # this key already has an account
                found = messages.RegistrationResource(
                    uri=existing.location, body=messages.Registration()
                )
                self._net.account = found
                return found

        regr = self._call(new_or_existing, "(account registration)")
        if not regr.uri:
            raise AcmeFailure(
                _("The ACME server {url} registered no account URI.").format(
                    url=self.directory_url), True, platform_problem=True,
            )
        self._account_uri = regr.uri
        return regr.uri

    def issue(self, hostname: str, *, publish: Publish, unpublish: Unpublish) -> IssuedCertificate:
        """A certificate for ``hostname``, validated over HTTP-01; raises ``AcmeFailure``."""
        acme = self._acme(hostname)
        if self._account_uri is None:
            self.register()
        key = ec.generate_private_key(ec.SECP256R1())
        csr = _csr(hostname, key)
        try:
            order = self._call(lambda: acme.new_order(csr), hostname)
        except AcmeFailure as failure:
            if failure.problem_type != messages.ERROR_PREFIX + "accountDoesNotExist":
                raise
            self.register()
            order = self._call(lambda: acme.new_order(csr), hostname)
        challenge = _http01(order, hostname)
        response, key_authorization = challenge.response_and_validation(self._key)
        token: str = challenge.chall.encode("token")
        deadline = dt.datetime.now() + self._timeout  # naive local time, as acme compares
        publish(token, key_authorization)
        try:
            self._call(lambda: acme.answer_challenge(challenge, response), hostname)
            finished = self._call(lambda: acme.poll_and_finalize(order, deadline), hostname)
        finally:
            unpublish(token)
        if not finished.fullchain_pem:
            raise AcmeFailure(_(
                "The certificate authority finished the order for {host} without a "
                "certificate. Sendtrail retries later.").format(host=hostname), True,
            )
        return _issued(finished.fullchain_pem, _private_pem(key))

    def _acme(self, hostname: str) -> client.ClientV2:
        if self._client is None:
            directory = self._call(
                lambda: client.ClientV2.get_directory(self.directory_url, self._net), hostname
            )
            self._client = client.ClientV2(directory, self._net)
        return self._client

    def _call(self, step: Callable[[], _T], hostname: str) -> _T:
        try:
            return step()
        except AcmeFailure:
            raise
        except errors.ValidationError as failed:
            raise _validation_failure(failed, hostname) from failed
        except errors.IssuanceError as failed:
            raise from_problem(failed.error, hostname, during_challenge=False) from failed
        except messages.Error as problem:
            raise from_problem(problem, hostname, during_challenge=False) from problem
        except errors.TimeoutError as timeout:
            raise AcmeFailure(_(
                "The certificate authority did not finish validating and issuing for "
                "{host} within {seconds} s. Sendtrail retries later."
            ).format(host=hostname, seconds=f"{self._timeout.total_seconds():.0f}"), True,
            ) from timeout
        except requests.exceptions.SSLError as error:
            raise AcmeFailure(_(
                "Sendtrail does not trust the TLS certificate of the ACME server "
                "{url} ({error}). Check SENDTRAIL_ACME_CA_BUNDLE."
            ).format(url=self.directory_url, error=error), True, platform_problem=True,
            ) from error
        except (requests.exceptions.RequestException, errors.ClientError) as error:
            raise AcmeFailure(_(
                "Sendtrail could not talk to the ACME server {url} while "
                "issuing for {host} ({error}). Sendtrail retries later."
            ).format(url=self.directory_url, host=hostname, error=error),
                True, platform_problem=True,
            ) from error


def _validation_failure(failed: errors.ValidationError, hostname: str) -> AcmeFailure:
    for authorization in failed.failed_authzrs:
        for challenge in authorization.body.challenges:
            if challenge.error is not None:
                return from_problem(challenge.error, hostname, during_challenge=True)
    return AcmeFailure(
        _("The certificate authority could not validate {host}. Sendtrail retries later."
          ).format(host=hostname),
        True,
    )
