"""Reads of the EHR mirror: the clinical half of the 360 view.

``get_clinical_summary`` runs a fixed number of queries whatever the patient's history:
the lists are bounded, and "latest vitals/labs" takes the newest row per code with a window
function in one query per category. The allergy banner is decided by ``clinical.banner``
from the same rows, so the page and the API show the same banner.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from careline.clinical.banner import AllergyBanner, allergy_banner
from careline.clinical.models import (
    ACTIVE_CONDITION_STATUSES,
    AllergyClinicalStatus,
    AllergyIntolerance,
    CarePlan,
    CarePlanStatus,
    ClinicalFact,
    Condition,
    Encounter,
    EncounterStatus,
    Immunization,
    MedicationRequest,
    MedicationRequestStatus,
    Observation,
    Procedure,
)
from careline.patients.access import PatientAccess, access_patient
from careline.platform.actors import Actor
from careline.platform.permissions import Permission

if TYPE_CHECKING:
    from careline.patients.models import Patient

RECENT_LIMIT = 10
LIST_LIMIT = 50
ACTIVE_MEDICATION_STATUSES = frozenset(
    {MedicationRequestStatus.ACTIVE, MedicationRequestStatus.ON_HOLD, MedicationRequestStatus.DRAFT}
)

FactT = TypeVar("FactT", bound=ClinicalFact)


@dataclass(frozen=True)
class ClinicalSummary:
    access: PatientAccess
    allergies: list[AllergyIntolerance]  # every record but inactive ones, most recent first
    allergy_banner: AllergyBanner
    active_conditions: list[Condition]
    resolved_conditions: list[Condition]
    medications: list[MedicationRequest]
    immunizations: list[Immunization]
    latest_vitals: list[Observation]
    latest_labs: list[Observation]
    encounters: list[Encounter]
    procedures: list[Procedure]
    care_plans: list[CarePlan]


def get_clinical_summary(*, actor: Actor, patient_id: uuid.UUID) -> ClinicalSummary:
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.VIEW_CLINICAL,
        resource_type="ClinicalSummary",
    )
    return summarize(access)


def summarize(access: PatientAccess) -> ClinicalSummary:
    """The summary of an already checked and audited access."""
    patient = access.patient
    conditions = _for(Condition, patient).order_by("-effective_at")
    # The banner reads every allergy record: no allergy may fall off it because the list is
    # long (the list itself shows the most recent ``LIST_LIMIT``).
    allergies = list(
        _for(AllergyIntolerance, patient).exclude(status=AllergyClinicalStatus.INACTIVE)
    )
    return ClinicalSummary(
        access=access,
        allergies=allergies[:LIST_LIMIT],
        allergy_banner=allergy_banner(allergies),
        active_conditions=list(
            conditions.filter(status__in=ACTIVE_CONDITION_STATUSES)[:LIST_LIMIT]
        ),
        resolved_conditions=list(
            conditions.exclude(status__in=ACTIVE_CONDITION_STATUSES)[:LIST_LIMIT]
        ),
        medications=list(
            _for(MedicationRequest, patient).filter(status__in=ACTIVE_MEDICATION_STATUSES)[
                :LIST_LIMIT
            ]
        ),
        immunizations=list(_for(Immunization, patient)[:LIST_LIMIT]),
        latest_vitals=_latest_observations(patient, "vital-signs"),
        latest_labs=_latest_observations(patient, "laboratory"),
        encounters=list(
            _for(Encounter, patient).select_related("practitioner", "location")[:RECENT_LIMIT]
        ),
        procedures=list(_for(Procedure, patient)[:RECENT_LIMIT]),
        care_plans=list(
            _for(CarePlan, patient).filter(status=CarePlanStatus.ACTIVE)[:RECENT_LIMIT]
        ),
    )


def _for(model: type[FactT], patient: Patient) -> QuerySet[FactT]:
    # The raw resource can be kilobytes per row; the summary never shows it.
    facts: QuerySet[FactT] = model._default_manager.filter(patient=patient).defer("raw")
    return facts.order_by(F("effective_at").desc(nulls_last=True))


def _latest_observations(patient: Patient, category: str) -> list[Observation]:
    """The newest observation of each code in a category (one query)."""
    observations = Observation.objects.filter(patient=patient, category=category).defer("raw")
    ranked = observations.annotate(
        recency=Window(
            RowNumber(),
            partition_by=[F("code")],
            order_by=F("effective_at").desc(nulls_last=True),
        )
    )
    return list(ranked.filter(recency=1).order_by("display")[:LIST_LIMIT])


# --- visits as a patient-facing surface shows them ----------------------------------------


@dataclass(frozen=True)
class VisitRow:
    """One visit from the EHR mirror, in words a patient reads."""

    starts_at: datetime
    title: str
    status: str
    place: str
    clinician: str


_NOT_VISITS = (EncounterStatus.CANCELLED, EncounterStatus.ENTERED_IN_ERROR)


def list_patient_visits(
    *, patient_id: uuid.UUID, upcoming: bool, now: datetime, limit: int = 5
) -> list[VisitRow]:
    """The next (``upcoming``) or the latest past visits of one patient, in one query.

    No permission check: the caller decided access (the portal's ``portal_patient``, which
    audits the read). Staff pages read encounters through ``get_clinical_summary``.
    """
    encounters = (
        Encounter.objects.filter(patient__public_id=patient_id, effective_at__isnull=False)
        .exclude(status__in=_NOT_VISITS)
        .select_related("location", "practitioner")
        .only(
            "effective_at",
            "display",
            "reason",
            "encounter_class",
            "status",
            "location__name",
            "practitioner__given_name",
            "practitioner__family_name",
        )
    )
    if upcoming:
        encounters = encounters.filter(effective_at__gte=now).order_by("effective_at")
    else:
        encounters = encounters.filter(effective_at__lt=now).order_by("-effective_at")
    return [
        VisitRow(
            starts_at=encounter.effective_at,
            title=encounter.display or encounter.reason or "Visit",
            status=EncounterStatus(encounter.status).label if encounter.status else "",
            place=encounter.location.name if encounter.location else "",
            clinician=encounter.practitioner.display_name if encounter.practitioner else "",
        )
        for encounter in encounters[:limit]
        if encounter.effective_at is not None
    ]


def has_encounter_since(
    *, patient: Patient, since: datetime, practitioner_ids: Collection[int] | None
) -> bool:
    """Whether the EHR recorded a visit of the patient since ``since`` — with one of
    ``practitioner_ids`` unless that is None (anyone). Cancelled and entered-in-error
    encounters do not count. One query; the caller has checked access."""
    encounters = Encounter.objects.filter(patient=patient, effective_at__gte=since).exclude(
        status__in=[EncounterStatus.CANCELLED, EncounterStatus.ENTERED_IN_ERROR]
    )
    if practitioner_ids is not None:
        encounters = encounters.filter(practitioner_id__any_of=list(practitioner_ids))
    return encounters.exists()
