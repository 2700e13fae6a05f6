"""Organization, Location, Practitioner and PractitionerRole → the directory.

Each mapping's ``extra`` lists the resource's identifiers, so a later conditional reference
(``Practitioner?identifier=…|…``) finds it.
"""

from __future__ import annotations

from careline.directory import geo
from careline.interop.fhir.context import Mapping, UnitContext
from careline.interop.fhir.values import (
    JSON,
    address_parts,
    as_dict,
    as_list,
    choose_name,
    concept_code,
    concept_display,
    dicts,
    identifier_value,
    name_parts,
    telecom_value,
    text,
)

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


def identifiers_of(resource: JSON) -> list[tuple[str | None, str]]:
    return [
        (text(i.get("system")) or None, text(i.get("value")))
        for i in dicts(resource.get("identifier"))
        if text(i.get("value"))
    ]


def map_organization(resource: JSON, context: UnitContext) -> Mapping:
    address = next(dicts(resource.get("address")), {})
    return Mapping(
        fields={
            "name": text(resource.get("name")),
            "kind": concept_display(next(dicts(resource.get("type")), {})),
            "npi": identifier_value(resource.get("identifier"), NPI_SYSTEM),
            "phone": telecom_value(resource.get("telecom"), "phone"),
            "address": _address_json(address),
            "is_active": resource.get("active") is not False,
        },
        extra=identifiers_of(resource),
    )


def map_location(resource: JSON, context: UnitContext) -> Mapping:
    """A location without a position is placed at its ZIP's centroid (``directory.geo``), so
    the nearest-location search can measure it; with neither it stays unplaced."""
    line, city, state, postal_code = address_parts(as_dict(resource.get("address")))
    position = as_dict(resource.get("position"))
    latitude = _coordinate(position.get("latitude"))
    longitude = _coordinate(position.get("longitude"))
    if latitude is None or longitude is None:
        area = geo.find_zip_area(postal_code) if postal_code else None
        latitude, longitude = (area.latitude, area.longitude) if area else (None, None)
    return Mapping(
        fields={
            "name": text(resource.get("name")) or text(resource.get("description")),
            "line": line,
            "city": city,
            "state": state,
            "postal_code": postal_code,
            "latitude": latitude,
            "longitude": longitude,
            "phone": telecom_value(resource.get("telecom"), "phone"),
            "hours": as_list(resource.get("hoursOfOperation")),
            "is_active": resource.get("status") != "inactive",
        },
        links=context.links(organization_id=(resource.get("managingOrganization"), "Organization")),
        extra=identifiers_of(resource),
    )


def map_practitioner(resource: JSON, context: UnitContext) -> Mapping:
    given, family, prefix, _ = name_parts(choose_name(resource.get("name")))
    return Mapping(
        fields={
            "npi": identifier_value(resource.get("identifier"), NPI_SYSTEM),
            "prefix": prefix,
            "given_name": given,
            "family_name": family,
            "gender": text(resource.get("gender")),
            "specialties": [
                concept_display(q.get("code")) for q in dicts(resource.get("qualification"))
            ],
            "languages": [
                concept_code(c)[0] or concept_display(c)
                for c in dicts(resource.get("communication"))
            ],
            "phone": telecom_value(resource.get("telecom"), "phone"),
            "email": telecom_value(resource.get("telecom"), "email").lower(),
            "is_active": resource.get("active") is not False,
        },
        extra=identifiers_of(resource),
    )


def map_practitioner_role(resource: JSON, context: UnitContext) -> Mapping:
    specialty = next(dicts(resource.get("specialty")), {})
    code, _, display = concept_code(specialty)
    return Mapping(
        fields={
            "specialty": concept_display(specialty) or display,
            "specialty_code": code,
            "is_active": resource.get("active") is not False,
        },
        links=context.links(
            practitioner_id=(resource.get("practitioner"), "Practitioner"),
            organization_id=(resource.get("organization"), "Organization"),
            location_id=(next(dicts(resource.get("location")), None), "Location"),
        ),
        extra=identifiers_of(resource),
    )


def _address_json(address: JSON) -> JSON:
    line, city, state, postal_code = address_parts(address)
    parts = {
        "line": line,
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "country": text(address.get("country")),
    }
    return {key: value for key, value in parts.items() if value}


def _coordinate(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
