"""Nearest locations and practitioners: ``GET /api/directory/locations/nearest`` and
``GET /api/directory/practitioners/nearest``.

The origin is one of ``zip``, ``address`` (its ZIP is used), ``lat`` + ``lon``, or
``patient`` (a patient's public id: her home coordinates, else her ZIP). A patient origin
reads the registry (``patients``, layer 1) as well as the directory (layer 1), so the routes
live in the API assembly, like the 360 summary: the patient is checked and audited as a read
by ``patients.access.access_patient`` (a refusal is audited too); a ZIP, address or
coordinates search touches no patient and writes no audit entry. The answer never repeats
the patient's home: her origin is labelled, not located. Which rows come back, in which
order, is decided once, by ``directory.selectors`` (the staff page calls the same).
"""

from __future__ import annotations

import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from careline.directory import geo
from careline.directory.selectors import (
    DEFAULT_LIMIT,
    NearbyLocation,
    NearbyPractitioner,
    Nearest,
    list_nearest_locations,
    list_nearest_practitioners,
    validate_search_bounds,
)
from careline.patients.access import access_patient
from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission

router = Router(tags=["directory"])


class NearestFilters(Schema):
    zip: str | None = Field(None, max_length=20, description="5-digit ZIP or ZIP+4")
    address: str | None = Field(None, max_length=300, description="A US address with its ZIP")
    lat: float | None = Field(None, description="Latitude, decimal degrees (with lon)")
    lon: float | None = Field(None, description="Longitude, decimal degrees (with lat)")
    patient: uuid.UUID | None = Field(None, description="A patient's id: from her home")
    limit: int = Field(DEFAULT_LIMIT, description="1 to 100")
    radius_km: float | None = Field(None, description="Only locations this close")


class PractitionerFilters(NearestFilters):
    specialty: str = Field("", max_length=200, description="Specialty code, or part of its name")
    language: str = Field("", max_length=35, description="Language code, e.g. es")
    gender: Literal["male", "female", "other", "unknown"] | None = None


class OriginOut(Schema):
    label: str


class OpeningOut(Schema):
    day: str
    opens: str | None
    closes: str | None


class NearbyLocationOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    name: str
    line: str
    city: str
    state: str
    postal_code: str
    phone: str
    latitude: float | None
    longitude: float | None
    is_placed_by_zip: bool = Field(..., description="Placed at its ZIP's centroid")
    distance_km: float | None = Field(..., description="null: distance unknown (listed last)")
    distance_miles: float | None
    hours: str = Field(..., description="E.g. Mon-Fri 08:00-17:00 (local time)")
    openings: list[OpeningOut]
    is_open_now: bool | None = Field(..., description="In the location's time zone")
    time_zone: str
    directions_url: str | None

    @staticmethod
    def resolve_latitude(row: NearbyLocation) -> float | None:
        return row.point.latitude if row.point else None

    @staticmethod
    def resolve_longitude(row: NearbyLocation) -> float | None:
        return row.point.longitude if row.point else None

    @staticmethod
    def resolve_openings(row: NearbyLocation) -> list[dict[str, str | None]]:
        return [
            {
                "day": opening.day_code,
                "opens": f"{opening.opens:%H:%M}" if opening.opens else None,
                "closes": f"{opening.closes:%H:%M}" if opening.closes else None,
            }
            for opening in row.openings
        ]


class NearestLocationsOut(Schema):
    origin: OriginOut
    radius_km: float | None
    locations: list[NearbyLocationOut] = Field(..., alias="rows")
    unplaced_total: int = Field(..., description="Locations whose distance is unknown")


class NearbyPractitionerOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    name: str = Field(..., alias="display_name")
    npi: str
    gender: str
    languages: list[str]
    specialty: str
    distance_km: float | None
    distance_miles: float | None
    location: NearbyLocationOut

    @staticmethod
    def resolve_distance_km(row: NearbyPractitioner) -> float | None:
        return row.location.distance_km

    @staticmethod
    def resolve_distance_miles(row: NearbyPractitioner) -> float | None:
        return row.location.distance_miles


class NearestPractitionersOut(Schema):
    origin: OriginOut
    radius_km: float | None
    practitioners: list[NearbyPractitionerOut] = Field(..., alias="rows")
    unplaced_total: int = Field(..., description="Practitioners whose distance is unknown")


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request, channel=AuditChannel.API)


@router.get(
    "locations/nearest",
    response=NearestLocationsOut,
    summary="Locations nearest to a ZIP, address, coordinates or a patient's home",
)
@api_requires_permission(Permission.VIEW_DIRECTORY, resource_type="Location")
def nearest_locations(
    request: HttpRequest, filters: Query[NearestFilters]
) -> Nearest[NearbyLocation]:
    validate_search_bounds(limit=filters.limit, radius_km=filters.radius_km)
    origin = resolve_origin(actor=_actor(request), filters=filters)
    return list_nearest_locations(origin=origin, limit=filters.limit, radius_km=filters.radius_km)


@router.get(
    "practitioners/nearest",
    response=NearestPractitionersOut,
    summary="Practitioners nearest to a ZIP, address, coordinates or a patient's home",
)
@api_requires_permission(Permission.VIEW_DIRECTORY, resource_type="Practitioner")
def nearest_practitioners(
    request: HttpRequest, filters: Query[PractitionerFilters]
) -> Nearest[NearbyPractitioner]:
    validate_search_bounds(limit=filters.limit, radius_km=filters.radius_km)
    origin = resolve_origin(actor=_actor(request), filters=filters)
    return list_nearest_practitioners(
        origin=origin,
        specialty=filters.specialty,
        language=filters.language,
        gender=filters.gender or "",
        limit=filters.limit,
        radius_km=filters.radius_km,
    )


def resolve_origin(*, actor: Actor, filters: NearestFilters) -> geo.Point:
    """The one origin the filters name; a patient's is checked and audited."""
    if filters.patient is None:
        return geo.resolve_origin(
            zip_code=filters.zip,
            address=filters.address,
            latitude=filters.lat,
            longitude=filters.lon,
        )
    if any(value is not None for value in (filters.zip, filters.address, filters.lat, filters.lon)):
        raise ValidationFailed(
            "Give exactly one origin: zip, address, lat and lon together, or patient.",
            details={"parameter": "patient"},
        )
    return patient_origin(actor=actor, patient_id=filters.patient)


def patient_origin(*, actor: Actor, patient_id: uuid.UUID) -> geo.Point:
    """The patient's home (coordinates, else ZIP centroid), after one audited access check."""
    patient = access_patient(actor=actor, patient_id=patient_id).patient
    return geo.origin_of_home(
        latitude=patient.latitude,
        longitude=patient.longitude,
        postal_code=patient.postal_code,
        parameter="patient",
    )
