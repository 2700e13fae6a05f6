"""Which resource types Careline imports, in which order, and the mapper of each.

A mapper reads one validated resource (plain JSON) and returns a ``Mapping``: the model
fields, the references still to resolve, and the patient it belongs to. Mappers touch no
database; the unit writer resolves references and hands the rows to the owning app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from careline.interop.fhir.context import Mapping, UnitContext
from careline.interop.fhir.mapping.clinical import (
    map_allergy,
    map_care_plan,
    map_condition,
    map_encounter,
    map_immunization,
    map_medication_request,
    map_procedure,
)
from careline.interop.fhir.mapping.directory import (
    map_location,
    map_organization,
    map_practitioner,
    map_practitioner_role,
)
from careline.interop.fhir.mapping.observation import map_observation
from careline.interop.fhir.mapping.patient import map_patient
from careline.interop.fhir.mapping.registry import map_consent, map_coverage, map_related_person
from careline.interop.fhir.mapping.scheduling import (
    map_appointment,
    map_appointment_response,
    map_schedule,
    map_slot,
)
from careline.interop.fhir.values import JSON


class Area(StrEnum):
    DIRECTORY = "directory"
    PATIENT = "patient"
    REGISTRY = "registry"
    CLINICAL = "clinical"
    SCHEDULING = "scheduling"


@dataclass(frozen=True)
class Mapper:
    area: Area
    function: Callable[[JSON, UnitContext], Mapping]
    patient_element: str = ""


MAPPERS: dict[str, Mapper] = {
    "Organization": Mapper(Area.DIRECTORY, map_organization),
    "Location": Mapper(Area.DIRECTORY, map_location),
    "Practitioner": Mapper(Area.DIRECTORY, map_practitioner),
    "PractitionerRole": Mapper(Area.DIRECTORY, map_practitioner_role),
    "Patient": Mapper(Area.PATIENT, map_patient),
    "RelatedPerson": Mapper(Area.REGISTRY, map_related_person, "patient"),
    "Coverage": Mapper(Area.REGISTRY, map_coverage, "beneficiary"),
    "Consent": Mapper(Area.REGISTRY, map_consent, "patient"),
    "Encounter": Mapper(Area.CLINICAL, map_encounter, "subject"),
    "Condition": Mapper(Area.CLINICAL, map_condition, "subject"),
    "AllergyIntolerance": Mapper(Area.CLINICAL, map_allergy, "patient"),
    "MedicationRequest": Mapper(Area.CLINICAL, map_medication_request, "subject"),
    "Observation": Mapper(Area.CLINICAL, map_observation, "subject"),
    "Immunization": Mapper(Area.CLINICAL, map_immunization, "patient"),
    "Procedure": Mapper(Area.CLINICAL, map_procedure, "subject"),
    "CarePlan": Mapper(Area.CLINICAL, map_care_plan, "subject"),
    "Schedule": Mapper(Area.SCHEDULING, map_schedule),
    "Slot": Mapper(Area.SCHEDULING, map_slot),
    "Appointment": Mapper(Area.SCHEDULING, map_appointment),
    "AppointmentResponse": Mapper(Area.SCHEDULING, map_appointment_response),
}

# Claims are not stored, but the payer and period of each feed the patient's coverage.
COVERAGE_SOURCES = frozenset({"ExplanationOfBenefit", "Claim"})

# Writing order: what others point to comes first.
TYPE_ORDER: tuple[str, ...] = tuple(MAPPERS)


def type_priority(resource_type: str) -> int:
    """Sort key for files of one type (Bulk-FHIR ndjson): directory, Patient, then the rest."""
    try:
        return TYPE_ORDER.index(resource_type)
    except ValueError:
        return len(TYPE_ORDER) + (1 if resource_type in COVERAGE_SOURCES else 0)


def is_supported(resource_type: str) -> bool:
    return resource_type in MAPPERS
