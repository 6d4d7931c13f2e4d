"""Sentences stored in English, shown in the reader's language (issue 15, item 12).

Some sentences are kept in the database as they were written when something was judged —
an engagement's reasons, a domain's last error — so that a record never changes with the
language of whoever caused it. Showing one, a ``Phrasebook`` matches it against the
templates it was made from (each marked with ``N_()`` where it is written), captures the
``{placeholders}``, translates the template with ``_()`` and puts the values back; a value
that is itself a phrase (a duration, a cited reason) is rendered the same way first. A
stored text of several sentences is split where a sentence ends. Text no template matches
is shown as stored, so an old or unforeseen wording degrades to English, never to nothing.
In English the stored text is returned untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sendtrail.i18n import DEFAULT_LANGUAGE, _, current_language, ngettext

__all__ = ["Phrasebook", "Template"]

Template = str | tuple[str, str]
"""A sentence with ``{placeholders}``, or a (singular, plural) pair counted by ``{count}``."""
Render = Callable[[str], "str | None"]
"""Renders a captured value in the reader's language, or None when it is not recognised."""

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Form:
    pattern: re.Pattern[str]
    template: Template


class Phrasebook:
    def __init__(
        self,
        templates: Iterable[Template],
        *,
        nested: Mapping[str, Render] | None = None,
        patterns: Mapping[str, str] | None = None,
    ) -> None:
        """``nested``: placeholders whose values are phrases themselves; ``patterns``: what a
        literal placeholder may match (default: anything, as little as possible)."""
        self._nested = dict(nested or {})
        self._patterns = dict(patterns or {})
        self._forms = [
            _Form(self._compile(text), template)
            for template in templates
            for text in ((template,) if isinstance(template, str) else template)
        ]

    def add_nested(self, name: str, render: Render) -> None:
        """For phrasebooks that refer to each other (set after both exist)."""
        self._nested[name] = render

    def _compile(self, text: str) -> re.Pattern[str]:
        parts, seen, position = [], set(), 0
        for found in _PLACEHOLDER.finditer(text):
            parts.append(re.escape(text[position:found.start()]))
            name = found.group(1)
            if name in seen:
                parts.append(f"(?P={name})")
            else:
                seen.add(name)
                default = r"\d+" if name == "count" else ".+?"
                parts.append(f"(?P<{name}>{self._patterns.get(name, default)})")
            position = found.end()
        parts.append(re.escape(text[position:]))
        return re.compile("".join(parts), re.DOTALL)

    def render(self, text: str) -> str:
        """``text`` in the reader's language (as stored when nothing matches, or in English)."""
        if current_language() == DEFAULT_LANGUAGE:
            return text
        found = self.match(text)
        return found if found is not None else _(text)

    def match(self, text: str) -> str | None:
        """``text`` translated when every sentence of it is recognised, else None."""
        whole = self._sentence(text)
        if whole is not None:
            return whole
        # Several sentences: the first that a template recognises, then the rest.
        for boundary in re.finditer(r"[.?!)] ", text):
            head = self._sentence(text[: boundary.start() + 1])
            if head is None:
                continue
            tail = self.match(text[boundary.end():])
            if tail is not None:
                return f"{head} {tail}"
        return None

    def _sentence(self, text: str) -> str | None:
        for form in self._forms:
            found = form.pattern.fullmatch(text)
            if found is None:
                continue
            values: dict[str, str] = {}
            for name, value in found.groupdict().items():
                render = self._nested.get(name)
                shown = render(value) if render is not None else value
                if shown is None:
                    break
                values[name] = shown
            else:
                return self._translate(form.template, values)
        return None

    @staticmethod
    def _translate(template: Template, values: dict[str, str]) -> str:
        if isinstance(template, str):
            return _(template).format(**values)
        singular, plural = template
        return ngettext(singular, plural, int(values.get("count", "0"))).format(**values)
