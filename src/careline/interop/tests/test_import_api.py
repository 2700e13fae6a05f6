"""``POST /import/fhir``: who may import, what bodies it takes, what it answers.

The router is exercised on its own (the API assembly mounts it at /api/ and turns service
errors into the one error shape); errors are therefore seen here as raised exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from ninja.testing import TestClient

from careline.identity.models import SourceLink
from careline.interop.api import router
from careline.interop.models import ImportRun
from careline.interop.tests.test_import_support import bundle, condition, patient
from careline.platform.errors import PermissionDenied, ValidationFailed
from careline.platform.models import AuditEvent, AuditOutcome, User
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db

client = TestClient(router)
BUNDLE = json.dumps(bundle(patient("p1"), condition("c1"))).encode()


def _post(body: bytes, content_type: str, user: Any = None, query: str = "") -> Any:
    extra: dict[str, Any] = {"user": user} if user is not None else {}
    return client.post(
        f"/import/fhir{query}",
        data=cast(Any, body),  # raw bytes: ninja's client passes them as the body
        META={"CONTENT_TYPE": content_type, "REMOTE_ADDR": "10.0.0.7"},
        **extra,
    )


@pytest.fixture
def integration(make_user: Callable[..., User]) -> User:
    return make_user(Role.INTEGRATION)


def test_anonymous_is_refused_without_side_effects() -> None:
    with pytest.raises(PermissionDenied):
        _post(BUNDLE, "application/fhir+json")

    assert not SourceLink.objects.exists()
    assert not ImportRun.objects.exists()
    assert not AuditEvent.objects.exists()  # counted, not audited


@pytest.mark.parametrize("role", [Role.SCHEDULER, Role.NURSE, Role.COMPLIANCE])
def test_staff_without_the_permission_are_refused(
    make_user: Callable[..., User], role: str
) -> None:
    user = make_user(role)

    with pytest.raises(PermissionDenied):
        _post(BUNDLE, "application/fhir+json", user)

    assert not SourceLink.objects.exists()
    assert not ImportRun.objects.exists()
    denial = AuditEvent.objects.get()
    assert (denial.actor, denial.outcome, denial.resource_type, denial.channel) == (
        user,
        AuditOutcome.DENIED,
        "ImportRun",
        "api",
    )


def test_integration_user_imports_a_bundle(integration: User) -> None:
    response = _post(BUNDLE, "application/fhir+json; charset=utf-8", integration, "?source=urn:lab")

    assert response.status_code == 200
    assert response.json() == {
        "Condition": {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": 0},
        "Patient": {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": 0},
        "rejections": [],
        "skipped_files": [],
        "cleaned_values": [],
    }
    run = ImportRun.objects.get()
    assert (run.source_system, run.channel, run.started_by) == ("urn:lab", "api", integration)
    assert SourceLink.objects.get().source_system == "urn:lab"
    assert AuditEvent.objects.filter(actor=integration, remote_addr="10.0.0.7").count() == 2


def test_a_single_resource_is_accepted_as_application_json(integration: User) -> None:
    response = _post(json.dumps(patient("p9")).encode(), "application/json", integration)

    assert response.status_code == 200
    assert response.json()["Patient"]["created"] == 1


def test_ndjson_body_with_a_broken_line_answers_200_with_the_rejection(
    integration: User,
) -> None:
    body = b"\n".join(
        [json.dumps(patient("p1")).encode(), b"{broken", json.dumps(patient("p2")).encode()]
    )

    response = _post(body, "application/fhir+ndjson", integration)

    assert response.status_code == 200
    answer = response.json()
    assert answer["Patient"]["created"] == 2
    assert answer["rejections"] == [
        {
            "file": None,
            "entry": None,
            "line": 2,
            "resource_type": None,
            "path": None,
            "reason": (
                "is not valid JSON: Expecting property name enclosed in double quotes (column 2)"
            ),
        }
    ]


def test_malformed_resource_is_a_rejection_not_an_error(integration: User) -> None:
    body = json.dumps(bundle(patient("p1", gender=7))).encode()

    response = _post(body, "application/fhir+json", integration)

    assert response.status_code == 200
    assert [(r["path"], r["reason"]) for r in response.json()["rejections"]] == [
        ("Patient.gender", "must be a string: 7")
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/fhir+json", "The request body is not valid JSON"),
        (b'{"hello": 1}', "application/json", "The request body is not a FHIR resource or Bundle"),
        (b"", "application/fhir+json", "The request body is empty."),
        (BUNDLE, "text/plain", "Send application/fhir+json"),
    ],
)
def test_unreadable_bodies_are_validation_failures(
    integration: User, body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _post(body, content_type, integration)

    assert raised.value.message.startswith(message)
    assert not ImportRun.objects.exists()


def test_an_overlong_source_is_a_validation_failure(integration: User) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _post(BUNDLE, "application/fhir+json", integration, "?source=" + "x" * 201)

    assert raised.value.message == "The source system name must be 1 to 200 printable characters."
    assert not ImportRun.objects.exists()
