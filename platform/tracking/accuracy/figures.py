"""Counting a replayed corpus against its labels: confusion matrices (provisional and
final verdicts), precision and recall per verdict and per reason, and the comparison with
the figures recorded last time (they may only go up)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sendtrail.tracking.core.model import Verdict

from .corpus import HitSequence
from .replay import Judged, Stages

__all__ = ["Figures", "Outcome", "count", "fallen", "markdown"]

VERDICTS = (Verdict.HUMAN, Verdict.MACHINE, Verdict.SELF)


@dataclass(frozen=True)
class Outcome:
    """One corpus hit: what it is, and what it was judged when derived and in the end."""

    family: str
    sequence: str
    label: Verdict
    reason: str
    provisional: Judged
    settled: Judged
    final: Judged

    @classmethod
    def of(cls, family: str, sequence: str, label: Verdict, reason: str,
           stages: Stages) -> Outcome:
        return cls(family, sequence, label, reason, stages.provisional, stages.settled,
                   stages.final)


@dataclass(frozen=True)
class Figures:
    ruleset: str
    sequences: int
    hits: int
    final: Mapping[tuple[Verdict, Verdict], int]
    """(label, judged) → hits, final verdicts."""
    provisional: Mapping[tuple[Verdict, Verdict], int]
    by_reason: Mapping[str, tuple[int, int, int]]
    """Expected reason → (hits labelled with it, hits judged with it, both)."""
    misjudged: tuple[Outcome, ...]
    """Hits whose final verdict is not their label."""
    told_at_once: tuple[Outcome, ...]
    """MACHINE hits judged HUMAN when derived: what a live notification would announce at
    once, before a later hit re-judged them (or for good, when misjudged)."""
    told_when_settled: tuple[Outcome, ...]
    """MACHINE hits still HUMAN when their settle window passed: what webhooks (which wait
    for it) would announce. R30 wants none."""

    def precision(self, verdict: Verdict, *, final: bool = True) -> float:
        matrix = self.final if final else self.provisional
        judged = sum(n for (_, said), n in matrix.items() if said is verdict)
        return matrix.get((verdict, verdict), 0) / judged if judged else 1.0

    def recall(self, verdict: Verdict, *, final: bool = True) -> float:
        matrix = self.final if final else self.provisional
        labelled = sum(n for (label, _), n in matrix.items() if label is verdict)
        return matrix.get((verdict, verdict), 0) / labelled if labelled else 1.0

    def recorded(self) -> dict[str, float]:
        """The figures a later change may not lower, by name."""
        found: dict[str, float] = {}
        for verdict in VERDICTS:
            for final in (True, False):
                stage = "final" if final else "provisional"
                found[f"{stage} {verdict.value} precision"] = round(
                    self.precision(verdict, final=final), 4)
                found[f"{stage} {verdict.value} recall"] = round(
                    self.recall(verdict, final=final), 4)
        found["machine announced as human when settled"] = -len(self.told_when_settled)
        for reason, (labelled, judged, both) in sorted(self.by_reason.items()):
            found[f"reason {reason} recall"] = round(both / labelled if labelled else 1.0, 4)
            found[f"reason {reason} precision"] = round(both / judged if judged else 1.0, 4)
        return found


def count(ruleset: str, sequences: list[HitSequence],
          outcomes: Iterable[Outcome]) -> Figures:
    done = list(outcomes)
    labelled = Counter(o.reason for o in done)
    judged = Counter(o.final.reason for o in done)
    both = Counter(o.reason for o in done if o.final.reason == o.reason)
    return Figures(
        ruleset=ruleset, sequences=len(sequences), hits=len(done),
        final=Counter((o.label, o.final.verdict) for o in done),
        provisional=Counter((o.label, o.provisional.verdict) for o in done),
        by_reason={reason: (labelled[reason], judged[reason], both[reason])
                   for reason in sorted(labelled.keys() | judged.keys())},
        misjudged=tuple(o for o in done if o.final.verdict is not o.label),
        told_at_once=tuple(
            o for o in done
            if o.label is Verdict.MACHINE and o.provisional.verdict is Verdict.HUMAN),
        told_when_settled=tuple(
            o for o in done
            if o.label is Verdict.MACHINE and o.settled.verdict is Verdict.HUMAN),
    )


def fallen(now: Mapping[str, float], before: Mapping[str, float]) -> list[str]:
    """Recorded figures that are now lower (or gone), in words."""
    return [f"{name}: {value:.4f} → {now[name]:.4f}" if name in now else f"{name}: gone"
            for name, value in sorted(before.items())
            if name not in now or now[name] < value - 1e-9]


def markdown(figures: Figures) -> list[str]:
    """The figures as Markdown lines for docs/accuracy.md."""
    lines = [f"Ruleset `{figures.ruleset}`; {figures.sequences} sequences, {figures.hits} hits.",
             ""]
    for title, final in (("Final verdicts (after the whole sequence)", True),
                         ("Provisional verdicts (when each hit was derived)", False)):
        matrix = figures.final if final else figures.provisional
        lines += [f"**{title}** — rows: the label, columns: the verdict.", "",
                  "| label \\ verdict | " + " | ".join(v.value for v in VERDICTS)
                  + " | precision | recall |",
                  "| --- | " + " | ".join("---:" for _ in VERDICTS) + " | ---: | ---: |"]
        for label in VERDICTS:
            cells = " | ".join(str(matrix.get((label, said), 0)) for said in VERDICTS)
            lines.append(f"| {label.value} | {cells} | "
                         f"{figures.precision(label, final=final):.3f} | "
                         f"{figures.recall(label, final=final):.3f} |")
        lines.append("")
    lines += ["**By reason** (final): hits labelled with the reason, hits given it, both.", "",
              "| reason | labelled | given | both | precision | recall |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for reason, (labelled, judged, both) in sorted(figures.by_reason.items()):
        precision = both / judged if judged else 1.0
        recall = both / labelled if labelled else 1.0
        lines.append(f"| {reason} | {labelled} | {judged} | {both} | {precision:.3f} | "
                     f"{recall:.3f} |")
    lines.append("")
    if figures.misjudged:
        lines += ["**Misjudged** (final verdict differs from the label):", ""]
        lines += [f"- {o.family} / {o.sequence}: a {o.label.value} hit ({o.reason}) judged "
                  f"{o.final.verdict.value} ({o.final.reason})" for o in figures.misjudged]
        lines.append("")
    lines += [f"MACHINE hits judged HUMAN when derived (a live notification at once): "
              f"{len(figures.told_at_once)}; still HUMAN when their settle window passed "
              f"(what a webhook, which waits for it, announces): "
              f"{len(figures.told_when_settled)}."]
    return lines
