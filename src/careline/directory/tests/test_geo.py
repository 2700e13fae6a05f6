"""Places and distances: ZIPs, addresses and coordinates resolved offline, refused clearly."""

from __future__ import annotations

import math

import pytest
import zipcodes
from haversine import Unit, haversine
from hypothesis import given
from hypothesis import strategies as st

from careline.directory import geo
from careline.platform.errors import ValidationFailed


def centroid(zip_code: str) -> tuple[float, float]:
    record = zipcodes.matching(zip_code)[0]
    return float(record["lat"]), float(record["long"])


@pytest.mark.parametrize(
    ("a", "b"),
    [("02118", "10001"), ("02118", "02139"), ("02903", "03101"), ("90210", "96701")],
)
def test_distance_between_zips_is_the_haversine_of_their_centroids(a: str, b: str) -> None:
    expected = haversine(centroid(a), centroid(b), unit=Unit.KILOMETERS)

    assert geo.distance_km(geo.point_from_zip(a), geo.point_from_zip(b)) == expected


def test_boston_to_new_york_hand_checked() -> None:
    # 02118 (42.3362, -71.0729) to 10001 (40.7484, -73.9967) with the haversine formula by
    # hand, R = 6371.0088 km: 300.61 km, 186.79 mi.
    distance = geo.distance_km(geo.point_from_zip("02118"), geo.point_from_zip("10001"))

    assert round(distance, 2) == 300.61
    assert round(geo.km_to_miles(distance), 2) == 186.79


def test_a_zip_resolves_to_its_centroid_with_a_label() -> None:
    point = geo.point_from_zip("02118")

    assert point == geo.Point(42.3362, -71.0729, label="ZIP 02118 (Boston, MA)", zip_code="02118")


@pytest.mark.parametrize("text", ["02118-1234", "021181234", " 02118 "])
def test_zip_plus_four_is_accepted(text: str) -> None:
    assert geo.point_from_zip(text).zip_code == "02118"


@pytest.mark.parametrize(
    "text", ["2118", "021180", "abcde", "02118-12", "", "\uff10\uff12\uff11\uff11\uff18"]
)
def test_a_malformed_zip_is_refused_with_what_to_type(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        geo.point_from_zip(text)

    assert refused.value.code == "validation_failed"
    assert refused.value.message == (
        "Give a 5-digit US ZIP code (ZIP+4 such as 02118-1234 is accepted)."
    )
    assert refused.value.details == {"parameter": "zip"}


@pytest.mark.parametrize("text", ["00000", "99999"])
def test_an_unknown_zip_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        geo.point_from_zip(text)

    assert refused.value.code == "unknown_zip"
    assert refused.value.message == (
        f"ZIP code {text} is not a known US ZIP code; check the digits."
    )


@pytest.mark.parametrize(
    ("address", "zip_code"),
    [
        ("1 Main St, Boston, MA 02118", "02118"),
        ("12345 Harbor Rd, Providence, RI 02903-1234", "02903"),
        ("PO Box 10001\nManchester NH 03101", "03101"),
    ],
)
def test_an_address_is_placed_at_its_zip(address: str, zip_code: str) -> None:
    assert geo.point_from_address(address).zip_code == zip_code


def test_an_address_without_a_zip_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        geo.point_from_address("1 Main St, Boston, MA")

    assert refused.value.message == (
        "The address has no ZIP code: add its 5-digit ZIP (e.g. '1 Main St, Boston, MA 02118')."
    )
    assert refused.value.details == {"parameter": "address"}


@pytest.mark.parametrize(
    ("latitude", "longitude", "parameter", "message"),
    [
        (90.5, 0.0, "lat", "Latitude must be a number from -90 to 90 (decimal degrees)."),
        (-91.0, 0.0, "lat", "Latitude must be a number from -90 to 90 (decimal degrees)."),
        (math.nan, 0.0, "lat", "Latitude must be a number from -90 to 90 (decimal degrees)."),
        (0.0, 180.01, "lon", "Longitude must be a number from -180 to 180 (decimal degrees)."),
        (0.0, -math.inf, "lon", "Longitude must be a number from -180 to 180 (decimal degrees)."),
    ],
)
def test_coordinates_out_of_range_are_refused(
    latitude: float, longitude: float, parameter: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        geo.point_from_coordinates(latitude, longitude)

    assert (refused.value.message, refused.value.details) == (message, {"parameter": parameter})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42.34, -71.07", (42.34, -71.07, "")),
        ("42.34 -71.07", (42.34, -71.07, "")),
        ("02118", (42.3362, -71.0729, "02118")),
        ("1 Main St, Boston, MA 02118", (42.3362, -71.0729, "02118")),
    ],
)
def test_one_search_box_takes_coordinates_a_zip_or_an_address(
    text: str, expected: tuple[float, float, str]
) -> None:
    point = geo.point_from_text(text)

    assert (point.latitude, point.longitude, point.zip_code) == expected


