"""``careline import-fhir``: summary table or JSON, exit status 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careline.interop.models import ImportRun
from careline.interop.tests.test_import_support import bundle, condition, patient, write_json
from careline.platform.models import AuditEvent

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("import_fhir", *args, "--no-progress", stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_json_summary_is_one_object_and_exit_0(tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        "b.json",
        bundle(patient("p1"), condition("c1"), {"resourceType": "Goal", "id": "g"}),
    )

    status, output = _run(str(path), "--json", "--source", "urn:ehr")

    assert status == 0
    assert json.loads(output) == {
        "Condition": {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": 0},
        "Goal": {"created": 0, "updated": 0, "unchanged": 0, "skipped": 1, "rejected": 0},
        "Patient": {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": 0},
        "rejections": [],
        "skipped_files": [],
        "cleaned_values": [],
    }
    assert ImportRun.objects.get().source_system == "urn:ehr"


def test_rejections_exit_1_with_their_reasons(tmp_path: Path) -> None:
    path = write_json(tmp_path, "b.json", bundle(patient("p1", birthDate="1951-13-01")))

    status, output = _run(str(path), "--json")

    assert status == 1
    assert json.loads(output)["rejections"] == [
        {
            "file": str(path),
            "entry": 0,
            "line": None,
            "resource_type": "Patient",
            "path": "Patient.birthDate",
            "reason": "Date value string does not match spec regex: '1951-13-01'",
        }
    ]


def test_table_lists_types_and_rejections(tmp_path: Path) -> None:
    good = write_json(tmp_path, "a.json", bundle(patient("p1")))
    bad = tmp_path / "b.json"
    bad.write_text("not json")

    status, output = _run(str(tmp_path))

    assert status == 1
    assert "Patient" in output
    assert "Total" in output
    assert f"rejected: {bad}: is not valid JSON: Expecting value (line 1, column 1)" in output
    assert str(good) not in output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as raised:
        call_command("import_fhir", str(tmp_path / "nope.json"), "--no-progress")

    assert raised.value.returncode == 2
    assert str(raised.value) == f"{tmp_path / 'nope.json'} does not exist."
    assert not ImportRun.objects.exists()
    assert not AuditEvent.objects.exists()


def test_console_script_exit_status_for_a_missing_path(tmp_path: Path) -> None:
    completed = subprocess.run(  # noqa: S603 (our own console entry point)
        [sys.executable, "-m", "careline.config.cli", "import-fhir", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 2
    assert "does not exist" in completed.stderr
