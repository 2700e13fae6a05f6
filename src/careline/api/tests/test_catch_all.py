"""Paths no API route claims answer the API's JSON 404 — even with a newline in them, and
in every mode (never Django's debug page listing the URL configuration)."""

from __future__ import annotations

import pytest
from django.test import Client

NOT_FOUND = {"error": {"code": "not_found", "message": "No such API route.", "details": None}}


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
@pytest.mark.parametrize(
    "path",
    ["/api/patients/x%0Ay", "/api/%0A", "/api/patients/%0D%0Ax", "/api/x%0A/y", "/api/nope"],
)
def test_unknown_paths_answer_the_json_error_shape(settings, debug: bool, path: str) -> None:
    settings.DEBUG = debug

    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND
