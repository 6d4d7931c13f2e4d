"""Custom tracking hostnames: parsing what a person typed, and the ownership record.

Pure: no DNS, no clock, no environment. ``parse_hostname`` turns input such as
``Bücher.Example.`` into a ``Hostname`` with the punycode form stored and compared
(``xn--bcher-kva.example``) and the Unicode form shown (``bücher.example``), or refuses it
with an ``InvalidInput`` that says what to type instead.

IDNA 2008 with UTS #46 mapping (the ``idna`` package, as browsers do): upper case and
full-width dots are mapped, symbols such as emoji are refused. There is no public suffix
list here, so only a bare TLD (a single label) is refused as "a public suffix".
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = [
    "MAX_HOSTNAME_LENGTH",
    "MAX_LABEL_LENGTH",
    "TOKEN_PREFIX",
    "VERIFICATION_LABEL",
    "Hostname",
    "parse_hostname",
    "verification_record_name",
    "verification_token",
]

MAX_LABEL_LENGTH = 63
VERIFICATION_LABEL = "_sendtrail-verify"
# DNS allows 253 characters; the ownership TXT record's name must fit too.
MAX_HOSTNAME_LENGTH = 253 - len(VERIFICATION_LABEL) - 1
TOKEN_PREFIX = "sendtrail-verify="  # noqa: S105 - a public record prefix, not a secret
EXAMPLE = "links.example.com"

_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_BAD_ASCII = re.compile(r"[^a-z0-9-]")
_URL_MARKERS = ("://", "/", "?", "#", "@")


@dataclass(frozen=True, slots=True)
class Hostname:
    """A valid hostname: ``ascii`` is stored, compared and put in DNS; ``unicode`` is shown."""

    ascii: str
    unicode: str

    def __str__(self) -> str:
        return self.ascii

    @property
    def display(self) -> str:
        """``bücher.example (xn--bcher-kva.example)`` for IDNs, the plain name otherwise."""
        return self.ascii if self.ascii == self.unicode else f"{self.unicode} ({self.ascii})"


def parse_hostname(text: str, *, platform_domains: Sequence[str]) -> Hostname:
    """Normalise and validate a hostname a customer wants to track links on.

    ``platform_domains`` are our own domains (the default tracking and logging domains,
    the public URL's host, ...): neither they, nor any name under them, nor any domain
    above them can be claimed.
    """
    raw = text.strip()
    if not raw:
        raise InvalidInput(_("Enter a hostname, e.g. {example}.").format(example=EXAMPLE))
    if len(raw) > 4 * MAX_HOSTNAME_LENGTH:  # refused before it is echoed in any message
        raise InvalidInput(_("That is far too long for a hostname; enter one such as "
                             "{example}.").format(example=EXAMPLE))
    _refuse_ip_address(raw)
    _refuse_url(raw)
    if "*" in raw:
        raise InvalidInput(_(
            "Wildcards are not supported: enter one hostname, e.g. {example}, "
            "and add each further hostname separately."
        ).format(example=EXAMPLE))
    try:
        mapped = idna.uts46_remap(raw, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError, IndexError) as error:
        raise InvalidInput(_bad_character_message(raw, error)) from None
    if mapped.endswith("."):
        mapped = mapped[:-1]
    labels = mapped.split(".")
    if len(labels) == 1:
        raise InvalidInput(_(
            "'{raw}' is a single name (or a top-level domain such as .com); enter a full "
            "hostname under a domain you own, e.g. {example}."
        ).format(raw=raw, example=EXAMPLE))
    a_labels = [_a_label(label, raw) for label in labels]
    name = ".".join(a_labels)
    if len(name) > MAX_HOSTNAME_LENGTH:
        raise InvalidInput(_(
            "That hostname is {length} characters long (as stored in DNS); the limit is "
            "{limit}, so that its ownership record {label}.<hostname> fits in DNS."
        ).format(length=len(name), limit=MAX_HOSTNAME_LENGTH, label=VERIFICATION_LABEL))
    if a_labels[-1].isdigit():
        raise InvalidInput(_(
            "'{raw}' looks like an IP address, not a hostname; enter a hostname, e.g. "
            "{example}, and point it at us with a CNAME record."
        ).format(raw=raw, example=EXAMPLE))
    try:
        # Rules that span labels (bidi, contextual joiners) are checked on the whole name.
        unicode_name = idna.decode(name)
        idna.encode(unicode_name)
    except (idna.IDNAError, UnicodeError) as error:
        raise InvalidInput(_("'{raw}' is not a valid internationalised hostname: {error}."
                             ).format(raw=raw, error=error)) from None
    _refuse_platform_domain(name, raw, platform_domains)
    return Hostname(ascii=name, unicode=unicode_name)


def verification_record_name(hostname: Hostname | str) -> str:
    """The name of the TXT record that proves ownership: ``_sendtrail-verify.<hostname>``."""
    name = hostname.ascii if isinstance(hostname, Hostname) else hostname.strip().lower()
    return f"{VERIFICATION_LABEL}.{name.rstrip('.')}"


def verification_token() -> str:
    """A fresh, URL-safe TXT value: ``sendtrail-verify=<32 random characters>``."""
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def _refuse_ip_address(raw: str) -> None:
    candidate = raw.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return
    raise InvalidInput(_(
        "'{raw}' is an IP address, not a hostname; enter a hostname, e.g. {example}, "
        "and point it at us with a CNAME record."
    ).format(raw=raw, example=EXAMPLE))


def _refuse_url(raw: str) -> None:
    if not any(marker in raw for marker in _URL_MARKERS) and ":" not in raw:
        return
    if "@" in raw and "/" not in raw:
        raise InvalidInput(_(
            "That looks like an email address; enter just a hostname, e.g. {example}."
        ).format(example=EXAMPLE))
    host = _host_of(raw)
    if ":" in raw and not any(marker in raw for marker in _URL_MARKERS) and host:
        raise InvalidInput(_("Enter the hostname without a port, e.g. {host}.").format(
            host=host))
    suggestion = host or EXAMPLE
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    raise InvalidInput(_("Enter just the hostname, e.g. {suggestion}, not {shown}").format(
        suggestion=suggestion, shown=shown))


def _host_of(raw: str) -> str | None:
    """The host part of something URL-like, or ``None`` when there is none to suggest."""
    candidate = raw if "://" in raw else f"//{raw}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError:
        return None
    if not host or any(marker in host for marker in (*_URL_MARKERS, ":", " ", "*")):
        return None
    return host.rstrip(".")


def _a_label(label: str, raw: str) -> str:
    """One label in its ASCII form, or a refusal saying what is wrong with it."""
    if not label:
        raise InvalidInput(_(
            "'{raw}' has an empty part (two dots in a row, or a leading dot); "
            "enter a hostname such as {example}."
        ).format(raw=raw, example=EXAMPLE))
    if "_" in label:
        raise InvalidInput(_(
            "'{label}' contains an underscore: names such as _dmarc are for service records, "
            "not for links; enter a hostname such as {example}."
        ).format(label=label, example=EXAMPLE))
    if " " in label or "\t" in label:
        raise InvalidInput(_("A hostname cannot contain spaces: '{raw}'.").format(raw=raw))
    if label.isascii():
        ascii_label = label
        if not _LDH_LABEL.fullmatch(label):
            bad = _BAD_ASCII.search(label)
            if bad:
                raise InvalidInput(_(
                    "'{character}' cannot be used in a hostname; use letters, digits, "
                    "hyphens and dots only."
                ).format(character=bad.group()))
            raise InvalidInput(_("'{label}': a part of a hostname cannot start or end with "
                                 "'-'.").format(label=label))
        if label[2:4] == "--":
            _check_punycode(label)
    else:
        if len("xn--" + label.encode("punycode").decode("ascii")) > MAX_LABEL_LENGTH:
            raise InvalidInput(_label_too_long(label))
        try:
            ascii_label = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError) as error:
            raise InvalidInput(_bad_character_message(label, error)) from None
    if len(ascii_label) > MAX_LABEL_LENGTH:
        raise InvalidInput(_label_too_long(label))
    return ascii_label


def _label_too_long(label: str) -> str:
    return _(
        "The part '{label}…' is too long: each part between dots can be at most "
        "{limit} characters (as stored in DNS)."
    ).format(label=label[:20], limit=MAX_LABEL_LENGTH)


def _check_punycode(label: str) -> None:
    if not label.startswith("xn--"):
        raise InvalidInput(_("'{label}': '--' cannot be the 3rd and 4th characters of a part."
                             ).format(label=label))
    try:
        if idna.alabel(idna.ulabel(label)).decode("ascii") == label:
            return
    except (idna.IDNAError, UnicodeError):
        pass
    raise InvalidInput(_("'{label}' is not valid punycode; enter the hostname as you read it."
                         ).format(label=label))


def _bad_character_message(text: str, error: Exception) -> str:
    offending = [c for c in text if not c.isascii() and not _allowed(c)]
    if offending:
        return _("'{character}' cannot be used in a hostname ({error}).").format(
            character=offending[0], error=error)
    return _("'{text}' is not a valid hostname ({error}).").format(text=text, error=error)


def _allowed(character: str) -> bool:
    try:
        idna.alabel(character)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def _refuse_platform_domain(name: str, raw: str, platform_domains: Sequence[str]) -> None:
    """Our domains, the names under them, and the domains above them (issue 12, defect 7:
    ``sendtrail.test`` above ``track.sendtrail.test`` is the platform's, not a tenant's).
    Names beside ours (``links.sendtrail.test``) are not ours: only whoever runs that zone
    can publish their records."""
    for domain in platform_domains:
        own = _normalise_platform_domain(domain)
        if own and (name == own or name.endswith("." + own)):
            raise InvalidInput(_(
                "'{raw}' is on {own}, one of our own domains: links on our own domain are "
                "the default; add a hostname of your own, e.g. links.example.com."
            ).format(raw=raw, own=own))
        if own and own.endswith("." + name):
            raise InvalidInput(_(
                "'{raw}' is a parent of {own}, one of our own domains, so it cannot be "
                "a tracking domain; add a hostname of your own, e.g. links.example.com."
            ).format(raw=raw, own=own))


def _normalise_platform_domain(domain: str) -> str:
    host = _host_of(domain) if "://" in domain else domain
    host = (host or "").strip().lower().rstrip(".")
    try:
        return idna.encode(host, uts46=True).decode("ascii") if host else ""
    except (idna.IDNAError, UnicodeError):
        return host
