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
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
SYNTHEA = REPOSITORY.parent / "shared" / "testdata" / "synthea"


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
    bare_before = _bare_validation_seconds(files)
    first = _import_seconds(files)
    again = _import_seconds(files)
    bare_after = _bare_validation_seconds(files)
    _report(files, supported, statistics.mean([bare_before, bare_after]), first, again)
    return 0


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


def _bare_validation_seconds(files: list[Path]) -> float:
    """Bare fhir.resources: parse each file's JSON and validate its supported resources."""
    from fhir.resources.R4B import get_fhir_model_class

    from careline.interop.fhir.mapping import is_supported

    started = time.perf_counter()
    for path in files:
        for resource in _resources(path):
            if is_supported(resource["resourceType"]):
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return time.perf_counter() - started


def _import_seconds(files: list[Path]) -> float:
    from careline.interop.importer import import_fhir
    from careline.platform.actors import Actor

    started = time.perf_counter()
    result = import_fhir(actor=Actor.system("bench_ingest"), paths=files)
    seconds = time.perf_counter() - started
    if result.has_rejections:
        print(f"warning: {len(result.rejections)} rejections")
    return seconds


def _report(files: list[Path], supported: int, bare: float, first: float, again: float) -> None:
    from django.db import connection

    entries = sum(len(_resources(f)) for f in files)
    bare_rate, first_rate = supported / bare, supported / first
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"input: {len(files)} Synthea bundles, {entries:,} entries, {supported:,} supported")
    print(f"bare fhir.resources parse+validate: {bare:6.2f} s  {bare_rate:8,.0f} resources/s")
    print(f"import (new data):                  {first:6.2f} s  {first_rate:8,.0f} resources/s")
    print(
        f"re-import (all unchanged):          {again:6.2f} s  {supported / again:8,.0f} resources/s"
    )
    print(f"entries/s incl. skipped (new data):           {entries / first:8,.0f}")
    print(f"ratio import / bare: {first_rate / bare_rate:.2f}  (budget ≥ 0.50)")
    print(f"absolute: {first_rate:,.0f} resources/s  (budget ≥ 3,000 on PostgreSQL)")


if __name__ == "__main__":
    sys.exit(main())
