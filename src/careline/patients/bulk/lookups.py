"""Reads the import side needs from the registry: who holds an identifier."""

from __future__ import annotations

from collections.abc import Collection

from careline.patients.bulk.records import PatientRef
from careline.patients.models import Patient, PatientIdentifier


def patient_refs(*, pks: Collection[int]) -> dict[int, PatientRef]:
    """Primary key → the patient's reference (with her public id), one query."""
    if not pks:
        return {}
    rows = Patient.objects.filter(pk__in=list(pks)).values_list("pk", "public_id")
    return {pk: PatientRef(pk, public_id) for pk, public_id in rows}


def find_identifier_owners(
    *, identifiers: Collection[tuple[str | None, str]]
) -> dict[tuple[str | None, str], PatientRef]:
    """(system, value) → the patient holding that identifier (one query).

    A system of None matches the value in any system (a conditional reference may omit it).
    """
    if not identifiers:
        return {}
    rows = PatientIdentifier.objects.filter(
        value__in={value for _, value in identifiers}
    ).values_list("system", "value", "patient_id", "patient__public_id")
    held: dict[tuple[str | None, str], PatientRef] = {}
    for system, value, patient_id, public_id in rows:
        held.setdefault((system, value), PatientRef(patient_id, public_id))
        held.setdefault((None, value), PatientRef(patient_id, public_id))
    return {key: held[key] for key in identifiers if key in held}
