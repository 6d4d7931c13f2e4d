"""Reading the host of a request (issue 12, defect 4): the authority of an absolute-form
request line, the app's refusal of an ambiguous ``Host`` (a raw ASGI scope: litestar's
TestClient joins repeated headers into one), and the hostname of a ``Host`` value as the
tracking host check compares it. Against a real `sendtrail serve`:
tests/e2e/test_request_host.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sendtrail.errors import InvalidInput
from sendtrail.tracking.http import host_name
from sendtrail.web.request_host import absolute_form_host, one_host_header


@pytest.mark.parametrize(("target", "host"), [
    (b"http://links.a-brand.test/c/token", b"links.a-brand.test"),
    (b"HTTPS://Links.A-Brand.Test:8443/o/t.gif?x=1", b"links.a-brand.test:8443"),
    (b"http://127.0.0.1:8000/healthz", b"127.0.0.1:8000"),
    (b"http://[2001:db8::1]:8000/c/t", b"[2001:db8::1]:8000"),
    (b"http://links.a-brand.test", b"links.a-brand.test"),
])
def test_an_absolute_form_target_stands_for_its_authority(target: bytes, host: bytes) -> None:
    assert absolute_form_host(target) == host


@pytest.mark.parametrize("target", [
    b"ftp://links.a-brand.test/c/t",
    b"http://user:pw@links.a-brand.test/c/t",
    b"http:///c/t",
    b"links.a-brand.test:443",
    b"not a url",
], ids=["other-scheme", "credentials", "no-host", "authority-form", "garbage"])
def test_anything_else_is_not_an_absolute_form_target(target: bytes) -> None:
    with pytest.raises(ValueError, match="URL"):
        absolute_form_host(target)


@pytest.mark.parametrize(("header", "host"), [
    ("links.a-brand.test", "links.a-brand.test"),
    ("LINKS.A-Brand.test:443", "links.a-brand.test"),
    ("links.a-brand.test.", "links.a-brand.test"),
    ("links.a-brand.test.:8080", "links.a-brand.test"),
    ("[2001:db8::1]:8000", "[2001:db8::1]:8000"),
    ("127.0.0.1:8000", "127.0.0.1"),
])
def test_a_host_header_is_compared_as_its_lower_case_hostname(header: str, host: str) -> None:
    assert host_name(header) == host


def _served(kind: str, headers: list[tuple[bytes, bytes]], version: str = "1.1") -> bool:
    """Whether the app behind ``one_host_header`` is reached (an InvalidInput escapes)."""
    reached = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    scope = {"type": kind, "http_version": version, "path": "/c/t", "headers": headers}
    asyncio.run(one_host_header(app)(scope, nothing, ignore))
    return bool(reached)


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize(("headers", "words"), [
    ([(b"host", b"127.0.0.1"), (b"host", b"links.a-brand.test")], "more than one Host"),
    ([(b"host", b"links.a-brand.test"), (b"host", b"links.a-brand.test")], "more than one"),
    ([(b"host", b"  ")], "Host header is empty"),
    ([(b"host", b"user@links.a-brand.test")], "not a host name or address"),
    ([(b"host", b"links.a-brand.test:1:2")], "not a host name or address"),
    ([(b"host", b"links%2ea-brand.test")], "not a host name or address"),
    ([(b"host", b"[2001:db8::1")], "not a host name or address"),
    ([(b"user-agent", b"x")], "no Host header"),
], ids=["two", "same-twice", "empty", "userinfo", "two-ports", "percent", "open-bracket",
        "missing"])
def test_an_ambiguous_empty_or_missing_host_is_refused_in_words(
    kind: str, headers: list[tuple[bytes, bytes]], words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        _served(kind, headers)


@pytest.mark.parametrize("host", [
    b"links.a-brand.test", b"LINKS.A-Brand.test.:443", b"127.0.0.1:8000", b"[::1]:8000",
    b"my_service", b"localhost",
])
def test_a_host_name_or_address_with_a_port_is_served(host: bytes) -> None:
    assert _served("http", [(b"host", host)])


def test_one_host_is_served_and_http_1_0_may_omit_it() -> None:
    assert _served("http", [(b"host", b"links.a-brand.test")])
    assert _served("websocket", [(b"host", b"links.a-brand.test")])
    assert _served("http", [], version="1.0")
