"""The nearest-location rule: order, radius, limit, unplaced locations, practitioners' filters,
bounded queries — and the geocoding that places locations imported without coordinates."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from haversine import haversine

from careline.directory import geo
from careline.directory.models import Location, Practitioner, PractitionerRole
from careline.directory.selectors import list_nearest_locations, list_nearest_practitioners
from careline.directory.services import geocode_locations
from careline.platform.actors import Actor
from careline.platform.errors import PermissionDenied, ValidationFailed
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import RECEIVED, LocationFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

BOSTON = geo.point_from_zip("02118")
CLINIC_HOURS = [
    {
        "daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
        "openingTime": "08:00:00",
        "closingTime": "17:00:00",
    }
]
_ids = itertools.count()


def at_zip(name: str, zip_code: str, **fields: Any) -> Location:
    area = geo.find_zip_area(zip_code)
    assert area is not None
    values = {"latitude": area.latitude, "longitude": area.longitude, "postal_code": zip_code}
    location: Location = LocationFactory.create(name=name, **(values | fields))
    return location


def role(practitioner: Practitioner, location: Location, specialty: str, **fields: Any) -> None:
    PractitionerRole.objects.create(
        practitioner=practitioner,
        location=location,
        specialty=specialty,
        specialty_code=fields.pop("specialty_code", ""),
        source_system="urn:test:ehr",
        source_id=f"role-{next(_ids)}",
        received_at=RECEIVED,
        content_hash="0" * 64,
        raw={},
        **fields,
    )


def km(zip_a: str, zip_b: str) -> float:
    a, b = geo.find_zip_area(zip_a), geo.find_zip_area(zip_b)
    assert a is not None and b is not None
    distance: float = haversine((a.latitude, a.longitude), (b.latitude, b.longitude))
    return round(distance, 2)


@pytest.fixture
def places() -> dict[str, Location]:
    return {
        "cambridge": at_zip("Cambridge Clinic", "02139", hours=CLINIC_HOURS),
        "boston": at_zip("Boston Clinic", "02118"),
        "providence": at_zip("Providence Clinic", "02903"),
        "manchester": at_zip("Manchester Clinic", "03101"),
        "new_york": at_zip("New York Clinic", "10001"),
    }


def names(rows: list[Any]) -> list[str]:
    return [row.name for row in rows]


def test_locations_come_nearest_first_with_exact_distances(places: dict[str, Location]) -> None:
    result = list_nearest_locations(origin=BOSTON)

    assert names(result.rows) == [
        "Boston Clinic",
        "Cambridge Clinic",
        "Providence Clinic",
        "Manchester Clinic",
        "New York Clinic",
    ]
    assert [row.distance_km for row in result.rows] == [
        0.0,
        km("02118", "02139"),
        km("02118", "02903"),
        km("02118", "03101"),
        km("02118", "10001"),
    ]
    assert result.rows[4].distance_km == 300.61
    assert result.rows[4].distance_miles == 186.79
    assert result.unplaced_total == 0


def test_equal_distances_are_ordered_by_name() -> None:
    at_zip("Beta", "02139")
    at_zip("Alpha", "02139")

    assert names(list_nearest_locations(origin=BOSTON).rows) == ["Alpha", "Beta"]


def test_the_radius_keeps_only_locations_that_close(places: dict[str, Location]) -> None:
    result = list_nearest_locations(origin=BOSTON, radius_km=km("02118", "02903"))

    assert names(result.rows) == ["Boston Clinic", "Cambridge Clinic", "Providence Clinic"]
    assert result.radius_km == km("02118", "02903")


def test_the_limit_keeps_the_nearest(places: dict[str, Location]) -> None:
    assert names(list_nearest_locations(origin=BOSTON, limit=2).rows) == [
        "Boston Clinic",
        "Cambridge Clinic",
    ]


def test_far_locations_are_found_when_nothing_is_near() -> None:
    at_zip("Honolulu Clinic", "96701")
    at_zip("Anchorage Clinic", "99501")

    result = list_nearest_locations(origin=BOSTON)

    assert names(result.rows) == ["Anchorage Clinic", "Honolulu Clinic"]
    assert [row.distance_km for row in result.rows] == [km("02118", "99501"), km("02118", "96701")]


def test_inactive_locations_are_not_listed(places: dict[str, Location]) -> None:
    places["boston"].is_active = False
    places["boston"].save(update_fields=["is_active"])

    assert "Boston Clinic" not in names(list_nearest_locations(origin=BOSTON).rows)


def test_a_location_without_coordinates_is_placed_at_its_zip(places: dict[str, Location]) -> None:
    LocationFactory.create(name="Quincy Clinic", postal_code="02169", latitude=None, longitude=None)

    result = list_nearest_locations(origin=BOSTON)

    [quincy] = [row for row in result.rows if row.name == "Quincy Clinic"]
    assert quincy.is_placed_by_zip is True
    assert quincy.distance_km == km("02118", "02169")
    assert names(result.rows).index("Quincy Clinic") < names(result.rows).index("New York Clinic")


def test_locations_with_no_place_are_listed_last_as_distance_unknown(
    places: dict[str, Location],
) -> None:
    LocationFactory.create(name="Zed Annex", postal_code="", latitude=None, longitude=None)
    LocationFactory.create(name="Mystery Annex", postal_code="99999", latitude=None, longitude=None)

    result = list_nearest_locations(origin=BOSTON, radius_km=10.0)

    assert names(result.placed) == ["Boston Clinic", "Cambridge Clinic"]
    assert names(result.unplaced) == ["Mystery Annex", "Zed Annex"]
    assert names(result.rows)[-2:] == ["Mystery Annex", "Zed Annex"]
    assert [row.distance_km for row in result.unplaced] == [None, None]
    assert [row.directions_url for row in result.unplaced] == [None, None]
    assert result.unplaced_total == 2


def test_each_row_has_hours_open_now_phone_and_directions(places: dict[str, Location]) -> None:
    places["cambridge"].phone = "(617) 555-0100"
    places["cambridge"].save(update_fields=["phone"])

    with time_machine.travel(datetime(2026, 11, 23, 15, 0, tzinfo=UTC), tick=False):
        result = list_nearest_locations(origin=BOSTON, limit=2)

    cambridge = result.rows[1]
    assert cambridge.hours == "Mon\u2013Fri 08:00\u201317:00"
    assert cambridge.is_open_now is True  # Monday 10:00 in Boston
    assert cambridge.time_zone == "America/New_York"
    assert cambridge.phone == "(617) 555-0100"
    assert cambridge.directions_url == (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
        "&route=;42.364700,-71.104200"
    )
    assert result.rows[0].is_open_now is None  # no hours on file: unknown, not "closed"


def test_the_time_zone_comes_from_the_zip_when_the_location_names_none() -> None:
    at_zip("Honolulu Clinic", "96701")

    [row] = list_nearest_locations(origin=BOSTON).rows

    assert row.time_zone == "Pacific/Honolulu"


def test_bounds_are_refused_with_the_parameter_named() -> None:
    with pytest.raises(ValidationFailed) as refused:
        list_nearest_locations(origin=BOSTON, limit=101)
    assert refused.value.details == {"parameter": "limit"}

    with pytest.raises(ValidationFailed) as refused:
        list_nearest_locations(origin=BOSTON, radius_km=0.0)
    assert refused.value.details == {"parameter": "radius_km"}


@pytest.fixture
def sixty_and_an_annex() -> None:
    for index in range(60):
        at_zip(f"Clinic {index:02d}", "02139" if index % 2 else "02903")
    LocationFactory.create(name="Annex", postal_code="", latitude=None, longitude=None)


def test_a_search_with_enough_nearby_is_two_queries(
    sixty_and_an_annex: None, django_assert_num_queries: Callable[..., Any]
) -> None:
    with django_assert_num_queries(2):  # the 50 km box, the unplaced locations
        result = list_nearest_locations(origin=BOSTON, limit=10)

    assert names(result.placed) == [f"Clinic {index:02d}" for index in range(1, 20, 2)]
    assert names(result.unplaced) == ["Annex"]


def test_a_search_that_must_widen_is_at_most_six_queries(
    sixty_and_an_annex: None, django_assert_num_queries: Callable[..., Any]
) -> None:
    with django_assert_num_queries(6):  # boxes of 50, 200, 800, 3,200 km and the globe
        result = list_nearest_locations(origin=BOSTON, limit=100)

    assert len(result.placed) == 60
    assert names(result.unplaced) == ["Annex"]


# ---- practitioners ------------------------------------------------------------------------


@pytest.fixture
def clinicians(places: dict[str, Location]) -> dict[str, Practitioner]:
    ana = PractitionerFactory.create(
        given_name="Ana", family_name="Reyes", gender="female", languages=["en", "es-MX"]
    )
    bo = PractitionerFactory.create(
        given_name="Bo", family_name="Chen", gender="male", languages=["en", "zh"]
    )
    cy = PractitionerFactory.create(
        given_name="Cy", family_name="Adams", gender="male", languages=["en"]
    )
    role(ana, places["new_york"], "Cardiology", specialty_code="394579002")
    role(ana, places["cambridge"], "Cardiology", specialty_code="394579002")
    role(bo, places["providence"], "Family medicine")
    role(cy, places["boston"], "Family medicine")
    role(cy, places["manchester"], "Family medicine", is_active=False)
    return {"ana": ana, "bo": bo, "cy": cy}


def practitioner_names(rows: list[Any]) -> list[tuple[str, str]]:
    return [(row.display_name, row.location.name) for row in rows]


def test_practitioners_are_listed_once_at_their_nearest_location(
    clinicians: dict[str, Practitioner],
) -> None:
    result = list_nearest_practitioners(origin=BOSTON)

    assert practitioner_names(result.rows) == [
        ("Dr. Cy Adams", "Boston Clinic"),
        ("Dr. Ana Reyes", "Cambridge Clinic"),
        ("Dr. Bo Chen", "Providence Clinic"),
    ]
    assert result.rows[1].location.distance_km == km("02118", "02139")
    assert result.rows[1].languages == ("en", "es-MX")
    assert result.rows[1].specialty == "Cardiology"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"specialty": "family"}, ["Dr. Cy Adams", "Dr. Bo Chen"]),
        ({"specialty": "394579002"}, ["Dr. Ana Reyes"]),
        ({"language": "es"}, ["Dr. Ana Reyes"]),
        ({"language": "ZH"}, ["Dr. Bo Chen"]),
        ({"gender": "female"}, ["Dr. Ana Reyes"]),
        ({"gender": "male", "specialty": "Family"}, ["Dr. Cy Adams", "Dr. Bo Chen"]),
        ({"language": "fr"}, []),
    ],
)
def test_practitioners_filter_by_specialty_language_and_gender(
    clinicians: dict[str, Practitioner], filters: dict[str, Any], expected: list[str]
) -> None:
    result = list_nearest_practitioners(origin=BOSTON, **filters)

    assert [row.display_name for row in result.rows] == expected


def test_an_inactive_practitioner_or_role_is_not_listed(
    clinicians: dict[str, Practitioner],
) -> None:
    clinicians["bo"].is_active = False
    clinicians["bo"].save(update_fields=["is_active"])

    result = list_nearest_practitioners(origin=geo.point_from_zip("03101"), radius_km=30.0)

    assert practitioner_names(result.rows) == []  # Cy's Manchester role is inactive


def test_a_practitioner_search_is_two_queries(
    clinicians: dict[str, Practitioner], django_assert_num_queries: Callable[..., Any]
) -> None:
    with django_assert_num_queries(2):
        result = list_nearest_practitioners(origin=BOSTON, radius_km=500.0)

    assert len(result.rows) == 3


# ---- geocoding ------------------------------------------------------------------------------


def test_geocoding_places_locations_from_their_zip_and_audits_the_counts() -> None:
    quincy = LocationFactory.create(postal_code="02169", latitude=None, longitude=None)
    nowhere = LocationFactory.create(postal_code="", latitude=None, longitude=None)
    placed = at_zip("Placed", "02139", latitude=42.0, longitude=-71.0)

    outcome = geocode_locations(actor=Actor.system("test"))

    assert (outcome.geocoded, outcome.without_known_zip) == (1, 1)
    quincy.refresh_from_db()
    nowhere.refresh_from_db()
    placed.refresh_from_db()
    area = geo.find_zip_area("02169")
    assert area is not None
    assert (quincy.latitude, quincy.longitude) == (area.latitude, area.longitude)
    assert (nowhere.latitude, nowhere.longitude) == (None, None)
    assert (placed.latitude, placed.longitude) == (42.0, -71.0)
    [event] = AuditEvent.objects.all()
    assert (event.action, event.resource_type, event.details) == (
        "update",
        "Location",
        {"geocoded_from_zip": 1, "without_known_zip": 1},
    )


def test_geocoding_is_refused_to_a_role_without_the_import_permission(
    make_user: Callable[..., Any], actor_for: Callable[..., Actor]
) -> None:
    quincy = LocationFactory.create(postal_code="02169", latitude=None, longitude=None)

    with pytest.raises(PermissionDenied):
        geocode_locations(actor=actor_for(make_user(Role.SCHEDULER)))

    quincy.refresh_from_db()
    assert quincy.latitude is None
    assert list(AuditEvent.objects.values_list("action", "details")) == [
        ("access_denied", {"permission": "interop.import_fhir"})
    ]


def test_the_geocode_command_says_what_it_did(capsys: pytest.CaptureFixture[str]) -> None:
    LocationFactory.create(postal_code="02169", latitude=None, longitude=None)

    call_command("directory_geocode")

    assert capsys.readouterr().out == (
        "Placed 1 location(s) at their ZIP code's centre; "
        "0 without a known ZIP keep no coordinates.\n"
    )
