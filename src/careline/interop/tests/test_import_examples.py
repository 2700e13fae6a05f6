"""Every official FHIR example in ../shared/testdata/fhir-examples either imports or is
skipped or rejected with a reason — never an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careline.interop.fhir.mapping import is_supported
from careline.interop.tests.test_import_support import run_import

pytestmark = [pytest.mark.shared_testdata, pytest.mark.django_db]

EXAMPLES = Path(__file__).resolve().parents[4].parent / "shared" / "testdata" / "fhir-examples"
FILES = sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_example_is_imported_skipped_or_rejected_with_a_reason(path: Path) -> None:
    resource = json.loads(path.read_text())
    resource_type = resource["resourceType"]

    result = run_import(path)

    counted = result.summary[resource_type]
    assert sum(counted.values()) == 1
    if not is_supported(resource_type):
        assert counted["skipped"] == 1
    if counted["rejected"]:
        (rejection,) = result.rejections
        assert rejection.resource_type == resource_type
        assert rejection.path is not None
        assert rejection.path.startswith(resource_type)
        assert rejection.reason
    else:
        assert result.rejections == []


def test_supported_examples_mostly_import() -> None:
    """The examples whose patient is in the set import; the others name the missing patient."""
    supported = [p for p in FILES if is_supported(json.loads(p.read_text())["resourceType"])]

    result = run_import(*supported)

    for rejection in result.rejections:
        assert rejection.reason.startswith(
            ("references Patient/", "has no reference", "references a")
        ) or (rejection.path and "." in rejection.path), rejection
    assert result.summary["Patient"]["created"] >= 8
    assert result.summary["Practitioner"]["created"] >= 7
