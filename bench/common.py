"""Shared helpers for the benchmark scripts: Django setup, percentiles, budget lines."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
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


def report(label: str, samples: list[float], budget_p95_ms: float | None = None) -> bool:
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    verdict = ""
    within = True
    if budget_p95_ms is not None:
        within = p95 <= budget_p95_ms
        verdict = f"  budget p95 ≤ {budget_p95_ms:g} ms: {'OK' if within else 'OVER'}"
    print(
        f"{label:<34} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
        f"mean {statistics.fmean(samples):7.2f} ms  (n={len(samples)}){verdict}"
    )
    return within
