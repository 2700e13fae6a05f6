"""The visit-type catalog and the directory facts scheduling needs, read and written here.

Selectors (reads) for ``careline.scheduling`` and the API: visit types, the practitioners
who offer a specialty (with their language and gender, for the slot search's filters), and
locations with their time zones. Two services, ``create_visit_type`` and
``update_visit_type``, write the catalog (administrators, from the scheduling configuration
pages).

A practitioner offers a specialty when one of her active roles names it (by display or
code) or one of her qualifications does, compared case-folded; a blank specialty is offered
by every active practitioner.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction

from careline.directory.models import (
    Location,
    Modality,
    PatientStatus,
    PortalBooking,
    Practitioner,
    PractitionerRole,
    VisitType,
)
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission

__all__ = [
    "IMPORTED_VISIT_TYPE_CODE",
    "LocationInfo",
    "Modality",
    "PatientStatus",
    "PortalBooking",
    "PractitionerInfo",
    "PractitionerPlace",
    "SpecialtyMembers",
    "create_visit_type",
    "ensure_imported_visit_type",
    "get_visit_type",
    "list_locations",
    "list_offering_practitioners",
    "list_practitioner_places",
    "list_visit_types",
    "practitioner_ids_in_specialty",
    "resolve_location_ids",
    "resolve_practitioner_ids",
    "role_location_ids",
    "specialty_members",
    "time_zone_of",
    "update_visit_type",
    "visit_type_ids_by_code",
]


@dataclass(frozen=True, slots=True)
class PractitionerInfo:
    id: int
    public_id: uuid.UUID
    display_name: str
    gender: str
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocationInfo:
    id: int
    public_id: uuid.UUID
    name: str
    time_zone: str


def time_zone_of(name: str) -> ZoneInfo:
    """A location's zone: its own IANA name, else the organisation's ``CARELINE_TIME_ZONE``."""
    return ZoneInfo(name or settings.CARELINE_TIME_ZONE)


# --- visit types ---------------------------------------------------------------------------


def list_visit_types(*, active_only: bool = True) -> list[VisitType]:
    visit_types = VisitType.objects.all()
    if active_only:
        visit_types = visit_types.filter(is_active=True)
    return list(visit_types.order_by("name", "pk"))


def get_visit_type(*, visit_type_id: uuid.UUID, active_only: bool = True) -> VisitType:
    """One visit type by public id, or ``NotFound``."""
    visit_type = VisitType.objects.filter(public_id=visit_type_id).first()
    if visit_type is None or (active_only and not visit_type.is_active):
        raise NotFound("No such visit type.", details={"visit_type_id": str(visit_type_id)})
    return visit_type


_VISIT_TYPE_FIELDS = frozenset(
    field.name for field in VisitType._meta.concrete_fields if field.name not in {"id", "public_id"}
)


def create_visit_type(*, actor: Actor, code: str, name: str, **fields: Any) -> VisitType:
    """Add a visit type to the catalog (``directory.manage_visit_types``); audited."""
    require_permission(actor, Permission.MANAGE_VISIT_TYPES, resource_type="VisitType")
    unknown = set(fields) - _VISIT_TYPE_FIELDS
    if unknown:
        raise ValidationFailed(
            f"Unknown visit type fields: {', '.join(sorted(unknown))}.",
            details={"field": sorted(unknown)[0]},
        )
    visit_type = VisitType(code=code, name=name, **fields)
    _validate_visit_type(visit_type)
    try:
        with transaction.atomic():
            visit_type.save()
            audit.record_event(
                actor=actor,
                action=AuditAction.CREATE,
                resource_type="VisitType",
                resource_id=str(visit_type.public_id),
            )
    except IntegrityError as error:
        raise Conflict(
            f"A visit type with the code {code!r} exists already.", details={"field": "code"}
        ) from error
    return visit_type


def update_visit_type(*, actor: Actor, visit_type_id: uuid.UUID, **fields: Any) -> VisitType:
    """Change a visit type's criteria (any field but its ids and code); audited. Appointments
    already booked keep their time; new bookings follow the new criteria at once."""
    require_permission(actor, Permission.MANAGE_VISIT_TYPES, resource_type="VisitType")
    unknown = set(fields) - (_VISIT_TYPE_FIELDS - {"code"})
    if unknown:
        raise ValidationFailed(
            f"Unknown or fixed visit type fields: {', '.join(sorted(unknown))}.",
            details={"field": sorted(unknown)[0]},
        )
    with transaction.atomic():
        visit_type = VisitType.objects.select_for_update().filter(public_id=visit_type_id).first()
        if visit_type is None:
            raise NotFound("No such visit type.", details={"visit_type_id": str(visit_type_id)})
        for name, value in fields.items():
            setattr(visit_type, name, value)
        _validate_visit_type(visit_type)
        visit_type.save(update_fields=sorted(fields))
        audit.record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="VisitType",
            resource_id=str(visit_type.public_id),
            details={"fields": sorted(fields)},
        )
    return visit_type


def _validate_visit_type(visit_type: VisitType) -> None:
    if not visit_type.code or not visit_type.name.strip():
        raise ValidationFailed("A visit type needs a code and a name.", details={"field": "name"})
    if visit_type.duration_minutes is None or visit_type.duration_minutes <= 0:
        raise ValidationFailed(
            "The duration must be at least one minute.", details={"field": "duration_minutes"}
        )
    minimum, maximum = visit_type.min_age_years, visit_type.max_age_years
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValidationFailed(
            "The minimum age is above the maximum age.", details={"field": "min_age_years"}
        )
    if visit_type.requires_safety_screen and not visit_type.safety_screen_code:
        raise ValidationFailed(
            "Name the red-flag list the safety screen asks.",
            details={"field": "safety_screen_code"},
        )
    for name, choices in (
        ("modality", Modality),
        ("patient_status", PatientStatus),
        ("portal_booking", PortalBooking),
    ):
        if getattr(visit_type, name) not in choices.values:
            raise ValidationFailed(
                f"{name} must be one of: {', '.join(choices.values)}.", details={"field": name}
            )
    for name in ("allowed_sexes", "accepted_payers", "required_resource_kinds"):
        value = getattr(visit_type, name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationFailed(f"{name} must be a list of texts.", details={"field": name})


# --- practitioners -------------------------------------------------------------------------


def _fold(text: str) -> str:
    return text.strip().casefold()


@dataclass(frozen=True, slots=True)
class SpecialtyMembers:
    """The practitioners offering a specialty; ``ids`` None: every one (no specialty)."""

    ids: frozenset[int] | None


def specialty_members(*, specialty: str) -> SpecialtyMembers:
    ids = practitioner_ids_in_specialty(specialty=specialty)
    return SpecialtyMembers(frozenset(ids) if ids is not None else None)


def practitioner_ids_in_specialty(*, specialty: str) -> set[int] | None:
    """Primary keys of the active practitioners offering ``specialty``; None for "anyone"
    (a blank specialty). Two queries."""
    if not specialty.strip():
        return None
    wanted = _fold(specialty)
    ids: set[int] = set()
    roles = PractitionerRole.objects.filter(is_active=True, practitioner__isnull=False)
    for practitioner_id, display, code in roles.values_list(
        "practitioner_id", "specialty", "specialty_code"
    ):
        if wanted in {_fold(display), _fold(code)} and practitioner_id is not None:
            ids.add(practitioner_id)
    for practitioner_id, specialties in Practitioner.objects.filter(is_active=True).values_list(
        "pk", "specialties"
    ):
        if isinstance(specialties, list) and wanted in {
            _fold(item) for item in specialties if isinstance(item, str)
        }:
            ids.add(practitioner_id)
    return ids


def list_offering_practitioners(
    *,
    specialty: str,
    language: str = "",
    gender: str = "",
    practitioner_ids: Collection[int] | None = None,
    in_specialty: SpecialtyMembers | None = None,
) -> dict[int, PractitionerInfo]:
    """Active practitioners offering ``specialty`` who speak ``language`` (a BCP-47 tag or
    its primary subtag: "es" matches "es-MX") and are of ``gender``; optionally only among
    ``practitioner_ids``. At most three queries (one when ``in_specialty``, the answer of
    ``specialty_members`` for the same specialty, is given)."""
    members = in_specialty or specialty_members(specialty=specialty)
    in_specialty_ids = members.ids
    practitioners = Practitioner.objects.filter(is_active=True)
    if in_specialty_ids is not None:
        practitioners = practitioners.filter(pk__any_of=list(in_specialty_ids))
    if practitioner_ids is not None:
        practitioners = practitioners.filter(pk__any_of=list(practitioner_ids))
    if gender:
        practitioners = practitioners.filter(gender=gender)
    rows = practitioners.values_list(
        "pk", "public_id", "prefix", "given_name", "family_name", "gender", "languages"
    )
    wanted = _fold(language)
    found: dict[int, PractitionerInfo] = {}
    for pk, public_id, prefix, given, family, sex, languages in rows:
        spoken = tuple(item for item in languages or () if isinstance(item, str))
        if wanted and not any(_speaks(item, wanted) for item in spoken):
            continue
        name = " ".join(part for part in (given, family) if part)
        display = f"{prefix} {name}".strip() if prefix else name
        found[pk] = PractitionerInfo(pk, public_id, display, sex, spoken)
    return found


def _speaks(spoken: str, wanted: str) -> bool:
    spoken = _fold(spoken)
    return spoken == wanted or spoken.split("-")[0] == wanted.split("-")[0]


def resolve_practitioner_ids(public_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Public id → primary key of the practitioners that exist."""
    wanted = list(public_ids)
    if not wanted:
        return {}
    return dict(Practitioner.objects.filter(public_id__in=wanted).values_list("public_id", "pk"))


