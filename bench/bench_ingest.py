"""FHIR ingest speed: the Synthea test data into the database of ``DATABASE_URL``.

DESIGN.md §7 budget: ≥ 3,000 resources/s per process into PostgreSQL, and ≥ 0.5 times the rate
of bare ``fhir.resources`` parse + validate of the same resources, measured in the same run.

Run it against a migrated, empty scratch database (it creates and migrates nothing, and
refuses a database that already holds patients; it leaves the imported data behind)::

    createdb careline_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careline_bench \\
        .venv/bin/python -m careline.config.manage migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careline_bench \\
        .venv/bin/python bench/bench_ingest.py

"Resources" are the ones Careline validates and stores (the supported types); the bundles'
other entries (claims, reports, …) are skipped unvalidated and only reported.

The machine may be shared: besides wall-clock rates the run reports the load average and the
CPU time this process spent (all its threads; the database server's CPU is not in it), so the
ratio of CPU times — bare validation against the import — can be compared between runs on a
loaded machine.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Verdicts

from careline.testing.environment import SHARED_TESTDATA

REPOSITORY = Path(__file__).resolve().parents[1]
SYNTHEA = SHARED_TESTDATA / "synthea"
BUDGET_RESOURCES_PER_SECOND = 3_000
BUDGET_RATIO_TO_BARE = 0.5


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.config.settings")
    sys.path.insert(0, str(REPOSITORY / "src"))
    import django

    django.setup()
    if not (SYNTHEA / "MANIFEST.json").is_file():
        print(f"{SYNTHEA} is absent: nothing to measure.")
        return 2
    if not _database_is_empty():
        print("The database already holds patients: run against an empty, migrated one.")
        return 2
    files = _synthea_files()
    supported = _supported_count(files)
    _warm_up(files)
    print(f"load average before: {_load()}")
    bare_before = _bare_validation_seconds(files)
    first = _import_seconds(files)
    again = _import_seconds(files)
    bare_after = _bare_validation_seconds(files)
    bare = Timing(
        statistics.mean([bare_before.wall, bare_after.wall]),
        statistics.mean([bare_before.cpu, bare_after.cpu]),
    )
    status = _report(files, supported, bare, first, again)
    print(f"load average after: {_load()}")
    return status


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # seconds of CPU time of this process (every thread)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _timed(function: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def _database_is_empty() -> bool:
    from careline.identity.models import SourceLink

    return not SourceLink.objects.exists()


def _synthea_files() -> list[Path]:
    manifest = json.loads((SYNTHEA / "MANIFEST.json").read_text())
    return [SYNTHEA / patient["file"] for patient in manifest["patients"]]


def _resources(path: Path) -> list[dict[str, Any]]:
    bundle = json.loads(path.read_bytes())
    return [entry["resource"] for entry in bundle["entry"]]


def _supported_count(files: list[Path]) -> int:
    from careline.interop.fhir.mapping import is_supported

    return sum(1 for f in files for r in _resources(f) if is_supported(r["resourceType"]))


def _warm_up(files: list[Path]) -> None:
    """Build every model class once (pydantic builds validators lazily), for both paths."""
    from fhir.resources.R4B import get_fhir_model_class

    seen: set[str] = set()
    for resource in _resources(files[0]) + _resources(files[1]):
        if resource["resourceType"] not in seen:
            seen.add(resource["resourceType"])
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _bare_validation_seconds(files: list[Path]) -> Timing:
    """Bare fhir.resources: parse each file's JSON and validate its supported resources."""
    from fhir.resources.R4B import get_fhir_model_class

    from careline.interop.fhir.mapping import is_supported

    def validate() -> None:
        for path in files:
            for resource in _resources(path):
                if is_supported(resource["resourceType"]):
                    get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    return _timed(validate)


def _import_seconds(files: list[Path]) -> Timing:
    from careline.interop.importer import import_fhir
    from careline.platform.actors import Actor

    def run() -> None:
        result = import_fhir(actor=Actor.system("bench_ingest"), paths=files)
        if result.has_rejections:
            print(f"warning: {len(result.rejections)} rejections")

    return _timed(run)


def _report(files: list[Path], supported: int, bare: Timing, first: Timing, again: Timing) -> int:
    from django.db import connection

    entries = sum(len(_resources(f)) for f in files)
    bare_rate, first_rate = supported / bare.wall, supported / first.wall
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"input: {len(files)} Synthea bundles, {entries:,} entries, {supported:,} supported")
    for label, timing in (
        ("bare fhir.resources parse+validate:", bare),
        ("import (new data):                 ", first),
        ("re-import (all unchanged):         ", again),
    ):
        print(
            f"{label} {timing.wall:6.2f} s  {supported / timing.wall:8,.0f} resources/s"
            f"  (CPU {timing.cpu:6.2f} s, {supported / timing.cpu:8,.0f} resources per CPU s)"
        )
    print(f"entries/s incl. skipped (new data):           {entries / first.wall:8,.0f}")
    print(f"ratio of CPU times, bare / import: {bare.cpu / first.cpu:.2f}  (load-independent)")
    verdicts = Verdicts("ingest")
    verdicts.judge(
        f"Synthea import ≥ {BUDGET_RESOURCES_PER_SECOND:,} resources/s into PostgreSQL",
        met=first_rate >= BUDGET_RESOURCES_PER_SECOND and connection.vendor == "postgresql",
        measured=f"{first_rate:,.0f} resources/s into {connection.vendor}",
    )
    verdicts.judge(
        f"Synthea import ≥ {BUDGET_RATIO_TO_BARE} times bare fhir.resources validation",
        met=first_rate / bare_rate >= BUDGET_RATIO_TO_BARE,
        measured=f"{first_rate / bare_rate:.2f} times ({bare_rate:,.0f} resources/s bare)",
    )
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
