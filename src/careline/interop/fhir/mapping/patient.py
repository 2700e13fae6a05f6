"""Patient → the registry row, its identifiers and contact points (identity decides whose).

``links`` holds the primary care practitioner and the managing organization; the writer
turns the organization into the patient's primary location when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from careline.interop.fhir.context import Mapping, UnitContext
from careline.interop.fhir.sensitive import (
    SSN_TYPE,
    identifier_type_code,
    is_sensitive,
    sensitive_rule,
)
from careline.interop.fhir.values import (
    JSON,
    address_parts,
    as_dict,
    choose_name,
    concept_code,
    concept_display,
    dicts,
    extension,
    name_parts,
    parse_date,
    parse_datetime,
    sub_extension_value,
    text,
)
from careline.patients.bulk import SSN_SYSTEM, Identifier, Telecom

MANAGING_ORGANIZATION = "managing_organization"
PRIMARY_CARE = "primary_care_practitioner_id"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
INTERPRETER = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
GEOLOCATION = "http://hl7.org/fhir/StructureDefinition/geolocation"
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
MARITAL_DISPLAY = {
    "A": "Annulled",
    "D": "Divorced",
    "I": "Interlocutory",
    "L": "Legally separated",
    "M": "Married",
    "P": "Polygamous",
    "S": "Never married",
    "T": "Domestic partner",
    "U": "Unmarried",
    "W": "Widowed",
    "UNK": "Unknown",
}
SEXES = frozenset({"female", "male", "other", "unknown"})


@dataclass(slots=True)
class PatientDetails:
    identifiers: list[Identifier] = field(default_factory=list)
    telecoms: list[Telecom] = field(default_factory=list)
    ssn: str = ""


def map_patient(resource: JSON, context: UnitContext) -> Mapping:
    fields = {**_names(resource), **_demographics(resource), **_address(resource)}
    general_practitioner = next(
        (
            reference
            for reference in dicts(resource.get("generalPractitioner"))
            if context.key(reference, expected="Practitioner") is not None
        ),
        None,
    )
    return Mapping(
        fields=fields,
        links=context.links(
            **{
                PRIMARY_CARE: (general_practitioner, "Practitioner"),
                MANAGING_ORGANIZATION: (resource.get("managingOrganization"), "Organization"),
            }
        ),
        extra=_details(resource),
    )


def _names(resource: JSON) -> dict[str, Any]:
    given, family, prefix, suffix = name_parts(choose_name(resource.get("name")))
    return {"given_names": given, "family_name": family, "prefix": prefix, "suffix": suffix}


def _demographics(resource: JSON) -> dict[str, Any]:
    deceased_at = parse_datetime(resource.get("deceasedDateTime"))
    gender = text(resource.get("gender"))
    return {
        "birth_date": parse_date(resource.get("birthDate")),
        "sex": gender if gender in SEXES else "unknown",
        "is_deceased": deceased_at is not None or resource.get("deceasedBoolean") is True,
        "deceased_at": deceased_at,
        "marital_status": _marital_status(resource.get("maritalStatus")),
        "language": _language(resource),
        "interpreter_needed": extension(resource, INTERPRETER).get("valueBoolean") is True,
        "race": _omb_text(resource, US_CORE + "us-core-race"),
        "ethnicity": _omb_text(resource, US_CORE + "us-core-ethnicity"),
    }


def _marital_status(concept: object) -> str:
    code, system, _ = concept_code(concept)
    shown = concept_display(concept)
    if system == V3_MARITAL and code in MARITAL_DISPLAY and shown in ("", code):
        return MARITAL_DISPLAY[code]
    return shown


def _language(resource: JSON) -> str:
    """BCP-47 code of the preferred (else first) language, kept as given (``es-MX``)."""
    communications = list(dicts(resource.get("communication")))
    chosen = next((c for c in communications if c.get("preferred") is True), None)
    chosen = chosen or (communications[0] if communications else {})
    concept = as_dict(chosen.get("language"))
    code = concept_code(concept)[0]
    return code or text(concept.get("text"))


def _omb_text(resource: JSON, url: str) -> str:
    race = extension(resource, url)
    if not race:
        return ""
    described = text(sub_extension_value(race, "text", "valueString"))
    category = as_dict(sub_extension_value(race, "ombCategory", "valueCoding"))
    return described or text(category.get("display"))


def _address(resource: JSON) -> dict[str, Any]:
    addresses = list(dicts(resource.get("address")))
    home = next((a for a in addresses if a.get("use") == "home"), None)
    address = home or next((a for a in addresses if a.get("use") != "old"), {})
    line, city, state, postal_code = address_parts(address)
    geolocation = extension(address, GEOLOCATION)
    return {
        "address_line": line,
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "latitude": _decimal(sub_extension_value(geolocation, "latitude", "valueDecimal")),
        "longitude": _decimal(sub_extension_value(geolocation, "longitude", "valueDecimal")),
    }


def _decimal(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _details(resource: JSON) -> PatientDetails:
    """Identifiers and contact points; the SSN (by system or type) apart, to be encrypted.

    Other identifiers configured as sensitive are not kept at all (see ``sensitive``).
    """
    details = PatientDetails()
    rule = sensitive_rule()
    for identifier in dicts(resource.get("identifier")):
        system, value = text(identifier.get("system")), text(identifier.get("value"))
        if not value:
            continue
        type_code = identifier_type_code(identifier) or concept_code(identifier.get("type"))[0]
        if system == SSN_SYSTEM or type_code == SSN_TYPE:
            details.ssn = details.ssn or value
            continue
        if is_sensitive(identifier, rule):
            continue
        details.identifiers.append(Identifier(system, value, type_code))
    for telecom in dicts(resource.get("telecom")):
        rank = telecom.get("rank")
        details.telecoms.append(
            Telecom(
                system=text(telecom.get("system")),
                value=text(telecom.get("value")),
                use=text(telecom.get("use")),
                rank=rank if isinstance(rank, int) and not isinstance(rank, bool) else None,
            )
        )
    return details
