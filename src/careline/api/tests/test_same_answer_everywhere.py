"""The allergy banner and the current consents say the same on the staff page and in the API.

Each case stores the same rows once, then reads them through the 360 page (the clinical
panel's allergy strip, the consents card) and through ``GET /api/patients/{id}/summary``,
and compares both with the one expected answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from typing import Any, NamedTuple

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.api.tests.helpers import ApiCaller
from careline.patients.models import ConsentPurpose, Patient
from careline.patients.selectors import ConsentState
from careline.testing import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_mfa_required", "today")]

TODAY = dt.datetime(2026, 1, 10, 15, 0, tzinfo=dt.UTC)
SNOMED = "http://snomed.info/sct"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


class Banner(NamedTuple):
    state: str
    allergies: list[tuple[str, str]]  # (what it is, criticality or "unknown"), in order
    none_known: list[str]


def days_ago(days: int) -> dt.datetime:
    return TODAY - dt.timedelta(days=days)


def allergy(name: str, **fields: Any) -> dict[str, Any]:
    return {"display": name, "code": f"code-{name}", **fields}


def statement(code: str, **fields: Any) -> dict[str, Any]:
    return {"display": "No known allergy (situation)", "code": code, "criticality": "", **fields}


NO_INFORMATION = Banner("no-information", [], [])
NONE_KNOWN = Banner("none-known", [], ["No known allergies"])

BANNER_CASES = {
    "none recorded": ([], NO_INFORMATION),
    "no known allergy": ([statement("716186003")], NONE_KNOWN),
    "refuted penicillin beside no known allergy": (
        [
            statement("716186003"),
            allergy("Penicillin", verification_status="refuted", criticality="high"),
        ],
        NONE_KNOWN,
    ),
    "entered in error": (
        [allergy("Peanut", verification_status="entered-in-error")],
        NO_INFORMATION,
    ),
    "inactive": ([allergy("Latex", status="inactive")], NO_INFORMATION),
    "resolved": ([allergy("Egg", status="resolved")], NO_INFORMATION),
    "no known allergy entered in error": (
        [statement("716186003", verification_status="entered-in-error")],
        NO_INFORMATION,
    ),
    "scoped statements keep their scope": (
        [statement("409137002"), statement("429625007"), statement("1003774007")],
        Banner(
            "none-known",
            [],
            ["No known drug allergies", "No known food allergies", "No known latex allergy"],
        ),
    ),
    "an allergy wins over no known allergy": (
        [statement("716186003"), allergy("Shellfish", criticality="low")],
        Banner("allergies", [("Shellfish", "low")], []),
    ),
    "several criticalities, most critical first": (
        [
            allergy("Dust", criticality="", effective_at=days_ago(1)),
            allergy("Peanut", criticality="low", effective_at=days_ago(2)),
            allergy("Bee venom", criticality="unable-to-assess", effective_at=days_ago(3)),
            allergy("Iodinated contrast", criticality="high", effective_at=days_ago(4)),
            allergy("Sulfa", criticality="high", effective_at=days_ago(5)),
        ],
        Banner(
            "allergies",
            [
                ("Iodinated contrast", "high"),
                ("Sulfa", "high"),
                ("Bee venom", "unable-to-assess"),
                ("Peanut", "low"),
                ("Dust", "unknown"),
            ],
            [],
        ),
    ),
    "unknown codes are kept with their text": (
        [
            allergy("Cat dander", code_system="urn:oid:1.2.3.4", code="LOCAL-7", criticality=""),
            # The digits of "no known allergy" in another code system are not that statement.
            allergy("Mango", code_system="urn:oid:1.2.3.4", code="716186003", criticality=""),
            {"display": "", "code": "Z-99", "criticality": "", "code_system": ""},
        ],
        Banner(
            "allergies", [("Cat dander", "unknown"), ("Mango", "unknown"), ("Z-99", "unknown")], []
        ),
    ),
}


def store_allergies(patient: Patient, rows: list[dict[str, Any]]) -> None:
    for number, row in enumerate(rows):
        fields = {"code_system": SNOMED, "effective_at": days_ago(100 + number), **row}
        f.AllergyFactory.create(patient=patient, **fields)


def banner_on_the_page(client: Client, patient: Patient) -> Banner:
    url = reverse("clinical:patient_summary", args=[patient.public_id])
    response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<div id="allergy-banner" class="allergy-slot" hx-swap-oob="true">')
    strip = html[start : html.index('<div class="clinical">', start)]
    allergies = [
        (unescape(name).strip(), criticality)
        for criticality, name in re.findall(
            r'<li class="allergy allergy--([a-z-]+)">.*?<strong>Allergy:</strong> ([^\n<]+)',
            strip,
            flags=re.DOTALL,
        )
    ]
    none_known = re.findall(
        r'<div class="allergy allergy--none">\s*<strong>([^<]+)</strong>', strip
    )
    if allergies:
        state = "allergies"
    elif none_known:
        state = "none-known"
    else:
        assert "<strong>No allergy information</strong>" in strip
        state = "no-information"
    return Banner(state, allergies, none_known)


def summary_in_the_api(api_client: Client, caller: ApiCaller, patient: Patient) -> Any:
    response = api_client.get(f"/api/patients/{patient.public_id}/summary", headers=caller.headers)
    assert response.status_code == 200
    return response.json()


def banner_in_the_api(api_client: Client, caller: ApiCaller, patient: Patient) -> Banner:
    banner = summary_in_the_api(api_client, caller, patient)["banner"]
    return Banner(
        banner["allergy_state"],
        [(a["display"] or a["code"], a["criticality"] or "unknown") for a in banner["allergies"]],
        [statement["label"] for statement in banner["no_known_allergies"]],
    )


@pytest.mark.parametrize(("rows", "expected"), BANNER_CASES.values(), ids=BANNER_CASES.keys())
def test_the_allergy_banner_is_the_same_on_the_page_and_in_the_api(
    client: Client,
    api_client: Client,
    scheduler: ApiCaller,
    patient: Patient,
    rows: list[dict[str, Any]],
    expected: Banner,
) -> None:
    store_allergies(patient, rows)
    client.force_login(scheduler.user)

    assert banner_on_the_page(client, patient) == expected
    assert banner_in_the_api(api_client, scheduler, patient) == expected


# --- current consents -------------------------------------------------------------------------

Purpose, State = ConsentPurpose, ConsentState


def decided(days: int | None) -> dt.datetime | None:
    return None if days is None else days_ago(days)


CONSENT_CASES = {
    "none recorded": ([], []),
    "the latest decision for a purpose is current": (
        [("sms", "active", 30, None), ("sms", "rejected", 2, None), ("sms", "draft", 60, None)],
        [(Purpose.SMS, State.REJECTED)],
    ),
    "a given consent whose period ended has expired": (
        [
            ("marketing", "active", 400, dt.date(2026, 1, 9)),
            ("email", "active", 10, dt.date(2026, 1, 10)),
        ],
        [(Purpose.EMAIL, State.ACTIVE), (Purpose.MARKETING, State.EXPIRED)],
    ),
    "withdrawn, refused and pending": (
        [
            ("research", "active", 90, None),
            ("research", "inactive", 5, None),
            ("voice", "rejected", 3, None),
            ("portal", "draft", 1, None),
        ],
        [
            (Purpose.PORTAL, State.DRAFT),
            (Purpose.RESEARCH, State.INACTIVE),
            (Purpose.VOICE, State.REJECTED),
        ],
    ),
    "an undated decision is older than any dated one": (
        [("sms", "rejected", None, None), ("sms", "active", 200, None)],
        [(Purpose.SMS, State.ACTIVE)],
    ),
}


def consents_on_the_page(client: Client, patient: Patient) -> list[tuple[str, str]]:
    response = client.get(reverse("patients:detail", args=[patient.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    return re.findall(
        r'<li class="row consent-row">\s*<div class="row__main">\s*'
        r'<span class="row__value">([^<]+)</span>\s*'
        r'<span class="status status--[a-z]+">([^<]+)</span>',
        html,
    )


@pytest.mark.parametrize(("rows", "expected"), CONSENT_CASES.values(), ids=CONSENT_CASES.keys())
def test_the_current_consents_are_the_same_on_the_page_and_in_the_api(
    client: Client,
    api_client: Client,
    scheduler: ApiCaller,
    patient: Patient,
    rows: list[tuple[str, str, int | None, dt.date | None]],
    expected: list[tuple[ConsentPurpose, ConsentState]],
) -> None:
    for purpose, status, days, expires_on in rows:
        f.ConsentFactory.create(
            patient=patient,
            purpose=purpose,
            status=status,
            decided_at=decided(days),
            expires_on=expires_on,
        )
    client.force_login(scheduler.user)

    page = consents_on_the_page(client, patient)
    api = summary_in_the_api(api_client, scheduler, patient)["current_consents"]

    assert page == [(purpose.label, state.label) for purpose, state in expected]
    assert [(row["purpose"], row["state"]) for row in api] == [
        (purpose.value, state.value) for purpose, state in expected
    ]
    assert [row["is_given"] for row in api] == [state == State.ACTIVE for _, state in expected]
