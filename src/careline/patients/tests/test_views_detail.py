"""The 360° page: who may open it, what it shows (with provenance), what it audits, its cost."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.patients.selectors import encode_timeline_cursor
from careline.patients.tests.ui_support import audit_rows, grant_for, patient_in_scope_of, signed_in
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import (
    CareTeamMemberFactory,
    ConsentFactory,
    ContactPointFactory,
    CoverageFactory,
    EncounterFactory,
    PatientFactory,
    PractitionerFactory,
    RelatedPersonFactory,
    SocialNeedFactory,
    TimelineEventFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _detail(patient):
    return reverse("patients:detail", args=[patient.public_id])


def _reads():
    return audit_rows(resource_type="Patient", action="read")


def test_anonymous_is_sent_to_sign_in(client):
    patient = PatientFactory.create()

    response = client.get(_detail(patient))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not AuditEvent.objects.exists()


def test_role_without_patient_access_gets_403_and_no_phi(client, make_user):
    patient = PatientFactory.create(family_name="Quist")
    signed_in(client, make_user(role=Role.MARKETER))

    response = client.get(_detail(patient))

    html = response.content.decode()
    assert response.status_code == 403
    assert "Quist" not in html and patient.mrn not in html
    assert audit_rows() == [("access_denied", "Patient", patient.public_id, False)]


def test_unknown_patient_is_a_404_page(client, make_user):
    signed_in(client, make_user())

    response = client.get(reverse("patients:detail", args=[uuid.uuid4()]))

    assert response.status_code == 404
    assert "No such patient." in response.content.decode()


def test_out_of_scope_patient_asks_for_a_reason_and_shows_no_phi(client, make_user):
    patient = PatientFactory.create(family_name="Quist", mrn="MRN0099999")
    ContactPointFactory.create(patient=patient, value="+16175550142")
    signed_in(client, make_user())

    response = client.get(_detail(patient))

    html = response.content.decode()
    assert response.status_code == 403
    assert "outside your care teams and locations" in html
    assert f'action="{reverse("patients:break_glass", args=[patient.public_id])}"' in html
    for phi in ("Quist", "Robert", "MRN0099999", "1951", "555"):
        assert phi not in html
    assert audit_rows() == [("access_denied", "Patient", patient.public_id, False)]


def test_out_of_scope_patient_with_break_glass_is_shown_flagged(client, make_user):
    user = make_user()
    patient = PatientFactory.create(family_name="Quist")
    grant_for(user, patient)
    signed_in(client, user)

    response = client.get(_detail(patient))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Break-glass access</strong> — this view is flagged for compliance review" in html
    assert "Quist" in html
    assert _reads() == [("read", "Patient", patient.public_id, True)]


def test_in_scope_patient_is_shown_and_one_read_is_audited(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    response = client.get(_detail(patient))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Break-glass access" not in html
    assert audit_rows(patient_id=patient.public_id) == [
        ("read", "Patient", patient.public_id, False)
    ]
    assert "no-store" in response["Cache-Control"]
    assert patient.family_name not in html.split("</title>")[0]  # no name in browser history


def test_care_team_membership_is_in_scope_too(client, make_user):
    doctor = PractitionerFactory.create()
    user = make_user(role=Role.NURSE, practitioner=doctor)
    patient = PatientFactory.create()
    CareTeamMemberFactory.create(patient=patient, practitioner=doctor, role="Primary nurse")
    signed_in(client, user)

    response = client.get(_detail(patient))

    assert response.status_code == 200
    assert f'<dd class="mono">{patient.mrn}</dd>' in response.content.decode()
    assert _reads() == [("read", "Patient", patient.public_id, False)]


def test_banner_shows_identity_needs_and_caregiver(client, make_user, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 20, 15, tzinfo=dt.UTC))
    user = make_user()
    patient = patient_in_scope_of(
        user, family_name="Jones", mrn="MRN0042187", language="es", interpreter_needed=True
    )
    SocialNeedFactory.create(patient=patient, note="No car; daughter drives")
    RelatedPersonFactory.create(
        patient=patient, name="Mary Jones", relationship="Daughter", phone="+16175550177"
    )
    signed_in(client, user)

    html = client.get(_detail(patient)).content.decode()

    assert "Robert Jones" in html
    assert "<dt>Age</dt><dd>75 y</dd>" in html
    assert "<dt>Sex</dt><dd>Male</dd>" in html
    assert "<dt>Born</dt><dd>1951-03-14</dd>" in html
    assert "MRN0042187" in html
    assert "Interpreter needed</span> Spanish (es)" in html
    assert "Transport need</span> No car; daughter drives" in html
    assert "Mary Jones (Daughter)" in html
    assert '<a href="tel:+16175550177">(617) 555-0177</a>' in html


def test_deceased_patient_is_marked(client, make_user):
    user = make_user()
    died = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    patient = patient_in_scope_of(user, is_deceased=True, deceased_at=died)
    signed_in(client, user)

    html = client.get(_detail(patient)).content.decode()

    assert '<span class="badge badge--deceased">Deceased 2025-06-01</span>' in html
    assert "<dt>Age</dt><dd>74 y</dd>" in html  # age at death


def test_allergy_banner_slot_is_filled_by_the_clinical_panel(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    html = client.get(_detail(patient)).content.decode()

    summary_url = reverse("clinical:patient_summary", args=[patient.public_id])
    assert f'hx-get="{summary_url}" hx-trigger="load"' in html
    assert '<div id="allergy-banner"' in html
    assert html.index('id="allergy-banner"') < html.index('id="clinical-summary"')


def test_contacts_preferences_consents_and_coverage_with_provenance(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    ehr = {"patient": patient, "source_system": "urn:test:ehr"}
    ContactPointFactory.create(**ehr, value="+16175550142", use="mobile")
    ContactPointFactory.create(**ehr, value="+16175550000", is_active=False)
    ConsentFactory.create(**ehr, purpose="sms", status="active")
    CoverageFactory.create(**ehr, payer="Harbor Health Plan", member_id="HHP1")
    CoverageFactory.create(
        **ehr,
        payer="Old Payer",
        start_date=dt.date(2019, 1, 1),
        end_date=dt.date(2020, 12, 31),
    )
    signed_in(client, user)

    html = client.get(_detail(patient)).content.decode()

    assert '<a href="tel:+16175550142">(617) 555-0142</a>' in html
    assert "(617) 555-0000" not in html  # removed contact details are not shown
    provenance = re.compile(
        r'<span class="provenance" tabindex="0">'
        r'<span class="provenance__label" aria-hidden="true">ehr</span>'
        r'<span class="provenance__full">Source: urn:test:ehr(?: · id src-\d+)? · received '
        r'<time datetime="2026-01-01T22:04-05:00">2026-01-01 22:04</time></span></span>'
    )
    # the home clinic, contact, consent, both coverages
    assert len(provenance.findall(html)) == 5
    assert "Text messages" in html and "Given" in html
    current, past = html.split("Past coverage (1)")
    assert "Harbor Health Plan" in current and "HHP1" in current
    assert "Old Payer" in past and "2019-01-01 \u2013 2020-12-31" in past


def test_first_timeline_page_is_inline_with_a_link_to_older(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    for hour in range(30):
        TimelineEventFactory.create(
            patient=patient,
            title=f"Call {hour:02d}",
            occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hour),
        )
    signed_in(client, user)

    html = client.get(_detail(patient)).content.decode()

    assert html.count('class="timeline__item"') == 25
    assert "Call 29" in html and "Call 05" in html and "Call 04" not in html
    oldest_shown = patient.timeline.get(title="Call 05")
    assert f"?cursor={encode_timeline_cursor(oldest_shown)}" in html


def _patient_with_history(user, encounters):
    patient = patient_in_scope_of(user)
    ContactPointFactory.create(patient=patient)
    CoverageFactory.create(patient=patient)
    ConsentFactory.create(patient=patient)
    RelatedPersonFactory.create(patient=patient)
    CareTeamMemberFactory.create(patient=patient)
    EncounterFactory.create_batch(encounters, patient=patient)
    TimelineEventFactory.create_batch(encounters, patient=patient)
    return patient


def test_query_count_does_not_grow_with_history(client, make_user, django_assert_num_queries):
    user = make_user()
    short = _patient_with_history(user, encounters=1)
    long = _patient_with_history(user, encounters=40)
    signed_in(client, user)
    client.get(reverse("patients:search"))  # the session's first request settles it

    with CaptureQueriesContext(connection) as first:
        short_page = client.get(_detail(short))
    with django_assert_num_queries(len(first.captured_queries)):
        long_page = client.get(_detail(long))

    for response, patient, shown in ((short_page, short, 1), (long_page, long, 25)):
        html = response.content.decode()
        assert response.status_code == 200
        assert f'<dd class="mono">{patient.mrn}</dd>' in html
        assert html.count('class="timeline__item"') == shown