@pytest.mark.parametrize(
    ("given_values", "message", "parameter"),
    [
        ({}, "Give exactly one origin: zip, address, lat and lon together, or patient.", "zip"),
        (
            {"zip_code": "02118", "address": "1 Main St 02118"},
            "Give exactly one origin: zip, address, lat and lon together, or patient.",
            "address",
        ),
        ({"latitude": 42.0}, "Give lat and lon together (decimal degrees).", "lon"),
        ({"longitude": -71.0}, "Give lat and lon together (decimal degrees).", "lat"),
    ],
)
def test_exactly_one_origin_is_required(
    given_values: dict[str, object], message: str, parameter: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        geo.resolve_origin(**given_values)  # type: ignore[arg-type]

    assert (refused.value.message, refused.value.details) == (message, {"parameter": parameter})


def test_a_home_is_its_coordinates_else_its_zip_else_unknown() -> None:
    assert geo.point_of_home(latitude=42.1, longitude=-71.2, postal_code="02118") == geo.Point(
        42.1, -71.2, label="home address"
    )
    assert geo.point_of_home(latitude=None, longitude=None, postal_code="02118") == geo.Point(
        42.3362, -71.0729, label="home ZIP", zip_code="02118"
    )
    assert geo.point_of_home(latitude=None, longitude=None, postal_code="99999") is None
    assert geo.point_of_home(latitude=None, longitude=None, postal_code="") is None


def test_directions_link_goes_to_openstreetmap_with_the_destination_only() -> None:
    url = geo.directions_url(geo.Point(42.3362, -71.0729))

    assert url == (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
        "&route=;42.336200,-71.072900"
    )


def destination(start: geo.Point, bearing_degrees: float, distance_km: float) -> geo.Point:
    """The point ``distance_km`` from ``start`` on an initial bearing (great circle)."""
    angular = distance_km / 6371.0088
    lat1, lon1 = math.radians(start.latitude), math.radians(start.longitude)
    bearing = math.radians(bearing_degrees)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(angular) + math.cos(lat1) * math.sin(angular) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(angular) * math.cos(lat1),
        math.cos(angular) - math.sin(lat1) * math.sin(lat2),
    )
    longitude = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return geo.Point(math.degrees(lat2), longitude)


def inside(box: geo.BoundingBox, point: geo.Point) -> bool:
    return box.south <= point.latitude <= box.north and any(
        west <= point.longitude <= east for west, east in box.longitude_ranges
    )


@given(
    latitude=st.floats(min_value=-89.0, max_value=89.0),
    longitude=st.floats(min_value=-180.0, max_value=180.0),
    radius_km=st.floats(min_value=0.5, max_value=3_000.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_the_bounding_box_holds_every_point_within_the_radius(
    latitude: float, longitude: float, radius_km: float, bearing: float, fraction: float
) -> None:
    centre = geo.Point(latitude, longitude)
    point = destination(centre, bearing, radius_km * fraction)

    assert inside(geo.bounding_box(centre, radius_km), point)


def test_a_box_across_the_antimeridian_has_two_longitude_ranges() -> None:
    box = geo.bounding_box(geo.Point(52.0, 179.5), 100.0)

    assert len(box.longitude_ranges) == 2
    assert box.longitude_ranges[0][1] == 180.0
    assert box.longitude_ranges[1][0] == -180.0
