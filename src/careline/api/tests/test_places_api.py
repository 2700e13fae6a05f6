"""GET /api/directory/locations/nearest and /practitioners/nearest: answers, refusals, audit.

A ZIP, address or coordinates search reads no patient and writes no audit entry; a patient
origin is one audited read of that patient, refused (and the refusal audited) outside the
caller's scope, and the answer never gives her home's place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from haversine import haversine
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from careline.api.tests.helpers import ApiCaller, error_of
from careline.directory import geo
from careline.directory.models import Location, PractitionerRole
from careline.patients.models import Patient
from careline.platform.authorization import ANONYMOUS_REFUSALS
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import RECEIVED, LocationFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

NEAREST = "/api/directory/locations/nearest"
PRACTITIONERS = "/api/directory/practitioners/nearest"


def at_zip(name: str, zip_code: str, **fields: Any) -> Location:
    area = geo.find_zip_area(zip_code)
    assert area is not None
    values = {"latitude": area.latitude, "longitude": area.longitude, "postal_code": zip_code}
    location: Location = LocationFactory.create(name=name, **(values | fields))
    return location


def km(zip_a: str, zip_b: str) -> float:
    a, b = geo.find_zip_area(zip_a), geo.find_zip_area(zip_b)
    assert a is not None and b is not None
    distance: float = haversine((a.latitude, a.longitude), (b.latitude, b.longitude))
    return round(distance, 2)


@pytest.fixture
def clinics(home_location: Location, other_location: Location) -> None:
    # The callers' own locations sit far away (Hawaii) so they do not crowd the answers.
    for location in (home_location, other_location):
        location.latitude, location.longitude, location.postal_code = 21.3908, -157.9332, "96701"
        location.save(update_fields=["latitude", "longitude", "postal_code"])
    at_zip("Cambridge Clinic", "02139", phone="(617) 555-0100")
    at_zip("Providence Clinic", "02903")
    at_zip("New York Clinic", "10001")
    LocationFactory.create(name="Annex", postal_code="", latitude=None, longitude=None)


def audit_count() -> int:
    return AuditEvent.objects.count()


def names(body: dict[str, Any], key: str = "locations") -> list[str]:
    return [row["name"] for row in body[key]]


def test_a_zip_search_lists_locations_nearest_first_and_audits_nothing(
    api_client: Client, scheduler: ApiCaller, clinics: None
) -> None:
    before = audit_count()

    response = api_client.get(f"{NEAREST}?zip=02118&limit=3", headers=scheduler.headers)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["origin"] == {"label": "ZIP 02118 (Boston, MA)"}
    assert names(body) == ["Cambridge Clinic", "Providence Clinic", "New York Clinic", "Annex"]
    assert [row["distance_km"] for row in body["locations"]] == [
        km("02118", "02139"),
        km("02118", "02903"),
        km("02118", "10001"),
        None,
    ]
    assert body["locations"][2]["distance_miles"] == 186.79
    assert body["unplaced_total"] == 1
    cambridge = body["locations"][0]
    assert cambridge["phone"] == "(617) 555-0100"
    assert cambridge["directions_url"] == (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
        "&route=;42.364700,-71.104200"
    )
    assert audit_count() == before


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("address=1+Main+St%2C+Boston%2C+MA+02118", "ZIP 02118 (Boston, MA)"),
        ("lat=42.3362&lon=-71.0729", "42.33620, -71.07290"),
        ("zip=02118-4321", "ZIP 02118 (Boston, MA)"),
    ],
)
def test_an_address_or_coordinates_give_the_same_order(
    api_client: Client, scheduler: ApiCaller, clinics: None, query: str, expected: str
) -> None:
    response = api_client.get(f"{NEAREST}?{query}&limit=3", headers=scheduler.headers)

    assert response.status_code == 200, response.content
    assert response.json()["origin"]["label"] == expected
    assert names(response.json())[:3] == [
        "Cambridge Clinic",
        "Providence Clinic",
        "New York Clinic",
    ]


def test_the_radius_filter_keeps_only_what_is_that_close(
    api_client: Client, scheduler: ApiCaller, clinics: None
) -> None:
    response = api_client.get(f"{NEAREST}?zip=02118&radius_km=70", headers=scheduler.headers)

    assert names(response.json()) == ["Cambridge Clinic", "Providence Clinic", "Annex"]
    assert response.json()["radius_km"] == 70.0


@pytest.mark.parametrize(
    ("query", "status", "code", "message", "where"),
    [
        (
            "zip=99999",
            422,
            "unknown_zip",
            "ZIP code 99999 is not a known US ZIP code; check the digits.",
            ["query", "zip"],
        ),
        (
            "zip=2118",
            422,
            "validation_failed",
            "Give a 5-digit US ZIP code (ZIP+4 such as 02118-1234 is accepted).",
            ["query", "zip"],
        ),
        (
            "lat=95&lon=10",
            422,
            "validation_failed",
            "Latitude must be a number from -90 to 90 (decimal degrees).",
            ["query", "lat"],
        ),
        (
            "lat=nan&lon=10",
            422,
            "validation_failed",
            "Latitude must be a number from -90 to 90 (decimal degrees).",
            ["query", "lat"],
        ),
        (
            "lat=42&lon=-200",
            422,
            "validation_failed",
            "Longitude must be a number from -180 to 180 (decimal degrees).",
            ["query", "lon"],
        ),
        (
            "lat=42",
            422,
            "validation_failed",
            "Give lat and lon together (decimal degrees).",
            ["query", "lon"],
        ),
        (
            "",
            422,
            "validation_failed",
            "Give exactly one origin: zip, address, lat and lon together, or patient.",
            ["query", "zip"],
        ),
        (
            "address=Main+Street+Boston",
            422,
            "validation_failed",
            "The address has no ZIP code: add its 5-digit ZIP "
            "(e.g. '1 Main St, Boston, MA 02118').",
            ["query", "address"],
        ),
        (
            "zip=02118&radius_km=0",
            422,
            "validation_failed",
            "radius_km must be more than 0 and at most 20,016.",
            ["query", "radius_km"],
        ),
        (
            "zip=02118&limit=500",
            422,
            "validation_failed",
            "limit must be from 1 to 100.",
            ["query", "limit"],
        ),
    ],
)
def test_bad_places_are_refused_with_an_actionable_message(
    api_client: Client,
    scheduler: ApiCaller,
    query: str,
    status: int,
    code: str,
    message: str,
    where: list[str],
) -> None:
    before = audit_count()

    response = api_client.get(f"{NEAREST}?{query}", headers=scheduler.headers)

    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["message"]) == (code, message)
    assert error["details"] == [{"loc": where, "msg": message}]
    assert audit_count() == before


def test_a_malformed_number_is_a_422_in_the_one_error_shape(
    api_client: Client, scheduler: ApiCaller
) -> None:
    response = api_client.get(f"{NEAREST}?lat=north&lon=-71", headers=scheduler.headers)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert error["details"][0]["loc"] == ["query", "lat"]


# ---- the patient's home as the origin ---------------------------------------------------------


def home_in_boston(patient: Patient, *, with_coordinates: bool = True) -> None:
    patient.postal_code = "02118"
    if with_coordinates:
        patient.latitude, patient.longitude = 42.3401, -71.0689
    patient.save(update_fields=["postal_code", "latitude", "longitude"])


def test_a_patient_origin_is_one_audited_read_and_hides_her_home(
    api_client: Client, scheduler: ApiCaller, patient: Patient, clinics: None
) -> None:
    home_in_boston(patient)
    before = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()

    response = api_client.get(f"{NEAREST}?patient={patient.public_id}", headers=scheduler.headers)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["origin"] == {"label": "the patient's home"}
    home = geo.Point(42.3401, -71.0689)
    cambridge = geo.find_zip_area("02139")
    assert cambridge is not None
    assert body["locations"][0]["distance_km"] == round(
        geo.distance_km(home, geo.Point(cambridge.latitude, cambridge.longitude)), 2
    )
    text = response.content.decode()
    assert "42.3401" not in text and "-71.0689" not in text and "02118" not in text
    events = list(AuditEvent.objects.filter(sequence__gt=before or 0).order_by("sequence"))
    assert [(e.action, e.resource_type, e.patient_id, e.channel) for e in events] == [
        ("read", "Patient", patient.public_id, "api")
    ]


def test_a_patient_without_coordinates_is_placed_at_her_zip(
    api_client: Client, scheduler: ApiCaller, patient: Patient, clinics: None
) -> None:
    home_in_boston(patient, with_coordinates=False)

    response = api_client.get(f"{NEAREST}?patient={patient.public_id}", headers=scheduler.headers)

    assert response.json()["locations"][0]["distance_km"] == km("02118", "02139")


def test_a_patient_with_no_home_on_file_gets_a_clear_422(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    response = api_client.get(f"{NEAREST}?patient={patient.public_id}", headers=scheduler.headers)

    assert response.status_code == 422
    assert error_of(response)["message"] == (
        "This patient has no home coordinates or known ZIP on file: "
        "search by ZIP or address instead."
    )


def test_a_patient_and_a_zip_together_are_refused_before_the_patient_is_read(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    before = audit_count()

    response = api_client.get(
        f"{NEAREST}?patient={patient.public_id}&zip=02118", headers=scheduler.headers
    )

    assert response.status_code == 422
    assert error_of(response)["details"][0]["loc"] == ["query", "patient"]
    assert audit_count() == before


@pytest.mark.parametrize("path", [NEAREST, PRACTITIONERS])
def test_a_patient_outside_the_scope_is_refused_and_the_refusal_audited(
    api_client: Client,
    scheduler: ApiCaller,
    outside_patient: Patient,
    clinics: None,
    path: str,
) -> None:
    home_in_boston(outside_patient)
    before = audit_count()

    response = api_client.get(
        f"{path}?patient={outside_patient.public_id}", headers=scheduler.headers
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "break_glass_required"
    assert "Cambridge" not in response.content.decode()
    events = list(AuditEvent.objects.order_by("sequence"))[before:]
    assert [(e.action, e.outcome, e.resource_type, e.patient_id, e.details) for e in events] == [
        (
            "access_denied",
            "denied",
            "Patient",
            outside_patient.public_id,
            {"reason": "break_glass_required"},
        )
    ]


def test_a_role_that_may_see_the_directory_but_not_patients_may_not_use_a_patient_origin(
    api_client: Client,
    caller_for: Callable[..., ApiCaller],
    patient: Patient,
    clinics: None,
) -> None:
    marketer = caller_for(Role.MARKETER)
    home_in_boston(patient)

    by_zip = api_client.get(f"{NEAREST}?zip=02118", headers=marketer.headers)
    by_patient = api_client.get(f"{NEAREST}?patient={patient.public_id}", headers=marketer.headers)

    assert by_zip.status_code == 200
    assert by_patient.status_code == 403
    assert error_of(by_patient)["code"] == "permission_denied"
    [refusal] = AuditEvent.objects.filter(action="access_denied")
    assert (refusal.action, refusal.patient_id, refusal.details) == (
        "access_denied",
        patient.public_id,
        {"permission": "patients.view_patient"},
    )


# ---- authorization matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [NEAREST, PRACTITIONERS])
def test_anonymous_callers_get_401_and_are_counted_not_audited(
    api_client: Client, path: str
) -> None:
    counted = ANONYMOUS_REFUSALS["api"]

    response = api_client.get(f"{path}?zip=02118")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert ANONYMOUS_REFUSALS["api"] == counted + 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("path", "resource"), [(NEAREST, "Location"), (PRACTITIONERS, "Practitioner")]
)
def test_a_role_without_the_directory_permission_gets_403_audited(
    api_client: Client, caller_for: Callable[..., ApiCaller], path: str, resource: str
) -> None:
    compliance = caller_for(Role.COMPLIANCE)

    response = api_client.get(f"{path}?zip=02118", headers=compliance.headers)

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    [refusal] = AuditEvent.objects.filter(action="access_denied")
    assert (refusal.action, refusal.resource_type, refusal.actor_id, refusal.details) == (
        "access_denied",
        resource,
        compliance.user.pk,
        {"permission": "directory.view_directory"},
    )


# ---- practitioners ----------------------------------------------------------------------------


def test_nearest_practitioners_filter_and_show_their_location(
    api_client: Client, scheduler: ApiCaller, clinics: None
) -> None:
    cambridge = Location.objects.get(name="Cambridge Clinic")
    providence = Location.objects.get(name="Providence Clinic")
    for index, (given_name, gender, languages, location) in enumerate(
        [
            ("Ana", "female", ["en", "es"], cambridge),
            ("Bea", "female", ["en"], providence),
            ("Carl", "male", ["es"], providence),
        ]
    ):
        doctor = PractitionerFactory.create(
            given_name=given_name, family_name="Lopez", gender=gender, languages=languages
        )
        PractitionerRole.objects.create(
            practitioner=doctor,
            location=location,
            specialty="Family medicine",
            source_system="urn:test:ehr",
            source_id=f"api-role-{index}",
            received_at=RECEIVED,
            content_hash="0" * 64,
            raw={},
        )

    response = api_client.get(
        f"{PRACTITIONERS}?zip=02118&language=es&specialty=family", headers=scheduler.headers
    )

    assert response.status_code == 200, response.content
    rows = response.json()["practitioners"]
    assert [(row["name"], row["location"]["name"], row["distance_km"]) for row in rows] == [
        ("Dr. Ana Lopez", "Cambridge Clinic", km("02118", "02139")),
        ("Dr. Carl Lopez", "Providence Clinic", km("02118", "02903")),
    ]
    female = api_client.get(f"{PRACTITIONERS}?zip=02118&gender=female", headers=scheduler.headers)
    assert [row["name"] for row in female.json()["practitioners"]] == [
        "Dr. Ana Lopez",
        "Dr. Bea Lopez",
    ]
    bad = api_client.get(f"{PRACTITIONERS}?zip=02118&gender=robot", headers=scheduler.headers)
    assert bad.status_code == 422
    assert error_of(bad)["details"][0]["loc"] == ["query", "gender"]


# ---- one rule, one place: the page and the API agree ---------------------------------------


@pytest.mark.parametrize(
    ("place", "query"),
    [
        ("02118", "zip=02118"),
        ("1 Main St, Boston, MA 02118", "address=1+Main+St%2C+Boston%2C+MA+02118"),
        ("42.3362, -71.0729", "lat=42.3362&lon=-71.0729"),
    ],
)
def test_the_page_and_the_api_list_the_same_locations_in_the_same_order(
    api_client: Client,
    scheduler: ApiCaller,
    clinics: None,
    settings: Any,
    place: str,
    query: str,
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    for index, zip_code in enumerate(["02169", "02169", "02445", "01760", "02906", "03060"]):
        at_zip(f"Extra {index}", zip_code)
    page_client = Client()
    page_client.force_login(scheduler.user)

    page = page_client.post("/directory/locations/", {"place": place, "limit": "8"})
    api = api_client.get(f"{NEAREST}?{query}&limit=8", headers=scheduler.headers)

    assert page.status_code == 200
    shown = re.findall(r'<strong class="nearest__name">([^<]+)</strong>', page.content.decode())
    assert len(shown) == 9  # eight placed, then the one with no place
    assert shown == names(api.json())


QUERY_VALUES = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "02118",
        "0211\uff18",
        "1e309",
        "-1e309",
        "nan",
        "inf",
        "42.3",
        "-71.1",
        "x" * 400,
    ]
) | st.text(max_size=30)


def test_no_query_makes_the_nearest_routes_fail_with_5xx(
    api_client: Client, scheduler: ApiCaller
) -> None:
    @hypothesis_settings(max_examples=80, deadline=None, derandomize=True)
    @given(
        path=st.sampled_from([NEAREST, PRACTITIONERS]),
        values=st.dictionaries(
            st.sampled_from(
                ["zip", "address", "lat", "lon", "patient", "limit", "radius_km", "gender"]
            ),
            QUERY_VALUES,
            max_size=4,
        ),
    )
    def check(path: str, values: dict[str, str]) -> None:
        response = api_client.get(path, values, headers=scheduler.headers)
        assert response.status_code in (200, 404, 422), (values, response.content)
        if response.status_code != 200:
            error_of(response)

    check()
