"""The allergy banner's rules (``clinical.banner``), record by record, without a database."""

from __future__ import annotations

import pytest

from careline.clinical.banner import (
    NO_KNOWN_ALLERGY_LABELS,
    SNOMED_CT,
    AllergyBannerState,
    allergy_banner,
    criticality_rank,
    is_standing,
    no_known_allergy_label,
)
from careline.clinical.models import AllergyIntolerance


def record(display: str = "Peanut", **fields: str) -> AllergyIntolerance:
    values = {"code_system": SNOMED_CT, "code": "91935009", "status": "active", **fields}
    return AllergyIntolerance(display=display, **values)


def names(records: tuple[AllergyIntolerance, ...]) -> list[str]:
    return [allergy.display for allergy in records]


def test_no_record_is_no_information_not_none_known() -> None:
    banner = allergy_banner([])

    assert (banner.state, banner.allergies, banner.none_known) == (
        AllergyBannerState.NO_INFORMATION,
        (),
        (),
    )


NO_KNOWN = [
    ("716186003", "No known allergies"),
    ("160244002", "No known allergies"),
    ("409137002", "No known drug allergies"),
    ("429625007", "No known food allergies"),
    ("428607008", "No known environmental allergies"),
    ("428197003", "No known insect allergies"),
    ("716220001", "No known animal allergies"),
    ("1003774007", "No known latex allergy"),
]


@pytest.mark.parametrize(("code", "label"), NO_KNOWN)
def test_each_no_known_allergy_situation_says_its_own_scope(code: str, label: str) -> None:
    statement = record("No known … (situation)", code=code)

    banner = allergy_banner([statement])

    assert banner.state == AllergyBannerState.NONE_KNOWN
    assert [(s.label, s.record) for s in banner.none_known] == [(label, statement)]


def test_every_listed_code_is_tested_above() -> None:
    assert dict(NO_KNOWN) == NO_KNOWN_ALLERGY_LABELS


def test_a_no_known_code_outside_snomed_ct_is_an_allergy_with_its_text() -> None:
    local = record("Mango", code_system="urn:oid:1.2.3.4", code="716186003")

    assert no_known_allergy_label(local) is None
    assert names(allergy_banner([local]).allergies) == ["Mango"]


def test_the_same_statement_twice_is_said_once() -> None:
    banner = allergy_banner([record(code="716186003"), record(code="160244002")])

    assert [s.label for s in banner.none_known] == ["No known allergies"]


@pytest.mark.parametrize(
    ("fields", "standing"),
    [
        ({}, True),
        ({"status": ""}, True),  # no clinical status sent: still an allergy
        ({"verification_status": "unconfirmed"}, True),
        ({"verification_status": "confirmed"}, True),
        ({"verification_status": "refuted"}, False),
        ({"verification_status": "entered-in-error"}, False),
        ({"status": "inactive"}, False),
        ({"status": "resolved"}, False),
    ],
)
def test_which_records_still_say_something(fields: dict[str, str], standing: bool) -> None:
    assert is_standing(record(**fields)) is standing


def test_a_refuted_or_ended_no_known_allergy_is_not_none_known() -> None:
    banner = allergy_banner(
        [
            record(code="716186003", verification_status="refuted"),
            record(code="409137002", status="inactive"),
        ]
    )

    assert banner.state == AllergyBannerState.NO_INFORMATION


def test_an_allergy_hides_every_none_known_statement() -> None:
    banner = allergy_banner([record(code="716186003"), record("Shellfish", criticality="low")])

    assert (banner.state, names(banner.allergies), banner.none_known) == (
        AllergyBannerState.ALLERGIES,
        ["Shellfish"],
        (),
    )


def test_criticality_orders_high_then_unable_to_assess_then_low_then_unstated() -> None:
    records = [
        record("Dust", criticality=""),
        record("Odd", criticality="severe"),  # not a FHIR value: ranks with the unstated
        record("Peanut", criticality="low"),
        record("Bee venom", criticality="unable-to-assess"),
        record("Contrast", criticality="high"),
        record("Sulfa", criticality="high"),
    ]

    banner = allergy_banner(records)

    assert names(banner.allergies) == ["Contrast", "Sulfa", "Bee venom", "Peanut", "Dust", "Odd"]
    assert [criticality_rank(r) for r in records] == [3, 3, 2, 1, 0, 0]
