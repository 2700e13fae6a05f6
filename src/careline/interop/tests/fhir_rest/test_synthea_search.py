"""Four Synthea bundles from ../shared/testdata imported, then read and searched over FHIR."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from careline.interop.tests.fhir_rest.conftest import FhirCaller
from careline.interop.tests.fhir_rest.helpers import fhir_body, ids
from careline.interop.tests.test_import_support import run_import
from careline.platform.permissions import Role

pytestmark = [pytest.mark.shared_testdata, pytest.mark.django_db]

FILES = {
    "fonseca": "Agustín_Fonseca_cb5696d9-a0de-4f49-94f9-433f96a28eb0.json",  # male 1994-02-01
    "atencio": "Alberto_Atencio_fc712d1f-5a2e-4407-9c55-a2a2bad623c2.json",  # male 1993-06-07
    "riojas": "Alejandro_Riojas_a9fcc685-c7a2-4474-bf25-26c8fe4b48f9.json",  # male 1963-10-05
    "wyman": "Alfreda_Wyman_3287b938-4670-47eb-91e5-e0ce3df71405.json",  # female 1980-10-28
}
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"


@pytest.fixture
def imported(shared_testdata: Path) -> dict[str, str]:
    """name → the Careline id of each imported patient (found by the SSN-free source id)."""
    paths = [shared_testdata / "synthea" / name for name in FILES.values()]
    run_import(*paths)
    return {key: _source_id(path) for key, path in zip(FILES, paths, strict=True)}


def _source_id(path: Path) -> str:
    bundle = json.loads(path.read_text())
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    return str(patient["id"])


@pytest.fixture
def integration(caller_for: Callable[..., FhirCaller]) -> FhirCaller:
    return caller_for(Role.INTEGRATION)


def _source_ids(caller: FhirCaller, query: str) -> list[str]:
    bundle = fhir_body(caller.get(f"Patient?{query}"), "Bundle")
    tags = [entry["resource"]["meta"]["tag"][0]["code"] for entry in bundle.get("entry", [])]
    assert len(tags) == len(ids(bundle)) == bundle["total"]
    return sorted(tags)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family=fonseca", ["fonseca"]),
        ("name=agustin", ["fonseca"]),
        ("given=al", ["atencio", "riojas", "wyman"]),
        ("birthdate=ge1990", ["atencio", "fonseca"]),
        ("birthdate=1963-10", ["riojas"]),
        ("birthdate=lt1990-01-01&gender=female", ["wyman"]),
        ("gender=male&birthdate=1994-02-01", ["fonseca"]),
        (f"identifier={SSN_SYSTEM}|", []),
    ],
)
def test_searches_synthea_patients(
    integration: FhirCaller, imported: dict[str, str], query: str, expected: list[str]
) -> None:
    assert _source_ids(integration, query) == sorted(imported[key] for key in expected)


def test_reads_synthea_patients_without_the_ssn(
    integration: FhirCaller, imported: dict[str, str], shared_testdata: Path
) -> None:
    bundle = fhir_body(integration.get("Patient?_count=10"), "Bundle")
    assert bundle["total"] == 4
    for entry in bundle["entry"]:
        response = integration.get(f"Patient/{entry['resource']['id']}")
        body = fhir_body(response, "Patient")
        assert body == entry["resource"]
        assert SSN_SYSTEM not in response.content.decode()
        assert "text" not in body
