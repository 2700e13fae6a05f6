"""FHIR responses: ``application/fhir+json`` bodies and OperationOutcomes for every error."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    410: "deleted",
    413: "too-costly",
    415: "not-supported",
    500: "exception",
}


class FhirError(Exception):
    """Answered as an OperationOutcome with ``status``; ``expression`` names the parameter."""

    def __init__(
        self, status: int, message: str, *, expression: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.expression = expression
        self.code = code or _ISSUE_CODES.get(status, "processing")


def fhir_response(body: dict[str, Any], *, status: int = 200) -> HttpResponse:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(content, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")


def operation_outcome(
    message: str, *, code: str, severity: str = "error", expression: str | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def error_response(error: FhirError) -> HttpResponse:
    body = operation_outcome(error.message, code=error.code, expression=error.expression)
    response = fhir_response(body, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="careline-fhir"'
    return response