@dataclass(frozen=True, slots=True)
class PractitionerPlace:
    practitioner_id: uuid.UUID
    location_id: uuid.UUID
    specialty: str


def list_practitioner_places(*, specialties: Collection[str]) -> list[PractitionerPlace]:
    """Where active practitioners of these specialties work (their active roles with a
    location), ordered by practitioner and location name. One query."""
    wanted = {_fold(specialty) for specialty in specialties}
    rows = (
        PractitionerRole.objects.filter(
            is_active=True,
            practitioner__is_active=True,
            location__isnull=False,
            location__is_active=True,
        )
        .order_by("practitioner__family_name", "practitioner_id", "location__name", "pk")
        .values_list("practitioner__public_id", "location__public_id", "specialty")
    )
    found, seen = [], set()
    for practitioner_id, location_id, specialty in rows:
        if _fold(specialty) in wanted and (practitioner_id, location_id) not in seen:
            seen.add((practitioner_id, location_id))
            found.append(PractitionerPlace(practitioner_id, location_id, specialty))
    return found


# --- locations -----------------------------------------------------------------------------


def resolve_location_ids(public_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Public id → primary key of the active locations that exist."""
    wanted = list(public_ids)
    if not wanted:
        return {}
    rows = Location.objects.filter(public_id__in=wanted, is_active=True)
    return dict(rows.values_list("public_id", "pk"))


def list_locations(*, location_ids: Collection[int]) -> dict[int, LocationInfo]:
    """Primary key → the location's id, name and time zone (resolved and checked)."""
    if not location_ids:
        return {}
    rows = Location.objects.filter(pk__in=list(location_ids)).values_list(
        "pk", "public_id", "name", "time_zone"
    )
    found = {}
    for pk, public_id, name, zone in rows:
        try:
            time_zone_of(zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ""  # an unknown zone name: the organisation's zone, not a crash
        found[pk] = LocationInfo(pk, public_id, name, zone or settings.CARELINE_TIME_ZONE)
    return found


# The catalog row of imported appointments whose EHR code names none of Careline's types.
IMPORTED_VISIT_TYPE_CODE = "ehr-visit"


def visit_type_ids_by_code(codes: Iterable[str]) -> dict[str, int]:
    """Catalog code (case-folded) → visit type pk, for the codes that name one."""
    wanted = {code.casefold() for code in codes if code}
    if not wanted:
        return {}
    rows = VisitType.objects.values_list("code", "pk")
    return {code.casefold(): pk for code, pk in rows if code.casefold() in wanted}


def ensure_imported_visit_type() -> int:
    """The pk of "Visit from the EHR": inactive and not on the portal, so never offered or
    booked in Careline — it only stands for an imported appointment whose EHR visit matches
    no catalog code (the appointment keeps the EHR's own name in ``visit_text``)."""
    visit_type, _ = VisitType.objects.get_or_create(
        code=IMPORTED_VISIT_TYPE_CODE,
        defaults={
            "name": "Visit from the EHR",
            "duration_minutes": 15,
            "is_active": False,
            "portal_booking": PortalBooking.NOT_ON_PORTAL,
        },
    )
    return visit_type.pk


def role_location_ids(*, practitioner_ids: Collection[int]) -> dict[int, int]:
    """Practitioner pk → the location of her first active role that names one."""
    rows = (
        PractitionerRole.objects.filter(
            practitioner_id__any_of=list(practitioner_ids), is_active=True, location__isnull=False
        )
        .order_by("pk")
        .values_list("practitioner_id", "location_id")
    )
    found: dict[int, int] = {}
    for practitioner_id, location_id in rows:
        if practitioner_id is not None and location_id is not None:
            found.setdefault(practitioner_id, location_id)
    return found
