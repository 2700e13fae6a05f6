"""Hostile input to the importer (security review, issue 7): deep nesting, controls, SSNs."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.management import call_command
from ninja.testing import TestClient

from careline.identity.models import SourceLink
from careline.interop.api import router
from careline.interop.fhir.validation import MAX_NESTING, is_nested_deeper
from careline.interop.models import ImportRun, ImportStatus
from careline.interop.tests.test_import_support import (
    bundle,
    counts,
    patient,
    run_import,
    write_json,
)
from careline.platform.models import AuditAction, AuditEvent, User
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db
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
