"""Hostile input to the importer (security review, issue 7): deep nesting, controls, SSNs."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import import_module
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from ninja.testing import TestClient

from careline.clinical.models import Condition
from careline.identity.models import SourceLink
from careline.interop.api import router
from careline.interop.fhir.sensitive import remove_stored_identifiers
from careline.interop.fhir.validation import MAX_NESTING, is_nested_deeper
from careline.interop.models import ImportRun, ImportStatus
from careline.interop.tests.test_import_support import (
    MRN_TYPE,
    bundle,
    condition,
    counts,
    patient,
    run_import,
    write_json,
)
from careline.patients.models import ContactPoint, Patient, PatientIdentifier
from careline.platform.models import AuditAction, AuditEvent, User
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db
FIRST = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SS_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SS"}]}
TOO_DEEP = f"is nested more than {MAX_NESTING} levels deep (objects and lists), which is not read"


def nested_extension(levels: int) -> list[dict[str, Any]]:
    """``extension`` nested ``levels`` deep (≈ 25 bytes a level)."""
    innermost: dict[str, Any] = {"url": "urn:x", "valueString": "x"}
    for _ in range(levels - 1):
        innermost = {"url": "urn:x", "extension": [innermost]}
    return [innermost]


def deep_bundle(levels: int) -> dict[str, Any]:
    return bundle(patient("deep", extension=nested_extension(levels)), patient("good"))


@pytest.mark.parametrize("levels", [200, 450])
def test_deep_extensions_reject_that_resource_only(tmp_path: Path, levels: int) -> None:
    path = write_json(tmp_path, "deep.json", deep_bundle(levels))

    result = run_import(path)

    assert counts(result, "Patient") == (1, 0, 0, 0, 1)
    assert [(r.entry, r.path, r.reason) for r in result.rejections] == [(0, "Patient", TOO_DEEP)]
    assert list(SourceLink.objects.values_list("source_id", flat=True)) == ["good"]
    assert ImportRun.objects.get().status == ImportStatus.COMPLETED_WITH_REJECTIONS
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 2  # patient and run


def test_deep_extensions_over_the_api_answer_200_with_the_rejection(
    make_user: Callable[..., User],
) -> None:
    response = TestClient(router).post(
        "/import/fhir",
        data=cast(Any, json.dumps(deep_bundle(300)).encode()),
        META={"CONTENT_TYPE": "application/fhir+json"},
        user=make_user(Role.INTEGRATION),
    )

    assert response.status_code == 200
    body = response.json()
    assert body["Patient"]["created"] == 1
    assert [(r["entry"], r["reason"]) for r in body["rejections"]] == [(0, TOO_DEEP)]


def test_deep_extensions_on_the_command_line_print_no_traceback(tmp_path: Path) -> None:
    path = write_json(tmp_path, "deep.json", deep_bundle(450))
    out, err = StringIO(), StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("import_fhir", str(path), "--no-progress", stdout=out, stderr=err)

    assert exit_.value.code == 1  # completed with rejections
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert TOO_DEEP in out.getvalue()
    assert SourceLink.objects.filter(source_id="good").exists()


def test_nesting_is_measured_in_objects_and_lists() -> None:
    assert not is_nested_deeper({"a": [{"b": 1}]}, 3)
    assert is_nested_deeper({"a": [{"b": [1]}]}, 3)
    assert not is_nested_deeper("text", 0)


# -- SSN at rest (finding 1) -------------------------------------------------------------------

PLANTED_SSN = "987-65-4329"
OTHER_SSN = "876-54-3291"  # typed SS under a state system rather than the US SSN system


def _ssn_patient(resource_id: str = "s1") -> dict[str, Any]:
    return patient(
        resource_id,
        identifier=[
            {"type": MRN_TYPE, "system": "urn:mrn:hospital", "value": f"MRN-{resource_id}"},
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": PLANTED_SSN},
            {"type": SS_TYPE, "system": "urn:state:ids", "value": OTHER_SSN},
        ],
    )


def database_dump() -> bytes:
    """Every byte of the database: the SQLite file image, or ``pg_dump`` of PostgreSQL."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return bytes(cast(Any, connection.connection).serialize())
    settings_dict = connection.settings_dict
    command = [
        "pg_dump",
        "--host",
        str(settings_dict["HOST"] or "127.0.0.1"),
        "--port",
        str(settings_dict["PORT"] or 5432),
        "--username",
        str(settings_dict["USER"]),
        str(settings_dict["NAME"]),
    ]
    return subprocess.run(command, check=True, capture_output=True).stdout  # noqa: S603


