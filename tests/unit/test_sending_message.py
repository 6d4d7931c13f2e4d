"""Reading a submitted message and splicing one copy's HTML (sendtrail.sending.core.message).

What a sender's client would keep stays whole (R27): every byte outside the HTML part is
identical in each recipient's copy, signed and encrypted mail passes untouched, Bcc never
leaves. Plain-text mail is not trackable (R6). Unreadable input is refused with a sentence.
"""

from __future__ import annotations

import ast
import base64
import email
import quopri
import re
import shutil
import subprocess
import sys
from email import policy
from email.message import Message
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendtrail.errors import InvalidInput
from sendtrail.sending import core
from sendtrail.sending.core.message import (
    ENCRYPTED_REASON,
    PLAIN_TEXT_REASON,
    SIGNED_REASON,
    Attachment,
    MessageFacts,
    Party,
    read_message,
    recipient_copy,
    splice_html,
    with_header,
    without_headers,
)
from sendtrail.sending.values import Trackability

PDF = bytes(range(256)) * 8
HTML = "<p>Hallo Bo, schöne Grüße \u2013 <a href=\"https://shop.test/x\">Angebot</a></p>"
NEW_HTML = (
    "<p>Hallo Bo, schöne Grüße \u2013 <a href=\"https://t1.na1.track.test/c/abc\">Angebot</a>"
    "</p>\n--b1\n" + "<td>" + "x" * 300 + "</td>\n\ttab at end\t\n.\nFrom here\n€ 😀\n"
)
HEAD = (
    "Received: from client.test (client.test [192.0.2.7])\r\n"
    "\tby relay.test with ESMTPSA; Thu, 3 Dec 2026 13:00:00 +0000\r\n"
    "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@sender.test>\r\n"
    "To: Bo <bo@client.test>,\r\n =?iso-8859-1?q?Ren=E9e?= <renee@client.test>\r\n"
    "Cc: carl@client.test\r\n"
    "Bcc: boss@sender.test,\r\n  audit@sender.test\r\n"
    "Subject: =?utf-8?b?UmVjaG51bmcgZsO8ciBEZXplbWJlcg==?=\r\n"
    "X-Long: " + "y" * 99 + "\r\n"
    "Message-ID: <m1.x@sender.test>\r\n"
    "In-Reply-To: <m0@client.test>\r\n"
    "References: <a@client.test>\r\n <m0@client.test>\r\n"
    "X-Sendtrail-Track: off\r\n"
    "x-sendtrail-log:  ON \r\n"
    "MIME-Version: 1.0\r\n"
)


def _qp(text: str, charset: str = "utf-8") -> str:
    return quopri.encodestring(text.encode(charset).replace(b"\n", b"\r\n")).decode()


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


HTML_PART = ("Content-Type: text/html; charset=\"utf-8\"\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(HTML))
TEXT_PART = ("Content-Type: text/plain; charset=iso-8859-1\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp("Hallo Bo, schöne Grüße",
                                                                         "latin-1"))
