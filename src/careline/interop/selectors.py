"""Reads of import runs (their summaries and rejections hold no patient data)."""

from __future__ import annotations

from careline.interop.models import ImportRun, ImportStatus
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.permissions import Permission

RUNS_LIMIT = 50


def list_import_runs(*, actor: Actor, limit: int = RUNS_LIMIT) -> list[ImportRun]:
    """The latest import runs, newest first (integration engineers and compliance)."""
    if not actor.has_permission(Permission.VIEW_AUDIT_LOG):  # compliance reads them too
        require_permission(
            actor,
            Permission.IMPORT_FHIR,
            resource_type="ImportRun",
            message="You do not have permission to see import runs.",
        )
    runs = ImportRun.objects.select_related("started_by").order_by("-started_at", "-pk")
    return list(runs[:limit])


def has_completed_import(*, source_system: str) -> bool:
    """Whether an import from ``source_system`` has finished (the demo loads only once)."""
    return (
        ImportRun.objects.filter(source_system=source_system)
        .exclude(status__in=[ImportStatus.RUNNING, ImportStatus.FAILED])
        .exists()
    )