def _holds(dump: bytes, ssn: str) -> bool:
    return ssn.encode() in dump or ssn.replace("-", "").encode() in dump


@pytest.mark.django_db(transaction=True)
def test_a_planted_ssn_is_nowhere_in_the_database(tmp_path: Path) -> None:
    result = run_import(write_json(tmp_path, "p.json", bundle(_ssn_patient())))

    assert counts(result, "Patient") == (1, 0, 0, 0, 0)
    stored = Patient.objects.get()
    assert stored.ssn == PLANTED_SSN  # kept, encrypted
    assert not PatientIdentifier.objects.filter(system="urn:state:ids").exists()
    link = SourceLink.objects.get()
    assert [i["system"] for i in link.raw["identifier"]] == ["urn:mrn:hospital"]
    dump = database_dump()
    assert b"MRN-s1" in dump  # the dump does hold the imported data
    assert not _holds(dump, PLANTED_SSN)
    assert not _holds(dump, OTHER_SSN)


def test_an_ssn_in_a_logical_reference_is_removed_too(tmp_path: Path) -> None:
    ssn_reference = {
        "identifier": {"system": "http://hl7.org/fhir/sid/us-ssn", "value": PLANTED_SSN},
        "display": "x",
    }
    resource = {**condition("c1"), "asserter": ssn_reference}

    result = run_import(write_json(tmp_path, "b.json", bundle(patient("p1"), resource)))

    assert counts(result, "Condition") == (1, 0, 0, 0, 0)
    assert Condition.objects.get().raw["asserter"] == {"display": "x"}


def test_a_changed_ssn_is_a_change(tmp_path: Path) -> None:
    run_import(write_json(tmp_path, "a.json", _ssn_patient()))
    changed = _ssn_patient()
    changed["identifier"][1]["value"] = "987-65-4330"

    result = run_import(write_json(tmp_path, "b.json", changed))

    assert counts(result, "Patient") == (0, 1, 0, 0, 0)
    assert Patient.objects.get().ssn == "987-65-4330"


@pytest.mark.django_db(transaction=True)
def test_the_migration_removes_ssns_stored_before(tmp_path: Path, settings: Any) -> None:
    settings.CARELINE_SENSITIVE_IDENTIFIER_SYSTEMS = []
    settings.CARELINE_SENSITIVE_IDENTIFIER_TYPES = []
    path = write_json(tmp_path, "p.json", _ssn_patient())
    run_import(path)  # as an importer that kept them did
    owner = Patient.objects.get()
    kept_in_clear = PatientIdentifier.objects.create(  # as an importer that kept SS types did
        patient=owner, system="urn:state:ids", value=OTHER_SSN, type_code="SS", received_at=FIRST
    )
    dump = database_dump()
    assert _holds(dump, PLANTED_SSN)  # the dump sees what is stored in clear
    assert _holds(dump, OTHER_SSN)
    settings.CARELINE_SENSITIVE_IDENTIFIER_SYSTEMS = ["http://hl7.org/fhir/sid/us-ssn"]
    settings.CARELINE_SENSITIVE_IDENTIFIER_TYPES = ["SS"]
    migration = import_module(
        "careline.interop.migrations.0003_strip_sensitive_identifiers_from_raw"
    )

    migration.strip_sensitive_identifiers(django_apps, SimpleNamespace(connection=connection))

    assert [i["system"] for i in SourceLink.objects.get().raw["identifier"]] == ["urn:mrn:hospital"]
    assert not PatientIdentifier.objects.filter(pk=kept_in_clear.pk).exists()
    assert Patient.objects.get().ssn == PLANTED_SSN  # she had one: kept, encrypted
    dump = database_dump()
    assert not _holds(dump, PLANTED_SSN)
    assert not _holds(dump, OTHER_SSN)
    assert counts(run_import(path), "Patient") == (0, 0, 1, 0, 0)  # same hash as an import's


