"""Shared helpers for the benchmark scripts: Django setup, percentiles, timing, and one verdict
per DESIGN.md §7 budget (``Verdicts``), which ``bench/run.sh`` collects."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.config.settings")
    import django

    django.setup()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call, after one warm-up call."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float]) -> float:
    """Print one timing row; return its p95 in milliseconds."""
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    print(
        f"{label:<34} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
        f"mean {statistics.fmean(samples):7.2f} ms  (n={len(samples)})"
    )
    return p95


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    COULD_NOT_RUN = "could not run"


VERDICT_PREFIX = "verdict:"  # bench/run.sh collects the lines that start with it


class Verdicts:
    """One verdict per budget. ``judge`` and ``could_not_run`` print a line as they go;
    ``exit_status`` is 0 only when every budget was judged and met."""

    def __init__(self, benchmark: str) -> None:
        self.benchmark = benchmark
        self.outcomes: list[Outcome] = []

    def judge(self, budget: str, *, met: bool, measured: str) -> bool:
        self._print(Outcome.MET if met else Outcome.NOT_MET, budget, measured)
        return met

    def could_not_run(self, budget: str, reason: str) -> None:
        self._print(Outcome.COULD_NOT_RUN, budget, reason)

    def exit_status(self) -> int:
        if not self.outcomes:
            self.could_not_run("every budget", "the benchmark judged nothing")
        return 0 if all(outcome is Outcome.MET for outcome in self.outcomes) else 1

    def _print(self, outcome: Outcome, budget: str, detail: str) -> None:
        self.outcomes.append(outcome)
        print(f"{VERDICT_PREFIX} {outcome:<13} | {self.benchmark:<8} | {budget} | {detail}")
