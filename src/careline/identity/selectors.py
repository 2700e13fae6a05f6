"""Reads of the master patient index: the source records behind Careline patients."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from careline.identity.models import SourceLink


@dataclass(frozen=True)
class SourceRecord:
    """A source system's Patient as last received (sensitive identifiers already removed
    at import) and the Careline patient (primary key) it is linked to."""

    patient_pk: int
    source_system: str
    source_id: str
    received_at: datetime
    raw: dict[str, Any]


def latest_source_records(*, patient_pks: Collection[int]) -> dict[int, SourceRecord]:
    """Each patient's most recently received source record (one query for all of them);
    patients created in Careline have none."""
    latest: dict[int, SourceRecord] = {}
    links = SourceLink.objects.filter(patient_id__in=list(patient_pks)).order_by(
        "patient_id", "received_at", "pk"
    )
    for patient_pk, system, source_id, received_at, raw in links.values_list(
        "patient_id", "source_system", "source_id", "received_at", "raw"
    ):
        if isinstance(raw, dict):
            latest[patient_pk] = SourceRecord(patient_pk, system, source_id, received_at, raw)
    return latest
