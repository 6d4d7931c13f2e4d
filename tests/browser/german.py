"""The German admin's check (issue 15, item 12): no English left on a page.

``assert_german(locator)`` fails when the rendered text holds any English sentence or label
that German says differently: the web admin's catalogues (``web-admin/src/i18n/en/*.json``
against ``de/*.json``) and the server's own sentences (the ``msgid``s of
``platform/i18n/de/*.po``), cut at their placeholders and ``<Trans>`` tags (each piece
between them must not appear either, as words of its own: "Send" is not left in
"Sendtrail"). ``german_ui`` opens the admin in a German browser at 1280 and 390 px.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from browser.conftest import DESKTOP, PHONE, _test_name, open_ui
from browser.harness import Site, Ui
from playwright.sync_api import Browser, Locator

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "web-admin" / "src" / "i18n"
SERVER_CATALOGUES = ROOT / "platform" / "i18n" / "de"
PLACEHOLDERS = re.compile(r"\{\{\w+\}\}|\{\w*\}|</?\w+/?>")  # and <Trans> tags


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _strings(item)
    else:
        for value in node.values():
            yield from _strings(value)


def _admin_pairs() -> Iterator[tuple[set[str], set[str]]]:
    for english_file in sorted((CATALOGUES / "en").glob("*.json")):
        german_file = CATALOGUES / "de" / english_file.name
        yield (set(_strings(json.loads(english_file.read_text()))),
               set(_strings(json.loads(german_file.read_text()))))


def _server_pairs() -> Iterator[tuple[set[str], set[str]]]:
    for po_file in sorted(SERVER_CATALOGUES.glob("*.po")):
        with po_file.open("rb") as handle:
            catalogue = read_po(handle, locale="de")
        english = {text for message in catalogue if message.id for text in _strings(message.id)}
        german = {text for message in catalogue if message.id
                  for text in _strings(message.string)}
        yield english, german


@cache
def english_only() -> tuple[str, ...]:
    """English pieces that German says differently, longest first (4 characters or more)."""
    pieces: set[str] = set()
    for english, german in [*_admin_pairs(), *_server_pairs()]:
        for text in english - german:
            pieces.update(piece.strip(" .,:;—·()") for piece in PLACEHOLDERS.split(text))
    return tuple(sorted((p for p in pieces if len(p) >= 4), key=len, reverse=True))


def _left_in(text: str, english: str) -> bool:
    """Whether ``english`` stands in ``text`` as words of its own: "Send" (a token scope) is
    not left in "Sendtrail", nor "User" (a role) in "User-Agents", nor "port" in "exportieren"."""
    return re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", text) is not None


def assert_german(part: Locator) -> None:
    """No English sentence or label of ours is left in ``part``'s rendered text."""
    text = part.inner_text()
    left = [english for english in english_only() if _left_in(text, english)]
    assert left == [], f"English left in German: {left}"


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "390px"])
def german_ui(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Ui]:
    """The admin in a Chromium whose language is German (de-DE)."""
    yield from open_ui(browser, site, _test_name(request), request.param, locale="de-DE")
