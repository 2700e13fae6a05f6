"""Patient search: what a typed query means, what it finds, and what it audits."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from careline.patients.models import PatientIdentifier
from careline.patients.selectors import SearchQuery, parse_search_query, search_patients
from careline.platform.audit.selectors import list_search_appearances
from careline.platform.errors import PermissionDenied, ValidationFailed
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import ContactPointFactory, PatientFactory

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(617) 555-0142", SearchQuery(phone="+16175550142")),
        ("617.555.0142", SearchQuery(phone="+16175550142")),
        ("+1 617 555 0142", SearchQuery(phone="+16175550142")),
        ("03/14/1951", SearchQuery(birth_date=dt.date(1951, 3, 14))),
        ("3/14/51", SearchQuery(birth_date=dt.date(1951, 3, 14))),
        ("1951-03-14", SearchQuery(birth_date=dt.date(1951, 3, 14))),
        ("MRN0001234", SearchQuery(identifier="MRN0001234")),
        ("José Núñ", SearchQuery(name_words=("jose", "nun"))),
        ("jones 1951-03-14", SearchQuery(name_words=("jones",), birth_date=dt.date(1951, 3, 14))),
    ],
)
def test_a_typed_query_is_read_as_phone_date_identifier_or_name(text, expected):
    assert parse_search_query(text, today=TODAY) == expected


@pytest.fixture
def agent(make_user, actor_for):
    return actor_for(make_user(Role.CONTACT_CENTER_AGENT))


@pytest.mark.django_db
def test_finds_by_name_fragment_birth_date_phone_and_mrn(agent):
    robert = PatientFactory.create(
        given_names="Robert", family_name="Jones", search_name="robert jones", mrn="MRN0000042"
    )
    PatientFactory.create(
        given_names="Roberta",
        family_name="Smith",
        search_name="roberta smith",
        birth_date=dt.date(1980, 1, 2),
    )
    ContactPointFactory.create(patient=robert, value="+16175550142")
    PatientIdentifier.objects.create(
        patient=robert, system="urn:other", value="X-77", received_at=robert.received_at
    )

    def names(text):
        return [hit.display_name for hit in search_patients(actor=agent, text=text)]

    assert names("rob") == ["Robert Jones", "Roberta Smith"]
    assert names("rob jon") == ["Robert Jones"]
    assert names("03/14/1951") == ["Robert Jones"]
    assert names("617-555-0142") == ["Robert Jones"]
    assert names("mrn0000042") == ["Robert Jones"]
    assert names("X-77") == ["Robert Jones"]
    assert names("zzz") == []


@pytest.mark.django_db
def test_search_is_audited_without_the_typed_text(agent):
    robert = PatientFactory.create(
        given_names="Robert", family_name="Jones", search_name="robert jones"
    )

    search_patients(actor=agent, text="robert 03/14/1951")

    event = AuditEvent.objects.get()
    assert (event.action, event.resource_type, event.patient_id) == ("search", "Patient", None)
    assert event.details == {
        "criteria": ["name", "birth_date"],
        "results": 1,
        "patients": [str(robert.public_id)],
    }
    assert "robert" not in str(event.details).lower()


@pytest.mark.django_db
def test_a_listed_patient_sees_the_search_in_her_access_history(agent):
    robert = PatientFactory.create(
        given_names="Robert", family_name="Jones", search_name="robert jones"
    )
    roberta = PatientFactory.create(
        given_names="Roberta", family_name="Smith", search_name="roberta smith"
    )

    search_patients(actor=agent, text="robert")
    search_patients(actor=agent, text="roberta")
    search_patients(actor=agent, text="zzz")

    searches = AuditEvent.objects.filter(action="search").order_by("sequence")
    first, second, _none = searches
    assert [event.pk for event in list_search_appearances(patient_id=robert.public_id)] == [
        first.pk
    ]
    assert [event.pk for event in list_search_appearances(patient_id=roberta.public_id)] == [
        second.pk,
        first.pk,
    ]
    assert list_search_appearances(patient_id=uuid.uuid4()) == []


@pytest.mark.django_db
def test_too_short_a_query_asks_for_more(agent):
    with pytest.raises(ValidationFailed, match="at least 2 characters"):
        search_patients(actor=agent, text=" r ")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_roles_without_patient_access_cannot_search(make_user, actor_for):
    marketer = actor_for(make_user(Role.MARKETER))
    PatientFactory.create()

    with pytest.raises(PermissionDenied):
        search_patients(actor=marketer, text="robert")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.resource_type, event.details) == (
        "access_denied",
        "denied",
        "Patient",
        {"permission": "patients.view_patient"},
    )


@pytest.mark.django_db
def test_family_names_starting_with_the_text_come_first_then_other_matches(agent):
    for given, family in [("John", "Smith"), ("Amy", "Johnson"), ("Zoe", "Johns"), ("Li", "Ajohn")]:
        PatientFactory.create(
            given_names=given, family_name=family, search_name=f"{family} {given}".lower()
        )

    hits = search_patients(actor=agent, text="john")

    assert [hit.display_name for hit in hits] == [
        "Zoe Johns",
        "Amy Johnson",
        "Li Ajohn",
        "John Smith",
    ]
    assert [hit.display_name for hit in search_patients(actor=agent, text="john", limit=1)] == [
        "Zoe Johns"
    ]
