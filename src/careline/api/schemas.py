"""Schemas of the 360 summary: registry facts and the EHR mirror, each with its provenance.

Every fact carries ``source_system`` and ``received_at`` (``Sourced``). Clinical facts keep
the EHR's code, code system and display; nothing here names an integer primary key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from ninja import Schema

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
from careline.clinical.selectors import ClinicalSummary
from careline.patients.api.schemas import (
    CommunicationPreferenceOut,
    ConsentOut,
    ContactPointOut,
    PractitionerRefOut,
    Sourced,
    TimelinePageOut,
)
from careline.patients.models import CareTeamMember, Coverage, RelatedPerson, SocialNeed

# ---------------------------------------------------------------------------------------------
# Registry facts.


class CaregiverOut(Sourced):
    public_id: uuid.UUID
    name: str
    relationship: str
    phone: str
    email: str
    is_proxy: bool
    is_emergency_contact: bool
    note: str

    @classmethod
    def of(cls, person: RelatedPerson) -> CaregiverOut:
        return cls(
            public_id=person.public_id,
            name=person.name,
            relationship=person.relationship,
            phone=person.phone,
            email=person.email,
            is_proxy=person.is_proxy,
            is_emergency_contact=person.is_emergency_contact,
            note=person.note,
            source_system=person.source_system,
            received_at=person.received_at,
        )


class SocialNeedOut(Sourced):
    public_id: uuid.UUID
    category: str
    note: str
    identified_at: datetime | None

    @classmethod
    def of(cls, need: SocialNeed) -> SocialNeedOut:
        return cls(
            public_id=need.public_id,
            category=need.category,
            note=need.note,
            identified_at=need.identified_at,
            source_system=need.source_system,
            received_at=need.received_at,
        )


class CoverageOut(Sourced):
    public_id: uuid.UUID
    payer: str
    plan: str
    member_id: str
    group: str
    relationship: str
    status: str
    start_date: date | None
    end_date: date | None
    is_current: bool

    @classmethod
    def of(cls, coverage: Coverage, *, today: date) -> CoverageOut:
        return cls(
            public_id=coverage.public_id,
            payer=coverage.payer,
            plan=coverage.plan,
            member_id=coverage.member_id,
            group=coverage.group,
            relationship=coverage.relationship,
            status=coverage.status,
            start_date=coverage.start_date,
            end_date=coverage.end_date,
            is_current=coverage.is_current_on(today),
            source_system=coverage.source_system,
            received_at=coverage.received_at,
        )


class CareTeamMemberOut(Sourced):
    public_id: uuid.UUID
    role: str
    practitioner: PractitionerRefOut | None
    staff_name: str | None

    @classmethod
    def of(cls, member: CareTeamMember) -> CareTeamMemberOut:
        practitioner = member.practitioner
        return cls(
            public_id=member.public_id,
            role=member.role,
            practitioner=(
                PractitionerRefOut.of(practitioner) if practitioner is not None else None
            ),
            staff_name=str(member.user) if member.user is not None else None,
            source_system=member.source_system,
            received_at=member.received_at,
        )


# ---------------------------------------------------------------------------------------------
# Clinical facts (the EHR mirror).


class ClinicalFactOut(Sourced):
    public_id: uuid.UUID
    code: str
    code_system: str
    display: str
    status: str
    effective_at: datetime | None

    @classmethod
    def base_fields(cls, fact: ClinicalFact) -> dict[str, Any]:
        return {
            "public_id": fact.public_id,
            "code": fact.code,
            "code_system": fact.code_system,
            "display": fact.display,
            "status": fact.status,
            "effective_at": fact.effective_at,
            "source_system": fact.source_system,
            "received_at": fact.received_at,
        }


class ConditionOut(ClinicalFactOut):
    verification_status: str
    category: str
    abated_at: datetime | None

    @classmethod
    def of(cls, fact: Condition) -> ConditionOut:
        return cls(
            **cls.base_fields(fact),
            verification_status=fact.verification_status,
            category=fact.category,
            abated_at=fact.abated_at,
        )


class AllergyOut(ClinicalFactOut):
    category: str
    criticality: str
    reactions: str
    verification_status: str

    @classmethod
    def of(cls, fact: AllergyIntolerance) -> AllergyOut:
        return cls(
            **cls.base_fields(fact),
            category=fact.category,
            criticality=fact.criticality,
            reactions=fact.reactions,
            verification_status=fact.verification_status,
        )


class MedicationOut(ClinicalFactOut):
    intent: str
    dosage: str
    requester: str

    @classmethod
    def of(cls, fact: MedicationRequest) -> MedicationOut:
        return cls(
            **cls.base_fields(fact),
            intent=fact.intent,
            dosage=fact.dosage,
            requester=fact.requester,
        )


class ImmunizationOut(ClinicalFactOut):
    @classmethod
    def of(cls, fact: Immunization) -> ImmunizationOut:
        return cls(**cls.base_fields(fact))


class ObservationOut(ClinicalFactOut):
    category: str
    value: str
    value_number: float | None
    value_unit: str
    value_text: str
    interpretation: str

    @classmethod
    def of(cls, fact: Observation) -> ObservationOut:
        return cls(
            **cls.base_fields(fact),
            category=fact.category,
            value=fact.value_display,
            value_number=fact.value_number,
            value_unit=fact.value_unit,
            value_text=fact.value_text,
            interpretation=fact.interpretation,
        )


class EncounterOut(ClinicalFactOut):
    encounter_class: str
    ended_at: datetime | None
    reason: str
    practitioner_name: str | None
    location_name: str | None

    @classmethod
    def of(cls, fact: Encounter) -> EncounterOut:
        return cls(
            **cls.base_fields(fact),
            encounter_class=fact.encounter_class,
            ended_at=fact.ended_at,
            reason=fact.reason,
            practitioner_name=fact.practitioner.display_name if fact.practitioner else None,
            location_name=fact.location.name if fact.location else None,
        )


class ProcedureOut(ClinicalFactOut):
    ended_at: datetime | None

    @classmethod
    def of(cls, fact: Procedure) -> ProcedureOut:
        return cls(**cls.base_fields(fact), ended_at=fact.ended_at)


class CarePlanOut(ClinicalFactOut):
    intent: str
    ended_at: datetime | None
    activities: list[Any]

    @classmethod
    def of(cls, fact: CarePlan) -> CarePlanOut:
        activities = fact.activities if isinstance(fact.activities, list) else []
        return cls(
            **cls.base_fields(fact),
            intent=fact.intent,
            ended_at=fact.ended_at,
            activities=activities,
        )


class ClinicalOut(Schema):
    allergies: list[AllergyOut]
    active_conditions: list[ConditionOut]
    resolved_conditions: list[ConditionOut]
    medications: list[MedicationOut]
    immunizations: list[ImmunizationOut]
    latest_vitals: list[ObservationOut]
    latest_labs: list[ObservationOut]
    encounters: list[EncounterOut]
    procedures: list[ProcedureOut]
    care_plans: list[CarePlanOut]

    @classmethod
    def of(cls, summary: ClinicalSummary) -> ClinicalOut:
        return cls(
            allergies=[AllergyOut.of(fact) for fact in summary.allergies],
            active_conditions=[ConditionOut.of(fact) for fact in summary.active_conditions],
            resolved_conditions=[ConditionOut.of(fact) for fact in summary.resolved_conditions],
            medications=[MedicationOut.of(fact) for fact in summary.medications],
            immunizations=[ImmunizationOut.of(fact) for fact in summary.immunizations],
            latest_vitals=[ObservationOut.of(fact) for fact in summary.latest_vitals],
            latest_labs=[ObservationOut.of(fact) for fact in summary.latest_labs],
            encounters=[EncounterOut.of(fact) for fact in summary.encounters],
            procedures=[ProcedureOut.of(fact) for fact in summary.procedures],
            care_plans=[CarePlanOut.of(fact) for fact in summary.care_plans],
        )


# ---------------------------------------------------------------------------------------------
# The summary.


class BannerOut(Sourced):
    """What a scheduler must see first. Provenance here is the patient record's."""

    public_id: uuid.UUID
    name: str
    age: int | None
    birth_date: date | None
    sex: str
    mrn: str
    is_deceased: bool
    deceased_at: datetime | None
    language: str
    interpreter_needed: bool
    allergies: list[AllergyOut] | None  # null: the caller may not see clinical facts
    has_current_coverage: bool
    transport_need: SocialNeedOut | None
    caregivers: list[CaregiverOut]


class PatientSummaryOut(Schema):
    patient_id: uuid.UUID
    is_break_glass: bool
    banner: BannerOut
    contact_points: list[ContactPointOut]
    communication_preference: CommunicationPreferenceOut | None
    consents: list[ConsentOut]
    coverages: list[CoverageOut]
    primary_care_practitioner: PractitionerRefOut | None
    care_team: list[CareTeamMemberOut]
    clinical: ClinicalOut | None
    timeline: TimelinePageOut


__all__ = [
    "BannerOut",
    "CareTeamMemberOut",
    "CaregiverOut",
    "ClinicalOut",
    "CommunicationPreferenceOut",
    "ConsentOut",
    "ContactPointOut",
    "CoverageOut",
    "PatientSummaryOut",
    "PractitionerRefOut",
    "SocialNeedOut",
    "TimelinePageOut",
]
