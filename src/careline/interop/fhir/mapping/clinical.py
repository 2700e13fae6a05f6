"""Conditions, allergies, medication requests, encounters, immunizations, procedures and
care plans → the clinical mirror (Observation has its own module).

Every fact gets ``code``/``code_system``/``display`` (first coding; display falls back to
the text), ``status``, ``effective_at`` (its natural date) and ``encounter_source_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from careline.interop.fhir.context import ById, Mapping, UnitContext
from careline.interop.fhir.values import (
    JSON,
    as_dict,
    concept_code,
    concept_display,
    dicts,
    first_coding,
    full_name,
    parse_datetime,
    period_bounds,
    text,
)


@dataclass(frozen=True, slots=True)
class VisitEvent:
    """What the patient's timeline shows for an encounter."""

    title: str
    occurred_at: datetime
    detail: str = ""


def fact(
    resource: JSON,
    context: UnitContext,
    concept: object,
    *,
    status: str,
    effective_at: datetime | None,
    patient_element: str = "subject",
) -> Mapping:
    """The fields every clinical fact has, and its patient."""
    code, system, display = concept_code(concept)
    return Mapping(
        fields={
            "code": code,
            "code_system": system,
            "display": display,
            "status": status,
            "effective_at": effective_at,
            "encounter_source_id": encounter_id(resource, context),
        },
        patient=context.key(resource.get(patient_element), expected="Patient"),
    )


def encounter_id(resource: JSON, context: UnitContext) -> str:
    key = context.key(resource.get("encounter"), expected="Encounter")
    return key.source_id if isinstance(key, ById) else ""


def status_code(concept: object) -> str:
    return text(first_coding(concept).get("code"))


def map_condition(resource: JSON, context: UnitContext) -> Mapping:
    onset = _first_time(resource, "onsetDateTime", "onsetPeriod", "recordedDate")
    mapping = fact(
        resource,
        context,
        resource.get("code"),
        status=status_code(resource.get("clinicalStatus")),
        effective_at=onset,
    )
    abated_at = (
        parse_datetime(resource.get("abatementDateTime"))
        or period_bounds(resource.get("abatementPeriod"))[1]
    )
    mapping.fields.update(
        verification_status=status_code(resource.get("verificationStatus")),
        category=status_code(next(dicts(resource.get("category")), {})),
        abated_at=abated_at,
    )
    return mapping


def map_allergy(resource: JSON, context: UnitContext) -> Mapping:
    mapping = fact(
        resource,
        context,
        resource.get("code"),
        status=status_code(resource.get("clinicalStatus")),
        effective_at=_first_time(resource, "onsetDateTime", "onsetPeriod", "recordedDate"),
        patient_element="patient",
    )
    categories = [text(c) for c in resource.get("category") or [] if text(c)]
    manifestations = [
        concept_display(m)
        for reaction in dicts(resource.get("reaction"))
        for m in dicts(reaction.get("manifestation"))
    ]
    mapping.fields.update(
        category=", ".join(categories),
        criticality=text(resource.get("criticality")),
        reactions="; ".join(m for m in manifestations if m),
        verification_status=status_code(resource.get("verificationStatus")),
    )
    return mapping


def map_medication_request(resource: JSON, context: UnitContext) -> Mapping:
    mapping = fact(
        resource,
        context,
        _medication(resource, context),
        status=text(resource.get("status")),
        effective_at=parse_datetime(resource.get("authoredOn")),
    )
    dosage = next(dicts(resource.get("dosageInstruction")), {})
    mapping.fields.update(
        intent=text(resource.get("intent")),
        dosage=text(dosage.get("text")),
        requester=_display_of(resource.get("requester"), resource, context),
    )
    return mapping


def _medication(resource: JSON, context: UnitContext) -> object:
    concept = resource.get("medicationCodeableConcept")
    if concept:
        return concept
    reference = as_dict(resource.get("medicationReference"))
    medication = context.lookup(reference, container=resource)
    if medication and medication.get("code"):
        return medication["code"]
    return {"text": text(reference.get("display"))}


def _display_of(element: object, container: JSON, context: UnitContext) -> str:
    """A reference's display, else the name of the person or place it points to here."""
    shown = text(as_dict(element).get("display"))
    if shown:
        return shown
    target = context.lookup(element, container=container) or {}
    return (
        full_name(target.get("name"))
        if isinstance(target.get("name"), list)
        else text(target.get("name"))
    )


def map_encounter(resource: JSON, context: UnitContext) -> Mapping:
    start, end = period_bounds(resource.get("period"))
    encounter_type = next(dicts(resource.get("type")), {})
    mapping = fact(
        resource, context, encounter_type, status=text(resource.get("status")), effective_at=start
    )
    encounter_class = as_dict(resource.get("class"))
    reason = next(dicts(resource.get("reasonCode")), None)
    reason_text = concept_display(reason) if reason else _reason_reference(resource)
    participant = next(
        (
            p["individual"]
            for p in dicts(resource.get("participant"))
            if context.key(p.get("individual"), expected="Practitioner") is not None
        ),
        None,
    )
    location = next(dicts(resource.get("location")), {})
    mapping.fields.update(
        encounter_class=text(encounter_class.get("code")), ended_at=end, reason=reason_text
    )
    mapping.links = context.links(
        practitioner_id=(participant, "Practitioner"),
        location_id=(location.get("location"), "Location"),
        service_provider_id=(resource.get("serviceProvider"), "Organization"),
    )
    title = mapping.fields["display"] or text(encounter_class.get("display")) or "Visit"
    mapping.extra = VisitEvent(title, start, reason_text) if start else None
    return mapping


def _reason_reference(resource: JSON) -> str:
    reference = next(dicts(resource.get("reasonReference")), {})
    return text(reference.get("display"))


def map_immunization(resource: JSON, context: UnitContext) -> Mapping:
    return fact(
        resource,
        context,
        resource.get("vaccineCode"),
        status=text(resource.get("status")),
        effective_at=parse_datetime(resource.get("occurrenceDateTime")),
        patient_element="patient",
    )


def map_procedure(resource: JSON, context: UnitContext) -> Mapping:
    start, end = period_bounds(resource.get("performedPeriod"))
    performed = parse_datetime(resource.get("performedDateTime")) or start
    mapping = fact(
        resource,
        context,
        resource.get("code"),
        status=text(resource.get("status")),
        effective_at=performed,
    )
    mapping.fields["ended_at"] = end
    return mapping


def map_care_plan(resource: JSON, context: UnitContext) -> Mapping:
    start, end = period_bounds(resource.get("period"))
    mapping = fact(
        resource,
        context,
        next(dicts(resource.get("category")), {}),
        status=text(resource.get("status")),
        effective_at=start or parse_datetime(resource.get("created")),
    )
    activities = [_activity(activity) for activity in dicts(resource.get("activity"))]
    mapping.fields.update(
        intent=text(resource.get("intent")),
        ended_at=end,
        activities=[activity for activity in activities if activity],
    )
    return mapping


def _activity(activity: JSON) -> str:
    detail = as_dict(activity.get("detail"))
    return concept_display(detail.get("code")) or text(detail.get("description"))


def _first_time(resource: JSON, *elements: str) -> datetime | None:
    for element in elements:
        value: Any = resource.get(element)
        moment = period_bounds(value)[0] if isinstance(value, dict) else parse_datetime(value)
        if moment is not None:
            return moment
    return None