PDF_PART = ("Content-Type: application/pdf; name=\"r.pdf\"\r\n"
            "Content-Disposition: attachment; filename*=utf-8''Rechnung%20%C3%BC.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(PDF))
LATIN_PART = ("Content-Type: text/plain; charset=iso-8859-1\r\n"
              "Content-Disposition: attachment; filename=\"notiz.txt\"\r\n"
              "Content-Transfer-Encoding: 8bit\r\n\r\n")
LATIN_BODY = "Notiz: Straße, café".encode("latin-1")
PNG_PART = ("Content-Type: image/png\r\nContent-ID: <logo@sender.test>\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(b"\x89PNG\r\n\x1a\n" + PDF[:64]))


def _multipart(subtype: str, boundary: str, *parts: str | bytes, preamble: str = "") -> bytes:
    out = [f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n{preamble}"
           .encode()]
    for part in parts:
        out.append(f"--{boundary}\r\n".encode())
        out.append(part if isinstance(part, bytes) else part.encode())
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _alternative() -> bytes:
    return _multipart("alternative", "b-alt", TEXT_PART, HTML_PART)


LAYOUTS: dict[str, bytes] = {
    "single text/html": HEAD.encode() + HTML_PART.encode(),
    "alternative at top": HEAD.encode() + _alternative(),
    "alternative in mixed": HEAD.encode() + _multipart(
        "mixed", "b-mix", _alternative(), PDF_PART, LATIN_PART.encode() + LATIN_BODY,
        preamble="This is a multi-part message in MIME format.\r\n",
    ) + b"epilogue\r\n",
    "related in alternative in mixed": HEAD.encode() + _multipart(
        "mixed", "b-mix", _multipart("alternative", "b-alt", TEXT_PART, _multipart(
            "related", "b-rel", HTML_PART, PNG_PART)), PDF_PART,
    ),
}


def _lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


CASES = [pytest.param(raw, id=f"{name}, CRLF") for name, raw in LAYOUTS.items()] + [
    pytest.param(_lf(raw), id=f"{name}, LF") for name, raw in LAYOUTS.items()]


def _html_entity_span(raw: bytes) -> tuple[int, int]:
    """Where the HTML entity is, found without the module under test."""
    eol = b"\r\n" if b"\r\n" in raw else b"\n"
    header = b"Content-Type: text/html"
    start = raw.index(header)
    if raw.rfind(b"Content-Type: multipart", 0, start) < 0:  # single part: the whole message
        return 0, len(raw)
    end = raw.index(eol + b"--b-", start)
    return start, end


def _changed(before: bytes, after: bytes) -> tuple[int, int]:
    """Length of the common prefix and suffix of two byte strings."""
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(before), len(after)) - prefix
           and before[-1 - suffix] == after[-1 - suffix]):
        suffix += 1
    return prefix, suffix


def _parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=policy.default)


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", CASES)
def test_an_html_message_is_read_in_every_layout(raw: bytes) -> None:  # R6, R23
    facts = read_message(raw)
    assert facts.trackability is Trackability.HTML
    assert facts.untracked_reason is None
    assert facts.html == HTML
    assert facts.sender == Party("joerg@sender.test", "Jörg Müller")
    assert facts.to == (Party("bo@client.test", "Bo"), Party("renee@client.test", "Renée"))
    assert facts.cc == (Party("carl@client.test", None),)
    assert facts.bcc == (Party("boss@sender.test", None), Party("audit@sender.test", None))
    assert facts.subject == "Rechnung für Dezember"
    assert facts.message_id == "<m1.x@sender.test>"
    assert facts.in_reply_to == "<m0@client.test>"
    assert facts.references == ("<a@client.test>", "<m0@client.test>")
    assert (facts.track_override, facts.log_override) == (False, True)


def test_parts_are_decoded_with_their_charset_and_attachments_byte_for_byte() -> None:  # R23
    facts = read_message(LAYOUTS["alternative in mixed"])
    assert facts.text == "Hallo Bo, schöne Grüße"
    assert facts.attachments == (
        Attachment("Rechnung ü.pdf", "application/pdf", PDF),
        Attachment("notiz.txt", "text/plain", LATIN_BODY),
    )
    related = read_message(LAYOUTS["related in alternative in mixed"])
    assert [a.content_type for a in related.attachments] == ["image/png", "application/pdf"]


@pytest.mark.parametrize(("encoding", "charset", "body"), [
    ("quoted-printable", "iso-8859-1", _qp("<p>café à la crème</p>", "latin-1").encode()),
    ("base64", "utf-8", _b64("<p>café à la crème</p>".encode()).encode()),
    ("8bit", "windows-1252", "<p>café à la crème</p>".encode("cp1252")),
    ("8bit", "utf-8", "<p>café à la crème</p>".encode()),
    ("7bit", "", b"<p>caf&eacute; &agrave; la cr&egrave;me</p>"),
])
def test_the_html_part_is_decoded_whatever_its_encoding(
    encoding: str, charset: str, body: bytes,
) -> None:
    params = f"; charset={charset}" if charset else ""
    raw = (b"From: a@sender.test\r\nTo: b@client.test\r\nSubject: s\r\n"
           + f"Content-Type: text/html{params}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
           .encode() + body + b"\r\n")
    html = read_message(raw).html
    assert html is not None
    assert html.strip() in ("<p>café à la crème</p>",
                            "<p>caf&eacute; &agrave; la cr&egrave;me</p>")


