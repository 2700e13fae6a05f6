"""The clinical panel of the 360 page (htmx): access, allergy banner, contents, query cost."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.patients.tests.ui_support import (
    HTMX,
    audit_rows,
    grant_for,
    patient_in_scope_of,
    signed_in,
)
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import (
    AllergyFactory,
    CarePlanFactory,
    ConditionFactory,
    EncounterFactory,
    ImmunizationFactory,
    LocationFactory,
    MedicationRequestFactory,
    ObservationFactory,
    PatientFactory,
    PractitionerFactory,
    ProcedureFactory,
)

pytestmark = pytest.mark.django_db

CONTRAST = "Allergy:</strong> Iodinated contrast media"


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _url(patient_id):
    return reverse("clinical:patient_summary", args=[patient_id])


def _allergic(patient):
    return AllergyFactory.create(
        patient=patient,
        display="Iodinated contrast media",
        criticality="high",
        reactions="Anaphylaxis",
    )


def _banner(html):
    """The out-of-band fragment swapped into the 360 page's allergy slot."""
    start = html.index('<div id="allergy-banner" class="allergy-slot" hx-swap-oob="true">')
    return html[start : html.index('<div class="clinical">', start)]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(_url(PatientFactory.create().public_id), headers=HTMX)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_role_without_clinical_access_gets_403_and_an_honest_banner(client, make_user):
    user = make_user(role=Role.MARKETER)
    patient = patient_in_scope_of(user)
    _allergic(patient)
    signed_in(client, user)

    response = client.get(_url(patient.public_id), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 403
    assert "Iodinated" not in html
    assert "Allergies not shown." in _banner_of_error(html)
    assert audit_rows() == [("access_denied", "ClinicalSummary", patient.public_id, False)]
    assert AuditEvent.objects.get(action="access_denied").details == {
        "permission": "clinical.view_clinical"
    }


def _banner_of_error(html):
    start = html.index('<div id="allergy-banner"')
    return html[start : html.index("</section>", start)]


def test_out_of_scope_without_break_glass_asks_for_a_reason(client, make_user):
    patient = PatientFactory.create()
    _allergic(patient)
    signed_in(client, make_user())

    response = client.get(_url(patient.public_id), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 403
    assert "Access requires a reason." in html
    assert "Iodinated" not in html and patient.family_name not in html
    assert audit_rows() == [("access_denied", "ClinicalSummary", patient.public_id, False)]
    assert AuditEvent.objects.get(action="access_denied").details == {
        "reason": "break_glass_required"
    }


def test_out_of_scope_with_break_glass_is_shown_and_flagged(client, make_user):
    user = make_user()
    patient = PatientFactory.create()
    _allergic(patient)
    grant_for(user, patient)
    signed_in(client, user)

    response = client.get(_url(patient.public_id), headers=HTMX)

    assert response.status_code == 200
    assert CONTRAST in response.content.decode()
    assert audit_rows(action="read") == [("read", "ClinicalSummary", patient.public_id, True)]


def test_unknown_patient_is_a_404(client, make_user):
    signed_in(client, make_user())

    response = client.get(_url(uuid.uuid4()), headers=HTMX)

    assert response.status_code == 404
    assert "No such patient." in response.content.decode()


def test_allergy_is_first_and_prominent_in_the_banner(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    AllergyFactory.create(patient=patient, display="Peanut", criticality="low", code="91935009")
    _allergic(patient)
    signed_in(client, user)

    response = client.get(_url(patient.public_id), headers=HTMX)

    html = response.content.decode()
    banner = _banner(html)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="allergy-banner"')
    assert '<li class="allergy allergy--high">' in banner
    assert (
        "<strong>Allergy:</strong> Iodinated contrast media\n          "
        '<span class="allergy__criticality">(high criticality)</span>'
    ) in banner
    assert banner.index("Iodinated") < banner.index("Peanut")  # most critical first
    assert "(low criticality)" in banner
    assert "Source: urn:test:ehr · id " in banner
    assert audit_rows(patient_id=patient.public_id) == [
        ("read", "ClinicalSummary", patient.public_id, False)
    ]


def test_no_known_allergies_when_recorded(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    AllergyFactory.create(
        patient=patient, code="716186003", display="No known allergy", criticality=""
    )
    signed_in(client, user)

    banner = _banner(client.get(_url(patient.public_id), headers=HTMX).content.decode())

    assert "<strong>No known allergies</strong>" in banner
    assert "Allergy:" not in banner


def test_no_allergy_information_is_not_called_none(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    banner = _banner(client.get(_url(patient.public_id), headers=HTMX).content.decode())

    assert "No allergy information" in banner
    assert "No known allergies" not in banner


def test_refuted_allergy_is_not_in_the_banner(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    AllergyFactory.create(patient=patient, display="Penicillin", verification_status="refuted")
    signed_in(client, user)

    banner = _banner(client.get(_url(patient.public_id), headers=HTMX).content.decode())

    assert "Penicillin" not in banner


def test_panels_show_the_summary_with_provenance(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    doctor = PractitionerFactory.create(given_name="Ana", family_name="Okafor")
    clinic = LocationFactory.create(name="Harbor Clinic Dorchester")
    ConditionFactory.create(patient=patient, display="Type 2 diabetes mellitus")
    ConditionFactory.create(patient=patient, display="Acute bronchitis", status="resolved")
    MedicationRequestFactory.create(patient=patient, dosage="500 mg twice daily")
    ImmunizationFactory.create(patient=patient)
    ObservationFactory.create(patient=patient, display="Heart rate", value_number=72)
    ObservationFactory.create(
        patient=patient,
        category="laboratory",
        code="4548-4",
        display="Hemoglobin A1c",
        value_number=7.9,
        value_unit="%",
        interpretation="H",
    )
    EncounterFactory.create(
        patient=patient,
        practitioner=doctor,
        location=clinic,
        reason="Diabetes follow-up",
        effective_at=dt.datetime(2025, 11, 5, 15, tzinfo=dt.UTC),
    )
    ProcedureFactory.create(patient=patient)
    CarePlanFactory.create(patient=patient)
    signed_in(client, user)

    html = client.get(_url(patient.public_id), headers=HTMX).content.decode()

    active, resolved = html.split("Resolved (1)")[0], html.split("Resolved (1)")[1]
    assert "Type 2 diabetes mellitus" in active
    assert "Acute bronchitis" in resolved.split("</details>")[0]
    for shown in (
        "metformin 500 MG Oral Tablet",
        "500 mg twice daily",
        "Influenza, seasonal, injectable",
        "72 /min",
        "7.9 %",
        '<span class="flag-value" title="Interpretation">H</span>',
        "2025-11-05",
        "Diabetes follow-up",
        "Dr. Ana Okafor",
        "Harbor Clinic Dorchester",
        "Medication reconciliation",
        "Diabetes self management plan",
    ):
        assert shown in html
    assert html.count("Source: urn:test:ehr · id ") == 9


def test_query_count_does_not_grow_with_encounters(client, make_user, django_assert_num_queries):
    user = make_user()
    short, long = patient_in_scope_of(user), patient_in_scope_of(user)
    for patient, encounters in ((short, 1), (long, 40)):
        _allergic(patient)
        ObservationFactory.create(patient=patient)
        EncounterFactory.create_batch(
            encounters,
            patient=patient,
            practitioner=PractitionerFactory.create(),
            location=LocationFactory.create(),
        )
    signed_in(client, user)
    client.get(reverse("patients:search"))

    with CaptureQueriesContext(connection) as first:
        short_page = client.get(_url(short.public_id), headers=HTMX)
    with django_assert_num_queries(len(first.captured_queries)):
        long_page = client.get(_url(long.public_id), headers=HTMX)

    for response, visits_shown in ((short_page, 1), (long_page, 10)):
        html = response.content.decode()
        assert response.status_code == 200
        assert "Iodinated contrast media" in _banner(html)
        assert html.count("Encounter for check up") == visits_shown
