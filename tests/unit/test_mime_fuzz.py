"""Hostile and mutated messages through ``parse_message`` (R23; bad input gets a clear error).

Every message is either parsed or refused with ``MessageRefused`` and a reason: never another
exception, never a hang. What comes back is safe to store and to show: no header value with
CR/LF (nothing can inject a header), no string a UTF-8 database refuses, no attachment name
with a path, a control or a bidirectional-override character, and attachments exactly as sent
(a zip bomb is stored, never expanded).
"""

from __future__ import annotations

import base64
import functools
import io
import random
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from support import Tenant, gql, run, seed_tenant

from sendtrail.records.mime import MessageLimits, MessageRefused, ParsedMessage, parse_message

LIMITS = MessageLimits()
BUDGET_SECONDS = 2.0
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
HEAD = b"From: Ann <ann@sender.test>\r\nTo: Bo <bo@client.test>\r\nSubject: fuzz\r\n"
CHARSETS = ("x-made-up", "undefined", "idna", "punycode", "utf-7", "unknown-8bit", "base64",
            "rot13", "hex", "zlib", "utf-16", "utf-32-be", "cp1252", "iso-2022-jp", "gb18030",
            "", '"', "utf-8\x00", "utf-8'en'", "shift_jis", "uu", "unicode_escape")
ENCODINGS = ("base64", "quoted-printable", "8bit", "7bit", "binary", "x-uuencode", "bogus", "")
BAD_WORDS = ("=?utf-8?q?a=0D=0ABcc:_x@evil.test?=", "=?utf-8?b?YQ0KQmNjOiB4QGV2aWwudGVzdA==?=",
             "=?utf-8?b?!!!?=", "=?x-nope?q?abc?=", "=?utf-8?q?=ZZ=?=", "=?utf-8?x?abc?=",
             "=?unknown-8bit?b?/w==?=", "=?utf-8?q?a", "=??q?a?=", "=?utf-8*en?q?a?=",
             "=?utf-16?b?2D3YPQ==?=", "=?utf-8?q?=E2=80=AEgpj.exe?=", "=?utf-8?q?a=00b?=",
             "=?iso-8859-1?q?caf=E9?=", "=?utf-8?b?" + "QQ" * 400 + "?=")
HOSTILE_NAMES = ("../../etc/passwd", "..\\..\\windows\\system32\\x.dll", "/abs/path.txt",
                 "invoice\u202egpj.exe", "a\rb\nc.txt", "nul\x00byte.pdf", "\u2066ltr\u2069.txt",
                 "tab\there.doc", "C:\\Users\\x\\evil.bat", "....", " ", "a" * 5000,
                 "=?utf-8?q?..=2F..=2Fetc=2Fpasswd?=", "\x1b[31mred.txt", "\ud800.txt")
DATES = ("Mon, 99999999999999999999 Jan 2020 00:00:00 +0000",
         "Mon, 1 Jan 99999999999999999999 00:00:00 +0000",
         "Mon, 1 Jan 2020 00:00:00 +99999999999999999999", "Mon, 1 Jan 2020 99:99:99 +0000",
         "Mon, 32 Foo 0 00:00:00 -9999", "yesterday", "", "Mon, 1 Jan 10000 00:00:00 +0000",
         "Mon, 1 Jan 2020 00:00:00 +2400", "1 Jan 1 00:00:00 GMT")


def _rng(seed: int | str) -> random.Random:
    return random.Random(seed)  # noqa: S311 -- fuzzing must be reproducible, not secret


@functools.cache
def _valid() -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Ann Sender <ann@sender.test>"
    message["To"] = "Bo <bo@client.test>, cy@client.test"
    message["Cc"] = "=?utf-8?q?D=C3=A9?= <de@client.test>"
    message["Subject"] = "Quarterly numbers - café"
    message["Date"] = "Tue, 14 Jan 2025 10:00:00 +0100"
    message["Message-ID"] = "<valid-1@sender.test>"
    message["References"] = "<a@x.test> <b@x.test>"
    message.set_content("Hello Bo,\nthe numbers are attached.\n")
    message.add_alternative("<p>Hello <b>Bo</b>, the numbers are attached.</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4\n" + bytes(range(256)) * 8, maintype="application",
                           subtype="pdf", filename="numbers.pdf")
    message.add_attachment("zahlen €\n".encode(), maintype="text", subtype="plain",
                           filename="Übersicht - 2025.txt")
    return message.as_bytes()


@functools.cache
def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(64 * 1024 * 1024))
    return buffer.getvalue()


