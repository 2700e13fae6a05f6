"""The rule engine: every visit-type criterion and provider rule, accepted and refused, each
refusal naming its rule; parameters validated per kind."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careline.directory.models import VisitType
from careline.platform.errors import ValidationFailed
from careline.scheduling.models import ProviderRule
from careline.scheduling.rules import (
    PatientFacts,
    SlotContext,
    check_criteria,
    check_provider_rules,
    validate_parameters,
)

ADULT = PatientFacts(
    age=40, sex="female", payers=frozenset({"aetna"}), is_established=True, has_referral=True
)
FRIDAY_PM = SlotContext(weekday=4, part_of_day="pm", new_patients_in_session=0)


def visit_type(**fields: Any) -> VisitType:
    values: dict[str, Any] = {"pk": 1, "name": "Physical", "duration_minutes": 30}
    values.update(fields)
    return VisitType(**values)


def facts(**changes: Any) -> PatientFacts:
    return dataclasses.replace(ADULT, **changes)


def rule_names(found: list[Any]) -> list[str]:
    return [violation.rule for violation in found]


def test_a_visit_type_without_criteria_takes_anyone() -> None:
    assert check_criteria(visit_type(), facts(age=None, sex="unknown", payers=frozenset())) == []


@pytest.mark.parametrize(
    ("criteria", "patient", "expected"),
    [
        ({"min_age_years": 18}, {"age": 18}, []),
        ({"min_age_years": 18}, {"age": 17}, ["visit_type.min_age"]),
        ({"min_age_years": 18}, {"age": None}, ["visit_type.min_age"]),
        ({"max_age_years": 17}, {"age": 17}, []),
        ({"max_age_years": 17}, {"age": 18}, ["visit_type.max_age"]),
        ({"allowed_sexes": ["female"]}, {"sex": "female"}, []),
        ({"allowed_sexes": ["female"]}, {"sex": "male"}, ["visit_type.sex"]),
        ({"patient_status": "new"}, {"is_established": False}, []),
        ({"patient_status": "new"}, {"is_established": True}, ["visit_type.new_patients_only"]),
        ({"patient_status": "established"}, {"is_established": True}, []),
        (
            {"patient_status": "established"},
            {"is_established": False},
            ["visit_type.established_only"],
        ),
        ({"referral_required": True}, {"has_referral": True}, []),
        ({"referral_required": True}, {"has_referral": False}, ["visit_type.referral_required"]),
        ({"accepted_payers": ["Aetna", "Cigna"]}, {"payers": frozenset({"aetna"})}, []),
        ({"accepted_payers": ["Cigna"]}, {"payers": frozenset({"aetna"})}, ["visit_type.payers"]),
        ({"accepted_payers": ["Cigna"]}, {"payers": frozenset()}, ["visit_type.payers"]),
    ],
)
def test_each_criterion_accepts_or_names_itself(
    criteria: dict[str, Any], patient: dict[str, Any], expected: list[str]
) -> None:
    assert rule_names(check_criteria(visit_type(**criteria), facts(**patient))) == expected


def test_every_failed_criterion_is_listed_with_a_message() -> None:
    strict = visit_type(min_age_years=65, allowed_sexes=["male"], referral_required=True)
    found = check_criteria(strict, facts(has_referral=False))
    assert rule_names(found) == [
        "visit_type.min_age",
        "visit_type.sex",
        "visit_type.referral_required",
    ]
    assert found[0].message == "Physical is for patients aged 65 or older."


def rule(kind: str, parameters: dict[str, Any] | None = None, **fields: Any) -> ProviderRule:
    return ProviderRule(kind=kind, parameters=parameters or {}, **fields)


@pytest.mark.parametrize(
    ("provider_rule", "patient", "slot", "refused"),
    [
        (rule("no_new_patients"), {"is_established": False}, FRIDAY_PM, True),
        (rule("no_new_patients"), {"is_established": True}, FRIDAY_PM, False),
        (rule("max_new_per_session", {"max": 2}), {"is_established": False}, FRIDAY_PM, False),
        (
            rule("max_new_per_session", {"max": 2}),
            {"is_established": False},
            SlotContext(4, "pm", new_patients_in_session=2),
            True,
        ),
        (
            rule("max_new_per_session", {"max": 2}),
            {"is_established": True},
            SlotContext(4, "pm", new_patients_in_session=2),
            False,
        ),
        (rule("min_age", {"years": 18}), {"age": 17}, FRIDAY_PM, True),
        (rule("min_age", {"years": 18}), {"age": 18}, FRIDAY_PM, False),
        (rule("max_age", {"years": 12}), {"age": 13}, FRIDAY_PM, True),
        (rule("max_age", {"years": 12}), {"age": 12}, FRIDAY_PM, False),
        (rule("payers_only", {"payers": ["Medicare"]}), {}, FRIDAY_PM, True),
        (rule("payers_only", {"payers": ["AETNA"]}), {}, FRIDAY_PM, False),
        (rule("referral_required"), {"has_referral": False}, FRIDAY_PM, True),
        (rule("referral_required"), {"has_referral": True}, FRIDAY_PM, False),
    ],
)
def test_each_provider_rule_accepts_or_names_itself(
    provider_rule: ProviderRule, patient: dict[str, Any], slot: SlotContext, refused: bool
) -> None:
    found = check_provider_rules([provider_rule], facts(**patient), visit_type_id=1, slot=slot)
    assert rule_names(found) == ([f"provider_rule.{provider_rule.kind}"] if refused else [])
    if refused:
        assert found[0].rule_id == str(provider_rule.public_id)


def test_a_rule_applies_only_on_its_weekday_part_of_day_and_visit_type() -> None:
    friday_afternoons = rule(
        "no_new_patients", weekday=4, part_of_day="pm", description="No new patients Friday pm"
    )
    new = facts(is_established=False)
    assert rule_names(
        check_provider_rules([friday_afternoons], new, visit_type_id=1, slot=FRIDAY_PM)
    ) == ["provider_rule.no_new_patients"]
    found = check_provider_rules([friday_afternoons], new, visit_type_id=1, slot=FRIDAY_PM)
    assert found[0].message == (
        "No new patients Friday pm: this provider takes no new patients at this time."
    )
    for slot in (SlotContext(4, "am"), SlotContext(3, "pm")):
        assert check_provider_rules([friday_afternoons], new, visit_type_id=1, slot=slot) == []
    only_type_two = rule("no_new_patients", visit_type_id=2)
    assert check_provider_rules([only_type_two], new, visit_type_id=1, slot=FRIDAY_PM) == []
    assert len(check_provider_rules([only_type_two], new, visit_type_id=2, slot=FRIDAY_PM)) == 1
    inactive = rule("no_new_patients", is_active=False)
    assert check_provider_rules([inactive], new, visit_type_id=1, slot=FRIDAY_PM) == []


@pytest.mark.parametrize(
    ("kind", "parameters", "stored"),
    [
        ("no_new_patients", {"ignored": 1}, {}),
        ("max_new_per_session", {"max": 2}, {"max": 2}),
        ("min_age", {"years": 18}, {"years": 18}),
        ("payers_only", {"payers": [" Aetna "]}, {"payers": ["Aetna"]}),
    ],
)
def test_parameters_are_stored_in_their_canonical_form(
    kind: str, parameters: dict[str, Any], stored: dict[str, Any]
) -> None:
    assert validate_parameters(kind, parameters) == stored


@pytest.mark.parametrize(
    ("kind", "parameters"),
    [
        ("max_new_per_session", {}),
        ("max_new_per_session", {"max": "2"}),
        ("max_new_per_session", {"max": True}),
        ("min_age", {"years": -1}),
        ("payers_only", {"payers": []}),
        ("payers_only", {"payers": [""]}),
        ("sometimes", {}),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(kind: str, parameters: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_parameters(kind, parameters)
    assert refused.value.details["field"] in {"parameters", "kind"}


@given(
    age=st.one_of(st.none(), st.integers(0, 120)),
    minimum=st.one_of(st.none(), st.integers(0, 120)),
    maximum=st.one_of(st.none(), st.integers(0, 120)),
)
def test_age_criteria_refuse_exactly_the_ages_outside_the_range(
    age: int | None, minimum: int | None, maximum: int | None
) -> None:
    found = rule_names(
        check_criteria(visit_type(min_age_years=minimum, max_age_years=maximum), facts(age=age))
    )
    too_young = minimum is not None and (age is None or age < minimum)
    too_old = maximum is not None and (age is None or age > maximum)
    assert found == [
        name
        for name, failed in (("visit_type.min_age", too_young), ("visit_type.max_age", too_old))
        if failed
    ]
