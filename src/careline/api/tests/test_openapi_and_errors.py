"""The OpenAPI document and docs page (offline), and the one error shape for every miss."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.http import FileResponse
from django.test import Client

from careline.api.tests.helpers import ApiCaller, error_of, random_uuid
from careline.patients.models import CommunicationPreference, Patient

EXPECTED_ROUTES = {
    ("/api/patients/search", "post"),
    ("/api/patients/{patient_id}", "get"),
    ("/api/patients/{patient_id}/summary", "get"),
    ("/api/patients/{patient_id}/timeline", "get"),
    ("/api/patients/{patient_id}/contact-points", "post"),
    ("/api/patients/{patient_id}/contact-points/{contact_id}", "patch"),
    ("/api/patients/{patient_id}/contact-points/{contact_id}", "delete"),
    ("/api/patients/{patient_id}/communication-preference", "put"),
    ("/api/patients/{patient_id}/consents", "post"),
    ("/api/patients/{patient_id}/break-glass", "post"),
    ("/api/import/fhir", "post"),
    ("/api/scheduling/visit-types", "get"),
    ("/api/scheduling/slots", "get"),
    ("/api/scheduling/holds", "post"),
    ("/api/scheduling/holds/{hold_id}", "delete"),
    ("/api/scheduling/appointments", "post"),
    ("/api/scheduling/appointments/{appointment_id}", "get"),
    ("/api/scheduling/appointments/{appointment_id}/reschedule", "post"),
    ("/api/scheduling/appointments/{appointment_id}/cancel", "post"),
    ("/api/scheduling/appointments/{appointment_id}/arrived", "post"),
    ("/api/scheduling/appointments/{appointment_id}/no-show", "post"),
    ("/api/scheduling/appointments/{appointment_id}/completed", "post"),
    ("/api/scheduling/waitlist", "post"),
    ("/api/scheduling/waitlist", "get"),
    ("/api/scheduling/waitlist/{entry_id}/remove", "post"),
    ("/api/scheduling/waitlist/patients/{patient_id}/offers", "get"),
    ("/api/scheduling/waitlist/offers/{offer_id}/accept", "post"),
    ("/api/scheduling/waitlist/offers/{offer_id}/decline", "post"),
    ("/api/scheduling/metrics", "get"),
    ("/api/scheduling/flagged", "get"),
    ("/api/scheduling/flagged/{flag_id}/resolve", "post"),
    ("/api/messaging/messages", "get"),
    ("/api/messaging/messages/{message_id}", "get"),
    ("/api/directory/locations/nearest", "get"),
    ("/api/directory/practitioners/nearest", "get"),
}


@pytest.fixture
def openapi(api_client: Client) -> dict[str, Any]:
    response = api_client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_openapi_lists_every_route(openapi: dict[str, Any]) -> None:
    routes = {(path, method) for path, methods in openapi["paths"].items() for method in methods}

    assert routes == EXPECTED_ROUTES


def test_openapi_declares_both_authentications_and_the_error_shape(
    openapi: dict[str, Any],
) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["BearerTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["StaffSessionAuth"]["in"] == "cookie"
    assert set(openapi["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == {
        "code",
        "message",
        "details",
    }
    for methods in openapi["paths"].values():
        for operation in methods.values():
            assert {"401", "403", "404", "422"} <= set(operation["responses"])


def test_openapi_names_no_integer_ids_and_no_ssn(openapi: dict[str, Any]) -> None:
    for name, schema in openapi["components"]["schemas"].items():
        for field, spec in schema.get("properties", {}).items():
            assert "ssn" not in field.lower() and "social" not in field.lower()
            if field == "id" or field.endswith("_id"):
                assert spec.get("type") != "integer", (name, field)


def test_docs_render_without_any_external_url(api_client: Client) -> None:
    response = api_client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert re.findall(r"https?://", html) == []
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize(
    "asset", ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.png"]
)
def test_docs_assets_are_served_locally(api_client: Client, asset: str) -> None:
    html = api_client.get("/api/docs").content.decode()
    assert f"/api/docs/assets/{asset}" in html

    response = api_client.get(f"/api/docs/assets/{asset}")

    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content)


def test_docs_assets_serve_nothing_else(api_client: Client) -> None:
    response = api_client.get("/api/docs/assets/..%2F..%2Fmain.py")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/", "/api/nothing", "/api/patients", "/api/patients/x/y/"])
def test_unknown_routes_answer_404_in_the_error_shape(
    method: str, path: str, scheduler: ApiCaller
) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.generic(method, path, b"{}", content_type="application/json")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_method_a_route_does_not_take_is_405_in_the_error_shape(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    response = api_client.delete(f"/api/patients/{patient.public_id}", headers=scheduler.headers)

    assert response.status_code == 405
    assert error_of(response)["details"] == {"allowed": ["GET"]}
    assert response["Allow"] == "GET"


NOT_AN_OBJECT = (
    "bad_request",
    "The request body must be a JSON object (Content-Type: application/json).",
)
INVALID_Q = ("validation_failed", "The request is invalid — q: ")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "expected"),
    [
        (b"{", "application/json", 400, NOT_AN_OBJECT),
        (b"\xff\xfe", "application/json", 400, NOT_AN_OBJECT),
        (b"q=robert", "application/x-www-form-urlencoded", 400, NOT_AN_OBJECT),
        (b"[1, 2]", "application/json", 400, NOT_AN_OBJECT),
        (b'"robert"', "application/json", 400, NOT_AN_OBJECT),
        (b"null", "application/json", 400, NOT_AN_OBJECT),
        (b'{"q": 12}', "application/json", 422, INVALID_Q),
        (b'{"q": "a\\u0000b"}', "application/json", 422, INVALID_Q),
        (b'{"q": "\\ud800 lone surrogate"}', "application/json", 422, INVALID_Q),
    ],
)
def test_malformed_bodies_answer_4xx_in_the_error_shape(
    api_client: Client,
    scheduler: ApiCaller,
    body: bytes,
    content_type: str,
    status: int,
    expected: tuple[str, str],
) -> None:
    response = api_client.generic(
        "POST",
        "/api/patients/search",
        body,
        content_type=content_type,
        headers=scheduler.headers,
    )

    assert response.status_code == status
    error = error_of(response)
    code, message = expected
    assert error["code"] == code
    assert error["message"].startswith(message), error["message"]


@pytest.mark.parametrize("body", [b"null", b"[]", b"[null, null]", b"3"])
def test_a_body_that_is_not_an_object_does_not_mean_all_defaults(
    api_client: Client, scheduler: ApiCaller, patient: Patient, body: bytes
) -> None:
    response = api_client.put(
        f"/api/patients/{patient.public_id}/communication-preference",
        body,
        content_type="application/json",
        headers=scheduler.headers,
    )

    assert response.status_code == 400
    assert "JSON object" in error_of(response)["message"]
    assert not CommunicationPreference.objects.exists()


def test_validation_errors_do_not_echo_input(api_client: Client, scheduler: ApiCaller) -> None:
    response = api_client.post(
        "/api/patients/search",
        {"q": "Zebrowski\x00" + "x" * 300},
        content_type="application/json",
        headers=scheduler.headers,
    )

    assert response.status_code == 422
    assert "Zebrowski" not in response.content.decode()
    assert all(set(item) == {"loc", "msg"} for item in error_of(response)["details"])


def test_no_phi_reaches_the_logs(
    api_client: Client,
    scheduler: ApiCaller,
    patient: Patient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api_client.post(
        "/api/patients/search",
        {"q": "Zebrowski"},
        content_type="application/json",
        headers=scheduler.headers,
    )
    api_client.post(
        "/api/patients/search",
        {"q": "Zebrowski\x00"},
        content_type="application/json",
        headers=scheduler.headers,
    )
    api_client.get(f"/api/patients/{random_uuid()}", headers=scheduler.headers)
    api_client.get(f"/api/patients/{patient.public_id}", headers={"Authorization": "Bearer x"})

    logged = "\n".join(record.getMessage() for record in caplog.records)
    for phi in ("Zebrowski", "Robert", "MRN7000001", "1951-03-14", scheduler.token):
        assert phi not in logged


def test_an_unexpected_error_is_a_json_500_whose_log_omits_the_message(
    api_client: Client,
    scheduler: ApiCaller,
    patient: Patient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(**kwargs: Any) -> None:
        # Like a database error that quotes the row it refused.
        raise RuntimeError(f"duplicate key (mrn)=({patient.mrn}) for {patient.display_name}")

    monkeypatch.setattr("careline.patients.api.routes.access_patient", explode)

    response = api_client.get(f"/api/patients/{patient.public_id}", headers=scheduler.headers)

    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    assert "Zebrowski" not in response.content.decode()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Unexpected RuntimeError on GET" in logged
    assert "{uuid:patient_id}" in logged or "patient_id" in logged
    assert "Zebrowski" not in logged and "MRN7000001" not in logged
