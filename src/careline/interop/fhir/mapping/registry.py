"""RelatedPerson, Coverage and Consent → the patient registry."""

from __future__ import annotations

from typing import Any

from careline.interop.fhir.context import Mapping, UnitContext
from careline.interop.fhir.values import (
    JSON,
    as_dict,
    as_list,
    codes,
    concept_code,
    concept_display,
    dicts,
    first_coding,
    full_name,
    parse_datetime,
    period_bounds,
    telecom_value,
    text,
)
from careline.patients.bulk import normalize_contact

V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
CARELINE_CONSENT_PURPOSE = "https://careline.health/fhir/CodeSystem/consent-purpose"
LOINC = "http://loinc.org"
CONSENT_PURPOSES = frozenset(
    {
        "hipaa-notice",
        "treatment",
        "sms",
        "email",
        "voice",
        "marketing",
        "research",
        "portal",
        "data-sharing",
        "other",
    }
)
# Codes of other systems whose meaning is one of Careline's purposes.
OTHER_PURPOSE_CODES = {
    (LOINC, "59284-0"): "treatment",  # Patient Consent
    (LOINC, "64292-6"): "hipaa-notice",  # Release of information consent
    (LOINC, "57016-8"): "hipaa-notice",  # Privacy policy acknowledgment
    (LOINC, "57017-6"): "hipaa-notice",  # Privacy policy Organization
    ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT"): "treatment",
    ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HMARKT"): "marketing",
    ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HRESCH"): "research",
    ("http://terminology.hl7.org/CodeSystem/consentscope", "research"): "research",
    ("http://terminology.hl7.org/CodeSystem/consentscope", "treatment"): "treatment",
}
CONSENT_STATUSES = {
    "active": "active",
    "rejected": "rejected",
    "inactive": "inactive",
    "entered-in-error": "inactive",
    "draft": "draft",
    "proposed": "draft",
}


def map_related_person(resource: JSON, context: UnitContext) -> Mapping:
    relationships = list(dicts(resource.get("relationship")))
    first = relationships[0] if relationships else {}
    coding = first_coding(first)
    described = " ".join(concept_display(r) for r in relationships).lower()
    all_codes = set().union(*(codes(r) for r in relationships)) if relationships else set()
    telecoms = resource.get("telecom")
    return Mapping(
        fields={
            "name": full_name(resource.get("name")),
            "relationship": concept_display(first),
            "relationship_code": text(coding.get("code")),
            "is_caregiver": (V3_ROLE, "CGV") in all_codes or "caregiver" in described,
            "is_emergency_contact": bool(
                {(V2_CONTACT_ROLE, "C"), (V2_CONTACT_ROLE, "EP")} & all_codes
            ),
            "phone": normalize_contact("phone", telecom_value(telecoms, "phone")),
            "email": normalize_contact("email", telecom_value(telecoms, "email")),
        },
        patient=context.key(resource.get("patient"), expected="Patient"),
    )


def map_coverage(resource: JSON, context: UnitContext) -> Mapping:
    start, end = period_bounds(resource.get("period"))
    relationship = concept_code(resource.get("relationship"))
    identifier = next(dicts(resource.get("identifier")), {})
    payor = next(dicts(resource.get("payor")), {})
    return Mapping(
        fields={
            "status": text(resource.get("status")) or "active",
            "payer": _payer_name(payor, resource, context),
            "plan": _class_label(resource, "plan"),
            "group": _class_label(resource, "group"),
            "member_id": text(resource.get("subscriberId")) or text(identifier.get("value")),
            "relationship": relationship[0] or relationship[2],
            "start_date": start.date() if start else None,
            "end_date": end.date() if end else None,
        },
        links=context.links(payer_organization=(payor, "Organization")),
        patient=context.key(resource.get("beneficiary"), expected="Patient"),
    )


def _payer_name(payor: JSON, resource: JSON, context: UnitContext) -> str:
    named = text(payor.get("display"))
    if named:
        return named
    organization = context.lookup(payor, container=resource) or {}
    return text(organization.get("name"))


def _class_label(resource: JSON, class_type: str) -> str:
    for item in dicts(resource.get("class")):
        if class_type in {code for _, code in codes(item.get("type"))}:
            name, value = text(item.get("name")), text(item.get("value"))
            return f"{name} ({value})" if name and value and name != value else name or value
    return ""


def map_consent(resource: JSON, context: UnitContext) -> Mapping:
    provision = as_dict(resource.get("provision"))
    status = CONSENT_STATUSES.get(text(resource.get("status")), "draft")
    if status == "active" and provision.get("type") == "deny":
        status = "rejected"
    _, end = period_bounds(provision.get("period"))
    category = next(dicts(resource.get("category")), {})
    return Mapping(
        fields={
            "purpose": consent_purpose(resource),
            "status": status,
            "description": concept_display(category),
            "decided_at": parse_datetime(resource.get("dateTime")),
            "expires_on": end.date() if end else None,
        },
        patient=context.key(resource.get("patient"), expected="Patient"),
    )


def consent_purpose(resource: JSON) -> str:
    """Careline's purpose: its own code system first, then known codes of others, else other."""
    found = _consent_codes(resource)
    for system, code in found:
        if system == CARELINE_CONSENT_PURPOSE and code in CONSENT_PURPOSES:
            return code
    for key in found:
        if key in OTHER_PURPOSE_CODES:
            return OTHER_PURPOSE_CODES[key]
    return "other"


def _consent_codes(resource: JSON) -> list[tuple[str, str]]:
    """Every (system, code) that may say the purpose, most specific first."""
    provision = as_dict(resource.get("provision"))
    found: list[tuple[str, str]] = [
        (text(coding.get("system")), text(coding.get("code")))
        for coding in dicts(provision.get("purpose"))
    ]
    for concept in [*as_list(provision.get("action")), *as_list(resource.get("category"))]:
        found.extend(_ordered_codes(concept))
    found.extend(_ordered_codes(resource.get("scope")))
    return found


def _ordered_codes(concept: Any) -> list[tuple[str, str]]:
    return [
        (text(coding.get("system")), text(coding.get("code")))
        for coding in dicts(as_dict(concept).get("coding"))
    ]
