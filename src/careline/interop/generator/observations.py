"""Observations: vital signs, laboratory results and social-needs screening answers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import codes
from .codes import Code, SocialNeed
from .common import Resource, chance, fhir_datetime, local_ref, new_id, quantity
from .observation_codes import (
    BP_PANEL,
    DIASTOLIC,
    INTERPRETATIONS,
    LABORATORY,
    LABS,
    SYSTOLIC,
    VITAL_SIGNS,
    VITALS,
    Lab,
)
from .patient import PatientContext

FEVERISH = {"pneumonia", "covid", "otitis", "strep", "pharyngitis", "bronchitis"}
LOW_OXYGEN = {"pneumonia", "copd-exacerbation", "covid"}


@dataclass(frozen=True)
class Body:
    """A patient's stable physiology, from which each visit's measurements are drawn."""

    height_factor: float
    bmi: float
    systolic: float
    heart_rate: float


@dataclass(frozen=True)
class Findings:
    """What is known about the patient on a given day that shifts measurements."""

    problems: frozenset[str]
    treated: frozenset[str]
    acute: str | None = None


def new_body(rng: random.Random, obese: bool) -> Body:
    bmi = rng.uniform(31.0, 42.0) if obese else rng.uniform(19.0, 29.5)
    return Body(rng.gauss(1.0, 0.035), bmi, rng.uniform(106.0, 126.0), rng.uniform(60.0, 86.0))


def _height_cm(context: PatientContext, body: Body, age: float) -> float:
    adult = 176.0 if context.sex == "male" else 162.0
    grown = 17.0 if context.sex == "male" else 15.0
    if age < 1:
        curve = 50.0 + 25.0 * age
    elif age < 2:
        curve = 75.0 + 12.0 * (age - 1)
    else:
        curve = 87.0 + (adult - 87.0) * min(1.0, (age - 2) / (grown - 2))
    return curve * body.height_factor


def _weight_kg(rng: random.Random, body: Body, age: float, height_cm: float) -> float:
    if age < 1:
        return 3.4 + 6.4 * age + rng.uniform(-0.3, 0.3)
    if age < 2:
        return 9.8 + 2.4 * (age - 1) + rng.uniform(-0.4, 0.4)
    bmi = body.bmi if age >= 18 else 15.5 + (body.bmi - 15.5) * max(0.0, age - 6) / 12
    return bmi * (height_cm / 100) ** 2 + rng.uniform(-1.5, 1.5)


def _observation(
    context: PatientContext, category: Code, code: Code, encounter: Resource, when: datetime
) -> Resource:
    item: Resource = {"resourceType": "Observation", "id": new_id(context.rng), "status": "final"}
    item |= {"category": [category.concept()], "code": code.concept(), "subject": context.ref()}
    item |= {"encounter": local_ref(encounter), "effectiveDateTime": fhir_datetime(when)}
    return item


def _vital(
    context: PatientContext, key: str, value: float, encounter: Resource, when: datetime
) -> Resource:
    code, unit, ucum = VITALS[key]
    item = _observation(context, VITAL_SIGNS, code, encounter, when)
    item["valueQuantity"] = quantity(value, unit, ucum)
    return item


def _blood_pressure(
    context: PatientContext, body: Body, found: Findings, encounter: Resource, when: datetime
) -> Resource:
    rng, age = context.rng, context.age(when.date())
    systolic = 88.0 + 1.6 * age if age < 18 else body.systolic + 0.25 * max(0, age - 40)
    if "hypertension" in found.problems:
        systolic += rng.uniform(12.0, 30.0) - (10.0 if "hypertension" in found.treated else 0.0)
    systolic += rng.gauss(0.0, 5.0)
    diastolic = systolic * 0.62 + rng.gauss(0.0, 4.0)
    item = _observation(context, VITAL_SIGNS, BP_PANEL, encounter, when)
    item["component"] = [
        {"code": SYSTOLIC.concept(), "valueQuantity": quantity(round(systolic), "mmHg", "mm[Hg]")},
        {
            "code": DIASTOLIC.concept(),
            "valueQuantity": quantity(round(diastolic), "mmHg", "mm[Hg]"),
        },
    ]
    return item


def _heart_rate(rng: random.Random, body: Body, age: int) -> int:
    if age < 1:
        return rng.randint(110, 150)
    if age < 6:
        return rng.randint(90, 125)
    if age < 12:
        return rng.randint(75, 110)
    return round(body.heart_rate + rng.gauss(0.0, 6.0))


def _growth(context: PatientContext, body: Body, when: datetime) -> tuple[float, float]:
    """(height cm, weight kg) on a given day."""
    age_years = (when.date() - context.birth).days / 365.25
    height = _height_cm(context, body, age_years)
    return height, _weight_kg(context.rng, body, age_years, height)


def vital_signs(
    context: PatientContext,
    body: Body,
    found: Findings,
    encounter: Resource,
    kind: str,
    when: datetime,
) -> list[Resource]:
    rng, age = context.rng, context.age(when.date())
    height, weight = _growth(context, body, when)
    taken = when + timedelta(minutes=rng.randint(2, 10))
    values: list[tuple[str, float]] = [("heart-rate", _heart_rate(rng, body, age))]
    values.append(("weight", round(weight, 1)))
    if age < 18 or kind == "wellness":
        values.append(("height", round(height, 1)))
        if age >= 2:
            values.append(("bmi", round(weight / (height / 100) ** 2, 1)))
    if kind in ("acute", "emergency", "inpatient") or chance(rng, 0.3):
        fever = found.acute in FEVERISH and chance(rng, 0.6)
        celsius = rng.uniform(37.8, 39.4) if fever else rng.uniform(36.4, 37.2)
        values.append(("temperature", round(celsius, 1)))
    if (
        kind in ("emergency", "inpatient")
        or found.problems & {"asthma", "copd"}
        or chance(rng, 0.3)
    ):
        values.append(("spo2", _spo2(rng, found)))
    measured = [_vital(context, key, value, encounter, taken) for key, value in values]
    if age >= 3:
        measured.insert(0, _blood_pressure(context, body, found, encounter, taken))
    return measured


def _spo2(rng: random.Random, found: Findings) -> int:
    if found.acute in LOW_OXYGEN:
        return rng.randint(86, 93)
    return rng.randint(90, 95) if "copd" in found.problems else rng.randint(95, 100)


# --- laboratory ------------------------------------------------------------------------


def _lab_value(rng: random.Random, key: str, found: Findings, age: int) -> float:
    problems, treated = found.problems, found.treated
    diabetic, lipids = "diabetes" in problems, "hyperlipidemia" in problems
    if key == "hba1c":
        return (
            rng.uniform(6.4, 9.8) - (0.8 if "diabetes" in treated else 0.0)
            if diabetic
            else rng.uniform(4.7, 5.9)
        )
    if key == "glucose":
        return rng.uniform(115.0, 230.0) if diabetic else rng.uniform(72.0, 106.0)
    if key == "cholesterol":
        base = rng.uniform(205.0, 285.0) if lipids else rng.uniform(140.0, 225.0)
        return base - (55.0 if "hyperlipidemia" in treated else 0.0)
    if key == "ldl":
        base = rng.uniform(135.0, 195.0) if lipids else rng.uniform(60.0, 150.0)
        return base - (60.0 if "hyperlipidemia" in treated else 0.0)
    if "ckd3" in problems:
        return rng.uniform(30.0, 59.0)
    return max(61.0, rng.uniform(95.0, 120.0) - 0.6 * max(0, age - 30))


def _interpretation(lab: Lab, value: float) -> Code:
    if lab.high is not None and value >= lab.high:
        return INTERPRETATIONS["H"]
    if lab.low is not None and value < lab.low:
        return INTERPRETATIONS["L"]
    return INTERPRETATIONS["N"]


def _reference_range(lab: Lab) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if lab.low is not None:
        bounds["low"] = quantity(lab.low, lab.unit, lab.ucum)
    if lab.high is not None:
        bounds["high"] = quantity(lab.high, lab.unit, lab.ucum)
    return bounds


def lab_results(
    context: PatientContext, keys: list[str], found: Findings, encounter: Resource, when: datetime
) -> list[Resource]:
    rng, results = context.rng, []
    drawn = when + timedelta(minutes=rng.randint(10, 40))
    detailed = chance(rng, 0.65)
    for key in keys:
        lab = LABS[key]
        value = round(_lab_value(rng, key, found, context.age(when.date())), lab.decimals)
        item = _observation(context, LABORATORY, lab.code, encounter, drawn)
        latest = context.death or datetime.combine(context.end, datetime.min.time())
        item["issued"] = fhir_datetime(min(latest, drawn + timedelta(hours=rng.randint(2, 30))))
        item["valueQuantity"] = quantity(value if lab.decimals else int(value), lab.unit, lab.ucum)
        if detailed:
            item["interpretation"] = [_interpretation(lab, value).concept()]
            item["referenceRange"] = [_reference_range(lab)]
        results.append(item)
    return results


# --- social needs ------------------------------------------------------------------------


def _answer(
    context: PatientContext, need: SocialNeed, encounter: Resource, when: datetime
) -> Resource:
    risk = need.prevalence * (2.0 if context.medicaid else 1.0)
    answer = need.positive if chance(context.rng, risk) else need.negative
    item = _observation(context, codes.SOCIAL_HISTORY, need.question, encounter, when)
    item["category"].append(codes.SDOH_CATEGORY.concept())
    item["valueCodeableConcept"] = answer.concept()
    return item


def social_needs(context: PatientContext, encounter: Resource, when: datetime) -> list[Resource]:
    """Screening answers given at one visit: transportation, and for some food and housing."""
    rng = context.rng
    found = [_answer(context, codes.TRANSPORTATION, encounter, when)]
    for need in (codes.FOOD, codes.HOUSING):
        if chance(rng, 0.45):
            found.append(_answer(context, need, encounter, when))
    return found
