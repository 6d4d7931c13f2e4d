"""Issue 15, item 12: the server's sentences are German complete, and speak the reader's language.

Every sentence the code wraps in ``_()``, ``ngettext()`` or ``N_()`` is extracted the way
translators' tools do (Babel), and so are the reasons of the shipped signal files; German
(``platform/i18n/de/*.po``) must have each, with the same ``{placeholders}``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from sendtrail.i18n import N_, _, negotiate, ngettext, speaking

PLATFORM = Path(__file__).resolve().parents[2] / "platform"
GERMAN = PLATFORM / "i18n" / "de"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def _code_sentences() -> dict[str, str]:
    """Each extracted sentence (plural forms too) with where it was found."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PLATFORM), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        for text in (message if isinstance(message, tuple) else (message,)):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def _signal_reasons() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ("networks.csv", "user_agents.csv"):
        path = PLATFORM / "tracking" / "signals" / name
        rows = (line for line in path.read_text().splitlines() if line and not line.startswith("#"))
        for row in csv.DictReader(rows):
            found.setdefault(row["reason"], f"tracking/signals/{name}")
    return found


def _german() -> dict[str, str | tuple[str, ...]]:
    german: dict[str, str | tuple[str, ...]] = {}
    for po_file in sorted(GERMAN.glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale="de"):
                if not message.id:
                    continue
                for msgid in (message.id if isinstance(message.id, tuple) else (message.id,)):
                    assert msgid not in german, f"{po_file.name}: {msgid!r} is translated twice"
                    german[msgid] = message.string
    return german


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_german_has_every_sentence_of_the_server_with_its_placeholders() -> None:
    german = _german()
    wanted = {**_signal_reasons(), **_code_sentences()}
    missing = [f"{where}: {text!r}" for text, where in wanted.items() if not german.get(text)]
    assert missing == [], "German lacks:\n" + "\n".join(missing)
    for text in wanted:
        translated = german[text]
        for form in (translated if isinstance(translated, tuple) else (translated,)):
            assert _placeholders(form) == _placeholders(text), (text, form)


def test_the_reader_gets_their_language_and_english_stays_the_default() -> None:
    sentences = {msgid: text for msgid, text in _german().items() if isinstance(text, str)}
    msgid, german = next(iter(sentences.items()))
    assert _(msgid) == msgid  # outside a request: English
    with speaking("de"):
        assert _(msgid) == german != msgid
    with speaking("fr"):  # French covers only what recipients read (R29): English here
        assert _(msgid) == msgid
    assert N_(msgid) is msgid


def test_plural_sentences_follow_the_count_in_german() -> None:
    catalogue = _german()
    plurals = [(msgid, forms) for msgid, forms in catalogue.items() if isinstance(forms, tuple)]
    assert plurals, "the German catalogue has no plural sentence to check"
    (singular, forms), (plural, _same) = plurals[0], plurals[1]
    assert singular != plural  # read_po keys a plural message by both its forms
    assert forms is _same
    with speaking("de"):
        assert ngettext(singular, plural, 1) == forms[0]
        assert ngettext(singular, plural, 7) == forms[1]
    assert ngettext(singular, plural, 7) == plural


@pytest.mark.parametrize(
    ("cookie", "header", "language"),
    [
        ("de", "en-US,en;q=0.9", "de"),  # the person's choice beats the browser's
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "fr-FR, en;q=0.5, de;q=0.7", "de"),  # best of ours by quality
        (None, "fr-FR", "en"),
        ("xx", "de", "de"),  # an unknown cookie value is ignored
        (None, "de;q=abc, en", "en"),  # a malformed quality counts as not wanted
        (None, None, "en"),
    ],
)
def test_the_language_is_negotiated_from_the_cookie_then_accept_language(
    cookie: str | None, header: str | None, language: str
) -> None:
    assert negotiate(cookie, header) == language


FRENCH = PLATFORM / "i18n" / "fr"
RECIPIENT_PAGES = ("web/withdrawal_routes.py", "tracking/core/withdrawal_footer.py")


def test_french_has_every_sentence_recipients_read_and_nothing_else() -> None:
    """R29: the withdrawal link and its page come in French too; French is for them only."""
    wanted = {text for text, where in _code_sentences().items()
              if where.startswith(RECIPIENT_PAGES)}
    assert wanted, "no sentence found in the withdrawal page's modules"
    french: dict[str, str] = {}
    for po_file in sorted(FRENCH.glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale="fr"):
                if message.id:
                    french[str(message.id)] = str(message.string)
    assert set(french) == wanted
    assert all(french[text] and _placeholders(french[text]) == _placeholders(text)
               for text in wanted)
    with speaking("fr"):
        assert _("Stop tracking me") == "Ne plus me suivre"
    assert negotiate(None, "fr-FR") == "en"  # the web admin itself has no French
