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
    raw: dict[str, Any] = factory.LazyFunction(dict)


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
