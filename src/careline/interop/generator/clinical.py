"""A patient's clinical history, from planned visits to FHIR resources."""

from __future__ import annotations

from .common import Resource, chance
from .encounters import ClinicalRecord
from .history import choose_problems, plan_visits
from .observations import new_body
from .patient import PatientContext
from .preventive import Seen, allergy_resources, draw_allergies, immunizations


def _social_screening(context: PatientContext, record: ClinicalRecord, seen: list[Seen]) -> None:
    """Adults answer the social-needs screening at their latest check-up (or latest visit)."""
    adult = [s for s in seen if context.age(s.start.date()) >= 18]
    if not adult or not chance(context.rng, 0.75):
        return
    wellness = [s for s in adult if s.encounter["type"][0]["coding"][0]["code"] == "185349003"]
    chosen = (wellness or adult)[-1]
    record.social_screening(chosen.encounter, chosen.start)


def clinical_history(context: PatientContext) -> list[Resource]:
    problems = choose_problems(context)
    body = new_body(context.rng, any(p.spec.key == "obesity" for p in problems))
    visits = plan_visits(context, problems)
    allergies, none_known = draw_allergies(context.rng)
    record = ClinicalRecord(context, problems, body)
    record.allergy_keys = {a.key for a in allergies}
    seen: list[Seen] = []
    recorded: list[Resource] = []
    for index, visit in enumerate(visits):
        encounter, care = record.visit(visit)
        if index == 0:
            first = Seen(encounter, care, visit.start)
            recorded = allergy_resources(context, allergies, none_known, first)
        if visit.kind != "virtual":
            seen.append(Seen(encounter, care, visit.start))
    _social_screening(context, record, seen)
    record.close()
    return recorded + record.resources + immunizations(context, seen)
