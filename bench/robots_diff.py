"""Differential: Heed's robots.txt verdicts against Protego's on the real-file corpus.

Prints the agreement rate, queries and disagreements per token, the count of disagreements per
documented cause, and a few examples of each (docs/robots-corpus.md). The same run is the test
``tests/optout/test_robots_corpus.py``, which fails on a disagreement of undocumented cause.

Run: ``python bench/robots_diff.py [--examples N] [--file NAME ...]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the differential lives with the tests (tests/optout/robots_diff.py)

from tests.optout import robots_diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3, help="examples printed per cause")
    parser.add_argument(
        "--file", action="append", default=[], help="only these corpus files (e.g. protego/x.com)"
    )
    args = parser.parse_args()
    files = [robots_diff.CORPUS / name for name in args.file] or None
    start = time.perf_counter()
    report = robots_diff.run(files)
    elapsed = time.perf_counter() - start
    print(report.summary())
    print(f"  ({elapsed:.2f} s)")
    for cause in sorted(report.by_cause()):
        documented = all(part in robots_diff.CAUSES for part in cause.split("+"))
        print(f"\n{cause}{'' if documented else '  ** UNDOCUMENTED **'}")
        for part in cause.split("+"):
            print(f"  - {robots_diff.CAUSES.get(part, '(no documented reason)')}")
        shown = [d for d in report.disagreements if d.cause == cause][: args.examples]
        for d in shown:
            verdicts = f"Heed {'allow' if d.heed else 'disallow'}, "
            verdicts += f"Protego {'allow' if d.protego else 'disallow'}"
            print(f"    {d.file} [{d.token}] {d.url!r}: {verdicts} {d.detail}".rstrip())
    if report.unexplained():
        sys.exit(1)


if __name__ == "__main__":
    main()
