"""The audit log's patient picker: a compliance officer finds whose trail to read by name,
birth date or MRN — without opening any record — and the search itself is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from careline.patients.tests.ui_support import HTMX, audit_rows, patient_in_scope_of, signed_in
from careline.platform.authorization import ANONYMOUS_REFUSALS
from careline.platform.models import AuditEvent, Purpose
from careline.platform.permissions import Role
from careline.testing.factories import PatientFactory

pytestmark = pytest.mark.django_db

PICKER_URL = reverse("patients:audit_patient_picker")
AUDIT_LOG = reverse("platform:audit_log")


@pytest.fixture(autouse=True)
def _no_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _thornburys():
    first = PatientFactory.create(
        given_names="Robert",
        family_name="Thornbury",
        search_name="thornbury robert",
        birth_date=dt.date(1951, 3, 14),
        mrn="MRN0042187",
    )
    second = PatientFactory.create(
        given_names="Maria",
        family_name="Thornbury",
        search_name="thornbury maria",
        birth_date=dt.date(1980, 6, 1),
        mrn="MRN0042188",
    )
    PatientFactory.create(
        given_names="Ann",
        family_name="Quist",
        search_name="quist ann",
        birth_date=dt.date(1962, 9, 30),
        mrn="MRN0099999",
    )
    return first, second


def test_compliance_officer_finds_patients_by_name_and_each_links_to_her_trail(client, make_user):
    robert, maria = _thornburys()
    officer = make_user(role=Role.COMPLIANCE)
    signed_in(client, officer)

    response = client.post(PICKER_URL, {"q": "thornb"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Maria Thornbury" in html and "Robert Thornbury" in html and "Quist" not in html
    assert "born 1951-03-14 · MRN" in html and "MRN0042187" in html
    assert f'href="{AUDIT_LOG}?patient={robert.public_id}"' in html
    assert f'href="{AUDIT_LOG}?patient={maria.public_id}"' in html
    assert f'href="/patients/{robert.public_id}/"' not in html  # no way into the record
    search = AuditEvent.objects.get(action="search")
    assert (search.actor, search.purpose, search.resource_type, search.patient_id) == (
        officer,
        Purpose.COMPLIANCE,
        "Patient",
        None,
    )
    assert search.details == {
        "criteria": ["name"],
        "results": 2,
        "patients": [str(maria.public_id), str(robert.public_id)],
    }


@pytest.mark.parametrize("text", ["MRN0042187", "1951-03-14", "3/14/51"])
def test_finds_by_mrn_or_birth_date(client, make_user, text):
    robert, _ = _thornburys()
    signed_in(client, make_user(role=Role.COMPLIANCE))

    response = client.post(PICKER_URL, {"q": text}, headers=HTMX)

    assert [hit.public_id for hit in response.context["hits"]] == [robert.public_id]


def test_too_short_text_is_a_hint_and_nothing_is_searched(client, make_user):
    signed_in(client, make_user(role=Role.COMPLIANCE))

    response = client.post(PICKER_URL, {"q": "t"}, headers=HTMX)

    assert response.status_code == 200
    assert "Type at least 2 characters" in response.content.decode()
    assert audit_rows() == []


def test_without_javascript_the_page_posts_to_itself(client, make_user):
    _thornburys()
    signed_in(client, make_user(role=Role.COMPLIANCE))

    page = client.get(PICKER_URL)
    results = client.post(PICKER_URL, {"q": "thornbury rob"})

    assert page.status_code == 200
    form = page.content.decode().split('class="picker"')[1].split("</form>")[0]
    assert f'method="post" action="{PICKER_URL}"' in page.content.decode()
    assert f'hx-post="{PICKER_URL}"' in form
    assert results.status_code == 200
    assert "Robert Thornbury" in results.content.decode()
    assert "<h1>Find a patient for the audit log</h1>" in results.content.decode()


@pytest.mark.parametrize("role", [Role.SCHEDULER, Role.MARKETER, Role.INTEGRATION])
def test_roles_without_the_audit_log_are_refused_once_and_nothing_is_searched(
    client, make_user, role
):
    _thornburys()
    signed_in(client, make_user(role=role))

    response = client.post(PICKER_URL, {"q": "thornb"}, headers=HTMX)

    assert response.status_code == 403
    assert "Thornbury" not in response.content.decode()
    assert audit_rows() == [("access_denied", "Patient", None, False)]
    assert AuditEvent.objects.get(action="access_denied").details == {
        "permission": "platform.view_audit_log"
    }


def test_anonymous_is_sent_to_sign_in_counted_not_audited(client):
    counted = ANONYMOUS_REFUSALS["ui"]

    response = client.post(PICKER_URL, {"q": "thornb"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert ANONYMOUS_REFUSALS["ui"] == counted + 1
    assert not AuditEvent.objects.exists()


def test_the_360_page_links_to_who_accessed_the_record_for_roles_that_may_read_the_log(
    client, make_user
):
    admin = make_user(role=Role.ADMIN)
    patient = patient_in_scope_of(admin)
    signed_in(client, admin)

    html = client.get(reverse("patients:detail", args=[patient.public_id])).content.decode()

    assert f'<a href="{AUDIT_LOG}?patient={patient.public_id}">Who accessed this record</a>' in html


def test_the_360_page_has_no_audit_link_for_roles_that_may_not_read_the_log(client, make_user):
    scheduler = make_user(role=Role.SCHEDULER)
    patient = patient_in_scope_of(scheduler)
    signed_in(client, scheduler)

    html = client.get(reverse("patients:detail", args=[patient.public_id])).content.decode()

    assert "Who accessed this record" not in html
    assert AUDIT_LOG not in html