def _strings(parsed: ParsedMessage) -> Iterator[tuple[str, str]]:
    """(what, value) of every header-derived string, this message and any it forwards."""
    people = ([parsed.sender] if parsed.sender else []) + [*parsed.to, *parsed.cc, *parsed.bcc]
    yield "subject", parsed.subject
    for person in people:
        yield "address", person.address
        yield "name", person.name or ""
    yield "message_id", parsed.message_id or ""
    yield "in_reply_to", parsed.in_reply_to or ""
    yield from (("references", reference) for reference in parsed.references)
    for attachment in parsed.attachments:
        yield "content_type", attachment.content_type


def _problems(parsed: ParsedMessage) -> list[str]:
    found = []
    for what, value in _strings(parsed):
        if "\r" in value or "\n" in value:
            found.append(f"{what} has CR/LF: {value[:80]!r}")
    bodies = [("text", parsed.text or ""), ("html", parsed.html or "")]
    for what, value in [*_strings(parsed), *bodies]:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            found.append(f"{what} is not storable as UTF-8 (lone surrogate): {value[:80]!r}")
    for attachment in parsed.attachments:
        name = attachment.filename
        bad = [c for c in name if c in "/\\" or c in BIDI or unicodedata.category(c)[0] == "C"]
        if bad or not name.strip():
            found.append(f"unsafe filename {name[:80]!r}")
    if parsed.forwarded is not None:
        found += [f"forwarded {problem}" for problem in _problems(parsed.forwarded)]
    return found


def _check(raw: bytes) -> ParsedMessage | None:
    """Parse one message; ``AssertionError`` with the reason when it misbehaves."""
    started = time.monotonic()
    try:
        parsed = parse_message(raw, LIMITS)
    except MessageRefused as refusal:
        parsed, reason = None, refusal.message
    except Exception as error:  # anything else is the finding
        raise AssertionError(f"{type(error).__name__}: {error}") from error
    else:
        reason = "parsed"
    assert reason.strip(), "a refusal without a reason"
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET_SECONDS, f"took {elapsed:.1f} s"
    if parsed is not None:
        problems = _problems(parsed)
        assert not problems, "; ".join(problems)
    return parsed


def _run_all(messages: Iterator[bytes], minimum: int) -> list[ParsedMessage | None]:
    """Check every message; fail once at the end listing the distinct failures."""
    results: list[ParsedMessage | None] = []
    failures: dict[str, bytes] = {}
    count = 0
    for count, raw in enumerate(messages, 1):  # noqa: B007 - the count is checked below
        try:
            results.append(_check(raw))
        except AssertionError as failure:
            failures.setdefault(str(failure)[:160], raw)
    assert count >= minimum
    report = "\n".join(f"- {why}\n    input: {raw[:240]!r}" for why, raw in
                       list(failures.items())[:15])
    assert not failures, f"{len(failures)} distinct failures in {count} messages:\n{report}"
    return results


def _leaf(rng: random.Random) -> bytes:
    charset = rng.choice(CHARSETS)
    encoding = rng.choice(ENCODINGS)
    body = rng.choice((rng.randbytes(rng.randint(0, 300)), b"SGVsbG8=!!*\r\n=\r\n",
                       b"=E9=XX=\r\nsoft=\r\nbreak=0", "héllo wörld ✓".encode(rng.choice(
                           ("utf-8", "cp1252", "utf-16")), "replace"), b"begin 644 x\r\n#0V%T\r\n"))
    kind = rng.choice(("text/plain", "text/html", "application/octet-stream", "text/x-odd"))
    return (f"Content-Type: {kind}; charset=\"{charset}\"\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n").encode("utf-8", "replace") + body


def _charsets(rng: random.Random) -> Iterator[bytes]:
    for _ in range(1200):
        if rng.random() < 0.5:
            yield HEAD + _leaf(rng)
        else:
            parts = b"".join(b"--B\r\n" + _leaf(rng) + b"\r\n" for _ in range(rng.randint(1, 5)))
            yield HEAD + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n" + parts + b"--B--\r\n"


def _headers(rng: random.Random) -> Iterator[bytes]:
    for _ in range(1200):
        word = rng.choice(BAD_WORDS)
        raw8 = rng.randbytes(rng.randint(1, 40)).replace(b"\r", b"").replace(b"\n", b"")
        value = rng.choice((word.encode(), raw8, word.encode() + b" " + raw8,
                            b"a\rBcc: x@evil.test", b"a\r\n\tcontinued", b"\x00\x01\x7f"))
        field = rng.choice((b"Subject", b"From", b"To", b"Cc", b"Bcc", b"Message-ID",
                            b"In-Reply-To", b"References", b"Date"))
        name = rng.choice(BAD_WORDS).encode()
        yield (b"From: " + name + b" <ann@sender.test>\r\nTo: \"" + raw8 + b"\" <bo@client.test>,"
               b" =?utf-8?q?x=0D=0AY?= <cy@client.test>\r\n" + field + b": " + value +
               b"\r\nMessage-ID: <id\x01" + raw8[:5] + b"@x>\r\n\r\nbody\r\n")


