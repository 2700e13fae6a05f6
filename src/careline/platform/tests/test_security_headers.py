"""Headers on every answer: a strict Content-Security-Policy and a Permissions-Policy; and
``Cache-Control: no-store`` on every API answer (they carry patient data) except the docs'
static assets. The templates hold no inline script, style or event handler (the CSP would
block them); the browser test checks the pages work under the policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)


def directives(header: str) -> dict[str, list[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in parts}


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/password/reset/", "/api/patients/search", "/api/nowhere"],
)
def test_every_answer_carries_the_strict_policy(client: Client, path: str) -> None:
    response = client.get(path)

    assert directives(response["Content-Security-Policy"]) == POLICY
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_staff_pages_carry_the_policy(client: Client, make_user, settings) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    client.force_login(make_user(Role.SCHEDULER))

    response = client.get("/patients/")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == POLICY


def test_the_api_docs_page_has_the_same_policy(client: Client) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == POLICY


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/patients/search", "post"),
        ("/api/patients/search", "get"),
        ("/api/nowhere", "get"),
        ("/api/openapi.json", "get"),
        ("/api/docs", "get"),
    ],
)
def test_api_answers_are_never_stored(client: Client, path: str, method: str) -> None:
    response = getattr(client, method)(path)

    assert "no-store" in response["Cache-Control"].split(", ")


def test_the_docs_assets_stay_cacheable(client: Client) -> None:
    response = client.get("/api/docs/assets/swagger-ui.css")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=86400"


def _templates() -> list[Path]:
    return sorted(PACKAGE.glob("*/templates/**/*.html"))


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    problems = [
        f"{template.relative_to(PACKAGE)}: {match.group(0)}"
        for template in _templates()
        for pattern in (inline_script, re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.I))
        for match in pattern.finditer(template.read_text())
    ]

    assert len(_templates()) > 20
    assert problems == []


def test_the_policy_built_once_follows_a_change_of_the_settings(client: Client, settings) -> None:
    client.get("/api/nowhere")  # builds and keeps the settings' policy
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    response = client.get("/api/nowhere")

    assert directives(response["Content-Security-Policy"]) == {"default-src": ["'none'"]}


def test_a_view_override_still_gets_django_csps_own_policy(rf, settings) -> None:
    from csp.decorators import csp_update
    from django.http import HttpRequest, HttpResponse

    from careline.platform.middleware import ContentSecurityPolicyMiddleware

    @csp_update({"img-src": ["https://tiles.example"]})
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/"))

    assert isinstance(response, HttpResponse)
    assert directives(response["Content-Security-Policy"])["img-src"] == [
        "'self'",
        "data:",
        "https://tiles.example",
    ]
