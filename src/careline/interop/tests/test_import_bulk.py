"""Bulk-FHIR ndjson from ../shared/testdata/bulk-ndjson: 13 patients, 1,215 encounters.

References there are relative (``Patient/…``, ``Encounter/…``) or conditional on an
identifier (``Practitioner?identifier=…us-npi|…``, ``Location?identifier=…``), across files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from careline.clinical.models import Condition, Encounter, MedicationRequest, Procedure
from careline.directory.models import Location, Organization, Practitioner, PractitionerRole
from careline.interop.tests.test_import_support import counts, run_import
from careline.patients.models import Patient, TimelineEvent

pytestmark = [pytest.mark.shared_testdata, pytest.mark.django_db]


@pytest.fixture
def bulk(shared_testdata: Path) -> Path:
    return shared_testdata / "bulk-ndjson"


def test_bulk_export_imports_every_supported_file(bulk: Path) -> None:
    result = run_import(bulk, batch_size=500)

    assert counts(result, "Patient") == (13, 0, 0, 0, 0)
    assert counts(result, "Encounter") == (1215, 0, 0, 0, 0)
    assert counts(result, "Condition") == (555, 0, 0, 0, 0)
    assert counts(result, "MedicationRequest") == (1745, 0, 0, 0, 0)
    assert counts(result, "Procedure") == (2056, 0, 0, 0, 0)
    assert counts(result, "DocumentReference") == (0, 0, 0, 1215, 0)
    assert counts(result, "Device") == (0, 0, 0, 16, 0)
    assert result.rejections == []
    assert Patient.objects.count() == 13
    assert Encounter.objects.count() == 1215
    assert Condition.objects.count() == 555
    assert MedicationRequest.objects.count() == 1745
    assert Procedure.objects.count() == 2056
    assert TimelineEvent.objects.filter(kind="encounter").count() == 1215


def test_the_export_log_is_skipped_with_a_reason(bulk: Path) -> None:
    result = run_import(bulk / "log.ndjson")

    assert [(Path(s.file or "").name, s.reason) for s in result.skipped_files] == [
        ("log.ndjson", "a Bulk-FHIR export log, not FHIR resources")
    ]
    assert result.summary == {}
    assert result.rejections == []


def test_conditional_references_resolve_across_files(bulk: Path) -> None:
    run_import(bulk, batch_size=500)

    assert Encounter.objects.filter(practitioner__isnull=True).count() == 0
    assert Encounter.objects.filter(location__isnull=True).count() == 0
    assert Encounter.objects.filter(service_provider__isnull=True).count() == 0
    # one of the 44 locations is "Patient's Home", which no organization manages
    assert list(Location.objects.filter(organization__isnull=True).values_list("name")) == [
        ("Patient's Home",)
    ]
    roles = PractitionerRole.objects
    assert roles.count() == 43
    assert roles.filter(practitioner__isnull=False, organization__isnull=False).count() == 43
    assert (Organization.objects.count(), Practitioner.objects.count()) == (43, 43)


def test_references_to_earlier_runs_resolve_through_the_database(bulk: Path) -> None:
    run_import(bulk / "Organization.000.ndjson", bulk / "Location.000.ndjson")
    run_import(bulk / "Practitioner.000.ndjson", bulk / "Patient.000.ndjson")

    result = run_import(bulk / "Encounter.000.ndjson", batch_size=100)

    assert counts(result, "Encounter") == (1215, 0, 0, 0, 0)
    assert Encounter.objects.filter(practitioner__isnull=True).count() == 0
    assert Encounter.objects.filter(location__isnull=True).count() == 0


def test_encounters_without_their_patients_are_rejected_with_the_path(bulk: Path) -> None:
    result = run_import(bulk / "Encounter.000.ndjson", batch_size=400)

    assert counts(result, "Encounter") == (0, 0, 0, 0, 1215)
    first = result.rejections[0]
    assert (first.resource_type, first.path, first.entry, first.line) == (
        "Encounter",
        "Encounter.subject",
        None,
        1,
    )
    assert first.reason.startswith("references Patient/")
    assert first.reason.endswith(", which is neither in this import nor known")
    assert Encounter.objects.count() == 0
