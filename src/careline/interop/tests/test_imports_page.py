"""The Imports page: who may open it, a FHIR file imported from the browser, and the
refusals a person can act on (a wrong kind of file, a file that is not FHIR)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from careline.identity.models import SourceLink
from careline.interop.models import ImportRun
from careline.interop.tests.test_import_support import bundle, condition, patient
from careline.platform.models import AuditEvent, AuditOutcome, User
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db

URL = "/imports/"


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _signed_in(client: Client, make_user: Callable[..., User], role: str) -> User:
    user = make_user(role)
    client.force_login(user)
    return user


def _upload(client: Client, name: str, content: bytes, source: str = "") -> Any:
    return client.post(URL, {"file": SimpleUploadedFile(name, content), "source_system": source})


def test_an_integration_engineer_imports_a_bundle_and_sees_the_run(
    client: Client, make_user: Callable[..., User]
) -> None:
    _signed_in(client, make_user, Role.INTEGRATION)
    content = json.dumps(bundle(patient("p1"), condition("c1"))).encode()

    response = _upload(client, "ehr-export.json", content, source="urn:ehr:north")

    assert response.status_code == 200
    html = response.content.decode()
    assert "This import succeeded" in html
    assert (
        '<tr><th scope="row">Patient</th><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>'
        in html
    )
    run = ImportRun.objects.get()
    assert (run.source_system, run.channel, run.status) == ("urn:ehr:north", "ui", "succeeded")
    assert SourceLink.objects.filter(source_system="urn:ehr:north").count() == 1
    assert "<code>urn:ehr:north</code>" in html  # the run is listed below


def test_a_rejected_resource_is_listed_with_its_entry_path_and_reason(
    client: Client, make_user: Callable[..., User]
) -> None:
    _signed_in(client, make_user, Role.INTEGRATION)
    broken = patient("p2")
    broken["birthDate"] = "yesterday"
    content = json.dumps(bundle(patient("p1"), broken)).encode()

    response = _upload(client, "two.json", content)

    html = response.content.decode()
    assert response.status_code == 200
    assert "This import completed with rejections" in html
    assert "<h3>Rejected (1)</h3>" in html
    assert "<td>entry 1</td><td>Patient</td><td><code>Patient.birthDate</code></td>" in html


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"{}", "Upload a .json file (a Bundle or one resource) or a .ndjson file."),
        ("broken.json", b"{not json", "The request body is not valid JSON"),
        ("empty.ndjson", b"   ", "The request body is empty."),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_a_reason_and_writes_nothing(
    client: Client, make_user: Callable[..., User], name: str, content: bytes, message: str
) -> None:
    _signed_in(client, make_user, Role.INTEGRATION)

    response = _upload(client, name, content)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not SourceLink.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    client: Client, make_user: Callable[..., User], settings
) -> None:
    settings.CARELINE_IMPORT_UPLOAD_MAX_BYTES = 1_000_000
    _signed_in(client, make_user, Role.INTEGRATION)

    response = _upload(client, "big.json", b" " * 1_500_000)

    assert response.status_code == 422
    assert (
        "The file is 1.5 MB; the page takes up to 1 MB. Import larger files with "
        "`careline import-fhir`."
    ) in response.content.decode()
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("role", [Role.SCHEDULER, Role.NURSE])
def test_staff_without_the_permission_are_refused_and_audited(
    client: Client, make_user: Callable[..., User], role: str
) -> None:
    user = _signed_in(client, make_user, role)

    response = _upload(client, "x.json", json.dumps(bundle(patient("p1"))).encode())

    assert response.status_code == 403
    assert not ImportRun.objects.exists()
    denial = AuditEvent.objects.get(outcome=AuditOutcome.DENIED)
    assert (denial.actor, denial.outcome, denial.resource_type) == (
        user,
        AuditOutcome.DENIED,
        "ImportRun",
    )


def test_the_menu_shows_imports_to_the_integration_engineer(
    client: Client, make_user: Callable[..., User]
) -> None:
    _signed_in(client, make_user, Role.INTEGRATION)

    response = client.get(URL)

    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()
    assert "No imports yet." in response.content.decode()