def _filenames(rng: random.Random) -> Iterator[bytes]:
    for _ in range(800):
        name = rng.choice(HOSTILE_NAMES)
        styles = (
            b'filename="' + name.encode("utf-8", "surrogatepass") + b'"',
            b"filename*=utf-8''" + "".join(f"%{b:02X}" for b in name.encode(
                "utf-8", "surrogatepass")).encode(),
            b"filename*=x-bogus'en'%2E%2E%2F%2Fa%FF",
            b"filename*0=\"../\"; filename*1=\"" + name.encode("utf-8", "replace") + b'"',
            b'filename="' + rng.randbytes(12).replace(b'"', b"").replace(b"\n", b"") + b'"',
        )
        disposition = rng.choice(styles)
        yield (HEAD + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
               b"Content-Type: application/octet-stream; name=\"" + name.encode("utf-8", "replace")
               + b"\"\r\nContent-Disposition: attachment; " + disposition +
               b"\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--B--\r\n")


def _nested(depth: int) -> bytes:
    head = b"".join(b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (i, i)
                    for i in range(depth))
    tail = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(depth)))
    return HEAD + head + b"Content-Type: text/plain\r\n\r\nx" + tail


def _structure(rng: random.Random) -> Iterator[bytes]:
    for depth in (29, 31, 100, 100, 400):
        yield _nested(depth)
        yield HEAD + b"From: f@x.test\r\nContent-Type: message/rfc822\r\n\r\n" * depth + b"\r\nx"
    for count in (999, 1001, 10_000):
        parts = b"".join(b"--P\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % i for i in range(count))
        yield HEAD + b"Content-Type: multipart/mixed; boundary=P\r\n\r\n" + parts + b"--P--\r\n"
    yield HEAD + b"X-Huge: " + b"a" * 2_000_000 + b"\r\n\r\nx"
    yield HEAD + b"X-Folded: a" + b"\r\n a" * 200_000 + b"\r\n\r\nx"
    yield HEAD.replace(b"Subject: fuzz", b"Subject: " + b"=?utf-8?q?a?= " * 20_000) + b"\r\nx"
    yield HEAD + b"".join(b"X-%d: v\r\n" % i for i in range(50_000)) + b"\r\nx"
    yield b"From: a@b.test\r\nTo: " + b"(" * 50_000 + b"\r\n\r\nx"
    yield b"From: a@b.test\r\nTo: " + b"<" * 50_000 + b"\r\n\r\nx"
    yield HEAD + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n" + b"--B\r\n" * 50_000
    yield b"\r\n" * 1000
    yield b""
    yield rng.randbytes(4096)
    yield HEAD + b"\r\n" + b"x" * (LIMITS.max_bytes + 1)


def _dates(rng: random.Random) -> Iterator[bytes]:
    for _ in range(200):
        date = rng.choice(DATES).encode()
        yield HEAD + b"Date: " + date + b"\r\n\r\nbody\r\n"


def _mutations(rng: random.Random) -> Iterator[bytes]:
    valid = _valid()
    for _ in range(1600):  # CRLF as sent over SMTP, or bare LF as uploaded through the API
        data = bytearray(rng.choice((valid, valid.replace(b"\r\n", b"\n"))))
        action = rng.choice(("flip", "flip", "truncate", "splice", "delete", "duplicate"))
        if action == "flip":
            for _ in range(rng.randint(1, 30)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif action == "truncate":
            del data[rng.randrange(len(data)):]
        elif action == "splice":
            at = rng.randrange(len(data))
            data[at:at] = rng.choice((b"\r\n", b"\r\n\r\n", b"--", b"=?", b"?=", b"\x00",
                                      b"\r\n--" + valid.split(b'boundary="')[1][:10], b"\xff" * 4))
        elif action == "delete":
            at = rng.randrange(len(data))
            del data[at:at + rng.randint(1, 200)]
        else:
            at, size = rng.randrange(len(data)), rng.randint(1, 400)
            data[at:at] = data[at:at + size] * rng.randint(2, 20)
        yield bytes(data)


FAMILIES: dict[str, tuple[Callable[[random.Random], Iterator[bytes]], int]] = {
    "charsets": (_charsets, 1200), "headers": (_headers, 1200), "filenames": (_filenames, 800),
    "structure": (_structure, 20), "dates": (_dates, 200), "mutations": (_mutations, 1600),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_hostile_messages_are_parsed_safely_or_refused_with_a_reason(family: str) -> None:
    generate, minimum = FAMILIES[family]
    rng = _rng(f"mime-fuzz-{family}")
    results = _run_all(generate(rng), minimum)
    if family in ("charsets", "mutations"):  # not everything refused
        assert any(result is not None for result in results)


def test_the_valid_message_parses_completely() -> None:
    parsed = _check(_valid())
    assert parsed is not None
    assert parsed.subject == "Quarterly numbers - café"
    assert [a.address for a in parsed.to] == ["bo@client.test", "cy@client.test"]
    assert parsed.cc[0].name == "Dé"
    assert sorted(a.filename for a in parsed.attachments) == ["numbers.pdf",
                                                              "Übersicht - 2025.txt"]
    assert parsed.text is not None
    assert parsed.html is not None


def test_header_injection_never_survives_into_a_header_value() -> None:
    raw = (b"From: =?utf-8?q?Eve=0D=0ABcc:_x@evil.test?= <eve@x.test>\r\nTo: bo@client.test\r\n"
           b"Subject: =?utf-8?q?a=0D=0ABcc:_x@evil.test?=\r\n\r\nhi\r\n")
    parsed = _check(raw)
    assert parsed is not None
    assert "Bcc: x@evil.test" in parsed.subject  # kept as text, on one line
    assert all(a.address != "x@evil.test" for a in (*parsed.to, *parsed.cc, *parsed.bcc))


def test_a_folded_content_type_never_carries_a_line_break() -> None:
    # one 8-bit byte where the ';' was: the folded parameter line stays in the type
    raw = HEAD + b"Content-Type: application/pdf\xff\r\n X-Injected: yes\r\n\r\n%PDF\r\n"
    parsed = _check(raw)
    assert parsed is not None
    assert parsed.attachments[0].data.startswith(b"%PDF")


@pytest.mark.parametrize("encoding", ["base64", "binary"])
def test_a_zip_bomb_attachment_is_kept_exactly_as_sent(encoding: str) -> None:
    bomb = _zip_bomb()
    assert len(bomb) < 200_000
    body = base64.encodebytes(bomb) if encoding == "base64" else bomb
    raw = (HEAD + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: "
           b"text/plain\r\n\r\nsee attached\r\n--B\r\nContent-Type: application/zip\r\n"
           b"Content-Disposition: attachment; filename=\"42.zip\"\r\nContent-Transfer-Encoding: "
           + encoding.encode() + b"\r\n\r\n" + body + b"\r\n--B--\r\n")
    parsed = _check(raw)
    assert parsed is not None
    (attachment,) = parsed.attachments
    assert attachment.filename == "42.zip"
    if encoding == "base64":
        assert attachment.data == bomb
    else:  # 8-bit data in a parsed message may lose the final CRLF, never be expanded
        assert attachment.data.rstrip(b"\r\n") == bomb.rstrip(b"\r\n")


# --- through GraphQL: logEmail(input: {rawBase64}) never answers INTERNAL_SERVER_ERROR ---------

LOG = """mutation($i: LogEmailInput!) { logEmail(input: $i) {
  id subject attachments { filename size } } }"""
THROUGH_API = {
    "undefined charset": HEAD + b"Content-Type: text/plain; charset=undefined\r\n\r\nhi\r\n",
    "idna charset": HEAD + b"Content-Type: text/plain; charset=idna\r\n\r\nh\xffi\r\n",
    "huge date": HEAD + b"Date: " + DATES[0].encode() + b"\r\n\r\nhi\r\n",
    "NUL in body": HEAD + b"Content-Transfer-Encoding: 8bit\r\n\r\nnul \x00 here\r\n",
    "NUL in subject": HEAD.replace(b"fuzz", b"=?utf-8?q?a=00b?=") + b"\r\nhi\r\n",
    "injection": HEAD.replace(b"fuzz", BAD_WORDS[0].encode()) + b"\r\nhi\r\n",
    "nested 100": _nested(100),
    "hostile filename": next(_filenames(_rng(3))),
    "8-bit headers": b"From: J\xf6rg <ann@sender.test>\r\nTo: b\xf6@client.test\r\n"
                     b"Subject: caf\xe9\r\n\r\nhi\r\n",
    "no From": b"To: bo@client.test\r\nSubject: x\r\n\r\nhi\r\n",
    "garbage": bytes(range(256)) * 4,
}


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    return run(seed_tenant(database_url, "Mime Fuzz", seats={}))


def test_hostile_raw_messages_through_log_email_get_an_answer_or_a_clear_error(
    client: Any, tenant: Tenant
) -> None:
    failures = []
    for what, raw in THROUGH_API.items():
        try:
            body = gql(client, LOG, {"i": {"rawBase64": base64.b64encode(raw).decode()}},
                       token=tenant.admin_token)
        except AssertionError as failure:
            failures.append(f"{what}: {str(failure)[:300]}")
            continue
        if body.get("errors"):
            assert body["errors"][0]["message"].strip(), (what, body)
        else:
            assert body["data"]["logEmail"]["id"], (what, body)
    assert not failures, "\n".join(failures)
