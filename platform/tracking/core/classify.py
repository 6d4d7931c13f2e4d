"""Classify every tracking hit as a person (HUMAN), software (MACHINE) or the sender (SELF).

R10: machine hits must never become opens or clicks, but are stored with their reasons;
R9/R14: the sender's own hits are suppressed when the account says so. Pure: the signal
lists arrive parsed (``parse_signals`` reads the CSV texts shipped in
``sendtrail.tracking.signals``), time arrives on the hit, and nothing here reads a clock.

Rules, in order. The first rule that decides wins; notes from earlier rules are kept in
the reasons, so support can read the whole story to a customer:

1. HEAD request -> MACHINE (it only checks that the address exists; it never counts).
2. Self (R9, R14), when ``self_open_suppression`` is on -> SELF: a token of the sender's
   own copy, the sender's cookie on the tracking host, or an address the sender was
   recently signed in from. With suppression off these become notes, and the remaining
   rules still apply (a scanner reading the sender's copy is still a scanner).
3. No user agent -> MACHINE (every mail client and browser sends one).
   A request the browser marks as a prefetch (``Sec-Purpose``, ``Purpose`` or ``X-Moz``
   saying ``prefetch``) -> MACHINE: fetched ahead of time, before anyone clicked.
4. User-agent rules, first match in file order. A ``machine`` row decides (scanners,
   crawlers, link checkers, scripts, prefetchers, Apple Mail Privacy Protection). A
   ``human`` row only names the client (Outlook, Gmail's image proxy, Safari on iPhone)
   for the final reason; the timing rules below still apply to it.
5. Network rules, first match: an Apple privacy-relay range makes an OPEN a MACHINE (a
   click through it is a person using iCloud Private Relay); a security-gateway range
   makes a hit within ``GATEWAY_WINDOW`` of sending a MACHINE, and a later one a note.
6. A click that, with the other clicks on the same copy, covers every link of the email
   (at least two) within ``BURST_WINDOW`` -> MACHINE (a link scanner).
7. Within ``TOO_SOON`` of sending -> MACHINE.
8. Otherwise HUMAN, naming the client when a user-agent row recognised it.

No hidden "honeypot" links are used, by design.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from sendtrail.tracking.core import reasons as say
from sendtrail.tracking.core.model import HitKind, TokenClaims, Verdict

__all__ = [
    "BURST_WINDOW",
    "GATEWAY_WINDOW",
    "NETWORK_CATEGORIES",
    "SETTLE_WINDOW",
    "TOO_SOON",
    "Classification",
    "Hit",
    "NetworkRule",
    "Signals",
    "UserAgentRule",
    "classify",
    "combine_signals",
    "is_final",
    "parse_signals",
]

TOO_SOON = timedelta(seconds=2)
"""Nobody reads that fast: delivery to the recipient's server and a client sync alone take
longer. ``sent_at`` is when the email was prepared, before it was really sent, so the true
delay after delivery is shorter still: this rule can only err towards HUMAN."""
GATEWAY_WINDOW = timedelta(minutes=5)
"""Gateways (Mimecast, Proofpoint, Barracuda, Microsoft Defender) fetch links and images
while they deliver, sandboxing included, which takes seconds to a few minutes. People
behind a gateway reach us from their own network, so a gateway address this early is
almost surely the scan; erring towards MACHINE only costs a notification."""
BURST_WINDOW = timedelta(seconds=10)
"""A scanner clicks every link at once; a person clicks one, reads, maybe another."""
SETTLE_WINDOW = BURST_WINDOW
"""How long a verdict stays provisional (R30): the burst rule is the only one that re-judges
a stored hit, and only within its window; after it the verdict is final."""
_MATCH_MEMO_SIZE = 10_000
NETWORK_CATEGORIES = frozenset({"apple_privacy_proxy", "security_gateway"})
"""The network categories ``classify`` knows how to treat; the CSV may use only these."""

_UA_HEADER = ["pattern", "category", "verdict", "reason"]
_NETWORK_HEADER = ["network", "category", "reason"]
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*\Z")
_MAX_SHOWN = 300
_PREFETCH_HEADERS = ("sec-purpose", "purpose", "x-moz")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Row = TypeVar("_Row")


@dataclass(frozen=True)
class UserAgentRule:
    pattern: re.Pattern[str]
    """Searched (not matched) in the user agent, case-insensitively."""
    category: str
    verdict: Verdict
    """MACHINE decides; HUMAN names a client and lets the timing rules run."""
    reason: str
    """One sentence a support person can read to a customer."""


@dataclass(frozen=True)
class NetworkRule:
    network: IPNetwork
    category: str
    """One of ``NETWORK_CATEGORIES``."""
    reason: str
    """One sentence saying who runs the network and what it does with email."""


@dataclass(frozen=True)
class Signals:
    version: str
    """The ruleset version, stored with every classification."""
    user_agents: tuple[UserAgentRule, ...]
    networks: tuple[NetworkRule, ...]
    _matches: dict[str, UserAgentRule | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Memo of user agent -> first matching rule (a few thousand agents cover most hits)."""
    _networks: dict[IPAddress, NetworkRule | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Memo of address -> the network rule containing it (proxies and gateways come back)."""

    def client_for(self, agent: str) -> UserAgentRule | None:
        if agent in self._matches:
            return self._matches[agent]
        if len(self._matches) >= _MATCH_MEMO_SIZE:
            self._matches.clear()
        found = next((rule for rule in self.user_agents if rule.pattern.search(agent)), None)
        self._matches[agent] = found
        return found

    def network_for(self, ip: IPAddress) -> NetworkRule | None:
        if ip in self._networks:
            return self._networks[ip]
        if len(self._networks) >= _MATCH_MEMO_SIZE:
            self._networks.clear()
        found = next((rule for rule in self.networks if ip in rule.network), None)
        self._networks[ip] = found
        return found


@dataclass(frozen=True)
class Hit:
    """One request for a pixel or a tracked link, with what the adapter knows around it."""

    kind: HitKind
    method: str
    at: datetime
    """When it arrived; timezone-aware."""
    ip: str
    user_agent: str
    claims: TokenClaims
    sender_cookie: bool = False
    """The request carried the sender's cookie for the tracking host."""
    sender_recent_ips: frozenset[str] = frozenset()
    """Addresses the sender was recently signed in from."""
    recent_clicks: tuple[tuple[int, datetime], ...] = ()
    """Other clicks on the same copy of the message: (link index, time)."""
    link_count: int = 0
    """How many tracked links the message has."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The request's ``CLASSIFYING_HEADERS`` (lower-case names)."""

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError("Hit.at must be timezone-aware")


@dataclass(frozen=True)
class Classification:
    verdict: Verdict
    category: str
    reasons: tuple[str, ...]
    ruleset: str


def parse_signals(user_agents_csv: str, networks_csv: str, version: str, *,
                  names: tuple[str, str] = ("user_agents.csv", "networks.csv")) -> Signals:
    """Parse the two signal files; a bad line raises ``ValueError`` naming it (by ``names``)."""
    if not version.strip():
        raise ValueError("the signals version is empty")
    return Signals(
        version=version.strip(),
        user_agents=tuple(_rows(user_agents_csv, names[0], _UA_HEADER, _ua_rule)),
        networks=tuple(_rows(networks_csv, names[1], _NETWORK_HEADER, _network_rule)),
    )


def combine_signals(first: Signals, then: Signals, version: str) -> Signals:
    """``first``'s rows before ``then``'s (the first match wins, so they override)."""
    return Signals(version=version, user_agents=first.user_agents + then.user_agents,
                   networks=first.networks + then.networks)


def _rows(
    text: str, name: str, header: list[str], build: Callable[[list[str]], _Row]
) -> Iterator[_Row]:
    seen_header = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            fields = next(csv.reader([line], strict=True))
            if not seen_header:
                if fields != header:
                    raise ValueError(f"expected the header {','.join(header)}")
                seen_header = True
                continue
            if len(fields) != len(header):
                raise ValueError(f"expected {len(header)} fields, found {len(fields)}")
            yield build(fields)
        except (ValueError, csv.Error, re.error) as error:
            raise ValueError(f"{name} line {number}: {error}: {line!r}") from error
    if not seen_header:
        raise ValueError(f"{name}: no header line")


def _ua_rule(fields: list[str]) -> UserAgentRule:
    pattern, category, verdict, reason = fields
    if verdict not in (Verdict.HUMAN, Verdict.MACHINE):
        raise ValueError(f"verdict must be human or machine, not {verdict!r}")
    if not pattern:
        raise ValueError("empty pattern")
    return UserAgentRule(
        re.compile(pattern, re.IGNORECASE), _category(category), Verdict(verdict), _reason(reason)
    )


def _network_rule(fields: list[str]) -> NetworkRule:
    network, category, reason = fields
    if category not in NETWORK_CATEGORIES:
        raise ValueError(f"category must be one of {sorted(NETWORK_CATEGORIES)}")
    return NetworkRule(ipaddress.ip_network(network.strip()), category, _reason(reason))


def _category(category: str) -> str:
    if not _CATEGORY.match(category):
        raise ValueError(f"category {category!r} is not a lower_case_name")
    return category


def _reason(reason: str) -> str:
    if not reason.strip().endswith("."):
        raise ValueError("the reason must be a sentence ending with a full stop")
    return reason.strip()


def is_final(occurred_at: datetime, now: datetime) -> bool:
    """Whether a hit's verdict can no longer change (its ``SETTLE_WINDOW`` has passed)."""
    return occurred_at + SETTLE_WINDOW <= now


def classify(hit: Hit, signals: Signals, *, self_open_suppression: bool) -> Classification:
    """Apply ``_RULES`` (the order of the module docstring); the first decision wins."""
    agent, ip = hit.user_agent.strip(), _address(hit.ip)
    facts = _Facts(
        hit=hit,
        suppression=self_open_suppression,
        ip=ip,
        age=hit.at - datetime.fromtimestamp(hit.claims.sent_at, tz=hit.at.tzinfo),
        agent=agent,
        suppressed=say.SUPPRESSED_OPEN if hit.kind is HitKind.OPEN else say.SUPPRESSED_CLICK,
        client=signals.client_for(agent) if agent else None,
        network=signals.network_for(ip) if ip is not None else None,
        notes=[],
    )
    verdict, category, reasons = next(d for rule in _RULES if (d := rule(facts)))
    return Classification(verdict, category, (*reasons, *facts.notes), signals.version)


@dataclass
class _Facts:
    """What the rules look at; rules may only append to ``notes``."""

    hit: Hit
    suppression: bool
    ip: IPAddress | None
    age: timedelta
    """Time since the email was prepared (negative if the clocks disagree)."""
    agent: str
    suppressed: str
    """The sentence saying suppression hid it, for its kind of hit."""
    client: UserAgentRule | None
    """The first user-agent row that matched."""
    network: NetworkRule | None
    notes: list[str]


_Decision = tuple[Verdict, str, tuple[str, ...]] | None


def _head_request(facts: _Facts) -> _Decision:
    if facts.hit.method.upper() != "HEAD":
        return None
    return Verdict.MACHINE, "head_request", (say.HEAD_REQUEST,)


def _sender(facts: _Facts) -> _Decision:
    hit, found = facts.hit, []
    if hit.claims.sender_copy:
        found.append(("sender_copy", say.SENDER_COPY))
    if hit.sender_cookie:
        found.append(("sender_cookie", say.SENDER_COOKIE))
    if facts.ip is not None and facts.ip in {_address(text) for text in hit.sender_recent_ips}:
        found.append(("sender_network", say.SENDER_NETWORK.format(address=facts.ip)))
    for category, sentence in found:
        if facts.suppression:
            return Verdict.SELF, category, (facts.suppressed.format(sentence=sentence),)
        facts.notes.append(say.STILL_COUNTS.format(sentence=sentence))
    return None


def _no_user_agent(facts: _Facts) -> _Decision:
    if facts.agent:
        return None
    return Verdict.MACHINE, "no_user_agent", (say.NO_USER_AGENT,)


def _prefetch_header(facts: _Facts) -> _Decision:
    for name in _PREFETCH_HEADERS:
        value = facts.hit.headers.get(name, "")
        if "prefetch" in value.lower():
            return Verdict.MACHINE, "prefetch", (
                say.PREFETCH_HEADER.format(header=name, value=_agent(value)),)
    return None


def _user_agent(facts: _Facts) -> _Decision:
    rule = facts.client
    if rule is None or rule.verdict is not Verdict.MACHINE:
        return None
    return Verdict.MACHINE, rule.category, (_cite_agent(rule.reason, facts.agent),)


def _network(facts: _Facts) -> _Decision:
    rule = facts.network
    if rule is None:
        return None
    cited = say.CITED_NETWORK.format(
        reason=rule.reason.removesuffix("."), address=facts.ip, network=rule.network
    )
    if rule.category == "apple_privacy_proxy":
        if facts.hit.kind is HitKind.OPEN:
            return Verdict.MACHINE, rule.category, (cited,)
        facts.notes.append(say.APPLE_RELAY_CLICK.format(address=facts.ip))
        return None
    window, when = _duration(GATEWAY_WINDOW), _when(facts.age)
    if facts.age < GATEWAY_WINDOW:
        return Verdict.MACHINE, rule.category, (
            cited, say.GATEWAY_SCAN.format(when=when, window=window)
        )
    facts.notes.append(say.GATEWAY_LATER.format(cited=cited, when=when, window=window))
    return None


def _click_burst(facts: _Facts) -> _Decision:
    if not _is_burst(facts.hit):
        return None
    return Verdict.MACHINE, "click_burst", (
        say.CLICK_BURST.format(links=facts.hit.link_count, window=_duration(BURST_WINDOW)),
    )


def _too_soon(facts: _Facts) -> _Decision:
    if facts.age >= TOO_SOON:
        return None
    return Verdict.MACHINE, "too_soon", (
        say.TOO_SOON.format(when=_when(facts.age), limit=_duration(TOO_SOON)),
    )


def _person(facts: _Facts) -> _Decision:
    settled = say.PERSON.format(when=_when(facts.age))
    if facts.client is None:
        client = say.UNRECOGNISED_CLIENT.format(agent=_agent(facts.agent))
        return Verdict.HUMAN, "unrecognised_client", (client, settled)
    client = _cite_agent(facts.client.reason, facts.agent)
    return Verdict.HUMAN, facts.client.category, (client, settled)


_RULES: tuple[Callable[[_Facts], _Decision], ...] = (
    _head_request,
    _sender,
    _no_user_agent,
    _prefetch_header,
    _user_agent,
    _network,
    _click_burst,
    _too_soon,
    _person,
)
"""The rules in the order of the module docstring; the last one always decides."""


def _is_burst(hit: Hit) -> bool:
    if hit.kind is not HitKind.CLICK or hit.link_count < 2:
        return False
    clicks = [(link, at) for link, at in hit.recent_clicks if abs(at - hit.at) <= BURST_WINDOW]
    if hit.claims.link is not None:
        clicks.append((hit.claims.link, hit.at))
    every_link = set(range(hit.link_count))
    # Every window of BURST_WINDOW that contains this click starts at one of these times.
    for start in sorted({at for _, at in clicks if at <= hit.at} | {hit.at}):
        covered = {link for link, at in clicks if start <= at <= start + BURST_WINDOW}
        if every_link <= covered:
            return True
    return False


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _cite_agent(reason: str, agent: str) -> str:
    """'Gmail fetches images.' + agent X -> "Gmail fetches images (user agent 'X')."."""
    return say.CITED_AGENT.format(reason=reason.removesuffix("."), agent=_agent(agent))


@lru_cache(maxsize=4096)
def _agent(agent: str) -> str:
    # The user agent is whatever the requester chose to send: keep it short and printable.
    shown = "".join(ch if ch.isprintable() else "?" for ch in agent)
    if len(shown) > _MAX_SHOWN:
        shown = shown[:_MAX_SHOWN] + "..."
    return shown


def _when(age: timedelta) -> str:
    if age < timedelta(0):
        return say.BEFORE_SENDING
    return say.AFTER_SENDING.format(duration=_duration(age))


def _duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 1:
        return say.LESS_THAN_A_SECOND
    for (singular, plural), size in zip(say.UNITS, (86400, 3600, 60, 1), strict=True):
        if seconds >= size:
            count = int(seconds // size)
            return (singular if count == 1 else plural).format(count=count)
    raise AssertionError("unreachable: a second or more has a unit")
