"""``make accuracy``: replay the corpus, print the figures, write ``docs/accuracy.md``'s
figures block and the recorded figures (``--record``), or fail if any fell (``--check``)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sendtrail.tracking.signals import load_signals

from .corpus import load_corpus
from .figures import Outcome, count, fallen, markdown
from .replay import replay

START, END = "<!-- accuracy:figures:start -->", "<!-- accuracy:figures:end -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("tests/data/hits"))
    parser.add_argument("--recorded", type=Path, default=Path("tests/data/hits/recorded.json"))
    parser.add_argument("--doc", type=Path, default=Path("docs/accuracy.md"))
    parser.add_argument("--signals-dir", type=Path, default=None,
                        help="judge with your own signal files too (as SENDTRAIL_SIGNALS_DIR)")
    parser.add_argument("--record", action="store_true",
                        help="write the figures to --recorded and --doc (none may have fallen)")
    args = parser.parse_args()
    signals = load_signals(args.signals_dir.resolve() if args.signals_dir else None)
    sequences = load_corpus(args.corpus)
    outcomes = [Outcome.of(s.family, s.name, hit.label, hit.reason, stages)
                for s in sequences
                for hit, stages in zip(s.hits, replay(s, signals), strict=True)]
    figures = count(signals.version, sequences, outcomes)
    lines = markdown(figures)
    print("\n".join(lines))
    before = json.loads(args.recorded.read_text()) if args.recorded.exists() else {}
    worse = fallen(figures.recorded(), before)
    if worse:
        print("\nLower than recorded:\n  " + "\n  ".join(worse), file=sys.stderr)
        return 1
    if args.record:
        args.recorded.write_text(json.dumps(figures.recorded(), indent=1, sort_keys=True) + "\n")
        doc = args.doc.read_text()
        stamp = f"Measured by `make accuracy` on {datetime.now(UTC):%Y-%m-%d}."
        block = "\n".join([START, stamp, "", *lines, END])
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        args.doc.write_text(head + block + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
