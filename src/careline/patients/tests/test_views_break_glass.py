"""The break-glass page: a stated reason opens an out-of-scope patient, flagged for review."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from careline.patients.tests.ui_support import REASON, audit_rows, signed_in
from careline.platform.models import AuditEvent, BreakGlassAccess
from careline.platform.permissions import Role
from careline.testing.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def stranger():
    """A patient outside every test user's scope."""
    return PatientFactory.create(family_name="Quist", mrn="MRN0099999")


def _url(patient_id):
    return reverse("patients:break_glass", args=[patient_id])


def test_anonymous_is_sent_to_sign_in(client, stranger):
    get = client.get(_url(stranger.public_id))
    post = client.post(_url(stranger.public_id), {"reason": REASON})

    for response in (get, post):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert not BreakGlassAccess.objects.exists()


def test_role_without_patient_access_is_refused_and_nothing_granted(client, make_user, stranger):
    signed_in(client, make_user(role=Role.MARKETER))

    get = client.get(_url(stranger.public_id))
    post = client.post(_url(stranger.public_id), {"reason": REASON})

    assert (get.status_code, post.status_code) == (403, 403)
    assert not BreakGlassAccess.objects.exists()
    assert audit_rows() == [("access_denied", "Patient", stranger.public_id, False)] * 2


def test_form_shows_no_phi(client, make_user, stranger):
    signed_in(client, make_user())

    response = client.get(_url(stranger.public_id))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<textarea name="reason"' in html
    for phi in ("Quist", "Robert", "MRN0099999", "1951"):
        assert phi not in html
    assert not AuditEvent.objects.filter(patient_id=stranger.public_id).exists()


def test_too_short_reason_is_refused_next_to_the_field(client, make_user, stranger):
    signed_in(client, make_user())

    response = client.post(_url(stranger.public_id), {"reason": "because"})

    html = response.content.decode()
    assert response.status_code == 422
    assert "Give the reason for this access in at least 10 characters." in html
    assert 'class="field field--invalid"' in html
    assert not BreakGlassAccess.objects.exists()


def test_empty_reason_is_refused(client, make_user, stranger):
    signed_in(client, make_user())

    response = client.post(_url(stranger.public_id), {"reason": ""})

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not BreakGlassAccess.objects.exists()


def test_reason_opens_the_record_flagged(client, make_user, stranger):
    user = make_user()
    signed_in(client, user)

    response = client.post(_url(stranger.public_id), {"reason": f"  {REASON}  "})

    detail = reverse("patients:detail", args=[stranger.public_id])
    assert response.status_code == 302
    assert response.url == detail
    access = BreakGlassAccess.objects.get()
    assert (access.user, access.patient_id, access.reason) == (user, stranger.public_id, REASON)
    assert audit_rows(patient_id=stranger.public_id) == [
        ("break_glass", "Patient", stranger.public_id, True)
    ]

    page = client.get(detail)

    assert page.status_code == 200
    assert "this view is flagged for compliance review" in page.content.decode()
    assert audit_rows(patient_id=stranger.public_id)[-1] == (
        "read",
        "Patient",
        stranger.public_id,
        True,
    )


def test_unknown_patient_is_a_404(client, make_user):
    signed_in(client, make_user())

    response = client.post(_url(uuid.uuid4()), {"reason": REASON})

    assert response.status_code == 404
    assert not BreakGlassAccess.objects.exists()
