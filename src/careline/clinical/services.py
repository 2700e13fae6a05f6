"""Writes to the clinical mirror. Only imports write here: the EHR stays the source of truth.

``upsert_facts`` creates or updates rows keyed by (source system, source id); a row whose
content hash is unchanged is not written. The importer records one audit
event per patient for everything a bundle changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from careline.clinical.models import (
    AllergyIntolerance,
    CarePlan,
    ClinicalFact,
    Condition,
    Encounter,
    Immunization,
    MedicationRequest,
    Observation,
    Procedure,
)
from careline.platform.actors import Actor
from careline.platform.bulk import (
    SourceRow,
    StoredRow,
    UpsertOutcome,
    find_stored_rows,
    upsert_sourced_rows,
)

__all__ = [
    "FACT_MODELS",
    "SourceRow",
    "StoredRow",
    "UpsertOutcome",
    "find_stored_facts",
    "is_fact_kind",
    "upsert_facts",
]

FACT_MODELS: dict[str, type[ClinicalFact]] = {
    "Condition": Condition,
    "AllergyIntolerance": AllergyIntolerance,
    "MedicationRequest": MedicationRequest,
    "Encounter": Encounter,
    "Observation": Observation,
    "Immunization": Immunization,
    "Procedure": Procedure,
    "CarePlan": CarePlan,
}


def upsert_facts(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    rows: Mapping[str, Sequence[SourceRow]],
    stored: Mapping[str, Mapping[str, StoredRow]] | None = None,
) -> dict[str, UpsertOutcome]:
    """Create or update the clinical facts of a bundle or batch, every kind at once.

    ``rows`` maps a kind ("Condition", "Observation", …) to its rows, whose fields include
    ``patient_id``. One query finds the existing rows of every kind — none when ``stored``
    is what ``find_stored_facts`` answered for (at least) every row's source id.
    """
    del actor  # audited per patient by the importer, with the counts of every kind
    return upsert_sourced_rows(
        kinds={kind: FACT_MODELS[kind] for kind in rows},
        source_system=source_system,
        received_at=received_at,
        rows=rows,
        stored=stored,
    )


def is_fact_kind(kind: str) -> bool:
    return kind in FACT_MODELS


def find_stored_facts(
    *, source_system: str, source_ids: Mapping[str, Collection[str]]
) -> dict[str, dict[str, StoredRow]]:
    """kind → source id → (content hash, primary key) of the facts stored (one query)."""
    return find_stored_rows(
        {kind: FACT_MODELS[kind] for kind in source_ids}, source_system, source_ids
    )
