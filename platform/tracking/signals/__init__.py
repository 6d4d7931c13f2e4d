"""The signal lists the classifier uses (R10), shipped with the package as data files.

``user_agents.csv`` and ``networks.csv`` hold the patterns and address ranges;
``ruleset.ini`` holds their version. ``load_signals`` reads them once (this adapter may
read package files; ``tracking.core`` may not) and hands ``classify`` a parsed ``Signals``.
The reasons stay English in the files (and in the engagements they judge); German has them
in ``sendtrail/i18n/de/tracking.po``, and ``explain`` shows a stored reason in the reader's
language. May import the standard library, ``sendtrail.i18n`` and ``sendtrail.tracking.core``.

An operator adds or overrides rows without a release (issue 17): ``SENDTRAIL_SIGNALS_DIR``
names a folder with their own ``user_agents.csv`` and/or ``networks.csv`` (same columns),
whose rows come before the shipped ones. The ruleset version then names their contents
(``2026.12.1+local-3f9a1c2b``: the shipped version and a digest of the files), so every
engagement keeps which rules judged it.
"""

from __future__ import annotations

import configparser
import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from sendtrail.i18n import _
from sendtrail.i18n.stored import Phrasebook
from sendtrail.tracking.core import reasons
from sendtrail.tracking.core.classify import Signals, combine_signals, parse_signals

__all__ = ["SIGNAL_FILES", "SignalsError", "explain", "load_signals"]

SIGNAL_FILES = ("user_agents.csv", "networks.csv")
_HEADERS = ("pattern,category,verdict,reason\n", "network,category,reason\n")


class SignalsError(ValueError):
    """An operator's signal folder or file that cannot be used, in words (file, line, why)."""


@cache
def load_signals(operator_dir: Path | None = None) -> Signals:
    """The shipped signals, then an operator's own before them when ``operator_dir`` is
    given; parsed once per process. A broken file fails loudly here (``SignalsError``)."""
    shipped = _shipped()
    if operator_dir is None:
        return shipped
    if not operator_dir.is_dir():
        raise SignalsError(f"{operator_dir}: no such folder (SENDTRAIL_SIGNALS_DIR)")
    texts = []
    for name, header in zip(SIGNAL_FILES, _HEADERS, strict=True):
        path = operator_dir / name
        texts.append(path.read_text(encoding="utf-8") if path.is_file() else header)
    unknown = sorted(p.name for p in operator_dir.iterdir()
                     if p.suffix == ".csv" and p.name not in SIGNAL_FILES)
    if unknown:
        raise SignalsError(f"{operator_dir}: {', '.join(unknown)} is not read; name the files "
                           f"{' and '.join(SIGNAL_FILES)}")
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:8]
    try:
        own = parse_signals(texts[0], texts[1], "local",
                            names=(str(operator_dir / SIGNAL_FILES[0]),
                                   str(operator_dir / SIGNAL_FILES[1])))
    except ValueError as error:
        raise SignalsError(str(error)) from error
    return combine_signals(own, shipped, f"{shipped.version}+local-{digest}")


@cache
def _shipped() -> Signals:
    folder = resources.files(__name__)
    ruleset = configparser.ConfigParser()
    ruleset.read_string(folder.joinpath("ruleset.ini").read_text(encoding="utf-8"))
    return parse_signals(
        folder.joinpath("user_agents.csv").read_text(encoding="utf-8"),
        folder.joinpath("networks.csv").read_text(encoding="utf-8"),
        ruleset.get("signals", "version"),
    )


def explain(reason: str) -> str:
    """A stored classification reason in the reader's language (as stored in English)."""
    return _reasons().render(reason)


@cache
def _reasons() -> Phrasebook:
    signals = load_signals()
    known = {rule.reason for rule in signals.user_agents} | {
        rule.reason for rule in signals.networks
    }

    def signal_reason(clause: str) -> str | None:
        # Cited reasons lose their full stop: "Gmail fetches images (user agent '...')."
        sentence = f"{clause}."
        return _(sentence).removesuffix(".") if sentence in known else None

    durations = Phrasebook((reasons.LESS_THAN_A_SECOND, *reasons.UNITS))
    whens = Phrasebook(reasons.WHENS, nested={"duration": durations.match})
    sentences = Phrasebook(
        reasons.TEMPLATES,
        nested={"reason": signal_reason, "when": whens.match, "window": durations.match,
                "limit": durations.match},
        patterns={"address": r"\S+", "network": r"\S+", "links": r"\d+"},
    )
    sentences.add_nested("sentence", sentences.match)
    sentences.add_nested("cited", sentences.match)
    return sentences
