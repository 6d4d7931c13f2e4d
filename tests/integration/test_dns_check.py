"""DNS verification of custom tracking domains against a real DNS server on loopback.

Most tests talk to ``pebble-challtestsrv`` (tests/components.py). What it does, observed
with Debian pebble 2.4.0, and what the tests rely on:

- it never answers NXDOMAIN: a name without records is NOERROR with no answer (NODATA);
- an A query for any name without an A record gets ``127.0.0.1`` (``-defaultIPv4``);
- names are matched exactly and case-sensitively (we always ask in lower case);
- it follows a CNAME one level inside a response, so a CNAME query on a 2-hop chain returns
  both records, and a CAA query on an alias returns the CNAME alone;
- ``/set-txt`` appends a value; ``/clear-txt`` removes them all.

NXDOMAIN, malformed answers and silence come from a small responder in this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import cast

import dns.flags
import dns.message
import dns.rcode
import pytest
from components import ChallTestSrv

from sendtrail.domains.dns_check import (
    DnsConfig,
    check_caa,
    check_cname,
    check_txt,
    verify_domain,
)
from sendtrail.domains.hostnames import Hostname, verification_token
from sendtrail.errors import InvalidInput

TARGET = "t.sendtrail.test"
OUR_CA = ("pebble.letsencrypt.org",)


class Zone:
    """Fresh names under ``<random>.example.test`` on the shared server, cleared after."""

    def __init__(self, server: ChallTestSrv) -> None:
        self.server = server
        self.apex = f"z{uuid.uuid4().hex[:10]}.example.test"
        self.host = f"links.{self.apex}"
        self.config = DnsConfig(nameservers=(server.dns_address,), timeout=1.0, lifetime=2.0)
        self.touched: set[str] = set()

    def fqdn(self, name: str) -> str:
        self.touched.add(name.rstrip(".") + ".")
        return name.rstrip(".") + "."

    def cname(self, name: str, target: str) -> None:
        self.server.set_cname(self.fqdn(name), target)

    def txt(self, name: str, *values: str) -> None:
        for value in values:
            self.server.set_txt(self.fqdn(name), value)

    def caa(self, name: str, *policies: tuple[str, str]) -> None:
        self.server.add_caa(self.fqdn(name), list(policies))

    def servfail(self, name: str) -> None:
        self.server.set_servfail(self.fqdn(name))

    def clear(self) -> None:
        for name in self.touched:
            self.server.clear(name)


@pytest.fixture
def zone(challtestsrv: ChallTestSrv) -> Iterator[Zone]:
    names = Zone(challtestsrv)
    try:
        yield names
    finally:
        names.clear()


async def test_a_cname_to_the_target_passes(zone: Zone) -> None:
    zone.cname(zone.host, TARGET)
    finding = await check_cname(zone.host, TARGET, config=zone.config)
    assert finding.ok, finding.reason
    assert finding.reason == f"{zone.host} points to {TARGET}."
    assert finding.details["chain"] == [zone.host, TARGET]
    assert finding.check == "cname"


async def test_a_two_hop_cname_chain_to_the_target_passes(zone: Zone) -> None:
    zone.cname(zone.host, f"edge.{zone.apex}")
    zone.cname(f"edge.{zone.apex}", TARGET.upper() + ".")  # compared case-insensitively
    finding = await check_cname(zone.host, TARGET + ".", config=zone.config)
    assert finding.ok, finding.reason
    assert finding.details["chain"] == [zone.host, f"edge.{zone.apex}", TARGET]


async def test_a_cname_pointing_elsewhere_names_both_hosts(zone: Zone) -> None:
    zone.cname(zone.host, "other.host.test")
    finding = await check_cname(zone.host, TARGET, config=zone.config)
    assert not finding.ok
    assert not finding.retryable
    assert finding.reason.startswith(f"{zone.host} points to other.host.test, not to {TARGET}.")


async def test_a_chain_ending_elsewhere_says_where_it_leads(zone: Zone) -> None:
    zone.cname(zone.host, f"a.{zone.apex}")
    zone.cname(f"a.{zone.apex}", "elsewhere.test")
    finding = await check_cname(zone.host, TARGET, config=zone.config)
    assert not finding.ok
    assert f"points to a.{zone.apex} (which leads to elsewhere.test), not to {TARGET}" in (
        finding.reason
    )


async def test_an_a_record_instead_of_a_cname_is_named_but_internal_addresses_are_not(
    zone: Zone,
) -> None:
    # challtestsrv answers every A query with 127.0.0.1 by default: an "A record" here. A
    # non-public address is not repeated (a tenant must not map the platform's network).
    finding = await check_cname(zone.host, TARGET, config=zone.config)
    assert not finding.ok
    assert finding.reason.startswith(
        f"{zone.host} has an A record (a non-public address) instead of a CNAME record. "
        f"Replace it with a CNAME record pointing to {TARGET}"
    )
    assert "127.0.0.1" not in finding.reason
    zone.server.add_a(zone.host, ["93.184.215.14"])
    public = await check_cname(zone.host, TARGET, config=zone.config)
    assert "93.184.215.14" in public.reason  # a public address helps the customer find it


async def test_no_record_at_all_asks_for_a_cname(zone: Zone) -> None:
    zone.server.set_default_ipv4("")
    try:
        finding = await check_cname(zone.host, TARGET, config=zone.config)
    finally:
        zone.server.set_default_ipv4("127.0.0.1")
    assert not finding.ok
    assert finding.reason == (
        f"No CNAME record exists for {zone.host} yet. Create a CNAME record pointing to "
        f"{TARGET}; DNS changes can take a few minutes to appear."
    )


async def test_a_cname_loop_is_explained(zone: Zone) -> None:
    zone.cname(zone.host, f"a.{zone.apex}")
    zone.cname(f"a.{zone.apex}", zone.host)
    finding = await check_cname(zone.host, TARGET, config=zone.config)
    assert not finding.ok
    assert f"form a loop ({zone.host} → a.{zone.apex} → {zone.host})" in finding.reason


async def test_an_idn_hostname_is_queried_in_punycode_and_shown_both_ways(zone: Zone) -> None:
    hostname = Hostname(ascii=f"xn--bcher-kva.{zone.apex}", unicode=f"bücher.{zone.apex}")
    zone.cname(hostname.ascii, "wrong.test")
    finding = await check_cname(hostname, TARGET, config=zone.config)
    assert finding.reason.startswith(f"bücher.{zone.apex} (xn--bcher-kva.{zone.apex}) points to")


async def test_the_right_txt_token_passes(zone: Zone) -> None:
    token = verification_token()
    zone.txt(f"_sendtrail-verify.{zone.host}", token)
    finding = await check_txt(zone.host, token, config=zone.config)
    assert finding.ok, finding.reason
    assert finding.check == "txt"


async def test_a_missing_txt_record_says_which_record_to_create(zone: Zone) -> None:
    token = verification_token()
    finding = await check_txt(zone.host, token, config=zone.config)
    assert not finding.ok
    assert finding.reason.startswith(
        f"No TXT record named _sendtrail-verify.{zone.host} exists yet. Create a TXT record "
        f"with that name and the value {token}"
    )


async def test_a_wrong_txt_value_shows_what_was_found_and_what_is_expected(zone: Zone) -> None:
    token = verification_token()
    zone.txt(f"_sendtrail-verify.{zone.host}", "v=spf1 -all", "sendtrail-verify=abc")
    finding = await check_txt(zone.host, token, config=zone.config)
    assert not finding.ok
    assert f"found sendtrail-verify=abc, expected {token}" in finding.reason


async def test_the_right_txt_value_among_several_passes(zone: Zone) -> None:
    token = verification_token()
    zone.txt(f"_sendtrail-verify.{zone.host}", "sendtrail-verify=old", token, "v=spf1 -all")
    finding = await check_txt(zone.host, token, config=zone.config)
    assert finding.ok, finding.reason
    assert len(finding.details["found"]) == 3  # type: ignore[arg-type]


async def test_a_quoted_token_and_a_huge_answer_still_pass(zone: Zone) -> None:
    token = verification_token()
    filler = [f"filler-{n:03d}-" + "x" * 90 for n in range(40)]  # ~4 kB: more than UDP's 1232
    zone.txt(f"_sendtrail-verify.{zone.host}", *filler, f'"{token}"')
    finding = await check_txt(zone.host, token, config=zone.config)
    assert finding.ok, finding.reason


async def test_non_ascii_txt_data_is_reported_not_crashed_on(zone: Zone) -> None:
    zone.txt(f"_sendtrail-verify.{zone.host}", "sendtrail-verify=bücher☃\x01")
    finding = await check_txt(zone.host, verification_token(), config=zone.config)
    assert not finding.ok
    assert "found sendtrail-verify=b\\u00fccher\\u2603\\u0001" in finding.reason


async def test_caa_at_the_parent_naming_another_ca_fails_with_the_fix(zone: Zone) -> None:
    zone.cname(zone.host, TARGET)
    zone.caa(zone.apex, ("issue", "sectigo.com"), ("iodef", "mailto:ops@example.test"))
    finding = await check_caa(zone.host, OUR_CA, config=zone.config)
    assert not finding.ok
    assert not finding.retryable
    assert finding.reason == (
        f"The CAA record of {zone.apex} allows only sectigo.com to issue certificates; "
        'add `0 issue "pebble.letsencrypt.org"` or remove it.'
    )
    assert finding.details["checked"] == zone.apex


async def test_caa_naming_our_ca_passes(zone: Zone) -> None:
    zone.caa(zone.apex, ("issue", "sectigo.com"), ("issue", "Pebble.LetsEncrypt.org; x=y"))
    finding = await check_caa(zone.host, OUR_CA, config=zone.config)
    assert finding.ok, finding.reason
    assert finding.reason == (
        f"The CAA record of {zone.apex} allows pebble.letsencrypt.org to issue certificates."
    )


async def test_the_closest_caa_record_wins(zone: Zone) -> None:
    zone.caa(zone.host, ("issue", "pebble.letsencrypt.org"))
    zone.caa(zone.apex, ("issue", ";"))
    assert (await check_caa(zone.host, OUR_CA, config=zone.config)).ok
    other = await check_caa(f"www.{zone.apex}", OUR_CA, config=zone.config)
    assert "forbids every certificate authority" in other.reason


async def test_no_caa_or_only_issuewild_does_not_restrict(zone: Zone) -> None:
    assert (await check_caa(zone.host, OUR_CA, config=zone.config)).ok
    zone.caa(zone.apex, ("issuewild", "sectigo.com"))
    assert (await check_caa(zone.host, OUR_CA, config=zone.config)).ok


async def test_caa_follows_the_hostnames_cname_but_does_not_climb_its_target(
    zone: Zone,
) -> None:
    zone.cname(zone.host, f"cdn.other-{zone.apex}")
    zone.caa(f"other-{zone.apex}", ("issue", "sectigo.com"))  # the target's parent: ignored
    assert (await check_caa(zone.host, OUR_CA, config=zone.config)).ok
    zone.caa(f"cdn.other-{zone.apex}", ("issue", "sectigo.com"))  # the alias's own CAA counts
    finding = await check_caa(zone.host, OUR_CA, config=zone.config)
    assert not finding.ok
    assert f"The CAA record of {zone.host} allows only sectigo.com" in finding.reason


async def test_servfail_is_retryable(zone: Zone) -> None:
    zone.servfail(zone.host)
    zone.servfail(f"_sendtrail-verify.{zone.host}")
    check = await verify_domain(
        zone.host, expected_target=TARGET, token=verification_token(),
        ca_identifiers=OUR_CA, config=zone.config,
    )
    assert not check.ok
    assert check.retryable
    assert all(not f.ok and f.retryable for f in check.findings)
    assert check.finding("cname").reason.startswith(
        f"The DNS servers for {zone.host} did not give a usable answer (server failure). "
        "This is usually temporary"
    )
    assert "Certificate authorities refuse to issue" in check.finding("caa").reason


async def test_a_domain_set_up_after_a_first_check_passes_the_next_one(zone: Zone) -> None:
    token = verification_token()

    async def verify() -> list[str]:
        check = await verify_domain(
            zone.host, expected_target=TARGET, token=token, ca_identifiers=OUR_CA,
            config=zone.config,
        )
        assert [f.check for f in check.findings] == ["cname", "txt", "caa"]
        return [f.check for f in check.findings if not f.ok]

    assert await verify() == ["cname", "txt"]

    def publish() -> None:
        time.sleep(0.2)  # the customer's DNS panel, a moment later
        zone.cname(zone.host, TARGET)
        zone.txt(f"_sendtrail-verify.{zone.host}", token)
        zone.caa(zone.apex, ("issue", "pebble.letsencrypt.org"))

    await asyncio.to_thread(publish)
    assert await verify() == []


# --- what challtestsrv cannot do: NXDOMAIN, garbage, silence -----------------------------


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, reply: Callable[[dns.message.Message], bytes | None]) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        payload = self.reply(dns.message.from_wire(data))
        if payload is not None and self.transport is not None:
            self.transport.sendto(payload, addr)


@contextlib.asynccontextmanager
async def responder(
    reply: Callable[[dns.message.Message], bytes | None],
) -> AsyncIterator[DnsConfig]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Responder(reply), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        yield DnsConfig(nameservers=(f"127.0.0.1:{port}",), timeout=0.3, lifetime=0.6)
    finally:
        transport.close()


def nxdomain(query: dns.message.Message) -> bytes:
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire()


def refused(query: dns.message.Message) -> bytes:
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.REFUSED)
    return response.to_wire()


def garbage(query: dns.message.Message) -> bytes:
    header = query.id.to_bytes(2, "big") + (dns.flags.QR | dns.flags.RA).to_bytes(2, "big")
    return header + b"\x00\x01\x00\x05\x00\x00\x00\x00\xffgarbage"


async def test_nxdomain_asks_for_the_cname_to_be_created() -> None:
    async with responder(nxdomain) as config:
        check = await verify_domain(
            "links.example.com", expected_target=TARGET, token="sendtrail-verify=x",
            ca_identifiers=OUR_CA, config=config,
        )
    assert check.finding("cname").reason == (
        "No DNS record exists for links.example.com yet. Create a CNAME record pointing to "
        f"{TARGET}; DNS changes can take a few minutes to appear."
    )
    assert check.finding("txt").reason.startswith("No TXT record named _sendtrail-verify.")
    assert check.finding("caa").ok
    assert not check.retryable


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (refused, "did not give a usable answer"),
        # dnspython drops an unparseable datagram (it could be spoofed) and keeps waiting.
        (garbage, "did not answer in time"),
        (lambda _: None, "did not answer in time"),
    ],
    ids=["refused", "garbage", "silence"],
)
async def test_refusal_garbage_and_silence_are_retryable_findings_not_exceptions(
    reply: Callable[[dns.message.Message], bytes | None], words: str
) -> None:
    async with responder(reply) as config:
        check = await verify_domain(
            "links.example.com", expected_target=TARGET, token="sendtrail-verify=x",
            ca_identifiers=OUR_CA, config=config,
        )
    assert not check.ok
    assert check.retryable
    assert words in check.finding("cname").reason


def test_dns_servers_are_ip_and_port_pairs() -> None:
    DnsConfig(nameservers=("127.0.0.1:8053", "[::1]:5353", "192.0.2.1", "2001:db8::1"))
    for bad in ("dns.example:53", "127.0.0.1:0", "127.0.0.1:x", "[::1]:99999"):
        with pytest.raises(InvalidInput, match="expected an IP address and port"):
            DnsConfig(nameservers=(bad,))
