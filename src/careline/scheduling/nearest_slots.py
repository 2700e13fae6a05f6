"""Slots near a place (re-exported by ``scheduling.selectors``): the Schedule page and
``GET /api/scheduling/slots`` both call ``search_slots_near``, so the same input gives the
same slots in the same order on both.

The place is a ZIP, an address (its ZIP is used) or the patient's home (her coordinates,
else her ZIP; read after an audited access check through the patient chosen for the
search). Which locations are nearest, and how far they are, is decided once, by
``directory.selectors.list_nearest_locations`` (the Find a location page and the directory
API use it too); here it ranks the locations where the visit type is offered. The search
then runs place by place, nearest first: each of the ``NEAREST_PLACES`` nearest locations
with its next free slots, the distance on every slot. No place given: the plain search
(earliest first across the locations ticked, or everywhere).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from careline.directory import geo
from careline.directory.selectors import NearbyLocation, list_nearest_locations
from careline.directory.visit_types import (
    get_visit_type,
    list_locations,
    list_offering_practitioners,
)
from careline.platform.actors import Actor
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.access import access_for_scheduling
from careline.scheduling.calendars import load_templates
from careline.scheduling.slot_search import Place, SlotOption, search_slots

NEAREST_PLACES = 5
ONE_PLACE = "Give one place: a ZIP, an address, or the patient's home."


@dataclass(frozen=True)
class PlaceQuery:
    """The place a scheduler gave (at most one of the three)."""

    zip_code: str | None = None
    address: str | None = None
    near_patient: bool = False

    @property
    def is_given(self) -> bool:
        return self.near_patient or self.zip_code is not None or self.address is not None


@dataclass(frozen=True)
class SlotsNear:
    """The slots found; with a place, where it was and the locations searched, nearest
    first (the slots come in that order of locations)."""

    options: list[SlotOption]
    origin: geo.Point | None = None
    locations: list[NearbyLocation] = field(default_factory=list)


def search_slots_near(
    *,
    actor: Actor,
    visit_type_id: uuid.UUID,
    date_from: date,
    date_to: date,
    place: PlaceQuery,
    patient_id: uuid.UUID | None = None,
    location_ids: Collection[uuid.UUID] = (),
    language: str = "",
    gender: str = "",
    limit: int = 10,
) -> SlotsNear:
    """The next free slots, near the place when one is given (see the module docstring)."""

    def search(places: list[Place] | None, per_place: int | None = None) -> list[SlotOption]:
        return search_slots(
            actor=actor,
            visit_type_id=visit_type_id,
            patient_id=patient_id,
            places=places,
            date_from=date_from,
            date_to=date_to,
            language=language,
            gender=gender,
            limit=limit,
            per_place=per_place,
        )

    if not place.is_given:
        return SlotsNear(search([Place(location_id) for location_id in location_ids] or None))
    origin = resolve_place(actor=actor, place=place, patient_id=patient_id)
    offered = list_offering_location_ids(visit_type_id=visit_type_id)
    if location_ids:
        offered &= set(location_ids)
    nearest = list_nearest_locations(
        origin=origin, location_ids=offered, limit=NEAREST_PLACES
    ).rows[:NEAREST_PLACES]
    if not nearest:
        return SlotsNear([], origin, [])
    places = [Place(row.public_id, row.distance_km) for row in nearest]
    return SlotsNear(search(places, math.ceil(limit / len(nearest))), origin, nearest)


def resolve_place(*, actor: Actor, place: PlaceQuery, patient_id: uuid.UUID | None) -> geo.Point:
    """The origin of the place; the patient's home only after the access check (audited
    as a read of her record)."""
    if not place.near_patient:
        return geo.resolve_origin(zip_code=place.zip_code, address=place.address)
    if place.zip_code is not None or place.address is not None:
        raise ValidationFailed(ONE_PLACE, details={"parameter": "near_patient"})
    if patient_id is None:
        raise ValidationFailed(
            "Choose the patient first: the search starts from her home.",
            details={"parameter": "near_patient"},
        )
    patient = access_for_scheduling(
        actor,
        patient_id,
        permission=Permission.VIEW_PATIENT,
        action=AuditAction.READ,
        resource_type="Patient",
    ).patient
    return geo.origin_of_home(
        latitude=patient.latitude,
        longitude=patient.longitude,
        postal_code=patient.postal_code,
        parameter="near_patient",
    )


def list_offering_location_ids(*, visit_type_id: uuid.UUID) -> set[uuid.UUID]:
    """The locations with hours open to the visit type (at most eight queries)."""
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    practitioners = list_offering_practitioners(specialty=visit_type.specialty)
    templates = load_templates(practitioner_ids=list(practitioners))
    location_pks = {t.location_id for t in templates if t.offers(visit_type.pk)}
    return {row.public_id for row in list_locations(location_ids=location_pks).values()}
