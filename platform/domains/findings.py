"""What a tracking domain's checks found, as sentences: templates, and how they are shown.

A domain's findings are stored in English in ``tracking_domain.last_error`` (the worker
writes them; so does ``verifyTrackingDomain``, whatever its caller's language), built from
the templates below (``dns_check`` and ``worker`` fill them). ``explain`` shows a stored
text in the reader's language (issue 15, item 12); text it does not recognise, such as an
entry clipped at ``MAX_REASON`` characters, is shown as stored. May import the standard
library and ``sendtrail.i18n``.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from sendtrail.i18n import N_, _
from sendtrail.i18n.stored import Phrasebook

__all__ = ["explain"]

# --- dns_check: the CNAME ---------------------------------------------------------------
NO_DNS_RECORD: Final = N_(
    "No DNS record exists for {host} yet. Create a CNAME record pointing to {target}; DNS "
    "changes can take a few minutes to appear."
)
NO_CNAME: Final = N_(
    "No CNAME record exists for {host} yet. Create a CNAME record pointing to {target}; DNS "
    "changes can take a few minutes to appear."
)
POINTS_TO: Final = N_("{host} points to {target}.")
CNAME_LOOP: Final = N_(
    "The CNAME records of {host} form a loop ({loop}); change the CNAME record of {host} to "
    "point to {target}."
)
CHAIN_TOO_LONG: Final = N_(
    "The CNAME chain from {host} is longer than {hops} steps; point {host} directly to "
    "{target}."
)
A_INSTEAD: Final = N_(
    "{host} has an A record ({addresses}) instead of a CNAME record. Replace it with a CNAME "
    "record pointing to {target}; DNS changes can take a few minutes to appear."
)
AAAA_INSTEAD: Final = N_(
    "{host} has an AAAA record ({addresses}) instead of a CNAME record. Replace it with a "
    "CNAME record pointing to {target}; DNS changes can take a few minutes to appear."
)
ELSEWHERE: Final = N_(
    "{host} points to {other}, not to {target}. Change the CNAME record of {host} to point "
    "to {target}; DNS changes can take a few minutes to appear."
)
ELSEWHERE_VIA: Final = N_(
    "{host} points to {other} (which leads to {final}), not to {target}. Change the CNAME "
    "record of {host} to point to {target}; DNS changes can take a few minutes to appear."
)
AN_ADDRESS: Final = N_("an address")
A_NON_PUBLIC_ADDRESS: Final = N_("a non-public address")

# --- dns_check: the TXT record ------------------------------------------------------------
NO_TXT: Final = N_(
    "No TXT record named {record} exists yet. Create a TXT record with that name and the "
    "value {token}; DNS changes can take a few minutes to appear."
)
TXT_HOLDS_TOKEN: Final = N_("The TXT record {record} holds the token.")
TXT_WRONG: Final = N_(
    "The TXT record {record} has the wrong value: found {found}, expected {token}. Set its "
    "value to {token}; DNS changes can take a few minutes to appear."
)
TXT_WRONG_MORE: Final = N_(
    "The TXT record {record} has the wrong value: found {found} (and {more} more), expected "
    "{token}. Set its value to {token}; DNS changes can take a few minutes to appear."
)

# --- dns_check: CAA -----------------------------------------------------------------------
CAA_UNREADABLE: Final = N_(
    "Certificate authorities refuse to issue while the CAA records of {node} cannot be read."
)
NO_CAA: Final = N_(
    "No CAA record restricts which certificate authority may issue for {host}."
)
CAA_CRITICAL: Final = N_(
    "The CAA record of {node} has a critical property '{tag}' that certificate authorities "
    "do not understand, so none will issue; remove it or clear its critical flag."
)
CAA_UNRESTRICTED: Final = N_("The CAA records of {node} do not restrict certificate issuance.")
CAA_ALLOWS: Final = N_("The CAA record of {node} allows {ca} to issue certificates.")
CAA_FORBIDS_ADD_OURS: Final = N_(
    "The CAA record of {node} forbids every certificate authority from issuing certificates; "
    "add `0 issue \"{ca}\"` or remove it."
)
CAA_FORBIDS: Final = N_(
    "The CAA record of {node} forbids every certificate authority from issuing certificates; "
    "add your certificate authority or remove it."
)
CAA_ONLY_ADD_OURS: Final = N_(
    "The CAA record of {node} allows only {issuers} to issue certificates; add `0 issue "
    "\"{ca}\"` or remove it."
)
CAA_ONLY: Final = N_(
    "The CAA record of {node} allows only {issuers} to issue certificates; add your "
    "certificate authority or remove it."
)

# --- dns_check: lookups that failed, names that are not names -----------------------------
SERVFAIL: Final = N_(
    "The DNS servers for {name} did not give a usable answer (server failure). This is "
    "usually temporary; we will check again shortly."
)
TIMEOUT: Final = N_(
    "The DNS servers for {name} did not answer in time. This is usually temporary; we will "
    "check again shortly."
)
UNUSABLE: Final = N_(
    "The DNS servers for {name} sent an answer we could not use. This is usually temporary; "
    "we will check again shortly."
)
INVALID_NAME: Final = N_("{name} is not a valid DNS name.")

# --- worker: certificates -----------------------------------------------------------------
CERTIFICATE_EXPIRED: Final = N_(
    "The certificate expired before it could be renewed. {previous} Fix the cause, then "
    "choose Verify to get a new one."
)
ON_OUR_SIDE: Final = N_("{reason} This is on Sendtrail's side; it retries by itself.")
RENEWING_FAILED: Final = N_(
    "Renewing the certificate failed: {reason} The current certificate keeps serving until "
    "it expires."
)
ISSUING_FAILED: Final = N_(
    "Getting a certificate failed: {reason} Fix the cause, then choose Verify to try again."
)
ISSUING_RETRIED: Final = N_("Getting a certificate failed: {reason} Trying again in about {delay}.")
MINUTES: Final = (N_("{count} minute"), N_("{count} minutes"))
HOURS: Final = (N_("{count} hour"), N_("{count} hours"))

# --- domains.service: what it stores around the findings ----------------------------------
WAITING: Final = N_("Waiting for the DNS records below to be created.")
CHECK_UNFINISHED: Final = N_("The last DNS check could not finish: {reason}")
DNS_CHANGED: Final = N_(
    "{reason} New emails use the default tracking host until this is fixed; links already "
    "sent keep working while the certificate lasts."
)
CHECK_TOO_SLOW: Final = N_(
    "The DNS servers for {name} took too long to answer; Sendtrail checks again in a few "
    "minutes."
)

FINDINGS: Final = (
    NO_DNS_RECORD, NO_CNAME, CNAME_LOOP, CHAIN_TOO_LONG, A_INSTEAD, AAAA_INSTEAD,
    ELSEWHERE_VIA, ELSEWHERE, NO_TXT, TXT_HOLDS_TOKEN, TXT_WRONG_MORE, TXT_WRONG,
    CAA_UNREADABLE, NO_CAA, CAA_CRITICAL, CAA_UNRESTRICTED, CAA_ALLOWS, CAA_FORBIDS_ADD_OURS,
    CAA_FORBIDS, CAA_ONLY_ADD_OURS, CAA_ONLY, SERVFAIL, TIMEOUT, UNUSABLE, CHECK_TOO_SLOW,
    WAITING, POINTS_TO, INVALID_NAME,
)
"""One sentence each; the more specific before the more general."""
FRAMES: Final = (
    CERTIFICATE_EXPIRED, ON_OUR_SIDE, RENEWING_FAILED, ISSUING_FAILED, ISSUING_RETRIED,
    CHECK_UNFINISHED, DNS_CHANGED,
)
"""Sentences around other findings (``{reason}``, ``{previous}``)."""
_ADDRESS_WORDS: Final = frozenset({AN_ADDRESS, A_NON_PUBLIC_ADDRESS})


def explain(stored: str | None) -> str | None:
    """A domain's stored findings in the reader's language (as stored when unrecognised)."""
    return None if stored is None else _book().render(stored)


def _addresses(listed: str) -> str:
    return ", ".join(_(part) if part in _ADDRESS_WORDS else part for part in listed.split(", "))


def _issuers(named: str) -> str:
    parts = named.split(" and ")
    if len(parts) == 1:
        return named
    return _("{items} and {last}").format(items=", ".join(parts[:-1]), last=parts[-1])


@cache
def _book() -> Phrasebook:
    delays = Phrasebook((MINUTES, HOURS))
    book = Phrasebook(
        (*FRAMES, *FINDINGS),
        nested={"addresses": _addresses, "issuers": _issuers, "delay": delays.match},
        patterns={"host": r"\S+", "target": r"\S+", "node": r"\S+", "name": r"\S+",
                  "record": r"\S+", "token": r"\S+", "hops": r"\d+", "more": r"\d+",
                  "previous": ".*?"},
    )

    def anything(text: str) -> str:
        # What the CA said, or earlier findings: translated when known, else as they are.
        return (book.match(text) or _(text)) if text else text

    book.add_nested("reason", anything)
    book.add_nested("previous", anything)
    return book
