"""Reads of the directory: rows by source id, NPI or identifier for imports (each one query
whatever the number of keys asked for), and the locations and practitioners nearest to a
place (below).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Min, Q, QuerySet

from careline.directory import geo, hours
from careline.directory.models import Location, Organization, Practitioner, PractitionerRole
from careline.platform import clock
from careline.platform.bulk import select_by_source
from careline.platform.errors import ValidationFailed
from careline.platform.models import SourcedModel

T = TypeVar("T")
R = TypeVar("R")

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"

_MODELS: dict[str, type[SourcedModel]] = {
    "Organization": Organization,
    "Location": Location,
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
}
_WITH_NPI: dict[str, type[Organization] | type[Practitioner]] = {
    "Organization": Organization,
    "Practitioner": Practitioner,
}


def is_directory_type(resource_type: str) -> bool:
    return resource_type in _MODELS


def find_ids_by_source(
    *, kind: str, source_system: str, source_ids: Collection[str]
) -> dict[str, int]:
    """source id → primary key of the rows of ``kind`` that exist."""
    rows = select_by_source(_MODELS[kind], source_system, source_ids, ("source_id", "id"))
    return dict(rows)


def find_ids_by_npi(*, kind: str, source_system: str, npis: Collection[str]) -> dict[str, int]:
    """NPI → primary key, preferring a row from ``source_system`` over one from elsewhere."""
    model = _WITH_NPI.get(kind)
    if model is None or not npis:
        return {}
    found: dict[str, int] = {}
    rows = model._default_manager.filter(npi__in=list(npis)).values_list(
        "npi", "pk", "source_system"
    )
    for npi, pk, _ in sorted(rows, key=lambda row: (row[2] != source_system, row[1])):
        found.setdefault(npi, pk)
    return found


def identifier_index(*, kind: str, source_system: str) -> dict[tuple[str | None, str], int]:
    """(identifier system, value) → primary key for every row of ``kind`` from a source.

    Read from the stored resources; used once per import run when a conditional reference
    (``Location?identifier=…``) names a row imported by an earlier run.
    """
    index: dict[tuple[str | None, str], int] = {}
    rows = (
        _MODELS[kind]
        ._default_manager.filter(source_system=source_system)
        .values_list("pk", "raw__identifier")
    )
    for pk, identifiers in rows:
        for identifier in identifiers if isinstance(identifiers, list) else []:
            if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                index.setdefault((identifier.get("system"), identifier["value"]), pk)
    return index


def first_location_ids(*, organization_ids: Collection[int]) -> dict[int, int]:
    """Organization primary key → the primary key of its first (oldest) active location."""
    if not organization_ids:
        return {}
    rows = (
        Location.objects.filter(organization_id__in=list(organization_ids), is_active=True)
        .values("organization_id")
        .annotate(first=Min("pk"))
        .order_by()
    )
    return {row["organization_id"]: row["first"] for row in rows}


def organization_names(*, organization_ids: Collection[int]) -> dict[int, str]:
    if not organization_ids:
        return {}
    rows = Organization.objects.filter(pk__in=list(organization_ids)).values_list("pk", "name")
    return dict(rows)


# ---- nearest locations and practitioners (location-based services) ----------------------
#
# The one rule every surface (staff page, API, portal) uses: active locations by great-circle
# distance from the origin (``directory.geo``), nearest first, ties by name; a location with
# no coordinates is placed at its ZIP's centroid; one with neither is listed after the others
# as "distance unknown" — never dropped. Each search is a bounding-box query in SQL (the box
# grows until ``limit`` rows are inside the radius) and haversine in Python; the raw FHIR
# resources are never loaded.

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_SEARCH_RADII_KM = (50.0, 200.0, 800.0, 3_200.0, geo.MAX_RADIUS_KM)


@dataclass(frozen=True)
class NearbyLocation:
    public_id: uuid.UUID
    name: str
    line: str
    city: str
    state: str
    postal_code: str
    phone: str
    point: geo.Point | None
    is_placed_by_zip: bool
    distance_km: float | None
    openings: tuple[hours.Opening, ...]
    is_open_now: bool | None
    time_zone: str

    @property
    def distance_miles(self) -> float | None:
        return None if self.distance_km is None else round(geo.km_to_miles(self.distance_km), 2)

    @property
    def address(self) -> str:
        place = " ".join(part for part in (self.state, self.postal_code) if part)
        return ", ".join(part for part in (self.line, self.city, place) if part)

    @property
    def hours(self) -> str:
        return hours.summarize_hours(self.openings)

    @property
    def directions_url(self) -> str | None:
        """Directions to the location; the origin is left for the reader to fill in, so a
        patient's home never travels to the map site."""
        return geo.directions_url(self.point) if self.point else None


