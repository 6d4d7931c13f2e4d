"""The sentences ``classify`` explains a hit with, as templates (issue 15, item 12).

Reasons are stored in English with the engagement they judged (a pixel request may arrive
in any language; what judged it must not change with it). They are written from these
templates, marked with ``N_()``, and ``TEMPLATES`` lets ``sendtrail.tracking.signals``
recognise a stored reason and show it in the reader's language. Changing a template here
leaves older stored reasons in English: add the old wording to ``TEMPLATES`` to keep them.
"""

from __future__ import annotations

from typing import Final

from sendtrail.i18n import N_

__all__ = [
    "AFTER_SENDING",
    "APPLE_RELAY_CLICK",
    "BEFORE_SENDING",
    "CITED_AGENT",
    "CITED_NETWORK",
    "CLICK_BURST",
    "GATEWAY_LATER",
    "GATEWAY_SCAN",
    "HEAD_REQUEST",
    "LESS_THAN_A_SECOND",
    "NO_USER_AGENT",
    "PERSON",
    "PREFETCH_HEADER",
    "REJUDGED",
    "SENDER_COOKIE",
    "SENDER_COPY",
    "SENDER_NETWORK",
    "STILL_COUNTS",
    "SUPPRESSED_CLICK",
    "SUPPRESSED_OPEN",
    "TEMPLATES",
    "TOO_SOON",
    "UNITS",
    "UNRECOGNISED_CLIENT",
    "WHENS",
]

HEAD_REQUEST: Final = N_(
    "It was a HEAD request, which only checks that the address exists without loading it: "
    "link checkers do that, a person's browser never does."
)
SENDER_COPY: Final = N_(
    "It came from the sender's own copy of the email (for example in their Sent folder)."
)
SENDER_COOKIE: Final = N_(
    "The browser carried the sender's own Sendtrail cookie, so it was the sender."
)
SENDER_NETWORK: Final = N_("It came from the network the sender was signed in from ({address}).")
SUPPRESSED_OPEN: Final = N_(
    "{sentence} Self-open suppression is on, so it is not shown as an open."
)
SUPPRESSED_CLICK: Final = N_(
    "{sentence} Self-open suppression is on, so it is not shown as a click."
)
STILL_COUNTS: Final = N_("{sentence} It still counts because self-open suppression is off.")
NO_USER_AGENT: Final = N_(
    "The request sent no user agent; every mail client and browser sends one, so it came "
    "from a script or scanner."
)
PREFETCH_HEADER: Final = N_(
    "The browser marked it as fetched ahead of time ({header}: {value}), before anyone "
    "clicked: a prefetch, not a visit."
)
REJUDGED: Final = N_("Judged again by `sendtrail reclassify` with the rules {ruleset}.")
CITED_AGENT: Final = N_("{reason} (user agent '{agent}').")
"""A signal row's reason (without its full stop) and the user agent that matched it."""
CITED_NETWORK: Final = N_("{reason} (address {address} is in {network}).")
APPLE_RELAY_CLICK: Final = N_(
    "It came through Apple's privacy relay (address {address}), which also carries iCloud "
    "Private Relay browsing; the relay preloads images but never clicks links, so the click "
    "counts."
)
GATEWAY_SCAN: Final = N_(
    "It came {when}, inside the {window} in which gateways scan new email."
)
GATEWAY_LATER: Final = N_(
    "{cited} It came {when}, long after the {window} in which gateways scan new email, so it "
    "counts as a person reading through the gateway."
)
CLICK_BURST: Final = N_(
    "All {links} links in the email were clicked within {window}: a link scanner checks every "
    "link at once, a person does not."
)
TOO_SOON: Final = N_(
    "It came {when}; nobody reads an email that fast (the limit is {limit}), so it was "
    "software handling the email as it was delivered."
)
PERSON: Final = N_("It came {when}, and no rule marks it as automated.")
UNRECOGNISED_CLIENT: Final = N_(
    "The client is not one we recognise by name (user agent '{agent}')."
)

# Phrases inside the sentences above: when a hit came, and how long something took.
BEFORE_SENDING: Final = N_("before the email's recorded sending time")
AFTER_SENDING: Final = N_("{duration} after the email was sent")
WHENS: Final = (BEFORE_SENDING, AFTER_SENDING)
LESS_THAN_A_SECOND: Final = N_("less than a second")
UNITS: Final = (
    (N_("{count} day"), N_("{count} days")),
    (N_("{count} hour"), N_("{count} hours")),
    (N_("{count} minute"), N_("{count} minutes")),
    (N_("{count} second"), N_("{count} seconds")),
)
"""(singular, plural) per unit, largest first; German has them as plural messages."""

TEMPLATES: Final = (
    HEAD_REQUEST, SENDER_COPY, SENDER_COOKIE, SENDER_NETWORK, SUPPRESSED_OPEN,
    SUPPRESSED_CLICK, STILL_COUNTS, NO_USER_AGENT, PREFETCH_HEADER, UNRECOGNISED_CLIENT,
    REJUDGED, CITED_AGENT,
    CITED_NETWORK, APPLE_RELAY_CLICK, GATEWAY_SCAN, GATEWAY_LATER, CLICK_BURST, TOO_SOON,
    PERSON,
)
"""Every sentence a stored reason is made of; the more specific before the more general."""
