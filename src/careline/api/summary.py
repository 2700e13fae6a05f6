"""The 360 summary: ``GET /api/patients/{id}/summary``.

It composes the registry view (``patients``, layer 1) with the clinical summary (``clinical``,
layer 2), so it lives in the API assembly. The patient is checked and audited once, by the
registry view (which also reads the first timeline page); the clinical half reuses that
access. Clinical facts are included only for actors holding ``clinical.view_clinical``
(else ``null``).

A fixed number of queries whatever the patient's history (every list is bounded).
"""

from __future__ import annotations

import uuid
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from careline.api.schemas import (
    BannerOut,
    CaregiverOut,
    CareTeamMemberOut,
    ClinicalOut,
    CommunicationPreferenceOut,
    ConsentOut,
    ContactPointOut,
    CoverageOut,
    PatientSummaryOut,
    PractitionerRefOut,
    SocialNeedOut,
    TimelinePageOut,
)
from careline.clinical.selectors import ClinicalSummary, summarize
from careline.patients.selectors import PatientRegistryView, get_patient_registry_view
from careline.platform import clock
from careline.platform.actors import actor_from_request
from careline.platform.models import AuditChannel
from careline.platform.permissions import Perm

router = Router(tags=["patients"])


@router.get(
    "{uuid:patient_id}/summary", response=PatientSummaryOut, summary="The patient's 360 summary"
)
def get_patient_summary(request: HttpRequest, patient_id: uuid.UUID) -> PatientSummaryOut:
    actor = actor_from_request(request, channel=AuditChannel.API)
    view = get_patient_registry_view(actor=actor, patient_id=patient_id)
    clinical = summarize(view.access) if actor.has_permission(Perm.VIEW_CLINICAL) else None
    return build_summary(view, clinical, today=_clinic_today())


def build_summary(
    view: PatientRegistryView, clinical: ClinicalSummary | None, *, today: date
) -> PatientSummaryOut:
    patient = view.patient
    pcp = patient.primary_care_practitioner
    coverages = [CoverageOut.of(coverage, today=today) for coverage in view.coverages]
    clinical_out = ClinicalOut.of(clinical) if clinical is not None else None
    return PatientSummaryOut(
        patient_id=patient.public_id,
        is_break_glass=view.access.is_break_glass,
        banner=_banner(view, clinical_out, coverages, today),
        contact_points=[ContactPointOut.of(contact) for contact in view.contact_points],
        communication_preference=(
            CommunicationPreferenceOut.of(view.preference) if view.preference else None
        ),
        consents=[ConsentOut.of(consent) for consent in view.consents],
        coverages=coverages,
        primary_care_practitioner=PractitionerRefOut.of(pcp) if pcp is not None else None,
        care_team=[CareTeamMemberOut.of(member) for member in view.care_team],
        clinical=clinical_out,
        timeline=TimelinePageOut.of(view.timeline),
    )


def _banner(
    view: PatientRegistryView,
    clinical_out: ClinicalOut | None,
    coverages: list[CoverageOut],
    today: date,
) -> BannerOut:
    patient = view.patient
    transport_need = view.transport_need
    return BannerOut(
        public_id=patient.public_id,
        name=patient.display_name,
        age=patient.age_on(today),
        birth_date=patient.birth_date,
        sex=patient.sex,
        mrn=patient.mrn,
        is_deceased=patient.is_deceased,
        deceased_at=patient.deceased_at,
        language=patient.language,
        interpreter_needed=patient.interpreter_needed,
        allergies=clinical_out.allergies if clinical_out is not None else None,
        has_current_coverage=any(coverage.is_current for coverage in coverages),
        transport_need=SocialNeedOut.of(transport_need) if transport_need else None,
        caregivers=[CaregiverOut.of(person) for person in view.caregivers],
        source_system=patient.source_system,
        received_at=patient.received_at,
    )


def _clinic_today() -> date:
    """Ages and current coverage are judged on the clinic's calendar day."""
    return clock.now().astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