@dataclass(frozen=True)
class NearbyPractitioner:
    public_id: uuid.UUID
    display_name: str
    npi: str
    gender: str
    languages: tuple[str, ...]
    specialty: str
    location: NearbyLocation


@dataclass(frozen=True)
class Nearest(Generic[T]):
    """Rows nearest first, then those whose distance is unknown (``unplaced``)."""

    origin: geo.Point
    radius_km: float | None
    placed: list[T]
    unplaced: list[T]
    unplaced_total: int

    @property
    def rows(self) -> list[T]:
        return [*self.placed, *self.unplaced]


def list_nearest_locations(
    *,
    origin: geo.Point,
    limit: int = DEFAULT_LIMIT,
    radius_km: float | None = None,
    location_ids: Collection[uuid.UUID] | None = None,
) -> Nearest[NearbyLocation]:
    """The active locations nearest to ``origin`` (within ``radius_km`` when given; only
    those of ``location_ids`` when given — e.g. where a visit type is offered)."""
    validate_search_bounds(limit=limit, radius_km=radius_km)
    locations = _locations()
    if location_ids is not None:
        locations = locations.filter(public_id__in=list(location_ids))

    def placed_within(radius: float) -> list[_Candidate[Location]]:
        rows = locations.filter(_box_filter(geo.bounding_box(origin, radius), prefix=""))
        return _ranked(origin, radius, [(row, row) for row in rows])

    placed = _expanding(radius_km, limit, placed_within)
    unplaced = _ranked(origin, radius_km, [(row, row) for row in locations.filter(_unplaced(""))])
    nearest = sorted([*placed, *(c for c in unplaced if c.point)], key=_Candidate.order)[:limit]
    unknown = sorted((c.row for c in unplaced if c.point is None), key=lambda row: row.name)
    moment = clock.now()
    return Nearest(
        origin,
        radius_km,
        [_nearby(c.row, c, moment) for c in nearest],
        [_nearby(row, None, moment) for row in unknown[:limit]],
        len(unknown),
    )


