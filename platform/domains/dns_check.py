"""Checking a custom tracking domain's DNS with dnspython: CNAME, ownership TXT and CAA.

The DNS adapter of ``sendtrail.domains`` (the pure part is ``hostnames``)::

    verify_domain(hostname, expected_target=, token=, ca_identifiers=, config=)
    ├── check_cname  the CNAME chain, followed hop by hop (servers that do not chase a
    │                cross-zone CNAME answer A queries with NoAnswer), must reach the target
    ├── check_txt    _sendtrail-verify.<hostname> must hold the token (one of several is enough)
    └── check_caa    RFC 8659: the first CAA RRset climbing from the hostname to its TLD must
                     allow one of our CAs to ``issue`` (CNAMEs at a node are followed, their
                     targets' parents are not climbed)

Each check returns a ``DnsFinding`` whose ``reason`` is a sentence for the customer, in
English from the templates of ``findings`` (it is stored; ``findings.explain`` shows it in the
reader's language). Nothing
here raises on what DNS returns (NXDOMAIN, SERVFAIL, timeouts, loops, malformed, non-ASCII
or huge answers). ``retryable`` means the lookup itself failed: there is nothing for the
customer to fix yet, so check again soon.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.rrset

from sendtrail.domains import findings as say
from sendtrail.domains.hostnames import Hostname, verification_record_name
from sendtrail.errors import InvalidInput
from sendtrail.i18n import _

__all__ = [
    "MAX_CNAME_HOPS",
    "Check",
    "DnsConfig",
    "DnsFinding",
    "DomainCheck",
    "check_caa",
    "check_cname",
    "check_txt",
    "make_resolver",
    "verify_domain",
]

MAX_CNAME_HOPS = 8
SHOWN_VALUES = 3
Check = Literal["cname", "txt", "caa"]
_KNOWN_CAA_TAGS = frozenset(
    {"issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"}
)
_Status = Literal["found", "nodata", "nxdomain", "servfail", "timeout", "broken"]


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """Where and how patiently to ask."""

    nameservers: tuple[str, ...] = ()
    """``host:port`` (``[v6]:port``; a bare IP means port 53); empty: the system resolver."""
    timeout: float = 2.0
    """Seconds to wait for one server's answer."""
    lifetime: float = 5.0
    """Seconds for one lookup in total, retries and servers included."""

    def __post_init__(self) -> None:
        for server in self.nameservers:
            _parse_nameserver(server)


@dataclass(frozen=True, slots=True)
class DnsFinding:
    """The outcome of one check, explained."""

    ok: bool
    reason: str
    retryable: bool = False
    details: dict[str, object] = field(default_factory=dict)
    check: Check = field(kw_only=True)
    """Which check this is: ``cname``, ``txt`` or ``caa``."""


@dataclass(frozen=True, slots=True)
class DomainCheck:
    ok: bool
    findings: list[DnsFinding]

    @property
    def retryable(self) -> bool:
        """Failed only because lookups failed: nothing for the customer to change yet."""
        failed = [finding for finding in self.findings if not finding.ok]
        return bool(failed) and all(finding.retryable for finding in failed)

    def finding(self, check: Check) -> DnsFinding:
        return next(finding for finding in self.findings if finding.check == check)


def make_resolver(config: DnsConfig) -> dns.asyncresolver.Resolver:
    """A resolver without cache asking ``config.nameservers`` (or the system's)."""
    resolver = dns.asyncresolver.Resolver(configure=not config.nameservers)
    if config.nameservers:
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(*_parse_nameserver(s)) for s in config.nameservers
        ]
        resolver.use_edns(0, 0, 1232)
    resolver.cache = None
    resolver.timeout = config.timeout
    resolver.lifetime = config.lifetime
    return resolver


async def verify_domain(
    hostname: Hostname | str,
    *,
    expected_target: str,
    token: str,
    ca_identifiers: Sequence[str],
    config: DnsConfig,
) -> DomainCheck:
    """All three checks at once (every problem is shown together); ok when all pass."""
    resolver = make_resolver(config)
    findings = await asyncio.gather(
        check_cname(hostname, expected_target, config=config, resolver=resolver),
        check_txt(hostname, token, config=config, resolver=resolver),
        check_caa(hostname, ca_identifiers, config=config, resolver=resolver),
    )
    return DomainCheck(ok=all(f.ok for f in findings), findings=list(findings))


