"""The signal lists the classifier uses (R10), shipped with the package as data files.

``user_agents.csv`` and ``networks.csv`` hold the patterns and address ranges;
``ruleset.ini`` holds their version. ``load_signals`` reads them once (this adapter may
read package files; ``tracking.core`` may not) and hands ``classify`` a parsed ``Signals``.
May import the standard library and ``sendtrail.tracking.core``.
"""

from __future__ import annotations

import configparser
from functools import cache
from importlib import resources

from sendtrail.tracking.core.classify import Signals, parse_signals

__all__ = ["load_signals"]


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
