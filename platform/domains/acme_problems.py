"""ACME failures as sentences a person can act on.

``AcmeFailure`` carries a ``reason`` for the domain's page, ``retryable`` (whether an
automatic retry with backoff may succeed without anybody changing anything) and
``platform_problem`` (the fault is in Sendtrail's own ACME setup, not in this hostname:
the worker should not count it against the hostname). ``from_problem`` reads an ACME
problem document (RFC 8555 §6.7; ``acme.messages.Error``).
"""

from __future__ import annotations

from acme import messages

from sendtrail.errors import ExternalServiceError
from sendtrail.i18n import N_, _

__all__ = ["AcmeFailure", "from_problem"]


class AcmeFailure(ExternalServiceError):
    """Issuing a certificate failed; ``reason`` says why and what to do."""

    def __init__(
        self, reason: str, retryable: bool, *, problem_type: str | None = None,
        platform_problem: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.problem_type = problem_type
        self.platform_problem = platform_problem

    def __repr__(self) -> str:
        return (
            f"AcmeFailure({self.reason!r}, retryable={self.retryable}, "
            f"problem_type={self.problem_type!r}, platform_problem={self.platform_problem})"
        )


# code -> (sentence with {host} and {detail}, retryable, platform_problem)
_PROBLEMS: dict[str, tuple[str, bool, bool]] = {
    "connection": (
        N_(
            "The certificate authority could not connect to {host} to check the challenge "
            "({detail}). Make sure {host} points at Sendtrail and that port 80 is open to the "
            "internet."
        ), True, False,
    ),
    "dns": (
        N_(
            "The certificate authority could not resolve {host} in DNS ({detail}). Check that "
            "the CNAME record of {host} exists and points at Sendtrail."
        ), True, False,
    ),
    "unauthorized": (
        N_(
            "{host} did not answer the certificate authority's challenge with Sendtrail's "
            "response ({detail}). Check that {host} points at Sendtrail and that no proxy or "
            "other server answers /.well-known/acme-challenge/ for it."
        ), True, False,
    ),
    "incorrectResponse": (
        N_(
            "{host} answered the certificate authority's challenge with the wrong content "
            "({detail}). Check that {host} points at Sendtrail and that no proxy or other "
            "server answers /.well-known/acme-challenge/ for it."
        ), True, False,
    ),
    "tls": (
        N_(
            "The certificate authority hit a TLS error while checking {host} ({detail}). If "
            "port 80 redirects to HTTPS, make sure {host} still points at Sendtrail."
        ), True, False,
    ),
    "caa": (
        N_(
            "The CAA records of {host} or of a parent domain do not allow the certificate "
            "authority to issue for it ({detail}). Add a CAA 'issue' record for the authority "
            "or remove the restriction, then retry."
        ), False, False,
    ),
    "rejectedIdentifier": (
        N_(
            "The certificate authority refuses to issue a certificate for {host} ({detail}). "
            "Use another hostname."
        ), False, False,
    ),
    "unsupportedIdentifier": (
        N_(
            "The certificate authority cannot issue a certificate for {host} ({detail}). Use "
            "a regular DNS hostname."
        ), False, False,
    ),
    "rateLimited": (
        N_(
            "The certificate authority's rate limit was reached while issuing for {host} "
            "({detail}). Sendtrail retries later."
        ), True, False,
    ),
    "serverInternal": (
        N_(
            "The certificate authority had an internal error while issuing for {host} "
            "({detail}). Sendtrail retries later."
        ), True, False,
    ),
    "badNonce": (
        N_(
            "The certificate authority rejected a request for {host} as replayed ({detail}). "
            "Sendtrail retries later."
        ), True, False,
    ),
    "userActionRequired": (
        N_(
            "The certificate authority requires action on Sendtrail's ACME account before it "
            "issues for {host} ({detail}); an operator must accept its new terms."
        ), False, True,
    ),
    "accountDoesNotExist": (
        N_(
            "Sendtrail's ACME account does not exist at the certificate authority ({detail}); "
            "it is registered again on the next attempt for {host}."
        ), True, True,
    ),
    "externalAccountRequired": (
        N_(
            "The certificate authority requires external account binding ({detail}), which "
            "Sendtrail's ACME settings do not provide; nothing can be issued for {host}."
        ),
        False, True,
    ),
}
_PLATFORM_BUGS = {
    "badCSR", "badPublicKey", "badSignatureAlgorithm", "malformed", "badRevocationReason",
}


def from_problem(problem: messages.Error, hostname: str, *, during_challenge: bool) -> AcmeFailure:
    """Translate an ACME problem about ``hostname`` into an ``AcmeFailure``.

    ``during_challenge``: the problem is a challenge's error (the CA checking the
    hostname), not the answer to one of Sendtrail's requests, where ``unauthorized``
    means the CA refused the account or the order.
    """
    problem = _most_specific(problem, hostname)
    code = problem.code or str(problem.typ).rsplit(":", maxsplit=1)[-1]
    detail = _shorten((problem.detail or problem.title or str(problem.typ)).strip().rstrip("."))
    if code == "unauthorized" and not during_challenge:
        return AcmeFailure(_(
            "The certificate authority refused the order for {host} ({detail}). "
            "Check that the hostname is allowed and that Sendtrail's ACME account is in "
            "good standing.").format(host=hostname, detail=detail), False,
            problem_type=problem.typ,
        )
    if code in _PROBLEMS:
        sentence, retryable, platform = _PROBLEMS[code]
        return AcmeFailure(
            _(sentence).format(host=hostname, detail=detail), retryable,
            problem_type=problem.typ, platform_problem=platform,
        )
    if code in _PLATFORM_BUGS:
        return AcmeFailure(_(
            "The certificate authority rejected Sendtrail's request for {host} as "
            "malformed ({type}: {detail}); this is a Sendtrail bug, please report it."
        ).format(host=hostname, type=problem.typ, detail=detail),
            False, problem_type=problem.typ, platform_problem=True,
        )
    return AcmeFailure(_(
        "The certificate authority could not issue a certificate for {host} "
        "({type}: {detail}). Sendtrail retries later."
    ).format(host=hostname, type=problem.typ, detail=detail),
        True, problem_type=problem.typ,
    )


def _shorten(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _most_specific(problem: messages.Error, hostname: str) -> messages.Error:
    """The subproblem about ``hostname`` when the CA sent a compound problem."""
    for subproblem in problem.subproblems or ():
        identifier = subproblem.identifier
        if identifier is not None and identifier.value.lower() == hostname.lower():
            return subproblem
    return problem
