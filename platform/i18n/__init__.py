"""The server's own sentences in the reader's language (issue 15, item 12).

Sentences people read — errors, audit entries, hints, findings, notification messages,
classification reasons — are written in English in the code, wrapped in ``_()`` (or marked
with ``N_()`` where they are data, and translated where they are shown), and translated
through gettext catalogues kept as ``.po`` files beside this module (``de/*.po``, one per
area so that areas change apart; ``fr/*.po`` for the few pages recipients read). Babel
reads the ``.po`` files when the process starts — nothing is compiled into the
repository — and ``tests/unit/test_server_catalogue.py`` extracts every ``_()`` from the
code and fails on a sentence German lacks (and French, on one of the withdrawal page's).

The language is per request, in a context variable: the ``reader_language`` middleware
sets it from the ``sendtrail_language`` cookie (the web admin's choice, also sent on its
subscription WebSocket) or else the ``Accept-Language`` header (integrators), else English.
Work outside a request (the deriver, webhooks, the CLI) speaks English; webhook payloads
and machine codes never change with the language.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "RECIPIENT_LANGUAGES",
    "_",
    "current_language",
    "negotiate",
    "ngettext",
    "speaking",
]

DEFAULT_LANGUAGE: Final = "en"
LANGUAGES: Final = ("en", "de")
"""The web admin's languages; the server speaks the same ones."""
RECIPIENT_LANGUAGES: Final = ("en", "de", "fr")
"""The languages of what an email's recipients read: the withdrawal link and its page (R29).
French (``fr/*.po``) covers only those sentences; anything else is English for French."""

CATALOGUES: Final = Path(__file__).parent

_language: ContextVar[str] = ContextVar("sendtrail_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """Every ``<language>/*.po`` merged into one gettext catalogue (read once per process)."""
    folder = CATALOGUES / language
    if language == DEFAULT_LANGUAGE or not folder.is_dir():
        return gettext.NullTranslations()
    merged = Catalog(locale=language)
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string:
                    merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def current_language() -> str:
    return _language.get()


def _(message: str) -> str:
    """``message`` in the reader's language (the English itself when there is no translation)."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural sentence for ``count``, in the reader's language."""
    return translations(_language.get()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a sentence kept as data (a constant, a table) for translation where it is shown."""
    return message


def negotiate(
    cookie: str | None, accept_language: str | None, languages: tuple[str, ...] = LANGUAGES
) -> str:
    """The reader's language among ``languages``: the admin's cookie, else the best of
    Accept-Language, else English."""
    if cookie and cookie.strip().lower() in languages:
        return cookie.strip().lower()
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0].strip().lower()
        if primary in languages and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak ``language`` inside the block (a request, or a test)."""
    token = _language.set(language if language in RECIPIENT_LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)