def test_a_plain_text_message_is_not_trackable() -> None:  # R6
    raw = HEAD.encode() + TEXT_PART.encode()
    facts = read_message(raw)
    assert facts.trackability is Trackability.PLAIN_TEXT
    assert facts.untracked_reason == PLAIN_TEXT_REASON
    assert facts.html is None
    assert facts.text == "Hallo Bo, schöne Grüße"
    with pytest.raises(InvalidInput, match="Plain-text"):
        splice_html(raw, "<p>x</p>")
    assert recipient_copy(raw, None) == without_headers(
        raw, ["Bcc", "X-Sendtrail-Track", "X-Sendtrail-Log"])


@pytest.mark.parametrize(("value", "expected"), [("on", True), ("OFF", False), (" On ", True)])
def test_sendtrail_switches_read_on_and_off(value: str, expected: bool) -> None:
    raw = f"From: a@sender.test\r\nX-Sendtrail-Track: {value}\r\n\r\nhi\r\n".encode()
    assert read_message(raw).track_override is expected
    assert read_message(raw).log_override is None


@pytest.mark.parametrize("header", [
    "X-Sendtrail-Track: maybe", "X-Sendtrail-Log: yes", "X-Sendtrail-Log: ",
    "X-Sendtrail-Track: on\r\nX-Sendtrail-Track: off",
])
def test_a_sendtrail_switch_other_than_on_or_off_is_refused_with_a_sentence(header: str) -> None:
    raw = f"From: a@sender.test\r\n{header}\r\n\r\nhi\r\n".encode()
    with pytest.raises(InvalidInput, match=r"X-Sendtrail-(Track|Log) header .*(on|off)"):
        read_message(raw)


@pytest.mark.parametrize(("raw", "words"), [
    (b"", "empty"),
    (b"  \r\n\r\n", "empty"),
    (b"\x00\x01garbage without headers", "not an email"),
    (b"<html>hello</html>\r\n", "not an email"),
    (b"From: a@x.test\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n", "boundary"),
    (b"From: a@x.test\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nno lines\r\n",
     "boundary lines"),
    (b"From: a@x.test\r\n" + b"".join(
        f"Content-Type: multipart/mixed; boundary=z{n}\r\n\r\n--z{n}\r\n".encode()
        for n in range(40)), "nested"),
    (b"From: a@x.test\r\nnot a header\r\nBcc: x@y.test\r\n\r\nbody\r\n", "not a header field"),
])
def test_unreadable_input_is_refused_with_a_sentence(raw: bytes, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as refused:
        read_message(raw)
    assert refused.value.message.endswith(".")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_any_bytes_are_read_or_refused_with_invalid_input(raw: bytes) -> None:
    _read_or_refuse(raw)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(LAYOUTS.values())), st.data())
def test_mutated_messages_are_read_or_refused_with_invalid_input(
    raw: bytes, data: st.DataObject,
) -> None:
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 12))):
        position = data.draw(st.integers(0, max(len(mutated) - 1, 0)))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        chunk = data.draw(st.sampled_from([b"\r\n", b"--", b"--b-alt", b"=", b":", b"\xff",
                                           b"\r\n\r\n", b"\n ", b"=?utf-8?q?=FF?=", b";"]))
        if action == "flip" and mutated:
            mutated[position] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del mutated[position:position + data.draw(st.integers(1, 200))]
        else:
            mutated[position:position] = chunk
    _read_or_refuse(bytes(mutated))


def _read_or_refuse(raw: bytes) -> None:
    try:
        facts = read_message(raw)
    except InvalidInput as refused:
        message = refused.message
        assert message
        return
    assert isinstance(facts, MessageFacts)
    copy = recipient_copy(raw, "<p>copy</p>" if facts.trackability is Trackability.HTML
                          else None)
    assert read_message(copy).bcc == ()
    assert read_message(copy).track_override is None
    if facts.trackability is Trackability.HTML:
        assert read_message(copy).html == "<p>copy</p>"


# --- splicing ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", CASES)
def test_a_copy_changes_the_html_part_alone(raw: bytes) -> None:  # R27
    spliced = splice_html(raw, NEW_HTML)
    start, end = _html_entity_span(raw)
    prefix, suffix = _changed(raw, spliced)
    assert prefix >= start
    assert suffix >= len(raw) - end
    if start > 0:  # in a multipart, the part's own header lines come through as well
        assert spliced[start:].startswith(b"Content-Type: text/html")