async def check_cname(  # noqa: PLR0911 - one return per outcome, each with its sentence
    hostname: Hostname | str,
    expected_target: str,
    *,
    config: DnsConfig,
    resolver: dns.asyncresolver.Resolver | None = None,
) -> DnsFinding:
    """Pass when the CNAME chain from ``hostname`` reaches ``expected_target``."""
    host, shown = _name(hostname)
    target, target_shown = _name(expected_target)
    if host is None or target is None:
        return _invalid_name(hostname if host is None else expected_target, "cname")
    resolver = resolver or make_resolver(config)
    chain: list[dns.name.Name] = [host]
    details: dict[str, object] = {"target": target_shown}
    for _hop in range(MAX_CNAME_HOPS):
        current = chain[-1]
        result = await _lookup(resolver, current, dns.rdatatype.CNAME)
        details["chain"] = [_text(name) for name in chain]
        if result.status in ("servfail", "timeout", "broken"):
            return _unavailable(result, current, "cname", details)
        if result.rrset is None:
            if current == host and result.status == "nxdomain":
                reason = say.NO_DNS_RECORD.format(host=shown, target=target_shown)
                return DnsFinding(False, reason, False, details, check="cname")
            if current == host:
                return await _no_cname(resolver, host, shown, target_shown, details)
            return _elsewhere(chain, shown, target_shown, details)
        next_name = result.rrset[0].target
        if next_name == target:
            details["chain"] = [_text(name) for name in [*chain, next_name]]
            reason = say.POINTS_TO.format(host=shown, target=target_shown)
            return DnsFinding(True, reason, False, details, check="cname")
        if next_name in chain:
            loop = " → ".join(_text(name) for name in [*chain, next_name])
            reason = say.CNAME_LOOP.format(host=shown, loop=loop, target=target_shown)
            return DnsFinding(False, reason, False, details, check="cname")
        chain.append(next_name)
    details["chain"] = [_text(name) for name in chain]
    reason = say.CHAIN_TOO_LONG.format(host=shown, hops=MAX_CNAME_HOPS, target=target_shown)
    return DnsFinding(False, reason, False, details, check="cname")


async def check_txt(
    hostname: Hostname | str,
    token: str,
    *,
    config: DnsConfig,
    resolver: dns.asyncresolver.Resolver | None = None,
) -> DnsFinding:
    """Pass when a TXT value of ``_sendtrail-verify.<hostname>`` equals ``token``."""
    host, _shown = _name(hostname)
    if host is None:
        return _invalid_name(hostname, "txt")
    record = verification_record_name(_text(host))
    name, _shown = _name(record)
    if name is None:
        return _invalid_name(record, "txt")
    resolver = resolver or make_resolver(config)
    result = await _follow(resolver, name, dns.rdatatype.TXT)
    details: dict[str, object] = {"record": record, "expected": token}
    if result.status in ("servfail", "timeout", "broken"):
        return _unavailable(result, name, "txt", details)
    if result.rrset is None:
        reason = say.NO_TXT.format(record=record, token=token)
        return DnsFinding(False, reason, False, details, check="txt")
    values = [_txt_value(rdata.strings) for rdata in result.rrset]
    details["found"] = [_printable(value, 100) for value in values[:10]]
    if any(_unquoted(value) == token for value in values):
        return DnsFinding(True, say.TXT_HOLDS_TOKEN.format(record=record), False, details,
                          check="txt")
    ours = [value for value in values if _unquoted(value).startswith(token.partition("=")[0] + "=")]
    shown = ", ".join(_printable(value, 40) for value in (ours or values)[:SHOWN_VALUES])
    more = len(values) - SHOWN_VALUES
    wrong = say.TXT_WRONG_MORE if more > 0 else say.TXT_WRONG
    reason = wrong.format(record=record, found=shown, more=more, token=token)
    return DnsFinding(False, reason, False, details, check="txt")


