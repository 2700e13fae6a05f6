"""Writes to the directory from EHR imports: idempotent upserts keyed by source.

A row is identified by (source system, source id); the work is ``careline.platform.bulk``'s.
The caller (the FHIR importer) records the audit event for the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from careline.directory.models import Location, Organization, Practitioner, PractitionerRole
from careline.platform.actors import Actor
from careline.platform.bulk import SourceRow, UpsertOutcome, upsert_sourced_rows
from careline.platform.models import SourcedModel

__all__ = ["DIRECTORY_MODELS", "SourceRow", "UpsertOutcome", "upsert_directory_rows"]

DIRECTORY_MODELS: dict[str, type[SourcedModel]] = {
    "Organization": Organization,
    "Location": Location,
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
}


def upsert_directory_rows(
    *,
    actor: Actor,
    kind: str,
    source_system: str,
    received_at: datetime,
    rows: Sequence[SourceRow],
) -> UpsertOutcome:
    """Create or update directory rows of one kind ("Organization", "Location", …)."""
    del actor  # the importer audits the run; directory rows hold no patient data
    outcomes = upsert_sourced_rows(
        kinds={kind: DIRECTORY_MODELS[kind]},
        source_system=source_system,
        received_at=received_at,
        rows={kind: rows},
        want_ids=True,
    )
    return outcomes.get(kind, UpsertOutcome())
