"""No input makes the API answer 5xx: random JSON and garbage to every write endpoint.

A schemathesis-free fuzz with hypothesis: the write operations come from the OpenAPI
document, bodies are drawn from (a) arbitrary JSON, (b) objects with the operation's own
field names and hostile values, (c) raw bytes. Every answer is < 500, and every 4xx carries
the one error shape.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.api.api import api
from careline.api.tests.helpers import ApiCaller, error_of
from careline.patients.models import Patient
from careline.platform.permissions import Role
from careline.scheduling.models import Appointment
from careline.testing.factories import ContactPointFactory
from careline.testing.scheduling import make_clinic

WRITE_METHODS = {"post", "put", "patch", "delete"}


def write_operations() -> list[tuple[str, str, list[str]]]:
    """(method, path template, body field names) of every write operation."""
    document = api.get_openapi_schema(path_prefix="/api/")
    schemas = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method not in WRITE_METHODS:
                continue
            fields: list[str] = []
            content = operation.get("requestBody", {}).get("content", {})
            reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            if reference:
                fields = list(schemas[reference.rsplit("/", 1)[-1]].get("properties", {}))
            operations.append((method.upper(), path, fields))
    return sorted(operations)


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\u202e\u0000",
        "617-555-0100",
        "+999999999999999999999",
        "+1 (617) 555-0100 ext. 9",
        "ROBERT@EXAMPLE.ORG",
        "@",
        "America/New_York",
        "../../etc/localtime",
        "Etc/GMT+99",
        "21:00",
        "25:61",
        "24:00:00",
        "2026-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "phone",
        "sms",
        "active",
        "mobile",
        "x" * 5000,
        "NaN",
        "1e309",
        "'; DROP TABLE patients_patient; --",
    ]
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | HOSTILE_TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def bodies(fields: list[str]) -> st.SearchStrategy[bytes]:
    shaped = st.fixed_dictionaries({}, optional={field: JSON_VALUES for field in fields})
    as_json = (shaped | JSON_VALUES).map(lambda value: json.dumps(value).encode())
    return as_json | st.binary(max_size=200)


def is_json_error(response: Any) -> bool:
    try:
        error_of(response)
    except (AssertionError, ValueError):
        return False
    return True


def booked_appointment(patient: Patient) -> Any:
    """An appointment of the patient a week ahead, written directly (the fuzz is of the API)."""
    clinic = make_clinic()
    starts_at = timezone.now().replace(microsecond=0) + dt.timedelta(days=7)
    return Appointment.objects.create(
        patient=patient,
        practitioner=clinic.practitioner,
        location=clinic.location,
        visit_type=clinic.visit_type,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        created_at=starts_at,
        updated_at=starts_at,
    )


@pytest.fixture
def admin(caller_for: Any) -> ApiCaller:
    caller: ApiCaller = caller_for(Role.ADMIN)
    return caller


@pytest.mark.parametrize(
    ("method", "template", "fields"),
    write_operations(),
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_no_body_makes_a_write_endpoint_fail_with_5xx(
    method: str,
    template: str,
    fields: list[str],
    admin: ApiCaller,
    patient: Patient,
) -> None:
    contact = ContactPointFactory.create(patient=patient)
    appointment = booked_appointment(patient)
    path = template.format(
        patient_id=patient.public_id,
        contact_id=contact.public_id,
        appointment_id=appointment.public_id,
        hold_id=uuid.uuid4(),
        entry_id=uuid.uuid4(),
        offer_id=uuid.uuid4(),
        flag_id=uuid.uuid4(),
    )
    client = Client()

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        body=bodies(fields),
        content_type=st.sampled_from(["application/json", "text/plain", "application/fhir+json"]),
    )
    def check(body: bytes, content_type: str) -> None:
        response = client.generic(
            method, path, body, content_type=content_type, headers=admin.headers
        )
        assert response.status_code < 500, (body, response.content)
        if response.status_code >= 400:
            assert is_json_error(response), response.content

    check()


def test_the_fuzz_covers_every_write_endpoint() -> None:
    covered = {(method, path) for method, path, _ in write_operations()}

    assert len(covered) == 21
    assert ("POST", "/api/import/fhir") in covered
