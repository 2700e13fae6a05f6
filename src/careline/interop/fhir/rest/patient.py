"""Patient over FHIR: its search parameters, read and search (access-checked and audited in
``patients``), and the resource served (``patient_resource``).

Matching is the registry's (``patients.criteria``, which normalises through
``patients.normalize``); this module only parses FHIR's syntax into those criteria.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import Q

from careline.identity.selectors import latest_source_records
from careline.interop.fhir.rest.patient_resource import patient_resource
from careline.interop.fhir.rest.registry import (
    ParsedSearch,
    ResourceDefinition,
    SearchParameter,
    Served,
    ServedPage,
)
from careline.interop.fhir.rest.values import (
    BadParameter,
    as_date,
    parse_prefixed_date,
    split_token,
    unescape,
)
from careline.patients import criteria
from careline.patients.access import access_patient
from careline.patients.criteria import NamePart, StringMatch
from careline.platform.actors import Actor
from careline.platform.errors import NotFound

if TYPE_CHECKING:
    from careline.patients.models import Patient

SP = "http://hl7.org/fhir/SearchParameter/"
GENDERS = ("male", "female", "other", "unknown")
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
STRING_MODIFIERS = ("exact", "contains")


def _string_match(modifier: str | None) -> StringMatch:
    return {None: StringMatch.STARTS_WITH, "exact": StringMatch.EXACT}.get(
        modifier, StringMatch.CONTAINS
    )


def _name(part: NamePart) -> SearchParameter:
    def criterion(modifier: str | None, value: str) -> Q:
        return criteria.name_criterion(part, unescape(value), _string_match(modifier))

    what = {
        NamePart.ANY: "any part of the name",
        NamePart.FAMILY: "the family name",
        NamePart.GIVEN: "a given name",
    }[part]
    return SearchParameter(
        name=part.value,
        type="string",
        documentation=(
            f"Starts-with on {what}, ignoring case and accents; :contains anywhere; "
            ":exact as written."
        ),
        criterion=criterion,
        modifiers=STRING_MODIFIERS,
        definition=f"{SP}individual-{part.value}"
        if part is not NamePart.ANY
        else f"{SP}Patient-name",
    )


def _id(modifier: str | None, value: str) -> Q:
    try:
        return criteria.id_criterion([uuid.UUID(unescape(value))])
    except ValueError:
        return criteria.MATCH_NOTHING  # Careline ids are UUIDs: anything else names nobody


def _identifier(modifier: str | None, value: str) -> Q:
    system, code = split_token(value)
    if system is None and code is None:
        raise BadParameter("identifier", "'identifier' needs system|value, value or system|.")
    return criteria.identifier_criterion(system, code)


def _gender(modifier: str | None, value: str) -> Q:
    system, code = split_token(value)
    if system not in (None, GENDER_SYSTEM) or code not in GENDERS:
        raise BadParameter("gender", f"'gender' must be one of {', '.join(GENDERS)}.")
    return criteria.gender_criterion([code])


def _birthdate(modifier: str | None, value: str) -> Q:
    bounds = parse_prefixed_date("birthdate", value)
    if "T" in value:
        raise BadParameter("birthdate", "'birthdate' is a date: YYYY, YYYY-MM or YYYY-MM-DD.")
    return criteria.birth_date_criterion(
        as_date(bounds.start), as_date(bounds.end), negate=bounds.negate
    )


def _last_updated(modifier: str | None, value: str) -> Q:
    bounds = parse_prefixed_date("_lastUpdated", value)
    return criteria.updated_criterion(bounds.start, bounds.end, negate=bounds.negate)


def _token_value(name: str, value: str) -> str:
    _, code = split_token(value)
    if not code:
        raise BadParameter(name, f"'{name}' needs a value.")
    return code


PARAMETERS = (
    SearchParameter(
        "_id", "token", "Careline's public id of the patient.", _id, definition=f"{SP}Resource-id"
    ),
    SearchParameter(
        "_lastUpdated",
        "date",
        "When Careline last changed the patient (eq ne lt gt ge le sa eb; partial dates are "
        "ranges; a time without zone is UTC).",
        _last_updated,
        definition=f"{SP}Resource-lastUpdated",
    ),
    SearchParameter(
        "identifier",
        "token",
        "system|value, value or system|; Careline's MRN has the system "
        f"{criteria.MRN_SYSTEM}. Sensitive identifiers (SSN) are never searchable.",
        _identifier,
        definition=f"{SP}Patient-identifier",
    ),
    _name(NamePart.ANY),
    _name(NamePart.FAMILY),
    _name(NamePart.GIVEN),
    SearchParameter(
        "birthdate",
        "date",
        "eq ne lt gt ge le sa eb; YYYY and YYYY-MM are ranges.",
        _birthdate,
        definition=f"{SP}individual-birthdate",
    ),
    SearchParameter(
        "gender",
        "token",
        "male, female, other or unknown.",
        _gender,
        definition=f"{SP}individual-gender",
    ),
    SearchParameter(
        "phone",
        "token",
        "Any format: compared as E.164 with the patient's active phone and SMS numbers.",
        lambda modifier, value: criteria.phone_criterion(_token_value("phone", value)),
        definition=f"{SP}individual-phone",
    ),
    SearchParameter(
        "email",
        "token",
        "Compared lower-cased with the patient's active email addresses.",
        lambda modifier, value: criteria.email_criterion(_token_value("email", value)),
        definition=f"{SP}individual-email",
    ),
    SearchParameter(
        "address-postalcode",
        "string",
        "Starts-with on the postcode, ignoring case.",
        lambda modifier, value: criteria.postal_code_criterion(unescape(value)),
        definition=f"{SP}individual-address-postalcode",
    ),
)


def read_patient(*, actor: Actor, resource_id: str) -> Served:
    """One patient by Careline public id: checked (permission, scope or break-glass) and
    audited by ``patients.access`` exactly as the staff API's ``GET /api/patients/{id}``."""
    try:
        patient_id = uuid.UUID(resource_id)
    except ValueError as error:
        raise NotFound("No such patient.") from error
    patient = access_patient(actor=actor, patient_id=patient_id).patient
    return _served([patient])[0]


def search_patient(
    *, actor: Actor, search: ParsedSearch, after_key: int | None, limit: int, count_total: bool
) -> ServedPage:
    page = criteria.search_patient_page(
        actor=actor,
        criteria=search.criteria,
        criteria_names=search.names,
        after_pk=after_key,
        limit=limit,
        count_total=count_total,
    )
    return ServedPage(
        resources=_served(page.patients),
        has_more=page.has_more,
        total=page.total,
        last_key=page.patients[-1].pk if page.patients else after_key,
    )


def _served(patients: list[Patient]) -> list[Served]:
    records = latest_source_records(patient_pks=[patient.pk for patient in patients])
    return [patient_resource(patient, records.get(patient.pk)) for patient in patients]


PATIENT = ResourceDefinition(
    type="Patient",
    profile="http://hl7.org/fhir/StructureDefinition/Patient",
    parameters=PARAMETERS,
    read=read_patient,
    search=search_patient,
    documentation=(
        "Read by Careline public id; search lists only the patients the caller may open "
        "(care team, location, or an active break-glass grant)."
    ),
)