def list_nearest_practitioners(
    *,
    origin: geo.Point,
    specialty: str = "",
    language: str = "",
    gender: str = "",
    limit: int = DEFAULT_LIMIT,
    radius_km: float | None = None,
) -> Nearest[NearbyPractitioner]:
    """Active practitioners by the distance of their nearest active role's location.

    ``specialty`` matches the role's specialty code exactly or its name in part (any case);
    ``language`` a code the practitioner speaks ("es" also matches "es-MX"); ``gender`` the
    FHIR administrative gender. Each practitioner is listed once, at her nearest location.
    """
    validate_search_bounds(limit=limit, radius_km=radius_km)
    roles = _roles(specialty=specialty.strip(), gender=gender.strip().lower())
    wanted = language.strip().lower()

    def candidates(rows: Iterable[PractitionerRole]) -> list[tuple[PractitionerRole, Location]]:
        return [
            (role, role.location)
            for role in rows
            if role.location is not None
            and role.practitioner is not None
            and (not wanted or _speaks(role.practitioner.languages, wanted))
        ]

    def placed_within(radius: float) -> list[_Candidate[PractitionerRole]]:
        box = _box_filter(geo.bounding_box(origin, radius), prefix="location__")
        return _once_each(_ranked(origin, radius, candidates(roles.filter(box))))

    placed = _expanding(radius_km, limit, placed_within)
    unplaced = _ranked(origin, radius_km, candidates(roles.filter(_unplaced("location__"))))
    nearest = _once_each([*placed, *(c for c in unplaced if c.point)])[:limit]
    shown = {c.row.practitioner_id for c in nearest}
    unknown = _once_each(
        [c for c in unplaced if c.point is None and c.row.practitioner_id not in shown]
    )
    moment = clock.now()
    return Nearest(
        origin,
        radius_km,
        [_practitioner(c.row, _nearby(c.location, c, moment)) for c in nearest],
        [_practitioner(c.row, _nearby(c.location, None, moment)) for c in unknown[:limit]],
        len(unknown),
    )


@dataclass(frozen=True)
class _Candidate(Generic[T]):
    """A row and where its location is (``point`` None: unknown), before it is shown."""

    row: T
    location: Location
    point: geo.Point | None
    zip_area: geo.ZipArea | None
    distance_km: float | None

    def order(self) -> tuple[float, str, str]:
        distance = self.distance_km if self.distance_km is not None else math.inf
        return (distance, self.location.name, str(self.location.public_id))


def _ranked(
    origin: geo.Point, radius_km: float | None, rows: Iterable[tuple[T, Location]]
) -> list[_Candidate[T]]:
    """Each row placed (coordinates, else its ZIP's centroid) and measured, nearest first;
    placed rows outside the radius are left out, unplaced ones kept (distance unknown)."""
    found: list[_Candidate[T]] = []
    for row, location in rows:
        area = geo.find_zip_area(location.postal_code) if location.postal_code else None
        point: geo.Point | None = None
        if location.latitude is not None and location.longitude is not None:
            point = geo.Point(location.latitude, location.longitude)
        elif area is not None:
            point = geo.Point(area.latitude, area.longitude, zip_code=area.zip_code)
        distance = round(geo.distance_km(origin, point), 2) if point else None
        if distance is not None and radius_km is not None and distance > radius_km:
            continue
        found.append(_Candidate(row, location, point, area, distance))
    return sorted(found, key=_Candidate.order)


def _once_each(
    candidates: Iterable[_Candidate[PractitionerRole]],
) -> list[_Candidate[PractitionerRole]]:
    """Each practitioner once, at her nearest location, nearest first (then by name)."""
    best: dict[int | None, _Candidate[PractitionerRole]] = {}
    for candidate in sorted(candidates, key=_Candidate.order):
        best.setdefault(candidate.row.practitioner_id, candidate)
    return sorted(best.values(), key=_practitioner_order)


def _practitioner_order(candidate: _Candidate[PractitionerRole]) -> tuple[float, str, str]:
    distance = candidate.distance_km if candidate.distance_km is not None else math.inf
    practitioner = candidate.row.practitioner
    name = practitioner.display_name if practitioner else ""
    return (distance, name, str(practitioner.public_id if practitioner else ""))