@pytest.mark.parametrize("raw", CASES)
def test_a_spliced_copy_parses_and_its_html_is_what_was_spliced(raw: bytes) -> None:  # R27
    copy = recipient_copy(raw, NEW_HTML)
    assert read_message(copy).html == NEW_HTML
    assert read_message(copy).attachments == read_message(raw).attachments
    assert read_message(copy).text == read_message(raw).text
    parsed = _parsed(copy)
    body = parsed.get_body(preferencelist=("html",))
    assert body is not None
    # The email package counts a single part's last line break as content; we do not (the
    # SMTP client would add it anyway).
    assert body.get_content().replace("\r\n", "\n") in (NEW_HTML, NEW_HTML + "\n")
    assert not parsed.defects
    assert all(len(line) <= 998 for line in copy.splitlines())


@pytest.mark.parametrize("raw", CASES)
def test_every_part_but_the_html_one_is_byte_identical(raw: bytes) -> None:  # R27
    before, after = _parsed(raw), _parsed(recipient_copy(raw, NEW_HTML))
    parts_before = [p for p in before.walk() if p.get_content_type() != "text/html"]
    parts_after = [p for p in after.walk() if p.get_content_type() != "text/html"]
    assert len(parts_before) == len(parts_after)
    for old, new in zip(parts_before[1:], parts_after[1:], strict=True):
        assert new.get_content_type() == old.get_content_type()
        if not old.is_multipart():
            assert new.get_payload(decode=True) == old.get_payload(decode=True)


@pytest.mark.parametrize("raw", CASES)
def test_each_parts_raw_bytes_but_the_html_ones_are_identical(raw: bytes) -> None:  # R27
    copy = recipient_copy(raw, NEW_HTML)
    before, after = _raw_parts(raw), _raw_parts(copy)
    assert len(before) == len(after)
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        if b"text/html" in old.split(b"\n\n" if b"\r\n" not in raw else b"\r\n\r\n")[0]:
            continue
        # the top-level header comes without its Bcc and X-Sendtrail-* fields
        expected = without_headers(old, ["Bcc", "X-Sendtrail-Track", "X-Sendtrail-Log"]) if (
            index == 0) else old
        assert new == expected


def _raw_parts(raw: bytes) -> list[bytes]:
    """The raw bytes between boundary lines, cut without the module under test."""
    return re.split(rb"\r?\n--b-(?:mix|alt|rel)(?:--)?\r?\n", raw)


@pytest.mark.parametrize("raw", CASES)
def test_bcc_and_sendtrail_headers_never_leave_in_a_copy(raw: bytes) -> None:  # R26, R27
    for copy in (recipient_copy(raw, NEW_HTML), recipient_copy(raw, None)):
        head = copy.split(b"\r\n\r\n" if b"\r\n" in raw else b"\n\n", 1)[0].lower()
        assert b"bcc:" not in head
        assert b"boss@sender.test" not in head
        assert b"audit@sender.test" not in head
        assert b"x-sendtrail" not in head
        assert b"\tby relay.test with esmtpsa" in head  # folded fields around it stay
        facts = read_message(copy)
        assert facts.bcc == ()
        assert (facts.track_override, facts.log_override) == (None, None)


def test_without_headers_takes_folded_lines_along_and_nothing_else() -> None:
    raw = LAYOUTS["alternative at top"]
    stripped = without_headers(raw, ["received", "TO"])
    assert stripped == raw.replace(
        b"Received: from client.test (client.test [192.0.2.7])\r\n"
        b"\tby relay.test with ESMTPSA; Thu, 3 Dec 2026 13:00:00 +0000\r\n", b"",
    ).replace(b"To: Bo <bo@client.test>,\r\n =?iso-8859-1?q?Ren=E9e?= <renee@client.test>\r\n",
              b"")
    assert without_headers(raw, ["Content-Type"]).count(b"Content-Type: multipart") == 0
    assert without_headers(raw, ["X-Absent"]) == raw


