"""Import runs as recorded, and the generator's bundles (the demo's data) importing cleanly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from careline.interop.generator import write_bundles
from careline.interop.models import ImportStatus
from careline.interop.selectors import list_import_runs
from careline.interop.tests.test_import_support import bundle, patient, run_import, write_json
from careline.patients.models import Patient
from careline.platform.actors import Actor
from careline.platform.errors import PermissionDenied
from careline.platform.models import User
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db


def test_runs_are_listed_newest_first_for_integration_and_compliance(
    tmp_path: Path, make_user: Callable[..., User], actor_for: Callable[[User], Actor]
) -> None:
    run_import(write_json(tmp_path, "a.json", bundle(patient("p1"))))
    bad = tmp_path / "b.json"
    bad.write_text("{")
    run_import(bad)

    for role in (Role.INTEGRATION, Role.COMPLIANCE):
        runs = list_import_runs(actor=actor_for(make_user(role)))
        assert [run.status for run in runs] == [
            ImportStatus.COMPLETED_WITH_REJECTIONS,
            ImportStatus.SUCCEEDED,
        ]
    assert runs[1].summary["Patient"]["created"] == 1
    assert runs[0].rejections[0]["reason"].startswith("is not valid JSON")


def test_runs_are_not_for_front_desk(
    make_user: Callable[..., User], actor_for: Callable[[User], Actor]
) -> None:
    with pytest.raises(PermissionDenied):
        list_import_runs(actor=actor_for(make_user(Role.SCHEDULER)))


def test_generated_bundles_import_without_rejections(tmp_path: Path) -> None:
    paths = write_bundles(out_dir=tmp_path, patients=8, seed=11)

    first = run_import(tmp_path, source=None)
    again = run_import(tmp_path, source=None)

    assert first.rejections == []
    assert first.summary["Patient"]["created"] == 8 == Patient.objects.count()
    assert len(paths) == 9
    assert all(c["created"] == 0 and c["updated"] == 0 for c in again.summary.values())
