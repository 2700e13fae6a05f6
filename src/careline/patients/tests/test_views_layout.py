"""The staff layout (base.html), sign-in in that layout, error pages and display filters."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.patients.tests.ui_support import signed_in
from careline.platform.context_processors import NavItem, navigation_for
from careline.platform.permissions import Permission, Role
from careline.platform.templatetags.careline import (
    age,
    language_label,
    provenance,
    short_source_label,
    source_label,
)
from careline.testing.factories import PatientFactory

SEARCH_URL = reverse("patients:search")


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.mark.django_db
def test_layout_has_navigation_user_role_and_sign_out(client, make_user):
    signed_in(client, make_user(first_name="Dana", last_name="Reyes"))

    html = client.get(SEARCH_URL).content.decode()

    assert f'<a href="{SEARCH_URL}" aria-current="page">Patients</a>' in html
    assert '<span class="topbar__name">Dana Reyes</span>' in html
    assert '<span class="topbar__role">Scheduler / front desk</span>' in html
    assert f'<form method="post" action="{reverse("account_logout")}">' in html
    assert 'data-inactivity-seconds="900"' in html
    assert "Demo mode" not in html


@pytest.mark.django_db
def test_every_asset_is_local(client, make_user):
    signed_in(client, make_user())

    html = client.get(SEARCH_URL).content.decode()

    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert "/static/django_htmx/htmx-2.min.js" in sources
    assert "/static/careline/careline.css" in sources
    assert "/static/careline/careline.js" in sources
    assert all(source.startswith("/static/") for source in sources)
    assert client.get("/static/careline/careline.css").status_code == 200


@pytest.mark.django_db
def test_demo_mode_badge(client, make_user, settings):
    settings.DEMO_MODE = True
    signed_in(client, make_user())

    assert "Demo mode</span>" in client.get(SEARCH_URL).content.decode()


@pytest.mark.django_db
def test_navigation_follows_the_role(client, make_user):
    signed_in(client, make_user(role=Role.COMPLIANCE))

    response = client.get(reverse("patients:search"))

    assert response.status_code == 403
    assert ">Patients</a>" not in response.content.decode()


@pytest.mark.django_db
def test_navigation_leaves_out_pages_that_do_not_exist_yet(make_user):
    items = (
        NavItem("Patients", "patients:search", Permission.VIEW_PATIENT),
        NavItem("Somewhere", "nowhere:missing", Permission.VIEW_PATIENT),
    )

    pages = navigation_for(make_user(role=Role.SCHEDULER), items)

    assert [(page.label, page.url) for page in pages] == [("Patients", SEARCH_URL)]


@pytest.mark.django_db
def test_unknown_address_is_a_404_page_in_the_layout(client, make_user):
    signed_in(client, make_user())

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    assert "careline.css" in response.content.decode()


@pytest.mark.django_db
def test_sign_in_page_uses_the_careline_layout(client):
    response = client.get(reverse("account_login"), {"timed_out": "1"})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<main id="main" class="page page--auth">' in html
    assert "careline.css" in html
    assert "You were signed out after a period of inactivity" in html
    assert 'name="login"' in html and 'name="password"' in html


def test_age_of_a_birth_date_and_of_a_deceased_patient(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 14, 12, tzinfo=dt.UTC))
    patient = PatientFactory.build(
        birth_date=dt.date(1951, 3, 14),
        is_deceased=True,
        deceased_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )

    assert age(dt.date(1951, 3, 14)) == 75
    assert age(dt.date(1951, 3, 15)) == 74
    assert age(patient) == 68
    assert age(None) is None


def test_language_and_source_labels():
    assert language_label("es") == "Spanish (es)"
    assert language_label("pt-BR") == "Brazilian Portuguese (pt-BR)"
    assert language_label("yue") == "yue"
    assert language_label("") == ""
    assert source_label("careline") == "Careline"
    assert source_label("https://ehr.example.org/fhir/R4") == "ehr.example.org"
    assert source_label("urn:test:ehr") == "urn:test:ehr"


def test_provenance_line_is_in_the_active_time_zone():
    received = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    fact = SimpleNamespace(source_system="urn:test:ehr", received_at=received, source_id="c-7")

    with timezone.override("America/New_York"):
        line = provenance(fact.source_system, fact.received_at, source_id=fact.source_id)

    assert line == (
        '<span class="provenance" tabindex="0">'
        '<span class="provenance__label" aria-hidden="true">ehr</span>'
        '<span class="provenance__full">Source: urn:test:ehr · id c-7 · received '
        '<time datetime="2026-01-01T22:04-05:00">2026-01-01 22:04</time></span></span>'
    )
    assert provenance("careline", None) == (
        '<span class="provenance" tabindex="0">'
        '<span class="provenance__label" aria-hidden="true">Careline</span>'
        '<span class="provenance__full">Source: Careline</span></span>'
    )


def test_provenance_label_is_short_and_the_full_line_escaped():
    assert short_source_label("urn:careline:demo-ehr") == "demo-ehr"
    assert short_source_label("https://ehr.example.org/fhir/R4") == "ehr.example.org"
    assert short_source_label("careline") == "Careline"
    assert "&lt;b&gt;" in provenance("urn:x:<b>", None, source_id="<b>")