async def check_caa(
    hostname: Hostname | str,
    ca_identifiers: Sequence[str],
    *,
    config: DnsConfig,
    resolver: dns.asyncresolver.Resolver | None = None,
) -> DnsFinding:
    """Pass unless the hostname's relevant CAA RRset (RFC 8659) forbids all our CAs."""
    host, _shown = _name(hostname)
    if host is None:
        return _invalid_name(hostname, "caa")
    resolver = resolver or make_resolver(config)
    node = host
    while len(node) > 1:  # an absolute name ends with the root label
        result = await _follow(resolver, node, dns.rdatatype.CAA)
        if result.status in ("servfail", "timeout", "broken"):
            finding = _unavailable(result, node, "caa", {"checked": _text(node)})
            reason = f"{finding.reason} {say.CAA_UNREADABLE.format(node=_text(node))}"
            return DnsFinding(False, reason, True, finding.details, check="caa")
        if result.rrset is not None:
            records = [
                (rdata.flags, rdata.tag.decode("ascii", "replace").lower(),
                 rdata.value.decode("utf-8", "replace"))
                for rdata in result.rrset
            ]
            ok, reason = _evaluate_caa(_text(node), records, ca_identifiers)
            found = [f'{flags} {tag} "{_printable(value, 100)}"' for flags, tag, value in records]
            details: dict[str, object] = {"checked": _text(node), "records": found}
            return DnsFinding(ok, reason, False, details, check="caa")
        node = node.parent()
    reason = say.NO_CAA.format(host=_text(host))
    return DnsFinding(True, reason, False, {"checked": _text(host)}, check="caa")


# --- lookups ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lookup:
    status: _Status
    rrset: dns.rrset.RRset | None = None
    canonical: dns.name.Name | None = None
    error: str = ""