def validate_search_bounds(*, limit: int, radius_km: float | None) -> None:
    """422 unless 1 ≤ limit ≤ 100 and 0 < radius_km ≤ half the Earth's circumference."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be from 1 to {MAX_LIMIT}.", details={"parameter": "limit"}
        )
    if radius_km is not None and not (
        math.isfinite(radius_km) and 0 < radius_km <= geo.MAX_RADIUS_KM
    ):
        raise ValidationFailed(
            f"radius_km must be more than 0 and at most {geo.MAX_RADIUS_KM:,.0f}.",
            details={"parameter": "radius_km"},
        )


def _expanding(
    radius_km: float | None, limit: int, placed_within: Callable[[float], list[R]]
) -> list[R]:
    """Search a growing box until ``limit`` rows lie inside the radius (or the given one)."""
    if radius_km is not None:
        return placed_within(radius_km)
    found: list[R] = []
    for radius in _SEARCH_RADII_KM:
        found = placed_within(radius)
        if len(found) >= limit:
            break
    return found


def _locations() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True).defer("raw").order_by()


def _roles(*, specialty: str, gender: str) -> QuerySet[PractitionerRole]:
    roles = (
        PractitionerRole.objects.filter(
            is_active=True, practitioner__is_active=True, location__is_active=True
        )
        .select_related("practitioner", "location")
        .defer("raw", "practitioner__raw", "location__raw")
        .order_by()
    )
    if specialty:
        roles = roles.filter(Q(specialty_code=specialty) | Q(specialty__icontains=specialty))
    if gender:
        roles = roles.filter(practitioner__gender__iexact=gender)
    return roles


def _box_filter(box: geo.BoundingBox, *, prefix: str) -> Q:
    longitudes = Q()
    for west, east in box.longitude_ranges:
        longitudes |= Q(**{f"{prefix}longitude__gte": west, f"{prefix}longitude__lte": east})
    latitudes = Q(**{f"{prefix}latitude__gte": box.south, f"{prefix}latitude__lte": box.north})
    return latitudes & longitudes


def _unplaced(prefix: str) -> Q:
    return Q(**{f"{prefix}latitude__isnull": True}) | Q(**{f"{prefix}longitude__isnull": True})


def _nearby(
    location: Location, candidate: _Candidate[T] | None, moment: datetime
) -> NearbyLocation:
    area = candidate.zip_area if candidate else None
    if candidate is None and location.postal_code:
        area = geo.find_zip_area(location.postal_code)
    # ``Location.time_zone`` may not exist in this schema yet: read it defensively.
    zone = hours.time_zone_of(
        str(getattr(location, "time_zone", "") or ""), area.time_zone if area else ""
    )
    openings = hours.parse_hours(location.hours)
    point = candidate.point if candidate else None
    return NearbyLocation(
        public_id=location.public_id,
        name=location.name,
        line=location.line,
        city=location.city,
        state=location.state,
        postal_code=location.postal_code,
        phone=location.phone,
        point=point,
        is_placed_by_zip=point is not None and location.latitude is None,
        distance_km=candidate.distance_km if candidate else None,
        openings=openings,
        is_open_now=hours.is_open_at(openings, moment, zone),
        time_zone=zone.key,
    )


def _practitioner(role: PractitionerRole, location: NearbyLocation) -> NearbyPractitioner:
    practitioner = role.practitioner
    if practitioner is None:  # the queries ask for roles of active practitioners
        raise ValueError("a practitioner role without a practitioner")
    return NearbyPractitioner(
        public_id=practitioner.public_id,
        display_name=practitioner.display_name,
        npi=practitioner.npi,
        gender=practitioner.gender,
        languages=_languages(practitioner.languages),
        specialty=role.specialty,
        location=location,
    )


def _languages(value: object) -> tuple[str, ...]:
    return tuple(str(code) for code in value) if isinstance(value, list) else ()


def _speaks(languages: object, wanted: str) -> bool:
    return any(
        code.lower() == wanted or code.lower().split("-")[0] == wanted
        for code in _languages(languages)
    )


def find_public_ids_by_source(
    *, kind: str, source_system: str, source_ids: Collection[str]
) -> dict[str, uuid.UUID]:
    """source id → public id of the rows of ``kind`` that exist (references served out)."""
    rows = select_by_source(_MODELS[kind], source_system, source_ids, ("source_id", "public_id"))
    return {source_id: uuid.UUID(str(public_id)) for source_id, public_id in rows}