# -- characters that disguise names and contact values (finding 12) ---------------------------


def test_bidi_and_control_characters_are_removed_and_listed(tmp_path: Path) -> None:
    resource = patient(
        "p1",
        name=[{"family": "Smith\u202egnp.exe", "given": ["\u05d3\u05e0\u05d4\u200f", "An\x9bn"]}],
        telecom=[
            {"system": "email", "value": "ann@example.org"},
            {"system": "email", "value": "\u2066bob@example.org\u2069"},
        ],
    )

    result = run_import(write_json(tmp_path, "p.json", bundle(resource)))

    assert counts(result, "Patient") == (1, 0, 0, 0, 0)
    stored = Patient.objects.get()
    assert (stored.family_name, stored.given_names) == (
        "Smithgnp.exe",
        "\u05d3\u05e0\u05d4\u200f Ann",
    )
    assert sorted(ContactPoint.objects.values_list("value", flat=True)) == [
        "ann@example.org",
        "bob@example.org",
    ]
    assert [value.as_dict() for value in result.cleaned_values] == [
        {
            "file": str(tmp_path / "p.json"),
            "entry": 0,
            "line": None,
            "resource_type": "Patient",
            "path": "Patient.name",
            "removed": ["U+009B", "U+202E"],
        },
        {
            "file": str(tmp_path / "p.json"),
            "entry": 0,
            "line": None,
            "resource_type": "Patient",
            "path": "Patient.telecom[1].value",
            "removed": ["U+2066", "U+2069"],
        },
    ]
    assert result.as_json()["cleaned_values"][0]["path"] == "Patient.name"
    run_event = AuditEvent.objects.get(resource_type="ImportRun")
    assert run_event.details["cleaned_values"] == 2


def test_right_to_left_names_with_direction_marks_are_kept_as_they_are(tmp_path: Path) -> None:
    family = "\u0627\u0644\u0639\u0644\u064a\u200f \u061c(2)\u200e"
    resource = patient("p1", name=[{"family": family, "given": ["\u0645\u0631\u064a\u0645"]}])

    result = run_import(write_json(tmp_path, "p.json", bundle(resource)))

    assert result.cleaned_values == []
    assert Patient.objects.get().family_name == family


def test_the_command_line_says_which_values_it_cleaned(tmp_path: Path) -> None:
    resource = patient("p1", name=[{"family": "Smith\u202e", "given": ["Ann"]}])
    path = write_json(tmp_path, "p.json", bundle(resource))
    out = StringIO()

    call_command("import_fhir", str(path), "--no-progress", stdout=out)

    assert "1 names or contact values were imported without the control characters" in (
        out.getvalue()
    )
    assert "Patient.name: removed U+202E" in out.getvalue()


def test_an_ssn_kept_only_among_identifiers_moves_to_the_encrypted_field(tmp_path: Path) -> None:
    run_import(write_json(tmp_path, "p.json", patient("p9")))
    owner = Patient.objects.get()
    PatientIdentifier.objects.create(
        patient=owner, system="urn:state:ids", value=OTHER_SSN, type_code="SS", received_at=FIRST
    )

    removed = remove_stored_identifiers(PatientIdentifier, Patient)

    assert removed == 1
    assert list(PatientIdentifier.objects.values_list("value", flat=True)) == ["MRN-p9"]
    assert Patient.objects.get().ssn == OTHER_SSN
