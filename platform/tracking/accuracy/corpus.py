"""The labelled corpus: sequences of hits on one sent copy, each hit labelled with the
verdict and the reason (the classifier's category) a careful person would give it.

A file holds one family (``family``, ``title``) and its ``[[sequence]]`` tables::

    [[sequence]]
    name = "MPP preloads the pixel when the message is delivered"
    truth = "What really happened, in words: why the labels are what they are."
    links = 2                                     # tracked links in the email (default 1)
    vary.delay = ["20s", "3m", "6h"]              # optional: one sequence per combination,
    vary.ip = ["172.224.226.7", "104.28.30.12"]   # "{delay}", "{ip}" replaced in the hits
    hits = [
      { after = "{delay}", kind = "open", ua = "Mozilla/5.0", ip = "{ip}",
        label = "machine", reason = "apple_privacy_proxy" },
    ]

A hit: ``after`` (time since sending: ``45s``, ``3m``, ``2h``, ``1d``, or ``1m30s``),
``kind`` (open, click), ``link`` (index, clicks), ``method`` (GET), ``ua``, ``ip``,
``headers`` (a table, as sent), ``sender`` (the sender's own copy), ``label`` (human,
machine, self) and ``reason``. Labels come from what the traffic is, never from what the
classifier says of it.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sendtrail.tracking.core.model import HitKind, Verdict

__all__ = ["CorpusError", "CorpusHit", "HitSequence", "load_corpus", "parse_after"]

_AFTER = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?\Z")
_HIT_KEYS = frozenset({"after", "kind", "link", "method", "ua", "ip", "headers", "sender",
                       "label", "reason"})


class CorpusError(ValueError):
    """A corpus file that cannot be read as the format says: names the file and place."""


@dataclass(frozen=True)
class CorpusHit:
    after: timedelta
    kind: HitKind
    link: int | None
    method: str
    user_agent: str
    ip: str
    headers: Mapping[str, str]
    sender: bool
    label: Verdict
    reason: str


@dataclass(frozen=True)
class HitSequence:
    family: str
    name: str
    """The sequence's name with its variant, unique in the corpus."""
    truth: str
    links: int
    hits: tuple[CorpusHit, ...]


def parse_after(text: str) -> timedelta:
    match = _AFTER.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a delay such as 45s, 3m, 2h, 1d or 1m30s")
    days, hours, minutes, seconds, millis = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds,
                     milliseconds=millis)


def load_corpus(folder: Path) -> list[HitSequence]:
    """Every sequence of every ``*.toml`` file in ``folder``, variants expanded, in order."""
    found: list[HitSequence] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            found += list(_sequences(path, tomllib.loads(path.read_text(encoding="utf-8"))))
        except (tomllib.TOMLDecodeError, ValueError, KeyError, TypeError) as error:
            raise CorpusError(f"{path.name}: {error}") from error
    names = [f"{s.family}/{s.name}" for s in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CorpusError(f"sequence names used twice: {', '.join(duplicates)}")
    return found


def _sequences(path: Path, data: dict[str, Any]) -> Iterator[HitSequence]:
    family = str(data.get("family") or path.stem)
    for number, table in enumerate(data.get("sequence", []), start=1):
        where = f"sequence {number} ({table.get('name', 'unnamed')})"
        try:
            vary: dict[str, list[str]] = table.get("vary", {})
            keys = sorted(vary)
            for values in itertools.product(*(vary[key] for key in keys)) if keys else [()]:
                chosen = dict(zip(keys, (str(v) for v in values), strict=True))
                suffix = "" if not chosen else " [" + ", ".join(
                    f"{key}={value}" for key, value in chosen.items()) + "]"
                yield HitSequence(
                    family=family, name=str(table["name"]) + suffix,
                    truth=str(table["truth"]), links=int(table.get("links", 1)),
                    hits=tuple(_hit(hit, chosen) for hit in table["hits"]),
                )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{where}: {error}") from error


def _hit(raw: dict[str, Any], chosen: dict[str, str]) -> CorpusHit:
    unknown = set(raw) - _HIT_KEYS
    if unknown:
        raise ValueError(f"unknown hit keys {sorted(unknown)}")

    def filled(value: str) -> str:
        for name, replacement in chosen.items():
            value = value.replace("{" + name + "}", replacement)
        return value

    def text(key: str, default: str = "") -> str:
        return filled(str(raw.get(key, default)))

    kind = HitKind(text("kind"))
    label = Verdict(text("label"))
    if not text("reason"):
        raise ValueError("every hit needs its expected reason")
    return CorpusHit(
        after=parse_after(text("after")), kind=kind,
        link=int(text("link", "0")) if kind is HitKind.CLICK else None,
        method=text("method", "GET").upper(), user_agent=text("ua"), ip=text("ip"),
        headers={filled(str(k)): filled(str(v)) for k, v in raw.get("headers", {}).items()},
        sender=bool(raw.get("sender", False)), label=label, reason=text("reason"),
    )
