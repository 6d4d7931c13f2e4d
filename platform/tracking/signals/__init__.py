"""The signal lists the classifier uses (R10), shipped with the package as data files.

``user_agents.csv`` and ``networks.csv`` hold the patterns and address ranges;
``ruleset.ini`` holds their version. ``load_signals`` reads them once (this adapter may
read package files; ``tracking.core`` may not) and hands ``classify`` a parsed ``Signals``.
The reasons stay English in the files (and in the engagements they judge); German has them
in ``sendtrail/i18n/de/tracking.po``, and ``explain`` shows a stored reason in the reader's
language. May import the standard library, ``sendtrail.i18n`` and ``sendtrail.tracking.core``.
"""

from __future__ import annotations

import configparser
from functools import cache
from importlib import resources

from sendtrail.i18n import _
from sendtrail.i18n.stored import Phrasebook
from sendtrail.tracking.core import reasons
from sendtrail.tracking.core.classify import Signals, parse_signals

__all__ = ["explain", "load_signals"]


@cache
def load_signals() -> Signals:
    """The shipped signals, parsed once per process; a broken file fails loudly here."""
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
