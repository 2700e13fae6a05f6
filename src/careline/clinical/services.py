"""Writes to the clinical mirror. Only imports write here: the EHR stays the source of truth.

``upsert_facts`` creates or updates rows keyed by (source system, source id); a row whose
content hash is unchanged is not written. The importer records one audit
event per patient for everything a bundle changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from careline.directory.services import SourceRow, UpsertOutcome, upsert_sourced_rows
from careline.platform.actors import Actor

__all__ = ["FACT_MODELS", "SourceRow", "UpsertOutcome", "upsert_facts"]

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
) -> dict[str, UpsertOutcome]:
    """Create or update the clinical facts of a bundle or batch, every kind at once.

    ``rows`` maps a kind ("Condition", "Observation", …) to its rows, whose fields include
    ``patient_id``. One query finds the existing rows of every kind.
    """
    del actor  # audited per patient by the importer, with the counts of every kind
    return upsert_sourced_rows(
        kinds={kind: FACT_MODELS[kind] for kind in rows},
        source_system=source_system,
        received_at=received_at,
        rows=rows,
    )
