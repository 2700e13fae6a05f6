"""factory-boy factories for tests: staff users per role, locations, patients and their facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from careline.directory.models import Location, Organization, Practitioner
from careline.patients.models import ContactPoint, Patient, RelatedPerson, SocialNeed
from careline.platform.models import User
from careline.platform.permissions import Role

RECEIVED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
TEST_PASSWORD = "correct horse battery staple"  # noqa: S105 (test fixture)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    role = Role.SCHEDULER
    password = factory.django.Password(TEST_PASSWORD)


class SourcedFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        abstract = True

    source_system = "urn:test:ehr"
    source_id = factory.Sequence(lambda n: f"src-{n}")
    received_at = RECEIVED
    content_hash = "0" * 64
    raw = factory.LazyFunction(dict)


class OrganizationFactory(SourcedFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Clinic group {n}")


class LocationFactory(SourcedFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Harbor Clinic {n}")
    city = "Boston"
    state = "MA"
    postal_code = "02118"
    latitude = 42.3388
    longitude = -71.0726


class PractitionerFactory(SourcedFactory):
    class Meta:
        model = Practitioner

    given_name = "Ana"
    family_name = factory.Sequence(lambda n: f"Doctor{n}")
    prefix = "Dr."
    npi = "1234567893"


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    given_names = "Robert"
    family_name = factory.Sequence(lambda n: f"Jones{n}")
    search_name = factory.LazyAttribute(lambda p: f"{p.given_names} {p.family_name}".lower())
    birth_date = dt.date(1951, 3, 14)
    sex = "male"
    mrn = factory.Sequence(lambda n: f"MRN{n:07d}")
    received_at = RECEIVED
    created_at = RECEIVED
    updated_at = factory.LazyFunction(timezone.now)


class ContactPointFactory(factory.django.DjangoModelFactory[ContactPoint]):
    class Meta:
        model = ContactPoint

    patient = factory.SubFactory(PatientFactory)
    system = "phone"
    value = "+16175550142"
    use = "mobile"
    received_at = RECEIVED


class RelatedPersonFactory(factory.django.DjangoModelFactory[RelatedPerson]):
    class Meta:
        model = RelatedPerson

    patient = factory.SubFactory(PatientFactory)
    name = "Mary Jones"
    relationship = "Caregiver"
    relationship_code = "CGV"
    is_caregiver = True
    received_at = RECEIVED


class SocialNeedFactory(factory.django.DjangoModelFactory[SocialNeed]):
    class Meta:
        model = SocialNeed

    patient = factory.SubFactory(PatientFactory)
    category = "transportation"
    received_at = RECEIVED


# --- Registry facts and the clinical mirror (added for the API tests) -------------------------


class ConsentFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = "patients.Consent"

    patient = factory.SubFactory(PatientFactory)
    purpose = "sms"
    status = "active"
    decided_at = RECEIVED
    received_at = RECEIVED


class CoverageFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = "patients.Coverage"

    patient = factory.SubFactory(PatientFactory)
    payer = "Harbor Health Plan"
    plan = "PPO"
    member_id = factory.Sequence(lambda n: f"HHP{n:08d}")
    start_date = dt.date(2024, 1, 1)
    received_at = RECEIVED


class CareTeamMemberFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = "patients.CareTeamMember"

    patient = factory.SubFactory(PatientFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    role = "Primary care physician"
    received_at = RECEIVED


class TimelineEventFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = "patients.TimelineEvent"

    patient = factory.SubFactory(PatientFactory)
    kind = "call"
    occurred_at = factory.Sequence(lambda n: RECEIVED - dt.timedelta(hours=n + 1))
    title = "Inbound call"
    received_at = RECEIVED


class ClinicalFactFactory(SourcedFactory):
    class Meta:
        abstract = True

    patient = factory.SubFactory(PatientFactory)
    code_system = "http://snomed.info/sct"
    status = "active"
    effective_at = factory.Sequence(lambda n: RECEIVED - dt.timedelta(days=n + 1))


class ConditionFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.Condition"

    code = "44054006"
    display = "Diabetes mellitus type 2"


class AllergyFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.AllergyIntolerance"

    code = "293637006"
    display = "Allergy to iodinated contrast media"
    criticality = "high"


class MedicationRequestFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.MedicationRequest"

    code_system = "http://www.nlm.nih.gov/research/umls/rxnorm"
    code = "860975"
    display = "metformin 500 MG Oral Tablet"
    intent = "order"


class EncounterFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.Encounter"

    code = "185349003"
    display = "Encounter for check up"
    status = "finished"
    encounter_class = "AMB"


class ObservationFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.Observation"

    code_system = "http://loinc.org"
    code = "8867-4"
    display = "Heart rate"
    status = "final"
    category = "vital-signs"
    value_number = 72.0
    value_unit = "/min"


class ImmunizationFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.Immunization"

    code_system = "http://hl7.org/fhir/sid/cvx"
    code = "140"
    display = "Influenza, seasonal, injectable"
    status = "completed"


class ProcedureFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.Procedure"

    code = "430193006"
    display = "Medication reconciliation"
    status = "completed"


class CarePlanFactory(ClinicalFactFactory):
    class Meta:
        model = "clinical.CarePlan"

    code = "735985000"
    display = "Diabetes self management plan"
    intent = "plan"
