"""Read one pytest JUnit XML report and say whether the run counts.

    python .ci/count_tests.py REPORT.xml LABEL [--allow-skip PREFIX]...

A run counts when it collected tests, none failed or errored, and every skip has a reason
that starts with an allowed prefix (on SQLite: "needs PostgreSQL"; on PostgreSQL: none).
Shared-testdata and browser tests cannot skip here at all: .ci/run sets
CARELINE_REQUIRE_ALL_TESTS=1, which makes a missing prerequisite an error.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", type=Path)
    parser.add_argument("label")
    parser.add_argument("--allow-skip", action="append", default=[], metavar="PREFIX")
    options = parser.parse_args()
    if not options.report.is_file():
        print(f"{options.label}: no report at {options.report}: pytest did not run to the end")
        return 1
    cases = ElementTree.parse(options.report).getroot().iter("testcase")
    outcomes = {"passed": 0, "failed": 0, "skipped": 0}
    unexpected: list[str] = []
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes["failed"] += 1
        elif (skip := case.find("skipped")) is not None:
            outcomes["skipped"] += 1
            reason = skip.get("message", "")
            if not reason.startswith(tuple(options.allow_skip)) or not options.allow_skip:
                unexpected.append(f"{name}: {reason}")
        else:
            outcomes["passed"] += 1
    print(f"{options.label}: " + ", ".join(f"{count} {word}" for word, count in outcomes.items()))
    for line in unexpected:
        print(f"  skipped, which CI does not allow here: {line}")
    if sum(outcomes.values()) == 0:
        print(f"{options.label}: collected no tests (pytest exit code 5); that is a failure")
    return int(bool(outcomes["failed"] or unexpected or sum(outcomes.values()) == 0))


if __name__ == "__main__":
    sys.exit(main())
