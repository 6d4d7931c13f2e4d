"""Composing a message from the compose window (sendtrail.sending.core.compose, R26)."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from sendtrail.errors import InvalidInput
from sendtrail.sending.core.compose import compose_message, html_to_text
from sendtrail.sending.core.message import Attachment, Party, read_message, recipient_copy
from sendtrail.sending.values import Trackability

HTML = ('<html><head><style>p {color: red}</style><title>t</title></head><body>'
        '<h1>Hallo Bo</h1><p>Unser <b>Angebot</b> für Sie: <a href="https://shop.test/o">'
        'hier</a>.</p><ul><li>eins</li><li>zwei &amp; drei</li></ul>'
        '<img src="cid:x" alt="Logo"><br>Grüße<br>Änne</body></html>')
PDF = bytes(range(256)) * 40
WHEN = datetime(2026, 12, 3, 13, 30, tzinfo=UTC)


def _compose(**changes: Any) -> bytes:
    fields: dict[str, Any] = {
        "sender": Party("anne@sender.test", "Änne Müller"),
        "to": [Party("bo@client.test", "Bo, Jr."), Party("carl@client.test", None)],
        "cc": [Party("dora@client.test", "Dora")],
        "bcc": [Party("boss@sender.test", None)],
        "subject": "Ihr Angebot für Dezember",
        "html": HTML,
        "text": None,
        "attachments": [Attachment("Rechnung Dezember ü.pdf", "application/pdf", PDF),
                        Attachment("daten.csv", "text/csv", b"a;b\r\n1;2\n\x00\xff")],
        "message_id": "<0193.abc@sendtrail.test>",
        "date": WHEN,
        "in_reply_to": "<m0@client.test>",
        "references": ["<a@client.test>", "<m0@client.test>"],
    }
    fields.update(changes)
    return compose_message(**fields)


def _parsed(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_composed_message_has_crlf_line_breaks_and_its_headers() -> None:  # R26
    raw = _compose()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    facts = read_message(raw)
    assert facts.sender == Party("anne@sender.test", "Änne Müller")
    assert facts.to == (Party("bo@client.test", "Bo, Jr."), Party("carl@client.test", None))
    assert facts.cc == (Party("dora@client.test", "Dora"),)
    assert facts.bcc == (Party("boss@sender.test", None),)  # kept: each copy drops it
    assert facts.subject == "Ihr Angebot für Dezember"
    assert facts.message_id == "<0193.abc@sendtrail.test>"
    assert facts.in_reply_to == "<m0@client.test>"
    assert facts.references == ("<a@client.test>", "<m0@client.test>")
    parsed = _parsed(raw)
    assert parsed["Date"].datetime == WHEN
    assert parsed["MIME-Version"] == "1.0"
    assert sum(1 for _ in raw.split(b"\r\n") if _.lower().startswith(b"mime-version")) == 1


def test_the_bodies_are_an_alternative_inside_mixed_when_there_are_attachments() -> None:
    parsed = _parsed(_compose())
    assert parsed.get_content_type() == "multipart/mixed"
    first = parsed.get_payload(0)
    assert isinstance(first, EmailMessage)
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    alone = _parsed(_compose(attachments=[]))
    assert alone.get_content_type() == "multipart/alternative"


def test_the_html_is_read_back_as_given_and_the_copy_can_be_tracked() -> None:  # R26
    raw = _compose()
    facts = read_message(raw)
    assert facts.trackability is Trackability.HTML
    assert facts.html is not None
    assert facts.html.rstrip("\n") == HTML
    copy = recipient_copy(raw, facts.html.replace("https://shop.test/o", "https://t.test/c/1"))
    assert b"boss@sender.test" not in copy
    assert 'href="https://t.test/c/1"' in (read_message(copy).html or "")


def test_attachments_come_back_byte_for_byte_with_their_names() -> None:  # R23, R27
    facts = read_message(_compose())
    assert facts.attachments == (
        Attachment("Rechnung Dezember ü.pdf", "application/pdf", PDF),
        Attachment("daten.csv", "text/csv", b"a;b\r\n1;2\n\x00\xff"),
    )
    names = [part.get_filename() for part in _parsed(_compose()).iter_attachments()]
    assert names == ["Rechnung Dezember ü.pdf", "daten.csv"]


def test_the_text_part_is_made_from_the_html_when_none_is_given() -> None:
    text = read_message(_compose()).text
    assert text == html_to_text(HTML)
    assert text is not None
    assert "Hallo Bo" in text
    assert "Unser Angebot für Sie: hier (https://shop.test/o)." in text
    assert "- zwei & drei" in text
    assert "color" not in text
    assert "<" not in text
    given = read_message(_compose(text="Hallo Bo,\nwie besprochen.\n")).text
    assert given == "Hallo Bo,\nwie besprochen.\n"


def test_without_html_the_message_is_plain_text() -> None:  # R6
    facts = read_message(_compose(html=None, text="Nur Text.", attachments=[]))
    assert facts.trackability is Trackability.PLAIN_TEXT
    assert facts.text == "Nur Text."  # a single part's last line break is the message's


@pytest.mark.parametrize(("html", "text"), [
    ("<p>One</p><p>Two</p>", "One\n\nTwo\n"),
    ("a<br>b<br/>c", "a\nb\nc\n"),
    ('<a href="https://x.test/">https://x.test/</a>', "https://x.test/\n"),
    ('<a href="mailto:a@x.test">write</a>', "write\n"),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc\n"),
    ("<script>alert(1)</script>  x  \n\n  y ", "x y\n"),
    ("&lt;b&gt; &euro; &#8364;", "<b> € €\n"),
    ("<p>unclosed <b>tags", "unclosed tags\n"),
])
def test_html_to_text_is_readable(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_line_break_in_the_subject_cannot_add_a_header() -> None:
    raw = _compose(subject="Hallo\r\nBcc: spy@evil.test")
    assert b"\r\nBcc: spy" not in raw
    assert read_message(raw).bcc == (Party("boss@sender.test", None),)


@pytest.mark.parametrize("changes", [
    {"sender": Party("not an address", None)},
    {"to": [Party("bo@", None)]},
    {"cc": [Party("@client.test", None)]},
    {"bcc": [Party("jörg@client.test", None)]},
    {"message_id": "two words@x"},
    {"in_reply_to": "<a@b> <c@d>"},
    {"references": ["<ok@x.test>", "bad id"]},
])
def test_invalid_addresses_and_ids_are_refused_with_a_sentence(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        _compose(**changes)
    assert refused.value.message.endswith(".")


def test_an_international_domain_is_written_as_idna() -> None:
    raw = _compose(to=[Party("bo@bücher.test", None)])
    assert read_message(raw).to == (Party("bo@xn--bcher-kva.test", None),)
