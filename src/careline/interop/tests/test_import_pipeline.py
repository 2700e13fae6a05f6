"""The overlapped pipeline (PostgreSQL): a writer thread writes unit N while unit N+1 is
validated — with the same outcome as one unit after the other."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from careline.clinical.models import Condition
from careline.identity.models import SourceLink
from careline.interop.fhir import pipeline
from careline.interop.fhir.context import Entry, Mapped
from careline.interop.fhir.unit import write_unit
from careline.interop.models import ImportRun, ImportStatus
from careline.interop.tests.test_import_support import (
    bundle,
    condition,
    counts,
    patient,
    run_import,
    write_json,
)
from careline.platform.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def writer_threads(postgres_only: None) -> Any:
    names: list[str] = []

    def recording(*args: Any) -> Any:
        names.append(threading.current_thread().name)
        return write_unit(*args)

    with mock.patch.object(pipeline, "write_unit", recording):
        yield names


def _folder(tmp_path: Path) -> Path:
    for number in range(1, 6):
        write_json(
            tmp_path,
            f"b{number}.json",
            bundle(patient(f"p{number}"), condition(f"c{number}", subject=f"Patient/p{number}")),
        )
    # the same condition twice, changed: the later file must win (it waits for the earlier)
    changed = condition("c1", subject="Patient/p1", onsetDateTime="2020-01-01")
    write_json(tmp_path, "b6.json", bundle(changed))
    (tmp_path / "notes.json").write_text('{"not": "fhir"}')
    (tmp_path / "broken.json").write_text("{")
    return tmp_path


def test_overlapped_import_writes_in_the_writer_thread_with_the_same_outcome(
    tmp_path: Path, writer_threads: list[str]
) -> None:
    result = run_import(_folder(tmp_path))

    assert writer_threads == ["fhir-import-writer"] * 6
    assert counts(result, "Patient") == (5, 0, 0, 0, 0)
    assert counts(result, "Condition") == (5, 1, 0, 0, 0)
    assert [(r.file, r.reason[:18]) for r in result.rejections] == [
        (str(tmp_path / "broken.json"), "is not valid JSON:")
    ]
    assert [s.file for s in result.skipped_files] == [str(tmp_path / "notes.json")]
    effective_at = Condition.objects.get(source_id="c1").effective_at
    assert effective_at is not None
    assert effective_at.year == 2020
    assert SourceLink.objects.count() == 5
    assert ImportRun.objects.get().status == ImportStatus.COMPLETED_WITH_REJECTIONS
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 5 + 1 + 1


def test_overlapped_reimport_is_idempotent(tmp_path: Path, writer_threads: list[str]) -> None:
    folder = _folder(tmp_path)
    run_import(folder)

    again = run_import(folder)

    assert counts(again, "Patient") == (0, 0, 5, 0, 0)
    # c1 goes back to the older version (b1), then forward to the newer one (b6), in order
    assert counts(again, "Condition") == (0, 2, 4, 0, 0)
    effective_at = Condition.objects.get(source_id="c1").effective_at
    assert effective_at is not None
    assert effective_at.year == 2020


def test_an_error_in_the_writer_thread_fails_the_run_as_it_would_serially(
    tmp_path: Path, writer_threads: list[str]
) -> None:
    folder = _folder(tmp_path)

    def failing_on_p3(ready: Any, run: Any) -> Any:
        if ready.unit.file.endswith("b3.json"):
            raise RuntimeError("disk full")
        return write_unit(ready, run)

    with mock.patch.object(pipeline, "write_unit", failing_on_p3), pytest.raises(RuntimeError):
        run_import(folder)

    assert ImportRun.objects.get().status == ImportStatus.FAILED
    assert set(SourceLink.objects.values_list("source_id", flat=True)) >= {"p1", "p2"}


def test_a_written_unit_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    """No reference cycle keeps a unit's resources: with the collector off, none is left
    once the import has returned (a cycle once left every bundle to the collector)."""
    write_json(tmp_path, "b1.json", bundle(patient("p1"), condition("c1")))
    gc.collect()
    gc.disable()
    try:
        result = run_import(tmp_path)
        # type(), not isinstance(): a lazy object another test left (a request's CSP nonce)
        # would be evaluated by isinstance, and that one raises once its response is sent.
        left = [item for item in gc.get_objects() if type(item) in (Mapped, Entry)]
    finally:
        gc.enable()

    assert counts(result, "Condition") == (1, 0, 0, 0, 0)
    assert left == []
