"""Checks every FHIR test applies: the body is valid R4 (R4B models) and has the right type."""

from __future__ import annotations

from typing import Any

from careline.interop.fhir.validation import model_class


def fhir_body(response: Any, resource_type: str) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/fhir+json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == resource_type, body
    model_class(resource_type).model_validate(body)  # raises on anything invalid
    return body


def outcome(response: Any, status: int) -> dict[str, Any]:
    """The one issue of an OperationOutcome answered with ``status``."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = fhir_body(response, "OperationOutcome")
    assert len(body["issue"]) == 1
    issue: dict[str, Any] = body["issue"][0]
    assert issue["severity"] == "error"
    return issue


def ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]
