"""FHIR R4 import: the one path EHR data takes into Careline (DESIGN.md §5, §6 flow 1).

``import_fhir`` reads files and folders (bundles, single resources, Bulk-FHIR ndjson);
``import_fhir_payload`` reads a request body. Both validate each resource with
``fhir.resources`` R4B, map it, resolve it to a patient and upsert it idempotently — one
transaction per bundle or ndjson batch — and record an ``ImportRun`` with the per-type
summary and the rejections, plus one audit event per patient changed and one for the run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from careline.interop.fhir.inputs import (
    InputProblem,
    MissingPath,
    Unit,
    discover,
    read_file,
    read_json,
    read_ndjson,
)
from careline.interop.fhir.pipeline import unit_tallies
from careline.interop.fhir.resolver import Resolver
from careline.interop.fhir.summary import CleanedValue, Rejection, SkippedFile, Tally
from careline.interop.fhir.unit_state import Run
from careline.interop.models import ImportRun, ImportStatus
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission

DEFAULT_BATCH_SIZE = 1000
SOURCE_LENGTH = 200  # the source_system columns' length
STORED_REJECTIONS_LIMIT = 10_000
JSON_TYPES = frozenset({"application/json", "application/fhir+json"})
NDJSON_TYPES = frozenset({"application/fhir+ndjson", "application/x-ndjson", "application/ndjson"})


class ImportProgress(Protocol):
    """Told the total bytes to read, then how far reading got."""

    def start(self, total: int) -> None: ...

    def advance(self, amount: int, *, resources: int) -> None: ...


@dataclass(frozen=True)
class ImportResult:
    run_id: uuid.UUID
    status: str
    tally: Tally

    @property
    def summary(self) -> dict[str, dict[str, int]]:
        return self.tally.summary()

    @property
    def rejections(self) -> list[Rejection]:
        return self.tally.rejections

    @property
    def skipped_files(self) -> list[SkippedFile]:
        return self.tally.skipped_files

    @property
    def cleaned_values(self) -> list[CleanedValue]:
        return self.tally.cleaned_values

    @property
    def has_rejections(self) -> bool:
        return bool(self.tally.rejections)

    def as_json(self) -> dict[str, Any]:
        """``{"Patient": {"created": …}, …, "rejections": […], "skipped_files": […],
        "cleaned_values": […]}``."""
        return {
            **self.summary,
            "rejections": [rejection.as_dict() for rejection in self.rejections],
            "skipped_files": [skipped.as_dict() for skipped in self.skipped_files],
            "cleaned_values": [cleaned.as_dict() for cleaned in self.cleaned_values],
        }


def import_fhir(
    *,
    actor: Actor,
    paths: Sequence[str | PathLike[str]],
    source_system: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Import FHIR files and folders; ``ValidationFailed`` for a path that does not exist."""
    _require_permission(actor)
    _check_source(source_system)
    if batch_size < 1:
        raise ValidationFailed(
            "The batch size must be at least 1.", details={"field": "batch_size"}
        )
    try:
        files = discover(Path(path) for path in paths)
    except MissingPath as error:
        raise ValidationFailed(
            f"{error.path} does not exist.", details={"field": "paths"}
        ) from error
    if progress is not None:
        progress.start(sum(_size(file) for file in files))
    items = (item for file in files for item in read_file(file, batch_size=batch_size))
    return _run(actor, source_system, items, progress, overlap=True)


def import_fhir_payload(
    *,
    actor: Actor,
    payload: bytes,
    content_type: str,
    source_system: str | None = None,
) -> ImportResult:
    """Import a request body: a Bundle or one resource (JSON), or ndjson.

    ``ValidationFailed`` when the body is not JSON / not a FHIR resource or Bundle, or the
    content type is neither; malformed resources inside are reported as rejections.
    """
    _require_permission(actor)
    _check_source(source_system)
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not payload.strip():
        raise ValidationFailed("The request body is empty.")
    if media_type in JSON_TYPES:
        items: list[Unit | InputProblem] = list(read_json(payload, file=None))
        unreadable = [i for i in items if isinstance(i, InputProblem) and i.entry is None]
        if unreadable:
            raise ValidationFailed(f"The request body {unreadable[0].reason}.")
        return _run(actor, source_system, items, None, overlap=False)
    if media_type in NDJSON_TYPES:
        lines = read_ndjson(
            payload.splitlines(keepends=True), file=None, batch_size=DEFAULT_BATCH_SIZE
        )
        return _run(actor, source_system, lines, None, overlap=False)
    raise ValidationFailed(
        "Send application/fhir+json (a Bundle or a resource) or application/fhir+ndjson.",
        details={"content_type": media_type},
    )


def _check_source(source_system: str | None) -> None:
    if source_system is None:
        return
    if not 0 < len(source_system) <= SOURCE_LENGTH or not source_system.isprintable():
        raise ValidationFailed(
            f"The source system name must be 1 to {SOURCE_LENGTH} printable characters.",
            details={"field": "source_system"},
        )


def _require_permission(actor: Actor) -> None:
    require_permission(
        actor,
        Permission.IMPORT_FHIR,
        resource_type="ImportRun",
        message="You do not have permission to import FHIR data.",
    )


def _run(
    actor: Actor,
    source_system: str | None,
    items: Iterable[Unit | InputProblem],
    progress: ImportProgress | None,
    *,
    overlap: bool,
) -> ImportResult:
    default_source = settings.CARELINE_DEFAULT_SOURCE
    record = _start(actor, source_system or default_source)
    run = Run(actor, source_system, default_source, Resolver())
    tally = Tally()
    try:
        for part, size in unit_tallies(items, run, overlap=overlap):
            tally.add(part)
            if progress is not None:
                progress.advance(size, resources=part.resources)
    except BaseException:
        _finish(record, tally, failed=True)
        raise
    _finish(record, tally, failed=False)
    audit.record_event(
        actor=actor,
        action=AuditAction.IMPORT,
        resource_type="ImportRun",
        resource_id=str(record.public_id),
        details={
            "source_system": record.source_system,
            "counts": tally.summary(),
            "rejections": len(tally.rejections),
            "cleaned_values": len(tally.cleaned_values),
        },
    )
    return ImportResult(record.public_id, record.status, tally)


def _start(actor: Actor, source_system: str) -> ImportRun:
    return ImportRun.objects.create(
        source_system=source_system[:200],
        channel=actor.channel,
        started_by=actor.user,
        started_by_label=actor.display[:150],
        started_at=clock.now(),
    )


def _finish(record: ImportRun, tally: Tally, *, failed: bool) -> None:
    if failed:
        record.status = ImportStatus.FAILED
    elif tally.rejections:
        record.status = ImportStatus.COMPLETED_WITH_REJECTIONS
    else:
        record.status = ImportStatus.SUCCEEDED
    record.summary = tally.summary()
    record.rejections = [r.as_dict() for r in tally.rejections[:STORED_REJECTIONS_LIMIT]]
    record.finished_at = clock.now()
    record.save(update_fields=["status", "summary", "rejections", "finished_at"])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
