"""The 100 Synthea patient bundles of ../shared/testdata: exact counts, idempotent re-import.

The test imports the bundles MANIFEST.json lists (the folder's hospitalInformation* and
practitionerInformation* files are not counted in the manifest, and MANIFEST.json itself is
not FHIR). The import runs once per module, inside a transaction rolled back at the end.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count, Model

from careline.clinical.models import (
    AllergyIntolerance,
    CarePlan,
    Condition,
    Encounter,
    Immunization,
    MedicationRequest,
    Observation,
    Procedure,
)
from careline.directory.models import Organization, Practitioner
from careline.identity.models import SourceLink
from careline.interop.importer import ImportResult
from careline.interop.models import ImportRun, ImportStatus
from careline.interop.tests.test_import_support import run_import
from careline.patients.models import (
    ContactPoint,
    Coverage,
    Patient,
    PatientIdentifier,
    TimelineEvent,
)
from careline.platform.models import AuditEvent

pytestmark = [pytest.mark.shared_testdata, pytest.mark.django_db]

CLINICAL: dict[str, type[Model]] = {
    "Encounter": Encounter,
    "Observation": Observation,
    "Condition": Condition,
    "Immunization": Immunization,
    "Procedure": Procedure,
    "MedicationRequest": MedicationRequest,
    "CarePlan": CarePlan,
    "AllergyIntolerance": AllergyIntolerance,
}
SNAPSHOT_MODELS: list[type[Model]] = [
    *CLINICAL.values(),
    Organization,
    Practitioner,
    Patient,
    PatientIdentifier,
    ContactPoint,
    Coverage,
    TimelineEvent,
    SourceLink,
]


@dataclass
class Imported:
    manifest: dict[str, Any]
    files: list[Path]
    first: ImportResult
    second: ImportResult
    audit_first: int
    audit_second: int
    snapshot_before: dict[str, list[tuple[Any, ...]]]
    snapshot_after: dict[str, list[tuple[Any, ...]]]


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__name__: sorted(model._default_manager.order_by().values_list(), key=repr)
        for model in SNAPSHOT_MODELS
    }


@pytest.fixture(scope="module")
def synthea(
    shared_testdata: Path, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Imported]:
    directory = shared_testdata / "synthea"
    manifest = json.loads((directory / "MANIFEST.json").read_text())
    files = [directory / entry["file"] for entry in manifest["patients"]]
    with django_db_blocker.unblock(), transaction.atomic():
        first = run_import(*files)
        audit_first = AuditEvent.objects.count()
        before = _snapshot()
        second = run_import(*files)
        imported = Imported(
            manifest,
            files,
            first,
            second,
            audit_first,
            AuditEvent.objects.count() - audit_first,
            before,
            _snapshot(),
        )
        yield imported
        transaction.set_rollback(True)


def test_every_supported_type_matches_the_manifest_totals(synthea: Imported) -> None:
    totals = synthea.manifest["totals"]
    for resource_type in ["Patient", *CLINICAL]:
        assert synthea.first.summary[resource_type] == {
            "created": totals[resource_type],
            "updated": 0,
            "unchanged": 0,
            "skipped": 0,
            "rejected": 0,
        }, resource_type
    assert synthea.first.rejections == []


def test_rows_per_type_equal_the_manifest(synthea: Imported) -> None:
    totals = synthea.manifest["totals"]
    for resource_type, model in CLINICAL.items():
        assert model._default_manager.count() == totals[resource_type], resource_type
    assert Patient.objects.count() == 100
    assert SourceLink.objects.count() == 100


def test_each_patient_has_the_manifest_counts(synthea: Imported) -> None:
    patient_of = dict(SourceLink.objects.values_list("patient_id", "source_id"))
    found: Counter[tuple[str, str]] = Counter()
    for resource_type, model in CLINICAL.items():
        for row in model._default_manager.values("patient_id").annotate(n=Count("id")):
            found[(patient_of[row["patient_id"]], resource_type)] = row["n"]
    for entry in synthea.manifest["patients"]:
        for resource_type in CLINICAL:
            expected = entry["counts"].get(resource_type, 0)
            assert found[(entry["patient_id"], resource_type)] == expected, (
                entry["file"],
                resource_type,
            )


def _distinct_ids(files: list[Path], resource_type: str) -> set[str]:
    found = set()
    for path in files:
        for entry in json.loads(path.read_bytes())["entry"]:
            if entry["resource"]["resourceType"] == resource_type:
                found.add(entry["resource"]["id"])
    return found


@pytest.mark.parametrize("resource_type", ["Organization", "Practitioner"])
def test_repeated_directory_entries_become_one_row_each(
    synthea: Imported, resource_type: str
) -> None:
    distinct = _distinct_ids(synthea.files, resource_type)
    counted = synthea.first.summary[resource_type]
    total = synthea.manifest["totals"][resource_type]
    assert counted["created"] + counted["updated"] + counted["unchanged"] == total == 129
    assert counted["created"] == len(distinct) == 56
    model = Organization if resource_type == "Organization" else Practitioner
    assert model._default_manager.count() == 56


def test_claims_and_reports_are_skipped(synthea: Imported) -> None:
    totals = synthea.manifest["totals"]
    for resource_type in [
        "Claim",
        "ExplanationOfBenefit",
        "DiagnosticReport",
        "Goal",
        "ImagingStudy",
    ]:
        assert synthea.first.summary[resource_type]["skipped"] == totals[resource_type]


def _expected_coverages(files: list[Path]) -> set[tuple[str, str]]:
    """(patient id, payer) from the claims, computed independently of the mapper."""
    found = set()
    for path in files:
        entries = json.loads(path.read_bytes())["entry"]
        for entry in entries:
            resource = entry["resource"]
            if resource["resourceType"] == "ExplanationOfBenefit":
                payer = resource["insurer"]["display"]
            elif resource["resourceType"] == "Claim":
                payer = resource["insurance"][0]["coverage"]["display"]
            else:
                continue
            if payer.lower() != "no_insurance":
                patient_id = resource["patient"]["reference"].removeprefix("urn:uuid:")
                found.add((patient_id, payer))
    return found


def test_coverage_is_derived_from_claims(synthea: Imported) -> None:
    expected = _expected_coverages(synthea.files)
    patient_of = dict(SourceLink.objects.values_list("patient_id", "source_id"))
    stored = {
        (patient_of[p], payer) for p, payer in Coverage.objects.values_list("patient_id", "payer")
    }
    assert stored == expected
    assert synthea.first.summary["Coverage"]["created"] == len(expected) == 116
    assert not Coverage.objects.filter(start_date__isnull=True).exists()


def test_exactly_four_patients_are_deceased(synthea: Imported) -> None:
    deceased = sum(1 for entry in synthea.manifest["patients"] if entry["deceased"])
    assert deceased == 4
    assert Patient.objects.filter(is_deceased=True, deceased_at__isnull=False).count() == 4


def test_patient_demographics_follow_the_manifest(synthea: Imported) -> None:
    patient_of = dict(SourceLink.objects.values_list("source_id", "patient_id"))
    for entry in synthea.manifest["patients"]:
        patient = Patient.objects.get(pk=patient_of[entry["patient_id"]])
        assert (patient.family_name, patient.given_names, patient.sex) == (
            entry["family"],
            entry["given"],
            entry["gender"],
        )
        assert patient.birth_date is not None
        assert patient.birth_date.isoformat() == entry["birthDate"]


def test_ssn_is_kept_encrypted_and_never_an_identifier(synthea: Imported) -> None:
    assert not PatientIdentifier.objects.filter(system="http://hl7.org/fhir/sid/us-ssn").exists()
    assert Patient.objects.filter(ssn__isnull=False).count() == 100
    assert Patient.objects.exclude(mrn="").count() == 100


def test_each_encounter_is_on_the_timeline(synthea: Imported) -> None:
    assert TimelineEvent.objects.filter(kind="encounter").count() == 1127
    assert TimelineEvent.objects.filter(kind="registration").count() == 100


def test_audit_has_one_event_per_patient_and_one_for_the_run(synthea: Imported) -> None:
    assert synthea.audit_first == 101
    per_patient = AuditEvent.objects.filter(resource_type="Patient", action="import")
    assert per_patient.count() == 100
    assert per_patient.values("patient_id").distinct().count() == 100
    run_events = AuditEvent.objects.filter(resource_type="ImportRun")
    assert run_events.count() == 2  # the first import and the re-import
    assert synthea.audit_second == 1


def test_second_import_reports_everything_unchanged(synthea: Imported) -> None:
    for resource_type, counted in synthea.second.summary.items():
        assert counted["created"] == 0, resource_type
        assert counted["updated"] == 0, resource_type
        assert counted["rejected"] == 0, resource_type
    assert synthea.second.summary["Observation"]["unchanged"] == 6415
    assert synthea.second.summary["Patient"]["unchanged"] == 100
    assert synthea.second.summary["Coverage"]["unchanged"] == 116


def test_second_import_changes_no_row(synthea: Imported) -> None:
    assert synthea.snapshot_after == synthea.snapshot_before


def test_each_run_is_recorded(synthea: Imported) -> None:
    runs = list(ImportRun.objects.order_by("started_at"))
    assert [run.status for run in runs] == [ImportStatus.SUCCEEDED, ImportStatus.SUCCEEDED]
    assert runs[0].summary == synthea.first.summary
    assert runs[0].rejections == []
