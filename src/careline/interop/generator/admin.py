"""Administrative resources of a patient: insurance coverage and consents."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from typing import Any

from . import codes
from .codes import CONSENT_PURPOSES, Code, Payer
from .common import (
    Resource,
    add_years,
    at_time,
    chance,
    directory_ref,
    fhir_date,
    fhir_datetime,
    local_ref,
    new_id,
    random_day,
    weighted,
)
from .patient import PatientContext, guardian

MBI_LETTERS = "".join(ch for ch in string.ascii_uppercase if ch not in "SLOIBZ")
COMMERCIAL_WEIGHTS = {
    "Blue Cross Blue Shield of Massachusetts": 30.0,
    "Blue Cross & Blue Shield of Rhode Island": 30.0,
    "Harvard Pilgrim": 15.0,
    "Tufts Health Plan": 12.0,
    "UnitedHealthcare": 10.0,
    "Aetna": 9.0,
    "Cigna": 6.0,
}


def _mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier in the CMS shape (e.g. 1EG4TE5MK73)."""
    digit = string.digits
    both = digit + MBI_LETTERS
    letter = MBI_LETTERS
    pattern = ("123456789", letter, both, digit, letter, both, digit, letter, letter, digit, digit)
    return "".join(rng.choice(chars) for chars in pattern)


def _member_id(rng: random.Random, payer: Payer) -> str:
    if payer.kind == "medicare":
        return _mbi(rng)
    if payer.kind == "medicaid":
        return f"1{rng.randrange(10**11):011d}"
    return f"{payer.member_prefix}{rng.randrange(10**9):09d}"


def _payers(state: str, kind: str) -> list[Payer]:
    return [p for p in codes.PAYERS if p.kind == kind and state in p.states]


def _choose_payer(context: PatientContext, exclude: str | None = None) -> Payer:
    state = context.home.state
    if exclude is None and context.age() >= 65:
        return _payers(state, "medicare")[0]
    if exclude is None and context.medicaid:
        return _payers(state, "medicaid")[0]
    options = [
        (p, COMMERCIAL_WEIGHTS[p.name]) for p in _payers(state, "commercial") if p.name != exclude
    ]
    return weighted(context.rng, options)


def _relationship(context: PatientContext, payer: Payer) -> tuple[str, Resource | None]:
    """Who holds the policy: the patient, a parent (child) or the spouse."""
    age = context.age()
    parent = guardian(context)
    if payer.kind == "commercial" and (age < 18 or (age < 26 and chance(context.rng, 0.3))):
        return "child", parent.resource if parent else None
    if payer.kind == "commercial" and context.marital == "M" and chance(context.rng, 0.25):
        spouse = [c.resource for c in context.caregivers if c.relationship == "SPS"]
        return "spouse", spouse[0] if spouse else None
    return "self", None


def _classes(context: PatientContext, payer: Payer) -> list[dict[str, Any]]:
    rng = context.rng
    plan_value, plan_name = rng.choice(payer.plans)
    found = [{"type": _class_type("plan", "Plan"), "value": plan_value, "name": plan_name}]
    if payer.kind == "commercial":
        employer = context.pool.seeded("en_US", rng).company()
        group = {"type": _class_type("group", "Group"), "value": f"{rng.randrange(10**6):06d}"}
        found.insert(0, group | {"name": f"{employer} Employees"})
    return found


def _class_type(code: str, display: str) -> dict[str, Any]:
    return Code(codes.COVERAGE_CLASS, code, display).concept()


def _coverage(context: PatientContext, payer: Payer, start: date, end: date | None) -> Resource:
    relationship, subscriber = _relationship(context, payer)
    item: Resource = {"resourceType": "Coverage", "id": new_id(context.rng)}
    item["status"] = "cancelled" if end else "active"
    item["type"] = codes.COVERAGE_TYPES[payer.kind].concept()
    if subscriber is not None:
        item["subscriber"] = local_ref(subscriber)
    item |= {"subscriberId": _member_id(context.rng, payer), "beneficiary": context.ref()}
    if relationship != "self":
        item["dependent"] = "02" if relationship == "child" else "01"
    rel = Code(codes.SUBSCRIBER_RELATIONSHIP, relationship, relationship.capitalize())
    item |= {"relationship": rel.concept(), "period": {"start": fhir_date(start)}}
    if end:
        item["period"]["end"] = fhir_date(end)
    item |= {"payor": [{"display": payer.name}], "class": _classes(context, payer), "order": 1}
    return item


def _coverage_start(context: PatientContext, payer: Payer) -> date:
    if payer.kind == "medicare":
        return add_years(context.birth, 65).replace(day=1)
    earliest = max(context.birth, add_years(context.end, -8))
    return random_day(context.rng, earliest, max(earliest, context.end - timedelta(days=60)))


def coverages(context: PatientContext) -> list[Resource]:
    rng = context.rng
    if not chance(rng, 0.98 if context.age() >= 65 else 0.9):
        return []
    payer = _choose_payer(context)
    start = _coverage_start(context, payer)
    found = [_coverage(context, payer, start, context.end if context.death else None)]
    lapsed_start = add_years(start, -rng.randint(1, 5))
    if chance(rng, 0.15) and lapsed_start > context.birth:
        old = _choose_payer(context, exclude=payer.name if payer.kind == "commercial" else "")
        found.append(_coverage(context, old, lapsed_start, start - timedelta(days=1)))
    return found


# --- consents --------------------------------------------------------------------------

CHANNELS = (
    ("sms", 0.8, 0.8),
    ("email", 0.6, 0.75),
    ("voice", 0.4, 0.6),
    ("portal", 0.7, 0.85),
    ("marketing", 0.5, 0.3),
    ("research", 0.3, 0.45),
)


def _consent(context: PatientContext, purpose: str, permit: bool, signed: date) -> Resource:
    rng = context.rng
    declined = purpose == "hipaa-notice" or chance(rng, 0.5)
    status = "active" if permit or not declined else "rejected"
    if purpose == "hipaa-notice":
        rule = codes.POLICY_NOPP
    else:
        rule = codes.POLICY_OPTIN if permit else codes.POLICY_OPTOUT
    parent = guardian(context)
    signer = local_ref(parent.resource) if parent else context.ref()
    item: Resource = {"resourceType": "Consent", "id": new_id(rng), "status": status}
    item |= {"scope": codes.CONSENT_SCOPE.concept(), "category": [codes.CONSENT_CATEGORY.concept()]}
    item |= {
        "patient": context.ref(),
        "dateTime": fhir_datetime(at_time(rng, signed)),
        "performer": [signer],
    }
    item["organization"] = [directory_ref("Organization", context.pcp.site.organization_id)]
    item["policyRule"] = rule.concept()
    provision: dict[str, Any] = {"type": "permit" if permit else "deny"}
    provision["period"] = {"start": fhir_date(signed)}
    if purpose != "hipaa-notice":
        provision["action"] = [codes.CONSENT_ACTION.concept()]
    provision["purpose"] = [CONSENT_PURPOSES[purpose].coding()]
    item["provision"] = provision
    return item


def consents(context: PatientContext) -> list[Resource]:
    rng = context.rng
    earliest = max(context.birth, add_years(context.end, -4))
    signed = random_day(rng, earliest, context.end)
    found = [_consent(context, "hipaa-notice", chance(rng, 0.97), signed)]
    for purpose, recorded, permitted in CHANNELS:
        if purpose == "sms" and not (context.mobile or guardian(context)):
            continue
        if purpose == "email" and not context.email:
            continue
        if chance(rng, recorded):
            found.append(_consent(context, purpose, chance(rng, permitted), signed))
    return found
