"""Slots near a place: a ZIP, an address or the patient's home orders the locations offering
the visit type nearest first (the directory's one nearest rule), each with its next slots
and its distance; the Schedule page and ``GET /api/scheduling/slots`` answer the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.directory import geo
from careline.directory.selectors import list_nearest_locations
from careline.platform.models import AuditEvent
from careline.scheduling import selectors
from careline.scheduling.selectors import PlaceQuery
from careline.testing.factories import LocationFactory, PatientFactory
from careline.testing.scheduling import TUESDAY, Clinic, make_practitioner, make_template

pytestmark = pytest.mark.django_db

# Worcester, MA: about 60 km west of the clinic in Boston (ZIP 02118).
WORCESTER: dict[str, Any] = {"postal_code": "01608", "latitude": 42.2626, "longitude": -71.8023}
# Cambridge, MA: about 5 km from the clinic; it has no hours, so it offers nothing.
CAMBRIDGE: dict[str, Any] = {"postal_code": "02139", "latitude": 42.3647, "longitude": -71.1042}


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def far(clinic: Clinic) -> Any:
    """A second practitioner in Worcester whose sessions start earlier than the clinic's,
    so that earliest-first and nearest-first differ."""
    location = LocationFactory.create(
        name="Worcester Clinic", time_zone="America/New_York", **WORCESTER
    )
    LocationFactory.create(name="Cambridge Office", time_zone="America/New_York", **CAMBRIDGE)
    practitioner = make_practitioner(given_name="Ben", family_name="Okafor")
    make_template(practitioner, location, start=dt.time(7), end=dt.time(9))
    clinic.scheduler.locations.add(location)
    return location


def _near(clinic: Clinic, place: PlaceQuery, limit: int = 6) -> selectors.SlotsNear:
    return selectors.search_slots_near(
        actor=clinic.actor,
        visit_type_id=clinic.visit_type.public_id,
        patient_id=clinic.patient.public_id,
        place=place,
        date_from=TUESDAY,
        date_to=TUESDAY,
        limit=limit,
    )


def _distance(zip_code: str, latitude: float, longitude: float) -> float:
    origin = geo.point_from_zip(zip_code)
    return round(geo.distance_km(origin, geo.Point(latitude, longitude)), 2)


def test_a_zip_orders_the_offering_locations_nearest_first_with_distance(
    clinic: Clinic, far: Any
) -> None:
    found = _near(clinic, PlaceQuery(zip_code="02118"))
    assert [row.name for row in found.locations] == ["Harbor Clinic", "Worcester Clinic"]
    near_km = _distance("02118", 42.3388, -71.0726)
    far_km = _distance("02118", WORCESTER["latitude"], WORCESTER["longitude"])
    assert near_km < 1.0 < 55.0 < far_km < 65.0
    assert [(o.location_name, o.local_start.time(), o.distance_km) for o in found.options] == [
        ("Harbor Clinic", dt.time(9, 0), near_km),
        ("Harbor Clinic", dt.time(9, 15), near_km),
        ("Harbor Clinic", dt.time(9, 30), near_km),
        ("Worcester Clinic", dt.time(7, 0), far_km),
        ("Worcester Clinic", dt.time(7, 15), far_km),
        ("Worcester Clinic", dt.time(7, 30), far_km),
    ]
    assert found.origin is not None and found.origin.label == "ZIP 02118 (Boston, MA)"


def test_the_order_of_locations_is_the_directorys_nearest_rule(clinic: Clinic, far: Any) -> None:
    origin = geo.point_from_zip("01609")  # Worcester
    found = _near(clinic, PlaceQuery(zip_code="01609"))
    directory = list_nearest_locations(
        origin=origin,
        location_ids=selectors.list_offering_location_ids(
            visit_type_id=clinic.visit_type.public_id
        ),
    )
    assert [(r.public_id, r.distance_km) for r in found.locations] == [
        (r.public_id, r.distance_km) for r in directory.rows
    ]
    assert [r.name for r in found.locations] == ["Worcester Clinic", "Harbor Clinic"]
    assert [o.location_name for o in found.options] == ["Worcester Clinic"] * 3 + [
        "Harbor Clinic"
    ] * 3


def test_without_a_place_the_search_stays_earliest_first(clinic: Clinic, far: Any) -> None:
    found = _near(clinic, PlaceQuery(), limit=3)
    assert found.origin is None and found.locations == []
    assert [(o.location_name, o.local_start.time()) for o in found.options] == [
        ("Worcester Clinic", dt.time(7, 0)),
        ("Worcester Clinic", dt.time(7, 15)),
        ("Worcester Clinic", dt.time(7, 30)),
    ]


def test_the_patients_home_is_an_audited_read_of_her_record(clinic: Clinic, far: Any) -> None:
    clinic.patient.postal_code = "01605"  # Worcester
    clinic.patient.save(update_fields=["postal_code"])
    before = AuditEvent.objects.filter(resource_type="Patient").count()
    found = _near(clinic, PlaceQuery(near_patient=True))
    assert found.origin is not None and found.origin.label == "the patient's home"
    assert [row.name for row in found.locations] == ["Worcester Clinic", "Harbor Clinic"]
    reads = AuditEvent.objects.filter(resource_type="Patient").order_by("pk")[before:]
    assert [(event.action, event.patient_id) for event in reads] == [
        ("read", clinic.patient.public_id)
    ]


def test_a_patient_with_no_home_on_file_gets_a_422_naming_near_patient(
    client: Client, clinic: Clinic
) -> None:
    client.force_login(clinic.scheduler)
    response = client.get(
        "/api/scheduling/slots",
        {
            "visit_type": str(clinic.visit_type.public_id),
            "patient": str(clinic.patient.public_id),
            "near_patient": "true",
            "date_from": "2026-06-02",
            "date_to": "2026-06-02",
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert [item["loc"] for item in error["details"]] == [["query", "near_patient"]]
    assert error["message"].startswith("This patient has no home coordinates or known ZIP")


@pytest.mark.parametrize(
    ("extra", "parameter", "message"),
    [
        ({"near_patient": "true"}, "near_patient", "Choose the patient first"),
        ({"near_patient": "true", "zip": "02118", "patient": "P"}, "near_patient", "Give one"),
        ({"zip": "02118", "address": "1 Main St 02118"}, "address", "Give exactly one"),
        ({"zip": "99999"}, "zip", "ZIP code 99999 is not a known US ZIP code"),
        ({"address": "1 Main St, Boston"}, "address", "The address has no ZIP code"),
    ],
)
def test_the_api_refuses_an_unclear_place_with_a_422(
    client: Client, clinic: Clinic, extra: dict[str, str], parameter: str, message: str
) -> None:
    client.force_login(clinic.scheduler)
    if extra.get("patient") == "P":
        extra = {**extra, "patient": str(clinic.patient.public_id)}
    before = AuditEvent.objects.filter(resource_type="Patient").count()
    response = client.get(
        "/api/scheduling/slots",
        {
            "visit_type": str(clinic.visit_type.public_id),
            "date_from": "2026-06-02",
            "date_to": "2026-06-02",
            **extra,
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert [item["loc"] for item in error["details"]] == [["query", parameter]]
    assert error["message"].startswith(message)
    assert AuditEvent.objects.filter(resource_type="Patient").count() == before


def test_a_patient_outside_the_scope_cannot_be_a_place(client: Client, clinic: Clinic) -> None:
    elsewhere = LocationFactory.create(name="Elsewhere")
    stranger = PatientFactory.create(primary_location=elsewhere, postal_code="02118")
    client.force_login(clinic.scheduler)
    response = client.get(
        "/api/scheduling/slots",
        {
            "visit_type": str(clinic.visit_type.public_id),
            "patient": str(stranger.public_id),
            "near_patient": "true",
            "date_from": "2026-06-02",
            "date_to": "2026-06-02",
        },
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "break_glass_required"
    assert "Worcester" not in response.content.decode()
    assert "Harbor" not in response.content.decode()


@pytest.mark.parametrize(
    ("page_place", "api_place"),
    [
        ({"place": "02118"}, {"zip": "02118"}),
        (
            {"place": "1 Main St, Worcester, MA 01608"},
            {"address": "1 Main St, Worcester, MA 01608"},
        ),
        ({"near_patient": "on"}, {"near_patient": "true"}),
    ],
)
def test_the_page_and_the_api_give_the_same_order_for_the_same_place(
    client: Client,
    clinic: Clinic,
    far: Any,
    page_place: dict[str, str],
    api_place: dict[str, str],
) -> None:
    clinic.patient.latitude, clinic.patient.longitude = 42.27, -71.80  # near Worcester
    clinic.patient.save(update_fields=["latitude", "longitude"])
    client.force_login(clinic.scheduler)
    search = {
        "patient": str(clinic.patient.public_id),
        "visit_type": str(clinic.visit_type.public_id),
        "date_from": "2026-06-02",
        "date_to": "2026-06-03",
    }
    page = client.post(reverse("scheduling:schedule"), {**search, **page_place})
    assert page.status_code == 200
    api = client.get("/api/scheduling/slots", {**search, **api_place, "limit": "20"})
    assert api.status_code == 200
    page_rows = [
        (o.starts_at.isoformat().replace("+00:00", "Z"), str(o.location_id), o.distance_km)
        for o in page.context["options"]
    ]
    api_rows = [(o["starts_at"], o["location_id"], o["distance_km"]) for o in api.json()]
    assert api_rows == page_rows
    assert len(page_rows) == 20
    distances = [row[2] for row in page_rows]
    assert distances == sorted(distances)
    assert len(set(distances)) == 2
    html = page.content.decode()
    assert "Nearest first from" in html
    assert html.count(" km</span>") == 20


def test_the_page_shows_a_place_error_next_to_the_field(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.scheduler)
    page = client.post(
        reverse("scheduling:schedule"),
        {
            "patient": str(clinic.patient.public_id),
            "visit_type": str(clinic.visit_type.public_id),
            "date_from": "2026-06-02",
            "date_to": "2026-06-02",
            "place": "99999",
        },
    )
    assert page.status_code == 200
    assert page.context["form"].errors == {
        "place": ["ZIP code 99999 is not a known US ZIP code; check the digits."]
    }
    assert page.context["options"] is None