def test_with_header_prepends_one_field_in_the_messages_line_breaks() -> None:
    raw = LAYOUTS["single text/html"]
    assert with_header(raw, "X-Relay", "one") == b"X-Relay: one\r\n" + raw
    assert with_header(_lf(raw), "X-Relay", "one") == b"X-Relay: one\n" + _lf(raw)
    named = read_message(with_header(raw, "Reply-To", "Zoë <zoe@sender.test>"))
    assert named.subject == "Rechnung für Dezember"
    received = ("from client.test (client.test [192.0.2.7]) by relay.sendtrail.test with "
                "ESMTPSA id 0193abc for <bo@client.test>; Thu, 3 Dec 2026 13:00:00 +0000")
    long = with_header(raw, "Received", received)
    assert all(len(line) <= 78 for line in long.split(b"\r\n", 2)[:2])
    assert _parsed(long)["Received"] == received
    assert long.endswith(raw)
    with pytest.raises(InvalidInput, match="line break"):
        with_header(raw, "X-Injected", "a\r\nBcc: x@evil.test")
    with pytest.raises(InvalidInput, match="not a header field name"):
        with_header(raw, "Bad Name", "x")


def test_a_boundary_like_line_in_the_new_html_cannot_end_the_part() -> None:  # R27
    raw = LAYOUTS["alternative in mixed"]
    copy = recipient_copy(raw, "<p>a</p>\n--b-alt--\n--b-mix--\n<p>b</p>")
    assert read_message(copy).attachments == read_message(raw).attachments
    assert read_message(copy).html == "<p>a</p>\n--b-alt--\n--b-mix--\n<p>b</p>"


# --- signed and encrypted mail -----------------------------------------------------------

PGP_ENCRYPTED = (
    b"From: a@sender.test\r\nTo: b@client.test\r\nBcc: hidden@sender.test\r\n"
    b"X-Sendtrail-Log: on\r\nSubject: secret\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
    b" boundary=\"enc\"\r\n\r\n"
    b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
    b"--enc\r\nContent-Type: application/pgp-encrypted\r\n"
    b"Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n"
    b"--enc\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
    b"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
    b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA5XJ4sMmCXbHAQf/Zm9v\r\n=ABCD\r\n"
    b"-----END PGP MESSAGE-----\r\n\r\n--enc--\r\n"
)


def _openssl(*args: str | Path, data: bytes | None = None) -> bytes:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    done = subprocess.run(["openssl", *map(str, args)], input=data, capture_output=True,
                          check=True)
    return done.stdout


@pytest.fixture(scope="module")
def smime_identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("smime")
    key, cert = folder / "key.pem", folder / "cert.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "2", "-subj", "/CN=joerg@sender.test",
             "-addext", "subjectAltName=email:joerg@sender.test")
    return key, cert


