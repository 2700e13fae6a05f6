"""The rule engine: visit-type criteria and provider rules → the violations, each naming its
rule. Pure: it reads the rows handed to it (a ``VisitType``, ``ProviderRule`` rows, the
patient's ``PatientFacts``) and touches no database, so the slot search, the booking service
and any page explaining a refusal get the same answer.

Rule names (``Violation.rule``):

- visit-type criteria: ``visit_type.min_age``, ``visit_type.max_age``, ``visit_type.sex``,
  ``visit_type.new_patients_only``, ``visit_type.established_only``,
  ``visit_type.referral_required``, ``visit_type.payers``;
- provider rules: ``provider_rule.<kind>`` with the rule's public id in ``rule_id``.

Provider rule kinds and their ``parameters``:

================================ ===============================================
``no_new_patients``              ``{}``
``max_new_per_session``          ``{"max": 2}`` (a session: a morning or an afternoon)
``min_age`` / ``max_age``        ``{"years": 18}``
``payers_only``                  ``{"payers": ["Aetna", "Medicare"]}``
``referral_required``            ``{}``
================================ ===============================================

A rule applies to its visit type (or all), on its weekday (or all) and part of day (or all),
judged on the slot's local start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from careline.platform.errors import ValidationFailed

if TYPE_CHECKING:
    from careline.directory.models import VisitType
    from careline.scheduling.models import ProviderRule

NO_NEW_PATIENTS = "no_new_patients"
MAX_NEW_PER_SESSION = "max_new_per_session"
MIN_AGE = "min_age"
MAX_AGE = "max_age"
PAYERS_ONLY = "payers_only"
REFERRAL_REQUIRED = "referral_required"


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the criteria are judged on (``scheduling.facts`` gathers them)."""

    age: int | None
    sex: str
    payers: frozenset[str]  # case-folded payer names of current coverage
    is_established: bool
    has_referral: bool

    @property
    def is_new(self) -> bool:
        return not self.is_established


@dataclass(frozen=True, slots=True)
class SlotContext:
    """Where a slot falls, for provider rules: local weekday, "am"/"pm", and how many new
    patients the practitioner's session already has."""

    weekday: int
    part_of_day: str
    new_patients_in_session: int = 0


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    message: str
    rule_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"rule": self.rule, "message": self.message, "rule_id": self.rule_id}


def _fold_all(names: Iterable[object]) -> frozenset[str]:
    return frozenset(str(name).strip().casefold() for name in names if str(name).strip())


def check_criteria(visit_type: VisitType, facts: PatientFacts) -> list[Violation]:
    """The visit type's own criteria against the patient."""
    found: list[Violation] = []
    name = visit_type.name
    if visit_type.min_age_years is not None and (
        facts.age is None or facts.age < visit_type.min_age_years
    ):
        found.append(
            Violation(
                "visit_type.min_age",
                f"{name} is for patients aged {visit_type.min_age_years} or older"
                + (" (the patient's birth date is unknown)." if facts.age is None else "."),
            )
        )
    if visit_type.max_age_years is not None and (
        facts.age is None or facts.age > visit_type.max_age_years
    ):
        found.append(
            Violation(
                "visit_type.max_age",
                f"{name} is for patients aged {visit_type.max_age_years} or younger"
                + (" (the patient's birth date is unknown)." if facts.age is None else "."),
            )
        )
    allowed_sexes = _fold_all(visit_type.allowed_sexes or ())
    if allowed_sexes and facts.sex.casefold() not in allowed_sexes:
        found.append(
            Violation(
                "visit_type.sex",
                f"{name} is for {', '.join(sorted(allowed_sexes))} patients only.",
            )
        )
    if visit_type.patient_status == "new" and facts.is_established:
        found.append(
            Violation(
                "visit_type.new_patients_only",
                f"{name} is for new patients; this patient was seen in the specialty "
                "in the last 3 years: book a follow-up type instead.",
            )
        )
    if visit_type.patient_status == "established" and facts.is_new:
        found.append(
            Violation(
                "visit_type.established_only",
                f"{name} is for established patients; this patient has no visit in the "
                "specialty in the last 3 years: book a new-patient type instead.",
            )
        )
    if visit_type.referral_required and not facts.has_referral:
        found.append(
            Violation(
                "visit_type.referral_required",
                f"{name} needs a referral on file; record the referral first.",
            )
        )
    accepted = _fold_all(visit_type.accepted_payers or ())
    if accepted and not accepted & facts.payers:
        found.append(
            Violation(
                "visit_type.payers",
                f"{name} accepts only: {', '.join(sorted(visit_type.accepted_payers))}; "
                "the patient has no current coverage with any of them.",
            )
        )
    return found


