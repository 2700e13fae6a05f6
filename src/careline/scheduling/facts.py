"""The patient facts booking criteria are judged on — gathered from the registry, the
clinical mirror, the directory and scheduling's own rows.

- **age** on the clinic's day, from the birth date (``None`` when unknown);
- **sex** (FHIR administrative gender);
- **payers** of the coverage current on that day;
- **established** — the common 3-year rule: an EHR encounter with a practitioner of the
  visit type's specialty, or a completed appointment of a visit type of that specialty,
  in the last 3 years (a visit type without a specialty: any visit);
- **referral on file** — a referral staff recorded (``ReferralOnFile``) for the visit type or
  its specialty, received by that day and not expired. The FHIR importer keeps no
  ServiceRequest yet; when it does, this is the one place to add it.

At most six queries. The caller has checked access to the patient.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q

from careline.clinical.selectors import has_encounter_since
from careline.directory.visit_types import SpecialtyMembers, specialty_members
from careline.patients.selectors import list_current_payers
from careline.scheduling.models import Appointment, AppointmentStatus, ReferralOnFile
from careline.scheduling.rules import PatientFacts

if TYPE_CHECKING:
    from careline.directory.models import VisitType
    from careline.patients.models import Patient

ESTABLISHED_YEARS = 3


def established_since(now: datetime) -> datetime:
    return now - timedelta(days=365 * ESTABLISHED_YEARS + 1)


def gather_patient_facts(
    *,
    patient: Patient,
    visit_type: VisitType,
    today: date,
    now: datetime,
    in_specialty: SpecialtyMembers | None = None,
) -> PatientFacts:
    payers = list_current_payers(patient=patient, day=today)
    return PatientFacts(
        age=patient.age_on(today),
        sex=patient.sex,
        payers=frozenset(payer.strip().casefold() for payer in payers if payer.strip()),
        is_established=is_established(
            patient=patient, specialty=visit_type.specialty, now=now, in_specialty=in_specialty
        ),
        has_referral=has_referral(patient=patient, visit_type=visit_type, today=today),
    )


def is_established(
    *,
    patient: Patient,
    specialty: str,
    now: datetime,
    in_specialty: SpecialtyMembers | None = None,
) -> bool:
    since = established_since(now)
    completed = Appointment.objects.filter(
        patient=patient, status=AppointmentStatus.COMPLETED, starts_at__gte=since
    )
    if specialty.strip():
        completed = completed.filter(visit_type__specialty__iexact=specialty.strip())
    if completed.exists():
        return True
    practitioners = (in_specialty or specialty_members(specialty=specialty)).ids
    if practitioners is not None and not practitioners:
        return False
    return has_encounter_since(patient=patient, since=since, practitioner_ids=practitioners)


def has_referral(*, patient: Patient, visit_type: VisitType, today: date) -> bool:
    matching = Q(visit_type=visit_type)
    if visit_type.specialty.strip():
        matching |= Q(specialty__iexact=visit_type.specialty.strip(), visit_type__isnull=True)
    referrals = ReferralOnFile.objects.filter(matching, patient=patient, received_on__lte=today)
    return referrals.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today)).exists()
