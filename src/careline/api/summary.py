"""The 360 summary: ``GET /api/patients/{id}/summary``.

It composes the registry view (``patients``, layer 1) with the clinical summary (``clinical``,
layer 2), so it lives in the API assembly. The patient is checked and audited once, by the
registry view (which also reads the first timeline page); the clinical half reuses that
access. Clinical facts are included only for actors holding ``clinical.view_clinical``
(else ``null``), upcoming and missed appointments and open waitlist entries (``scheduling``,
layer 3) only for actors holding ``scheduling.view_schedule``.

A fixed number of queries whatever the patient's history (every list is bounded).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from careline.api.schemas import PatientSummaryOut
from careline.clinical.banner import AllergyBanner
from careline.clinical.selectors import ClinicalSummary, summarize
from careline.patients.selectors import PatientRegistryView, get_patient_registry_view
from careline.platform import clock
from careline.platform.actors import actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission
from careline.scheduling.selectors import PatientAppointments, list_patient_appointments

router = Router(tags=["patients"])


@dataclass(frozen=True)
class PatientSummary:
    """What the summary presents: one checked read of each half, judged on one clinic day."""

    registry: PatientRegistryView
    clinical: ClinicalSummary | None  # None: the caller may not see clinical facts
    today: date
    appointments: PatientAppointments | None = None  # None: may not see the schedule

    @property
    def allergy_banner(self) -> AllergyBanner | None:
        return self.clinical.allergy_banner if self.clinical is not None else None


@router.get(
    "{uuid:patient_id}/summary", response=PatientSummaryOut, summary="The patient's 360 summary"
)
@api_requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def get_patient_summary(request: HttpRequest, patient_id: uuid.UUID) -> PatientSummaryOut:
    actor = actor_from_request(request, channel=AuditChannel.API)
    registry = get_patient_registry_view(actor=actor, patient_id=patient_id)
    clinical = (
        summarize(registry.access) if actor.has_permission(Permission.VIEW_CLINICAL) else None
    )
    appointments = (
        list_patient_appointments(patient=registry.patient, now=clock.now())
        if actor.has_permission(Permission.VIEW_SCHEDULE)
        else None
    )
    return PatientSummaryOut.of(
        PatientSummary(registry, clinical, today=_clinic_today(), appointments=appointments)
    )


def _clinic_today() -> date:
    """Ages and current coverage are judged on the clinic's calendar day."""
    return clock.now().astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
