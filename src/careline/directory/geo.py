"""Places and distances for location-based services, offline.

A place is given as a US address (its ZIP is used), a 5-digit ZIP (ZIP+4 accepted) or
coordinates ("lat,lon"). ZIPs resolve to their centroid from the `zipcodes` package (no
network, ever); distances are great-circle distances from the `haversine` package. Every
surface (staff page, API, portal) resolves its origin here, so they refuse the same inputs
with the same messages: ``ValidationFailed`` (422) naming the parameter, with the code
``unknown_zip`` for a well-formed ZIP that does not exist.

Nothing here reads or writes the database; ``careline.directory.selectors`` lists the
locations and practitioners nearest to a ``Point``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import zipcodes
from haversine import Unit, haversine

from careline.platform.errors import ValidationFailed

KM_PER_MILE = 1.609344
# Half the Earth's circumference: no two points are further apart.
MAX_RADIUS_KM = 20_016.0
# ASCII digits only: ``\d`` would take other scripts' digits too.
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$", re.ASCII)
_ZIP_IN_TEXT = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)", re.ASCII)
_COORDINATES = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d+(?:\.\d+)?)\s*$", re.ASCII)
_DIRECTIONS_URL = "https://www.openstreetmap.org/directions"


@dataclass(frozen=True)
class Point:
    """A point on the Earth, in decimal degrees, and what it was resolved from."""

    latitude: float
    longitude: float
    label: str = ""
    zip_code: str = ""


@dataclass(frozen=True)
class ZipArea:
    zip_code: str
    city: str
    state: str
    time_zone: str
    latitude: float
    longitude: float


@functools.cache
def _zip_index() -> dict[str, ZipArea]:
    """Every US ZIP with a centroid, by ZIP (built once; ~43,000 entries)."""
    index: dict[str, ZipArea] = {}
    for record in zipcodes.list_all():  # type: ignore[no-untyped-call]
        try:
            latitude, longitude = float(record["lat"]), float(record["long"])
        except (TypeError, ValueError):
            continue
        index[str(record["zip_code"])] = ZipArea(
            zip_code=str(record["zip_code"]),
            city=str(record.get("city") or ""),
            state=str(record.get("state") or ""),
            time_zone=str(record.get("timezone") or ""),
            latitude=latitude,
            longitude=longitude,
        )
    return index


def find_zip_area(zip_code: str) -> ZipArea | None:
    """The ZIP area of a 5-digit ZIP or ZIP+4 (``None`` when malformed or unknown)."""
    match = _ZIP.match(zip_code.strip())
    return _zip_index().get(match.group(1)) if match else None


def point_from_zip(zip_code: str, *, parameter: str = "zip") -> Point:
    """The centroid of a US ZIP; 422 when it is malformed or not a known ZIP."""
    text = zip_code.strip()
    match = _ZIP.match(text)
    if match is None:
        raise ValidationFailed(
            "Give a 5-digit US ZIP code (ZIP+4 such as 02118-1234 is accepted).",
            details={"parameter": parameter},
        )
    area = _zip_index().get(match.group(1))
    if area is None:
        raise ValidationFailed(
            f"ZIP code {match.group(1)} is not a known US ZIP code; check the digits.",
            details={"parameter": parameter},
            code="unknown_zip",
        )
    return Point(
        area.latitude,
        area.longitude,
        label=f"ZIP {area.zip_code} ({area.city}, {area.state})",
        zip_code=area.zip_code,
    )


def point_from_address(address: str, *, parameter: str = "address") -> Point:
    """A US address, placed at the centroid of its ZIP (the last 5-digit group in it)."""
    found = _ZIP_IN_TEXT.findall(address)
    if not found:
        raise ValidationFailed(
            "The address has no ZIP code: add its 5-digit ZIP "
            "(e.g. '1 Main St, Boston, MA 02118').",
            details={"parameter": parameter},
        )
    return point_from_zip(found[-1], parameter=parameter)


def point_from_coordinates(latitude: float, longitude: float, *, parameter: str = "lat") -> Point:
    """A point from decimal degrees; 422 unless -90 ≤ latitude ≤ 90 and -180 ≤ longitude ≤ 180."""
    if not (math.isfinite(latitude) and -90.0 <= latitude <= 90.0):
        raise ValidationFailed(
            "Latitude must be a number from -90 to 90 (decimal degrees).",
            details={"parameter": parameter},
        )
    if not (math.isfinite(longitude) and -180.0 <= longitude <= 180.0):
        raise ValidationFailed(
            "Longitude must be a number from -180 to 180 (decimal degrees).",
            details={"parameter": "lon" if parameter == "lat" else parameter},
        )
    return Point(latitude, longitude, label=f"{latitude:.5f}, {longitude:.5f}")


def point_from_text(text: str, *, parameter: str = "place") -> Point:
    """One search box: "lat, lon" coordinates, a ZIP, or an address with its ZIP."""
    stripped = text.strip()
    if not stripped:
        raise ValidationFailed(
            "Give an address with its ZIP, a 5-digit ZIP or coordinates (lat, lon).",
            details={"parameter": parameter},
        )
    coordinates = _COORDINATES.match(stripped)
    if coordinates and ("." in stripped or "," in stripped):
        latitude, longitude = float(coordinates.group(1)), float(coordinates.group(2))
        return point_from_coordinates(latitude, longitude, parameter=parameter)
    if _ZIP.match(stripped):
        return point_from_zip(stripped, parameter=parameter)
    return point_from_address(stripped, parameter=parameter)


def resolve_origin(
    *,
    zip_code: str | None = None,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Point:
    """Exactly one origin: a ZIP, an address, or both coordinates (the API's parameters)."""
    given = [
        name
        for name, value in (("zip", zip_code), ("address", address), ("lat", latitude))
        if value is not None
    ]
    if latitude is None and longitude is not None:
        given.append("lon")
    if len(given) != 1:
        raise ValidationFailed(
            "Give exactly one origin: zip, address, lat and lon together, or patient.",
            details={"parameter": given[-1] if given else "zip"},
        )
    if zip_code is not None:
        return point_from_zip(zip_code)
    if address is not None:
        return point_from_address(address)
    if latitude is None or longitude is None:
        raise ValidationFailed(
            "Give lat and lon together (decimal degrees).",
            details={"parameter": "lon" if longitude is None else "lat"},
        )
    return point_from_coordinates(latitude, longitude)


def point_of_home(
    *, latitude: float | None, longitude: float | None, postal_code: str
) -> Point | None:
    """Where a patient (or a location) is: its coordinates, else its ZIP's centroid."""
    if latitude is not None and longitude is not None:
        return Point(latitude, longitude, label="home address")
    area = find_zip_area(postal_code) if postal_code else None
    if area is None:
        return None
    return Point(area.latitude, area.longitude, label="home ZIP", zip_code=area.zip_code)


PATIENT_HOME = "the patient's home"


def origin_of_home(
    *, latitude: float | None, longitude: float | None, postal_code: str, parameter: str
) -> Point:
    """A patient's home as a search origin, labelled (never located) in what is shown;
    422 naming ``parameter`` when she has neither coordinates nor a known ZIP on file."""
    home = point_of_home(latitude=latitude, longitude=longitude, postal_code=postal_code)
    if home is None:
        raise ValidationFailed(
            "This patient has no home coordinates or known ZIP on file: "
            "search by ZIP or address instead.",
            details={"parameter": parameter},
        )
    return Point(home.latitude, home.longitude, label=PATIENT_HOME)


def distance_km(a: Point, b: Point) -> float:
    return float(
        haversine((a.latitude, a.longitude), (b.latitude, b.longitude), unit=Unit.KILOMETERS)
    )


def km_to_miles(kilometres: float) -> float:
    return kilometres / KM_PER_MILE


@dataclass(frozen=True)
class BoundingBox:
    """Latitude and longitude ranges holding every point within a radius of a centre.

    ``longitude_ranges`` has two ranges when the box crosses the antimeridian, and is the
    whole circle near a pole.
    """

    south: float
    north: float
    longitude_ranges: tuple[tuple[float, float], ...]


def bounding_box(centre: Point, radius_km: float) -> BoundingBox:
    """The box (slightly larger than needed) around the circle of ``radius_km``."""
    earth_radius_km = 6371.0088  # the haversine package's mean radius
    angular = radius_km / earth_radius_km * 1.001  # a margin for rounding
    south = max(-90.0, centre.latitude - math.degrees(angular))
    north = min(90.0, centre.latitude + math.degrees(angular))
    if south <= -90.0 or north >= 90.0 or angular >= math.pi / 2:
        return BoundingBox(south, north, ((-180.0, 180.0),))
    spread = math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(centre.latitude))))
    west = centre.longitude - math.degrees(spread)
    east = centre.longitude + math.degrees(spread)
    if west < -180.0:
        return BoundingBox(south, north, ((west + 360.0, 180.0), (-180.0, east)))
    if east > 180.0:
        return BoundingBox(south, north, ((west, 180.0), (-180.0, east - 360.0)))
    return BoundingBox(south, north, ((west, east),))


def directions_url(destination: Point, origin: Point | None = None) -> str:
    """An OpenStreetMap directions link (built here; no call is made)."""
    route = f"{_coordinate(origin)};{_coordinate(destination)}" if origin else ""
    query = {"engine": "fossgis_osrm_car", "route": route or f";{_coordinate(destination)}"}
    return f"{_DIRECTIONS_URL}?{urlencode(query, safe=',;')}"


def _coordinate(point: Point | None) -> str:
    return "" if point is None else f"{point.latitude:.6f},{point.longitude:.6f}"
