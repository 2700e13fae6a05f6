"""Staff accounts are managed by an administrator: password reset is off. Every allauth reset
URL answers 404 with a page saying whom to ask — never a 500, never a mail — and the sign-in
page offers no reset link. Demo mode runs with DEBUG off (only development has debug pages),
and its static files still serve (WhiteNoise)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core import mail
from django.test import Client

from careline.platform.permissions import Role
from careline.testing.commands import clean_environment

pytestmark = pytest.mark.django_db

ASK_THE_ADMINISTRATOR = (
    "Staff passwords are reset by your administrator: ask them to set a new one for you."
)
RESET_PATHS = [
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/password/reset/key/done/",
    "/accounts/password/reset/key/1-set-password/",
    "/accounts/password/reset/confirm/",
    "/accounts/password/reset/complete/",
]


@pytest.fixture
def unreachable_mail_server(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2


@pytest.mark.parametrize("path", RESET_PATHS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_reset_url_says_to_ask_the_administrator(
    client: Client, make_user, unreachable_mail_server: None, path: str, method: str
) -> None:
    make_user(Role.NURSE, username="nina", email="nina@clinic.example")

    response = getattr(client, method)(path, {"email": "nina@clinic.example"})

    assert response.status_code == 404
    assert ASK_THE_ADMINISTRATOR in response.content.decode()
    assert mail.outbox == []


def test_the_sign_in_page_says_whom_to_ask_and_links_no_reset(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert "/accounts/password/reset/" not in page
    assert "Forgot your password? Ask your administrator to reset it." in page


def _debug_in(environment_name: str) -> str:
    environment = clean_environment(
        **({"CARELINE_ENV": environment_name} if environment_name else {})
    )
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = subprocess.run(  # noqa: S603 (a fixed command)
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_only_development_has_debug_on() -> None:
    assert {name: _debug_in(name) for name in ("", "development", "demo", "production")} == {
        "": "True",
        "development": "True",
        "demo": "False",
        "production": "False",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/static/careline/careline.css",
        "/static/careline/careline.js",
        "/static/django_htmx/htmx-2.min.js",
    ],
)
def test_static_files_serve_with_debug_off(client: Client, settings, path: str) -> None:
    settings.DEBUG = False

    response = client.get(path)

    assert response.status_code == 200
    assert int(response["Content-Length"]) > 100