async def _lookup(
    resolver: dns.asyncresolver.Resolver, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> _Lookup:
    try:
        answer = await resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return _Lookup("nxdomain")
    except dns.resolver.NoNameservers as error:
        return _Lookup("servfail", error=_short(error))
    except dns.exception.Timeout as error:
        return _Lookup("timeout", error=_short(error))
    except Exception as error:  # bad DNS data must become a finding, never a crash
        return _Lookup("broken", error=_short(error))
    status: _Status = "found" if answer.rrset else "nodata"
    return _Lookup(status, answer.rrset or None, answer.canonical_name)


async def _follow(
    resolver: dns.asyncresolver.Resolver, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> _Lookup:
    """Like ``_lookup``, continuing at a CNAME's target that the server did not chase."""
    seen = [name]
    for _hop in range(MAX_CNAME_HOPS):
        result = await _lookup(resolver, seen[-1], rdtype)
        canonical = result.canonical
        if result.status != "nodata" or canonical is None or canonical == seen[-1]:
            return result
        if canonical in seen:
            return _Lookup("broken", error=f"CNAME loop at {_text(canonical)}")
        seen.append(canonical)
    return _Lookup("broken", error=f"CNAME chain from {_text(name)} longer than {MAX_CNAME_HOPS}")


async def _no_cname(
    resolver: dns.asyncresolver.Resolver,
    host: dns.name.Name,
    shown: str,
    target_shown: str,
    details: dict[str, object],
) -> DnsFinding:
    """Say what the hostname has instead of a CNAME, if anything."""
    a, aaaa = await asyncio.gather(
        _lookup(resolver, host, dns.rdatatype.A), _lookup(resolver, host, dns.rdatatype.AAAA)
    )
    addresses = [_shown_address(rdata.to_text())
                 for result in (a, aaaa) if result.rrset for rdata in result.rrset]
    details["addresses"] = addresses[:10]
    if not addresses:
        reason = say.NO_CNAME.format(host=shown, target=target_shown)
        return DnsFinding(False, reason, False, details, check="cname")
    listed = ", ".join(addresses[:SHOWN_VALUES])
    listed += ", ..." if len(addresses) > SHOWN_VALUES else ""
    instead = say.A_INSTEAD if a.rrset else say.AAAA_INSTEAD
    reason = instead.format(host=shown, addresses=listed, target=target_shown)
    return DnsFinding(False, reason, False, details, check="cname")


def _elsewhere(
    chain: list[dns.name.Name], shown: str, target_shown: str, details: dict[str, object]
) -> DnsFinding:
    elsewhere = say.ELSEWHERE_VIA if len(chain) > 2 else say.ELSEWHERE
    reason = elsewhere.format(host=shown, other=_text(chain[1]), final=_text(chain[-1]),
                              target=target_shown)
    return DnsFinding(False, reason, False, details, check="cname")


def _unavailable(
    result: _Lookup, name: dns.name.Name, check: Check, details: dict[str, object]
) -> DnsFinding:
    sentence = {"servfail": say.SERVFAIL, "timeout": say.TIMEOUT}.get(result.status, say.UNUSABLE)
    reason = sentence.format(name=_text(name))
    return DnsFinding(False, reason, True, {**details, "error": result.error}, check=check)


def _invalid_name(name: Hostname | str, check: Check) -> DnsFinding:
    reason = say.INVALID_NAME.format(name=_printable(str(name), 80))
    return DnsFinding(False, reason, False, {}, check=check)


def _evaluate_caa(
    node: str, records: Sequence[tuple[int, str, str]], ca_identifiers: Sequence[str]
) -> tuple[bool, str]:
    """RFC 8659 §4 for a non-wildcard name: only ``issue`` properties restrict it."""
    ours = [ca.strip().lower().rstrip(".") for ca in ca_identifiers if ca.strip()]
    issuers: list[str] = []
    restricting = False
    for flags, tag, value in records:
        if flags & 128 and tag not in _KNOWN_CAA_TAGS:
            return False, say.CAA_CRITICAL.format(node=node, tag=_printable(tag, 30))
        if tag == "issue":
            restricting = True
            issuer = value.split(";", 1)[0].strip().lower().rstrip(".")
            if issuer:
                issuers.append(issuer)
    if not restricting:
        return True, say.CAA_UNRESTRICTED.format(node=node)
    if allowed := [issuer for issuer in issuers if issuer in ours]:
        return True, say.CAA_ALLOWS.format(node=node, ca=allowed[0])
    ca = ours[0] if ours else ""
    if not issuers:
        forbids = say.CAA_FORBIDS_ADD_OURS if ours else say.CAA_FORBIDS
        return False, forbids.format(node=node, ca=ca)
    named = " and ".join(_printable(issuer, 60) for issuer in sorted(set(issuers))[:SHOWN_VALUES])
    only = say.CAA_ONLY_ADD_OURS if ours else say.CAA_ONLY
    return False, only.format(node=node, issuers=named, ca=ca)


# --- names and values ---------------------------------------------------------------------


def _name(value: Hostname | str) -> tuple[dns.name.Name | None, str]:
    """The absolute DNS name of ``value`` and how to show it, or ``None`` when invalid."""
    text = value.ascii if isinstance(value, Hostname) else value.strip().lower()
    shown = value.display if isinstance(value, Hostname) else text.rstrip(".")
    try:
        return dns.name.from_text(text.rstrip(".") + "."), shown
    except (dns.exception.DNSException, UnicodeError, ValueError):
        return None, shown


def _parse_nameserver(server: str) -> tuple[str, int]:
    host, port = server.strip(), 53
    if host.startswith("["):
        host, _bracket, rest = host[1:].partition("]")
        port_text = rest.removeprefix(":") or "53"
    elif host.count(":") == 1:
        host, _colon, port_text = host.partition(":")
    else:
        port_text = "53"
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise InvalidInput(_("DNS server {server}: expected an IP address and port, e.g. "
                             "127.0.0.1:8053 or [::1]:53.").format(server=repr(server)))
    return host, port


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _txt_value(strings: Sequence[bytes]) -> str:
    # RFC 7208 §3.3: a TXT record's character-strings are joined without separators.
    return b"".join(strings).decode("utf-8", "replace")


def _unquoted(value: str) -> str:
    # Some DNS panels store the quotes typed around a value as part of it.
    value = value.strip()
    return value[1:-1].strip() if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _printable(value: str, limit: int) -> str:
    shown = "".join(c if c.isprintable() and c.isascii() else f"\\u{ord(c):04x}" for c in value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _short(error: BaseException) -> str:
    return _printable(f"{type(error).__name__}: {error}", 300)


def _shown_address(text: str) -> str:
    """Public addresses as they are; others hidden, so the platform's resolver never tells a
    tenant what an internal name resolves to."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return say.AN_ADDRESS
    return text if address.is_global else say.A_NON_PUBLIC_ADDRESS