def _smime_signed(identity: tuple[Path, Path], tmp_path: Path) -> bytes:
    key, cert = identity
    content = tmp_path / "content.eml"
    content.write_bytes(_alternative())
    signed = _openssl("smime", "-sign", "-in", content, "-signer", cert, "-inkey", key,
                      "-crlfeol", "-from", "joerg@sender.test", "-to", "bo@client.test",
                      "-subject", "Signed offer")
    return (b"Bcc: boss@sender.test\r\nX-Sendtrail-Track: on\r\n"
            + signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def test_an_smime_signed_message_passes_through_byte_identical(
    smime_identity: tuple[Path, Path], tmp_path: Path,
) -> None:  # R27
    raw = _smime_signed(smime_identity, tmp_path)
    facts = read_message(raw)
    assert facts.trackability is Trackability.SIGNED
    assert facts.untracked_reason == SIGNED_REASON
    assert facts.html == HTML  # still read, for logging (R23)
    assert facts.attachments == ()  # the signature is no attachment
    copy = recipient_copy(raw, None)
    assert copy == raw.split(b"\r\n", 2)[2]  # only the Bcc and X-Sendtrail-* lines went
    signed_copy = tmp_path / "copy.eml"
    signed_copy.write_bytes(copy)
    _openssl("smime", "-verify", "-in", signed_copy, "-CAfile", smime_identity[1],
             "-out", tmp_path / "verified.eml")
    with pytest.raises(InvalidInput, match="Signed email"):
        recipient_copy(raw, "<p>tracked</p>")


def test_an_smime_encrypted_message_passes_through_byte_identical(
    smime_identity: tuple[Path, Path], tmp_path: Path,
) -> None:  # R27
    content = tmp_path / "content.eml"
    content.write_bytes(_alternative())
    encrypted = _openssl("smime", "-encrypt", "-aes256", "-in", content, "-from",
                         "joerg@sender.test", "-to", "bo@client.test", "-subject", "Secret",
                         smime_identity[1])
    raw = b"Bcc: boss@sender.test\r\n" + encrypted.replace(b"\r\n", b"\n").replace(b"\n",
                                                                                  b"\r\n")
    facts = read_message(raw)
    assert facts.trackability is Trackability.ENCRYPTED
    assert (facts.html, facts.text, facts.attachments) == (None, None, ())
    assert recipient_copy(raw, None) == raw.removeprefix(b"Bcc: boss@sender.test\r\n")


def test_a_pgp_mime_encrypted_message_passes_through_byte_identical() -> None:  # R27
    facts = read_message(PGP_ENCRYPTED)
    assert facts.trackability is Trackability.ENCRYPTED
    assert facts.untracked_reason == ENCRYPTED_REASON
    assert facts.log_override is True
    assert recipient_copy(PGP_ENCRYPTED, None) == PGP_ENCRYPTED.replace(
        b"Bcc: hidden@sender.test\r\nX-Sendtrail-Log: on\r\n", b"")
    with pytest.raises(InvalidInput, match="Encrypted email"):
        splice_html(PGP_ENCRYPTED, "<p>x</p>")


def test_raw_utf8_header_values_are_read_as_text() -> None:  # RFC 6532 clients
    raw = ("From: Jörg Müller <joerg@sender.test>\r\nTo: \"Renée\" <renee@client.test>\r\n"
           "Subject: Grüße aus Köln\r\nContent-Type: multipart/mixed; boundary=b-mix\r\n\r\n"
           "--b-mix\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>ä</p>\r\n--b-mix\r\n"
           "Content-Type: application/pdf\r\n"
           "Content-Disposition: attachment; filename=\"Bericht ü.pdf\"\r\n\r\n%PDF\r\n"
           "--b-mix--\r\n").encode()
    facts = read_message(raw)
    assert facts.sender == Party("joerg@sender.test", "Jörg Müller")
    assert facts.to == (Party("renee@client.test", "Renée"),)
    assert facts.subject == "Grüße aus Köln"
    assert facts.attachments == (Attachment("Bericht ü.pdf", "application/pdf", b"%PDF"),)
    assert facts.html == "<p>ä</p>"


def test_the_sending_core_imports_only_the_standard_library_errors_and_values() -> None:
    # sendtrail.i18n: plain gettext, its sentences in the reader's language (issue 15, item 12).
    allowed = {"sendtrail.errors", "sendtrail.sending.values", "sendtrail.i18n"}
    folder = Path(core.__file__).parent
    for module in folder.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert (name.split(".")[0] in sys.stdlib_module_names or name in allowed
                        or name.startswith("sendtrail.sending.core")), (module.name, name)


PGP_SIGNED_CONTENT = _alternative()
PGP_SIGNED = (
    b"From: a@sender.test\r\nTo: b@client.test\r\nBcc: hidden@sender.test\r\n"
    b"Subject: signed\r\nX-Sendtrail-Track: on\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/signed; micalg=pgp-sha256;\r\n"
    b" protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n"
    b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
    b"--sig\r\n" + PGP_SIGNED_CONTENT + b"\r\n--sig\r\n"
    b"Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n"
    b"-----BEGIN PGP SIGNATURE-----\r\n\r\niHUEARYIAB0WIQ\r\n=XYZW\r\n"
    b"-----END PGP SIGNATURE-----\r\n\r\n--sig--\r\n"
)


@pytest.mark.parametrize("raw", [
    pytest.param(PGP_SIGNED, id="PGP/MIME signed"),
    pytest.param(b"From: a@sender.test\r\nBcc: hidden@sender.test\r\n" + _multipart(
        "mixed", "outer", PGP_SIGNED.split(b"MIME-Version: 1.0\r\n", 1)[1], PDF_PART),
        id="signed part inside multipart/mixed"),
])
def test_a_pgp_signed_message_passes_through_byte_identical(raw: bytes) -> None:  # R27
    facts = read_message(raw)
    assert facts.trackability is Trackability.SIGNED
    assert facts.html == HTML
    assert all(a.content_type != "application/pgp-signature" for a in facts.attachments)
    copy = recipient_copy(raw, None)
    assert copy == without_headers(raw, ["Bcc", "X-Sendtrail-Track"])
    assert PGP_SIGNED_CONTENT in copy
    with pytest.raises(InvalidInput, match="Signed email"):
        splice_html(raw, "<p>x</p>")
