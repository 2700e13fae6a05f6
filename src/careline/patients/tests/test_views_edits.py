"""Edits from the 360 page: contact points, communication preferences, consent decisions.

Each is an htmx form that swaps its own section; each write is audited by its service.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from careline.patients.models import CommunicationPreference, Consent, ContactPoint, TimelineEvent
from careline.patients.tests.ui_support import (
    HTMX,
    audit_rows,
    grant_for,
    patient_in_scope_of,
    signed_in,
)
from careline.platform.permissions import Role
from careline.testing.factories import ContactPointFactory, PatientFactory

pytestmark = pytest.mark.django_db

PREFERENCES = {
    "preferred_channel": "sms",
    "language": "es",
    "language_other": "",
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "08:00",
    "time_zone": "America/Chicago",
}

# name → (url name, needs the contact id, form data, audited action, audited resource)
EDITS = {
    "add_contact": (
        "patients:add_contact",
        False,
        {"system": "email", "value": "R.Jones@Example.org", "use": "home"},
        "create",
        "ContactPoint",
    ),
    "update_contact": (
        "patients:update_contact",
        True,
        {"value": "617.555.0199", "use": "mobile"},
        "update",
        "ContactPoint",
    ),
    "remove_contact": ("patients:remove_contact", True, {}, "delete", "ContactPoint"),
    "update_preferences": (
        "patients:update_preferences",
        False,
        PREFERENCES,
        "update",
        "CommunicationPreference",
    ),
    "record_consent": (
        "patients:record_consent",
        False,
        {"purpose": "sms", "status": "rejected", "description": "Asked by phone"},
        "create",
        "Consent",
    ),
}


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _post(client, edit, patient, contact, **options):
    url_name, needs_contact, data, _, _ = EDITS[edit]
    args = [patient.public_id, contact.public_id] if needs_contact else [patient.public_id]
    return client.post(reverse(url_name, args=args), data, **options)


def _state(patient):
    """Everything an edit could change, to assert that a refused one changed nothing."""
    return (
        sorted(
            ContactPoint.objects.filter(patient=patient).values_list("value", "use", "is_active")
        ),
        list(CommunicationPreference.objects.filter(patient=patient).values()),
        Consent.objects.filter(patient=patient).count(),
        TimelineEvent.objects.filter(patient=patient).count(),
    )


def _writes(patient):
    return [row for row in audit_rows(patient_id=patient.public_id) if row[0] != "read"]


@pytest.mark.parametrize("edit", EDITS)
def test_anonymous_is_sent_to_sign_in_and_nothing_changes(client, edit):
    patient = PatientFactory.create()
    contact = ContactPointFactory.create(patient=patient)
    before = _state(patient)

    response = _post(client, edit, patient, contact)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert _state(patient) == before
    assert audit_rows() == []


@pytest.mark.parametrize("edit", EDITS)
def test_role_without_the_permission_gets_403_and_nothing_changes(client, make_user, edit):
    user = make_user(role=Role.MARKETER)
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient)
    before = _state(patient)
    signed_in(client, user)

    response = _post(client, edit, patient, contact, headers=HTMX)

    assert response.status_code == 403
    assert "Your role does not allow this." in response.content.decode()
    assert _state(patient) == before
    assert audit_rows() == [("access_denied", EDITS[edit][4], patient.public_id, False)]


def test_nurse_may_not_record_consent(client, make_user):
    user = make_user(role=Role.NURSE)
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    response = _post(client, "record_consent", patient, None, headers=HTMX)

    assert response.status_code == 403
    assert not Consent.objects.exists()


@pytest.mark.parametrize("edit", EDITS)
def test_out_of_scope_without_break_glass_is_refused(client, make_user, edit):
    patient = PatientFactory.create(family_name="Quist")
    contact = ContactPointFactory.create(patient=patient)
    before = _state(patient)
    signed_in(client, make_user())

    response = _post(client, edit, patient, contact, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 403
    assert "Access requires a reason." in html
    assert "Quist" not in html
    assert _state(patient) == before
    assert audit_rows() == [("access_denied", EDITS[edit][4], patient.public_id, False)]


@pytest.mark.parametrize("edit", EDITS)
def test_out_of_scope_with_break_glass_is_saved_and_flagged(client, make_user, edit):
    user = make_user()
    patient = PatientFactory.create()
    contact = ContactPointFactory.create(patient=patient)
    grant_for(user, patient)
    signed_in(client, user)

    response = _post(client, edit, patient, contact, headers=HTMX)

    _, _, _, action, resource = EDITS[edit]
    assert response.status_code == 200
    assert _writes(patient)[-1] == (action, resource, patient.public_id, True)


@pytest.mark.parametrize("edit", EDITS)
def test_in_scope_edit_is_saved_and_audited_once(client, make_user, edit):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient, use="mobile")
    signed_in(client, user)

    response = _post(client, edit, patient, contact, headers=HTMX)

    _, _, _, action, resource = EDITS[edit]
    assert response.status_code == 200
    assert audit_rows(patient_id=patient.public_id) == [
        (action, resource, patient.public_id, False)
    ]


@pytest.mark.parametrize("edit", EDITS)
def test_without_htmx_a_saved_edit_goes_back_to_the_360(client, make_user, edit):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient)
    signed_in(client, user)

    response = _post(client, edit, patient, contact)

    assert response.status_code == 302
    assert response.url == reverse("patients:detail", args=[patient.public_id])


@pytest.mark.parametrize("edit", EDITS)
def test_edits_refuse_get(client, make_user, edit):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient)
    signed_in(client, user)
    url_name, needs_contact, *_ = EDITS[edit]
    args = [patient.public_id, contact.public_id] if needs_contact else [patient.public_id]

    assert client.get(reverse(url_name, args=args)).status_code == 405


# ---- contact points ------------------------------------------------------------------------


def test_corrected_phone_is_stored_e164_and_shown_for_reading(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient, value="+16175550142", use="mobile")
    signed_in(client, user)

    response = _post(client, "update_contact", patient, contact, headers=HTMX)

    html = response.content.decode()
    contact.refresh_from_db()
    assert contact.value == "+16175550199"
    assert contact.source_system == "careline"
    assert f'id="contact-{contact.public_id.hex}"' in html
    assert '<a href="tel:+16175550199">(617) 555-0199</a>' in html
    assert "Careline · received" in html
    assert audit_rows(patient_id=patient.public_id) == [
        ("update", "ContactPoint", patient.public_id, False)
    ]


def test_invalid_phone_is_shown_next_to_the_field_and_nothing_changes(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient, value="+16175550142")
    signed_in(client, user)
    url = reverse("patients:update_contact", args=[patient.public_id, contact.public_id])

    response = client.post(url, {"value": "555-01", "use": "mobile"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#contact-edit-{contact.public_id.hex}"
    assert response["HX-Reswap"] == "outerHTML"
    assert "is not a phone number" in html.split('name="value"')[1]
    assert 'aria-invalid="true"' in html
    contact.refresh_from_db()
    assert contact.value == "+16175550142"
    assert audit_rows(patient_id=patient.public_id) == []


def test_invalid_edit_without_htmx_is_a_page_with_the_form(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient)
    signed_in(client, user)
    url = reverse("patients:update_contact", args=[patient.public_id, contact.public_id])

    response = client.post(url, {"value": "nope", "use": ""})

    html = response.content.decode()
    assert response.status_code == 422
    assert "<html" in html and "Check what you entered" in html
    assert "is not a phone number" in html


def test_added_email_row_is_appended_and_the_form_reset(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    response = _post(client, "add_contact", patient, None, headers=HTMX)

    html = response.content.decode()
    added = ContactPoint.objects.get(patient=patient)
    assert (added.system, added.value, added.use) == ("email", "r.jones@example.org", "home")
    assert f'id="contact-{added.public_id.hex}"' in html
    assert "mailto:r.jones@example.org" in html
    assert '<div id="contact-add" class="add-form" hx-swap-oob="true">' in html


def test_invalid_email_keeps_the_add_form_open_with_the_message(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)
    url = reverse("patients:add_contact", args=[patient.public_id])

    response = client.post(url, {"system": "email", "value": "not-an-email"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#contact-add"
    assert "&#x27;not-an-email&#x27; is not an email address." in html
    assert "<details open>" in html
    assert not ContactPoint.objects.exists()


def test_removed_contact_disappears(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    contact = ContactPointFactory.create(patient=patient)
    signed_in(client, user)

    response = _post(client, "remove_contact", patient, contact, headers=HTMX)

    assert response.status_code == 200
    assert response.content == b""
    contact.refresh_from_db()
    assert contact.is_active is False


def test_removing_an_unknown_contact_is_a_404_fragment(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    other = ContactPointFactory.create()  # another patient's
    signed_in(client, user)

    response = _post(client, "remove_contact", patient, other, headers=HTMX)

    assert response.status_code == 404
    assert "No such contact detail for this patient." in response.content.decode()
    other.refresh_from_db()
    assert other.is_active is True


# ---- communication preferences ---------------------------------------------------------------


def test_preferences_are_saved_and_the_section_redrawn(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    response = _post(client, "update_preferences", patient, None, headers=HTMX)

    html = response.content.decode()
    preference = CommunicationPreference.objects.get(patient=patient)
    assert (preference.preferred_channel, preference.language, preference.time_zone) == (
        "sms",
        "es",
        "America/Chicago",
    )
    assert (preference.quiet_hours_start, preference.quiet_hours_end) == (
        dt.time(21),
        dt.time(8),
    )
    assert html.startswith('\n<section id="preferences"')
    for shown in ("Text message", "Spanish (es)", "21:00\u201308:00", "America/Chicago"):
        assert shown in html
    event = audit_rows(patient_id=patient.public_id)
    assert event == [("update", "CommunicationPreference", patient.public_id, False)]


def test_other_language_code_is_typed_in(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)
    url = reverse("patients:update_preferences", args=[patient.public_id])

    client.post(url, {**PREFERENCES, "language": "other", "language_other": "yue"}, headers=HTMX)

    assert CommunicationPreference.objects.get(patient=patient).language == "yue"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quiet_hours_end": ""}, "quiet_hours_end", "Give both the start and the end"),
        ({"quiet_hours_start": "25:00"}, "quiet_hours_start", "Enter a valid time."),
        (
            {"language": "other", "language_other": "not a code!"},
            "language_other",
            "Type a language code",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
    ],
)
def test_invalid_preferences_are_refused_next_to_the_field(
    client, make_user, changes, field, message
):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)
    url = reverse("patients:update_preferences", args=[patient.public_id])

    response = client.post(url, {**PREFERENCES, **changes}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#preferences-form"
    assert message in html.split(f'name="{field}"')[1].split("</div>")[0]
    assert not CommunicationPreference.objects.exists()
    assert audit_rows(patient_id=patient.public_id) == []


# ---- consents ------------------------------------------------------------------------------


def test_consent_decision_is_recorded_and_prepended(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)

    response = _post(client, "record_consent", patient, None, headers=HTMX)

    html = response.content.decode()
    consent = Consent.objects.get(patient=patient)
    assert (consent.purpose, consent.status, consent.recorded_by) == ("sms", "rejected", user)
    assert "Text messages" in html
    assert '<span class="status status--rejected">Refused</span>' in html
    assert "Asked by phone" in html
    assert '<div id="consent-form" class="add-form" hx-swap-oob="true">' in html


def test_unknown_consent_purpose_is_refused(client, make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    signed_in(client, user)
    url = reverse("patients:record_consent", args=[patient.public_id])

    response = client.post(url, {"purpose": "telepathy", "status": "active"}, headers=HTMX)

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#consent-form"
    assert "Select a valid choice." in response.content.decode()
    assert not Consent.objects.exists()


def test_recording_a_decision_relists_the_consents_so_the_earlier_one_is_no_longer_current(
    client, make_user
):
    user = make_user()
    patient = patient_in_scope_of(user)
    earlier = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    Consent.objects.create(
        patient=patient,
        purpose="sms",
        status="active",
        decided_at=earlier,
        received_at=earlier,
        description="Signed at the desk",
    )
    signed_in(client, user)

    response = _post(client, "record_consent", patient, None, headers=HTMX)

    rows = response.content.decode().split('<li class="row consent-row')[1:]
    assert len(rows) == 2
    assert "Refused" in rows[0] and "earlier decision" not in rows[0]
    assert "Signed at the desk" in rows[1] and "earlier decision" in rows[1]
    assert "row--history" in rows[1] and "row--history" not in rows[0]
