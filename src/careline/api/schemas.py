"""Schemas of the 360 summary: registry facts and the EHR mirror, each with its provenance.

Every fact carries ``source_system`` and ``received_at`` (``Sourced``). Clinical facts keep
the EHR's code, code system and display; nothing here names an integer primary key.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from ninja import Schema
from pydantic import Field

from careline.clinical.banner import AllergyBannerState, no_known_allergy_label
from careline.patients.api.schemas import (
    CommunicationPreferenceOut,
    ConsentOut,
    ContactPointOut,
    CurrentConsentOut,
    PractitionerRefOut,
    Sourced,
    TimelinePageOut,
)
from careline.patients.selectors import ConsentRow, TimelinePage

if TYPE_CHECKING:
    from careline.api.summary import PatientSummary
    from careline.clinical.models import AllergyIntolerance, CarePlan, Encounter, Observation
    from careline.patients.models import (
        CareTeamMember,
        CommunicationPreference,
        Consent,
        ContactPoint,
        Coverage,
        Patient,
        RelatedPerson,
        SocialNeed,
    )
    from careline.scheduling.models import Appointment
    from careline.scheduling.selectors import PatientAppointments

# Every schema reads the attributes of the row or result it presents; ``resolve_*`` names what
# is derived. The summary is validated with its ``PatientSummary`` as context
# (``PatientSummaryOut.of``), so nested parts judge "today" and the banner from the same read.

Context = Mapping[str, Any] | None
_SUMMARY = "summary"


def summary_of(context: Context) -> PatientSummary:
    summary: PatientSummary = (context or {})[_SUMMARY]
    return summary


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


class SocialNeedOut(Sourced):
    public_id: uuid.UUID
    category: str
    note: str
    identified_at: datetime | None


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

    @staticmethod
    def resolve_is_current(coverage: Coverage, context: Context) -> bool:
        return coverage.is_current_on(summary_of(context).today)


class CareTeamMemberOut(Sourced):
    public_id: uuid.UUID
    role: str
    practitioner: PractitionerRefOut | None
    staff_name: str | None

    @staticmethod
    def resolve_staff_name(member: CareTeamMember) -> str | None:
        return str(member.user) if member.user is not None else None


# ---------------------------------------------------------------------------------------------
# Clinical facts (the EHR mirror).


class ClinicalFactOut(Sourced):
    public_id: uuid.UUID
    code: str
    code_system: str
    display: str
    status: str
    effective_at: datetime | None


class ConditionOut(ClinicalFactOut):
    verification_status: str
    category: str
    abated_at: datetime | None


class AllergyOut(ClinicalFactOut):
    category: str
    criticality: str
    reactions: str
    verification_status: str


class NoKnownAllergyOut(ClinicalFactOut):
    """A record saying that no allergy (of a kind) is known."""

    label: str = Field(description='How the banner says it, e.g. "No known drug allergies".')

    @staticmethod
    def resolve_label(record: AllergyIntolerance) -> str:
        return no_known_allergy_label(record) or record.display


class MedicationOut(ClinicalFactOut):
    intent: str
    dosage: str
    requester: str


class ImmunizationOut(ClinicalFactOut):
    pass


class ObservationOut(ClinicalFactOut):
    category: str
    value: str
    value_number: float | None
    value_unit: str
    value_text: str
    interpretation: str

    @staticmethod
    def resolve_value(observation: Observation) -> str:
        return observation.value_display


class EncounterOut(ClinicalFactOut):
    encounter_class: str
    ended_at: datetime | None
    reason: str
    practitioner_name: str | None
    location_name: str | None

    @staticmethod
    def resolve_practitioner_name(encounter: Encounter) -> str | None:
        return encounter.practitioner.display_name if encounter.practitioner else None

    @staticmethod
    def resolve_location_name(encounter: Encounter) -> str | None:
        return encounter.location.name if encounter.location else None


class ProcedureOut(ClinicalFactOut):
    ended_at: datetime | None


class CarePlanOut(ClinicalFactOut):
    intent: str
    ended_at: datetime | None
    activities: list[Any]

    @staticmethod
    def resolve_activities(plan: CarePlan) -> list[Any]:
        return plan.activities if isinstance(plan.activities, list) else []


class ClinicalOut(Schema):  # read from a ``clinical.selectors.ClinicalSummary``
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
    allergies: list[AllergyOut] | None = Field(
        description=(
            "The allergies to show, most critical first: not refuted, entered in error, "
            "inactive or resolved, and not a statement that none is known. Null: the caller "
            "may not see clinical facts."
        )
    )
    allergy_state: AllergyBannerState | None = Field(
        description=(
            "`allergies`, `none-known` (only statements that none is known) or "
            "`no-information` (nothing recorded: ask the patient). Null as for `allergies`."
        )
    )
    no_known_allergies: list[NoKnownAllergyOut] | None = Field(
        description="The statements that none is known; empty when an allergy is recorded."
    )
    has_current_coverage: bool
    transport_need: SocialNeedOut | None
    caregivers: list[CaregiverOut]

    @staticmethod
    def resolve_name(patient: Patient) -> str:
        return patient.display_name

    @staticmethod
    def resolve_age(patient: Patient, context: Context) -> int | None:
        return patient.age_on(summary_of(context).today)

    @staticmethod
    def resolve_allergies(patient: Patient, context: Context) -> list[AllergyIntolerance] | None:
        banner = summary_of(context).allergy_banner
        return list(banner.allergies) if banner is not None else None

    @staticmethod
    def resolve_allergy_state(patient: Patient, context: Context) -> AllergyBannerState | None:
        banner = summary_of(context).allergy_banner
        return banner.state if banner is not None else None

    @staticmethod
    def resolve_no_known_allergies(
        patient: Patient, context: Context
    ) -> list[AllergyIntolerance] | None:
        banner = summary_of(context).allergy_banner
        return [item.record for item in banner.none_known] if banner is not None else None

    @staticmethod
    def resolve_has_current_coverage(patient: Patient, context: Context) -> bool:
        summary = summary_of(context)
        return bool(summary.registry.current_coverages(summary.today))

    @staticmethod
    def resolve_transport_need(patient: Patient, context: Context) -> SocialNeed | None:
        return summary_of(context).registry.transport_need

    @staticmethod
    def resolve_caregivers(patient: Patient, context: Context) -> list[RelatedPerson]:
        return summary_of(context).registry.caregivers


class SummaryAppointmentOut(Schema):  # read from a ``scheduling`` Appointment
    public_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: str
    visit_type_id: uuid.UUID
    visit_type_name: str
    practitioner_id: uuid.UUID
    practitioner_name: str
    location_id: uuid.UUID
    location_name: str

    @staticmethod
    def resolve_visit_type_id(appointment: Appointment) -> uuid.UUID:
        return appointment.visit_type.public_id

    @staticmethod
    def resolve_visit_type_name(appointment: Appointment) -> str:
        return appointment.visit_type.name

    @staticmethod
    def resolve_practitioner_id(appointment: Appointment) -> uuid.UUID:
        return appointment.practitioner.public_id

    @staticmethod
    def resolve_practitioner_name(appointment: Appointment) -> str:
        return appointment.practitioner.display_name

    @staticmethod
    def resolve_location_id(appointment: Appointment) -> uuid.UUID:
        return appointment.location.public_id

    @staticmethod
    def resolve_location_name(appointment: Appointment) -> str:
        return appointment.location.name


class SummaryWaitlistOfferOut(Schema):  # read from ``scheduling.selectors`` PendingOffer
    offer_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    practitioner_name: str
    location_name: str
    expires_at: datetime = Field(description="The patient may accept until then.")


class SummaryWaitlistEntryOut(Schema):  # read from a ``scheduling.selectors.OpenEntry``
    entry_id: uuid.UUID
    visit_type_id: uuid.UUID
    visit_type_name: str
    practitioner_name: str = Field(description="Empty: any provider.")
    location_name: str = Field(description="Empty: any location.")
    earliest_date: date
    latest_date: date
    earliest_time: time | None
    latest_time: time | None
    status: str = Field(description='"active" (waiting) or "offered".')
    is_move_up: bool
    offer: SummaryWaitlistOfferOut | None = Field(
        description="The slot offered now and until when; null when none is out."
    )


class AppointmentsOut(Schema):  # read from a ``scheduling.selectors.PatientAppointments``
    upcoming: list[SummaryAppointmentOut] = Field(
        description="Booked or arrived, not yet over; soonest first (at most 10)."
    )
    missed: list[SummaryAppointmentOut] = Field(description="No-shows, latest first (at most 5).")
    waitlist: list[SummaryWaitlistEntryOut] = Field(
        description="Open waitlist entries (waiting or offered), oldest first (at most 20)."
    )


class PatientSummaryOut(Schema):
    patient_id: uuid.UUID
    is_break_glass: bool
    banner: BannerOut
    contact_points: list[ContactPointOut]
    communication_preference: CommunicationPreferenceOut | None
    consents: list[ConsentOut]
    current_consents: list[CurrentConsentOut] = Field(
        description="The current decision for each purpose that has one, by purpose."
    )
    coverages: list[CoverageOut]
    primary_care_practitioner: PractitionerRefOut | None
    care_team: list[CareTeamMemberOut]
    clinical: ClinicalOut | None
    appointments: AppointmentsOut | None = Field(
        description=(
            "Upcoming and missed appointments and open waitlist entries; null without "
            "scheduling.view_schedule."
        )
    )
    timeline: TimelinePageOut

    @classmethod
    def of(cls, summary: PatientSummary) -> PatientSummaryOut:
        return cls.model_validate(summary, context={_SUMMARY: summary})

    @staticmethod
    def resolve_patient_id(summary: PatientSummary) -> uuid.UUID:
        return summary.registry.patient.public_id

    @staticmethod
    def resolve_is_break_glass(summary: PatientSummary) -> bool:
        return summary.registry.access.is_break_glass

    @staticmethod
    def resolve_banner(summary: PatientSummary) -> Patient:
        return summary.registry.patient

    @staticmethod
    def resolve_contact_points(summary: PatientSummary) -> list[ContactPoint]:
        return summary.registry.contact_points

    @staticmethod
    def resolve_communication_preference(
        summary: PatientSummary,
    ) -> CommunicationPreference | None:
        return summary.registry.preference

    @staticmethod
    def resolve_consents(summary: PatientSummary) -> list[Consent]:
        return summary.registry.consents

    @staticmethod
    def resolve_current_consents(summary: PatientSummary) -> list[ConsentRow]:
        return summary.registry.current_consents(summary.today)

    @staticmethod
    def resolve_coverages(summary: PatientSummary) -> list[Coverage]:
        return summary.registry.coverages

    @staticmethod
    def resolve_primary_care_practitioner(summary: PatientSummary) -> object:
        return summary.registry.patient.primary_care_practitioner

    @staticmethod
    def resolve_care_team(summary: PatientSummary) -> list[CareTeamMember]:
        return summary.registry.care_team

    @staticmethod
    def resolve_appointments(summary: PatientSummary) -> PatientAppointments | None:
        return summary.appointments

    @staticmethod
    def resolve_timeline(summary: PatientSummary) -> TimelinePage:
        return summary.registry.timeline


__all__ = [
    "AppointmentsOut",
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
