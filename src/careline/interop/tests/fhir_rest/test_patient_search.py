"""Patient search: each parameter against hand-made patients, exact ids; paging; handling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from careline.interop.tests.fhir_rest.conftest import BASE, FhirCaller
from careline.interop.tests.fhir_rest.helpers import fhir_body, ids, outcome
from careline.patients.models import Patient
from careline.platform.audit.selectors import SEARCH_LISTED_PATIENTS
from careline.platform.models import AuditAction, AuditEvent
from careline.testing.factories import ContactPointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_patient: Callable[..., Patient]) -> dict[str, Patient]:
    """Five patients of the home location with distinct, hand-checked details."""
    jose = make_patient(
        given_names="José Luis",
        family_name="Núñez",
        birth_date=dt.date(1980, 2, 29),
        sex="male",
        mrn="MRN0000001",
        postal_code="02118",
    )
    maria = make_patient(
        given_names="María",
        family_name="Nunes",
        birth_date=dt.date(1980, 12, 31),
        sex="female",
        mrn="MRN0000002",
        postal_code="02139",
    )
    anna = make_patient(
        given_names="Anna",
        family_name="Jonas",
        birth_date=dt.date(1975, 6, 1),
        sex="female",
        mrn="MRN0000003",
        postal_code="10001",
    )
    joe = make_patient(
        given_names="Joe",
        family_name="Smith",
        birth_date=None,
        sex="unknown",
        mrn="MRN0000004",
        postal_code="",
    )
    lee = make_patient(
        given_names="Lee",
        family_name="De la Cruz",
        birth_date=dt.date(2001, 1, 1),
        sex="other",
        mrn="MRN0000005",
        postal_code="02118-1234",
    )
    ContactPointFactory.create(patient=jose, system="phone", value="+16175550142")
    ContactPointFactory.create(patient=maria, system="sms", value="+16175550199")
    ContactPointFactory.create(patient=anna, system="email", value="anna.jonas@example.org")
    ContactPointFactory.create(
        patient=joe, system="phone", value="+16175550142", is_active=False
    )  # an old number is not his any more
    jose.identifiers.create(
        system="urn:oid:1.2.36.146.595.217.0.1", value="12345", received_at=jose.received_at
    )
    anna.identifiers.create(system="urn:test:other", value="12345", received_at=anna.received_at)
    return {"jose": jose, "maria": maria, "anna": anna, "joe": joe, "lee": lee}


def search_ids(caller: FhirCaller, query: str, people: dict[str, Patient]) -> list[str]:
    response = caller.get(f"Patient?{query}")
    assert response.status_code == 200, response.content[:400]
    bundle = fhir_body(response, "Bundle")
    names = {str(p.public_id): key for key, p in people.items()}
    return sorted(names[i] for i in ids(bundle))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=nun", ["jose", "maria"]),
        ("name=NÚÑ", ["jose", "maria"]),
        ("name=luis", ["jose"]),
        ("name=uis", []),
        ("name:contains=uis", ["jose"]),
        ("name:exact=Núñez", ["jose"]),
        ("name:exact=nunez", []),
        ("name=cruz", ["lee"]),
        ("family=nu", ["jose", "maria"]),
        ("family=jos", []),
        ("family:exact=Nunes", ["maria"]),
        ("family:contains=la cr", ["lee"]),
        ("given=jo", ["joe", "jose"]),
        ("given=luis", ["jose"]),
        ("given:exact=Anna", ["anna"]),
        ("given=nun", []),
        ("name=nunes,jonas", ["anna", "maria"]),
        ("name=n&given=mar", ["maria"]),
        ("birthdate=1980", ["jose", "maria"]),
        ("birthdate=1980-02", ["jose"]),
        ("birthdate=1980-02-29", ["jose"]),
        ("birthdate=eq1980-12-31", ["maria"]),
        ("birthdate=ne1980", ["anna", "lee"]),
        ("birthdate=lt1980", ["anna"]),
        ("birthdate=eb1980-02-29", ["anna"]),
        ("birthdate=le1980-02-29", ["anna", "jose"]),
        ("birthdate=gt1980-02", ["lee", "maria"]),
        ("birthdate=sa1980", ["lee"]),
        ("birthdate=ge1980-12-31", ["lee", "maria"]),
        ("birthdate=ge1976&birthdate=lt2000", ["jose", "maria"]),
        ("gender=female", ["anna", "maria"]),
        ("gender=http://hl7.org/fhir/administrative-gender|other", ["lee"]),
        ("gender=male,unknown", ["joe", "jose"]),
        ("phone=(617) 555-0142", ["jose"]),
        ("phone=%2B16175550199", ["maria"]),
        ("phone=not a phone", []),
        ("email=Anna.Jonas@Example.org", ["anna"]),
        ("email=nobody@example.org", []),
        ("address-postalcode=0211", ["jose", "lee"]),
        ("address-postalcode=10001", ["anna"]),
        ("identifier=12345", ["anna", "jose"]),
        ("identifier=urn:test:other|12345", ["anna"]),
        ("identifier=urn:test:other|", ["anna"]),
        ("identifier=|12345", []),
        ("identifier=MRN0000004", ["joe"]),
        ("identifier=https://careline.health/fhir/sid/mrn|MRN0000005", ["lee"]),
        ("identifier=urn:test:other|MRN0000005", []),
    ],
)
def test_each_parameter_finds_exactly_the_matching_patients(
    scheduler: FhirCaller, people: dict[str, Patient], query: str, expected: list[str]
) -> None:
    assert search_ids(scheduler, query, people) == expected


def test_id_and_last_updated(scheduler: FhirCaller, people: dict[str, Patient]) -> None:
    jose, anna = people["jose"], people["anna"]
    assert search_ids(scheduler, f"_id={jose.public_id},{anna.public_id}", people) == [
        "anna",
        "jose",
    ]
    assert search_ids(scheduler, "_id=not-a-uuid", people) == []
    Patient.objects.filter(pk=anna.pk).update(
        updated_at=dt.datetime(2026, 3, 5, 10, 30, tzinfo=dt.UTC)
    )
    Patient.objects.exclude(pk=anna.pk).update(updated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert search_ids(scheduler, "_lastUpdated=2026-03", people) == ["anna"]
    assert search_ids(scheduler, "_lastUpdated=2026-03-05T10:30Z", people) == ["anna"]
    assert search_ids(scheduler, "_lastUpdated=2026-03-05T05:30-05:00", people) == ["anna"]
    assert search_ids(scheduler, "_lastUpdated=gt2026-03-05", people) == [
        "joe",
        "jose",
        "lee",
        "maria",
    ]


def test_post_search_answers_like_get(scheduler: FhirCaller, people: dict[str, Patient]) -> None:
    response = scheduler.post_search("Patient/_search", {"family": "nu", "gender": "female"})
    bundle = fhir_body(response, "Bundle")
    assert ids(bundle) == [str(people["maria"].public_id)]
    assert bundle["total"] == 1
    assert bundle["link"] == [
        {"relation": "self", "url": f"{BASE}/Patient?family=nu&gender=female&_count=20"}
    ]


def test_summary_count_gives_the_total_only(
    scheduler: FhirCaller, people: dict[str, Patient]
) -> None:
    bundle = fhir_body(scheduler.get("Patient?birthdate=1980&_summary=count"), "Bundle")
    assert bundle["total"] == 2
    assert "entry" not in bundle


def test_lenient_ignores_unknown_parameters_and_leaves_them_out_of_self(
    scheduler: FhirCaller, people: dict[str, Patient]
) -> None:
    bundle = fhir_body(scheduler.get("Patient?family=jonas&shoe-size=9&_sort=name"), "Bundle")
    assert ids(bundle) == [str(people["anna"].public_id)]
    assert bundle["link"][0]["url"] == f"{BASE}/Patient?family=jonas&_count=20"


def test_strict_refuses_unknown_parameters(
    scheduler: FhirCaller, people: dict[str, Patient]
) -> None:
    response = scheduler.get("Patient?family=jonas&shoe-size=9", Prefer="handling=strict")
    issue = outcome(response, 400)
    assert issue["expression"] == ["shoe-size"]
    assert issue["diagnostics"] == "Unknown or unsupported search parameter(s): shoe-size."


def test_search_lists_only_patients_the_caller_may_open(
    scheduler: FhirCaller,
    make_patient: Callable[..., Patient],
    other_location: Any,
    people: dict[str, Patient],
) -> None:
    outsider = make_patient(
        given_names="Anna", family_name="Jonas", primary_location=other_location
    )
    bundle = fhir_body(scheduler.get("Patient?family=jonas"), "Bundle")
    assert ids(bundle) == [str(people["anna"].public_id)]
    assert str(outsider.public_id) not in str(bundle)


def test_search_is_audited_with_the_listed_ids_and_never_the_values(
    scheduler: FhirCaller, people: dict[str, Patient]
) -> None:
    fhir_body(scheduler.get("Patient?family=nu&birthdate=1980"), "Bundle")
    event = AuditEvent.objects.filter(action=AuditAction.SEARCH).get()
    assert event.actor_id == scheduler.user.pk
    assert event.channel == "api"
    assert event.details == {
        "criteria": ["birthdate", "family"],
        "results": 2,
        SEARCH_LISTED_PATIENTS: [str(people["jose"].public_id), str(people["maria"].public_id)],
    }


def test_paging_is_keyset_with_no_duplicates_or_gaps_under_inserts(
    scheduler: FhirCaller, make_patient: Callable[..., Patient]
) -> None:
    first = [make_patient(given_names="Pat", family_name=f"Page{n:02d}") for n in range(5)]
    seen: list[str] = []
    url: str | None = f"{BASE}/Patient?family=page&_count=2"
    pages = 0
    while url is not None:
        parsed = urlparse(url)
        assert url.startswith(f"{BASE}/Patient?")
        assert parse_qs(parsed.query)["_count"] == ["2"]
        bundle = fhir_body(scheduler.get(f"Patient?{parsed.query}"), "Bundle")
        seen += ids(bundle)
        pages += 1
        if pages == 1:  # written while the client pages: listed once, further on
            late = make_patient(given_names="Pat", family_name="Page99")
            Patient.objects.filter(pk=first[0].pk).update(family_name="Paged")
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    expected = [str(p.public_id) for p in first] + [str(late.public_id)]
    assert seen == expected
    assert pages == 3


def test_a_forged_cursor_is_a_400(scheduler: FhirCaller) -> None:
    issue = outcome(scheduler.get("Patient?_cursor=1"), 400)
    assert issue["expression"] == ["_cursor"]


def test_count_is_capped_at_100(scheduler: FhirCaller, people: dict[str, Patient]) -> None:
    bundle = fhir_body(scheduler.get("Patient?_count=5000"), "Bundle")
    assert bundle["link"][0]["url"] == f"{BASE}/Patient?_count=100"
    assert bundle["total"] == 5


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("birthdate=1980-13", "birthdate"),
        ("birthdate=ap1980", "birthdate"),
        ("birthdate=1980-01-01T10:00Z", "birthdate"),
        ("_lastUpdated=yesterday", "_lastUpdated"),
        ("gender=woman", "gender"),
        ("name:phonetic=jo", "name:phonetic"),
        ("name=", "name"),
        ("_count=-1", "_count"),
        ("_summary=true", "_summary"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(
    scheduler: FhirCaller, query: str, parameter: str
) -> None:
    issue = outcome(scheduler.get(f"Patient?{query}"), 400)
    assert issue["expression"] == [parameter]
    assert issue["code"] == "invalid"


def test_a_page_costs_the_same_queries_whatever_its_size(
    scheduler: FhirCaller, make_patient: Callable[..., Patient]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(12):
        patient = make_patient(given_names="Pat", family_name=f"Count{n:02d}")
        ContactPointFactory.create(patient=patient, value=f"+1617555{n:04d}")
    scheduler.get("Patient?family=count&_count=1")  # the token's last use is written once
    with CaptureQueriesContext(connection) as small:
        assert len(ids(fhir_body(scheduler.get("Patient?family=count&_count=2"), "Bundle"))) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(ids(fhir_body(scheduler.get("Patient?family=count&_count=10"), "Bundle"))) == 10
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 12