def rule_applies(rule: ProviderRule, *, visit_type_id: int, slot: SlotContext) -> bool:
    return (
        rule.is_active
        and (rule.visit_type_id is None or rule.visit_type_id == visit_type_id)
        and (rule.weekday is None or rule.weekday == slot.weekday)
        and (rule.part_of_day == "any" or rule.part_of_day == slot.part_of_day)
    )


def check_provider_rules(
    rules: Iterable[ProviderRule],
    facts: PatientFacts,
    *,
    visit_type_id: int,
    slot: SlotContext,
) -> list[Violation]:
    """The practitioner's own rules that apply to this slot, against the patient."""
    found = []
    for rule in rules:
        if not rule_applies(rule, visit_type_id=visit_type_id, slot=slot):
            continue
        message = _provider_rule_refusal(rule, facts, slot)
        if message is not None:
            label = rule.description or rule.get_kind_display()
            found.append(
                Violation(f"provider_rule.{rule.kind}", f"{label}: {message}", str(rule.public_id))
            )
    return found


def _provider_rule_refusal(
    rule: ProviderRule, facts: PatientFacts, slot: SlotContext
) -> str | None:
    parameters: Mapping[str, Any] = rule.parameters or {}
    if rule.kind == NO_NEW_PATIENTS and facts.is_new:
        return "this provider takes no new patients at this time."
    if rule.kind == MAX_NEW_PER_SESSION and facts.is_new:
        limit = int(parameters["max"])
        if slot.new_patients_in_session >= limit:
            return (
                f"this session already has {slot.new_patients_in_session} of {limit} new patients."
            )
    if rule.kind == MIN_AGE and (facts.age is None or facts.age < int(parameters["years"])):
        return f"this provider sees patients aged {parameters['years']} or older here."
    if rule.kind == MAX_AGE and (facts.age is None or facts.age > int(parameters["years"])):
        return f"this provider sees patients aged {parameters['years']} or younger here."
    if rule.kind == PAYERS_ONLY and not _fold_all(parameters["payers"]) & facts.payers:
        return f"this provider accepts only {', '.join(parameters['payers'])} here."
    if rule.kind == REFERRAL_REQUIRED and not facts.has_referral:
        return "this provider needs a referral on file."
    return None


def counts_new_patients(rules: Iterable[ProviderRule]) -> bool:
    """Whether any of the rules needs the session's count of new patients."""
    return any(rule.kind == MAX_NEW_PER_SESSION and rule.is_active for rule in rules)


def validate_parameters(kind: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a rule's parameters, or ``ValidationFailed`` saying what to give."""
    if kind in {NO_NEW_PATIENTS, REFERRAL_REQUIRED}:
        return {}
    if kind == MAX_NEW_PER_SESSION:
        return {"max": _whole_number(parameters, "max", 0, 100)}
    if kind in {MIN_AGE, MAX_AGE}:
        return {"years": _whole_number(parameters, "years", 0, 150)}
    if kind == PAYERS_ONLY:
        payers = parameters.get("payers")
        if (
            not isinstance(payers, list)
            or not payers
            or not all(isinstance(payer, str) and payer.strip() for payer in payers)
        ):
            raise ValidationFailed(
                'payers_only needs {"payers": ["<payer name>", …]}.',
                details={"field": "parameters"},
            )
        return {"payers": [payer.strip() for payer in payers]}
    raise ValidationFailed(f"Unknown rule kind {kind!r}.", details={"field": "kind"})


def _whole_number(parameters: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = parameters.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(
            f'This rule needs {{"{name}": <a whole number from {low} to {high}>}}.',
            details={"field": "parameters"},
        )
    return value
