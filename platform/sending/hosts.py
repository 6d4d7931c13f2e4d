"""Where an account's upstream SMTP or IMAP server may be (R26, R27), like webhook targets.

An upstream host is a name or an IP address. It is resolved when the settings are saved
and before every connection; the connection is refused when any address it resolves to is
loopback, private, link-local, shared (CGNAT, 100.64.0.0/10), reserved or otherwise not
publicly routable (the rules of ``notifications/targets.py``), unless
``SENDTRAIL_OUTBOUND_ALLOW_PRIVATE`` is on (a mail server on the operator's own network).
The connection then goes to one of the very addresses checked (``resolve_upstream_host``),
the name kept for TLS, so a DNS answer changing between check and connect cannot redirect
it. Security ``NONE`` (no TLS) is allowed only towards such non-public hosts, and only
with ``SENDTRAIL_OUTBOUND_ALLOW_PRIVATE``: a password never crosses the internet in
clear text.

Refusals are sentences (``InvalidInput``); a refusal of a name never says what it
resolved to (the address is logged instead).
"""

from __future__ import annotations

import logging
import re

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _
from sendtrail.notifications.targets import (
    Resolver,
    address_words,
    check_address,
    literal_address,
    system_resolver,
)
from sendtrail.sending.values import SmtpSecurity

__all__ = [
    "ALLOW_PRIVATE_SETTING",
    "HostRefused",
    "HostUnresolvable",
    "check_security",
    "check_upstream_host",
    "normalize_host",
    "resolve_upstream_host",
    "unencrypted_refusal",
]

ALLOW_PRIVATE_SETTING = "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE"
MAX_HOST_LENGTH = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NEVER = ("the unspecified address", "a multicast address")
"""Not a server anywhere: refused even with allow_private."""
log = logging.getLogger("sendtrail.sending")


class HostRefused(InvalidInput):
    """The host, or an address it resolves to, is not a place mail may be sent through."""


class HostUnresolvable(InvalidInput):
    """The name does not resolve (now): a delivery retries, a settings check says so."""


def normalize_host(host: str) -> str:
    """The host as an ASCII name (IDNA) or an IP literal; ``InvalidInput`` if malformed."""
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text:
        raise InvalidInput(_("Give the host name of the mail server, e.g. smtp.example.com."))
    if literal_address(text) is not None:
        return text
    try:
        ascii_name = text.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(_("{host} is not a valid host name.").format(host=repr(host))
                           ) from None
    labels = ascii_name.split(".")
    if len(ascii_name) > MAX_HOST_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(_("{host} is not a valid host name.").format(host=repr(host)))
    return ascii_name


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


async def resolve_upstream_host(
    host: str, *, allow_private: bool, port: int = 0, resolver: Resolver = system_resolver
) -> list[str]:
    """Every address of ``host``, all checked; raise ``HostRefused``/``HostUnresolvable``."""
    name = normalize_host(host)
    literal = literal_address(name)
    if literal is not None:
        addresses = [str(literal)]
    elif _is_localhost(name):  # RFC 6761: always loopback, whatever DNS says
        addresses = ["127.0.0.1"]
    else:
        try:
            addresses = await resolver(name, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise HostUnresolvable(_("The host {host} does not resolve to an address.").format(
                host=name))
    for address in addresses:
        reason = check_address(address, allow_loopback=False)
        if reason is None or (allow_private and reason not in _NEVER):
            continue
        hint = "" if reason in _NEVER else " " + _(
            "Set {setting}=true to use a mail server on your own network."
        ).format(setting=ALLOW_PRIVATE_SETTING)
        if literal is not None or _is_localhost(name):  # nothing DNS said
            raise HostRefused(_("Mail may not be sent through {host}: it is {reason}.").format(
                host=name, reason=address_words(reason)) + hint)
        log.info("upstream host %s refused: it resolves to %s, %s", name, address, reason)
        raise HostRefused(_(
            "Mail may only be sent through servers on the public internet; {host} is not one."
        ).format(host=name) + hint)
    return [address.split("%")[0] for address in addresses]


async def check_upstream_host(
    host: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> None:
    """Raise ``InvalidInput`` (a sentence) unless mail may be sent through ``host``."""
    await resolve_upstream_host(host, allow_private=allow_private, resolver=resolver)


def unencrypted_refusal(host: str, addresses: list[str], *, allow_private: bool) -> str | None:
    """Why a connection without TLS to ``host`` (at ``addresses``) is refused, or ``None``.

    Only towards a host whose every address is loopback or private (non-public) and only
    with ``SENDTRAIL_OUTBOUND_ALLOW_PRIVATE``.
    """
    public = [a for a in addresses if check_address(a, allow_loopback=False) is None]
    if not allow_private:
        return _(
            "A connection without encryption (TLS or STARTTLS) is only allowed to a mail "
            "server on your own network, with {setting}=true; choose TLS or STARTTLS for "
            "{host}."
        ).format(setting=ALLOW_PRIVATE_SETTING, host=host)
    if public or not addresses:
        return _(
            "A connection without encryption is only allowed to a mail server on your own "
            "network; {host} is on the public internet: choose TLS or STARTTLS."
        ).format(host=host)
    return None


async def check_security(
    host: str, security: SmtpSecurity, *, allow_private: bool,
    resolver: Resolver = system_resolver,
) -> None:
    """Raise ``InvalidInput`` unless ``host`` may be used with ``security`` (see above)."""
    addresses = await resolve_upstream_host(host, allow_private=allow_private,
                                            resolver=resolver)
    if security is SmtpSecurity.NONE:
        reason = unencrypted_refusal(normalize_host(host), addresses,
                                     allow_private=allow_private)
        if reason is not None:
            raise HostRefused(reason)
