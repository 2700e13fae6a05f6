"""Observation → the clinical mirror; a social-needs screening answer also → a social need.

Values: a quantity becomes number + unit, a coded or text answer becomes text, and the
components of a panel (blood pressure) become ``[{code, display, value, unit}]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from careline.interop.fhir.context import Mapping, UnitContext
from careline.interop.fhir.mapping.clinical import fact
from careline.interop.fhir.values import (
    JSON,
    as_dict,
    coding_in,
    concept_code,
    concept_display,
    dicts,
    first_coding,
    parse_datetime,
    period_bounds,
    text,
)

LOINC = "http://loinc.org"
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
# Screening question (LOINC) → social-need category.
SOCIAL_NEED_QUESTIONS = {"93030-5": "transportation", "88124-3": "food", "71802-3": "housing"}
# Answers that mean "no need" (or no answer): anything else coded means the need is there —
# LA33-6 Yes, LA19952-3 At risk, LA30191-3 / LA31994-9 no housing, PRAPARE's LA30133-5 …
NEGATIVE_ANSWERS = frozenset(
    {
        "LA32-8",  # No
        "LA19983-8",  # No risk
        "LA30190-5",  # I have housing
        "LA31993-1",  # I have housing (PRAPARE)
        "LA30122-8",  # I choose not to answer this question
    }
)


@dataclass(frozen=True, slots=True)
class SocialNeedSignal:
    category: str
    is_active: bool
    note: str


def map_observation(resource: JSON, context: UnitContext) -> Mapping:
    effective_at = (
        parse_datetime(resource.get("effectiveDateTime"))
        or period_bounds(resource.get("effectivePeriod"))[0]
        or parse_datetime(resource.get("effectiveInstant"))
        or parse_datetime(resource.get("issued"))
    )
    mapping = fact(
        resource,
        context,
        resource.get("code"),
        status=text(resource.get("status")),
        effective_at=effective_at,
    )
    number, unit, value_text = observed_value(resource)
    category = next(
        (text(first_coding(c).get("code")) for c in dicts(resource.get("category"))), ""
    )
    mapping.fields.update(
        category=category,
        value_number=number,
        value_unit=unit,
        value_text=value_text,
        interpretation=text(
            first_coding(next(dicts(resource.get("interpretation")), {})).get("code")
        ),
        components=_blood_pressure_first(_component(c) for c in dicts(resource.get("component"))),
    )
    mapping.extra = social_need(resource)
    return mapping


def observed_value(element: JSON) -> tuple[float | None, str, str]:
    """(number, unit, text) of an Observation's or component's value[x]."""
    quantity = as_dict(element.get("valueQuantity"))
    if quantity:
        value = quantity.get("value")
        number = (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
        return number, text(quantity.get("unit")) or text(quantity.get("code")), ""
    if "valueCodeableConcept" in element:
        return None, "", concept_display(element["valueCodeableConcept"])
    if isinstance(element.get("valueBoolean"), bool):
        return None, "", "Yes" if element["valueBoolean"] else "No"
    if isinstance(element.get("valueInteger"), int):
        return float(element["valueInteger"]), "", ""
    for name in ("valueString", "valueDateTime", "valueTime"):
        if name in element:
            return None, "", text(element[name])
    return None, "", _other_value(element)


def _other_value(element: JSON) -> str:
    period = as_dict(element.get("valuePeriod"))
    if period:
        return " to ".join(text(period.get(k)) for k in ("start", "end") if period.get(k))
    ratio = as_dict(element.get("valueRatio"))
    if ratio:
        numerator = text(as_dict(ratio.get("numerator")).get("value"))
        denominator = text(as_dict(ratio.get("denominator")).get("value"))
        return f"{numerator}/{denominator}"
    value_range = as_dict(element.get("valueRange"))
    if value_range:
        low, high = as_dict(value_range.get("low")), as_dict(value_range.get("high"))
        unit = text(low.get("unit")) or text(high.get("unit"))
        return f"{text(low.get('value'))}-{text(high.get('value'))} {unit}".strip()
    return ""


def _component(component: JSON) -> dict[str, Any]:
    code, _, display = concept_code(component.get("code"))
    number, unit, value_text = observed_value(component)
    return {
        "code": code,
        "display": display,
        "value": number if number is not None else value_text,
        "unit": unit,
    }


def _blood_pressure_first(components: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Systolic before diastolic (people read 120/80); other components keep their order."""
    order = {SYSTOLIC: 0, DIASTOLIC: 1}
    return sorted(components, key=lambda component: order.get(component["code"], 2))


def social_need(resource: JSON) -> SocialNeedSignal | None:
    """The social need a screening answer reports (active or not), or None for other codes."""
    question = text(coding_in(resource.get("code"), LOINC).get("code"))
    category = SOCIAL_NEED_QUESTIONS.get(question)
    if category is None:
        return None
    if isinstance(resource.get("valueBoolean"), bool):
        answer_display = "Yes" if resource["valueBoolean"] else "No"
        return SocialNeedSignal(category, resource["valueBoolean"], answer_display)
    answer = as_dict(resource.get("valueCodeableConcept"))
    answer_code = text(coding_in(answer, LOINC).get("code")) or concept_code(answer)[0]
    is_active = bool(answer_code) and answer_code not in NEGATIVE_ANSWERS
    return SocialNeedSignal(category, is_active, concept_display(answer))
