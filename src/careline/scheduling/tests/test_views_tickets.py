"""Booking tickets on the Schedule page: staff issue one (visit type + window), see the
patient's tickets and revoke one; audited, on the timeline, permission- and scope-checked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.patients.models import TimelineEvent
from careline.platform.models import AuditEvent, User, UserKind
from careline.platform.permissions import Role
from careline.scheduling.models import BookingTicket
from careline.testing.factories import LocationFactory, PatientFactory, UserFactory
from careline.testing.scheduling import Clinic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _ticket(clinic: Clinic, **extra: str) -> dict[str, str]:
    return {
        "patient": str(clinic.patient.public_id),
        "visit_type": str(clinic.visit_type.public_id),
        "earliest_date": "2026-06-15",
        "latest_date": "2026-06-29",
        "note": "Follow-up after the new medication",
        **extra,
    }


def _portal_account() -> User:
    """A patient's portal account (its link to a record does not matter: the staff site
    refuses every portal account before any view runs)."""
    return User.objects.create_user(
        username="portal-ada", email="ada@example.org", kind=UserKind.PORTAL, role=""
    )


def test_the_schedule_page_offers_a_two_to_four_week_ticket(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.scheduler)
    page = client.get(reverse("scheduling:schedule"), {"patient": str(clinic.patient.public_id)})
    assert page.status_code == 200
    form = page.context["ticket_form"]
    assert (form["earliest_date"].value(), form["latest_date"].value()) == (
        dt.date(2026, 6, 15),
        dt.date(2026, 6, 29),
    )
    assert page.context["tickets"] == []
    assert 'data-testid="no-tickets"' in page.content.decode()


def test_a_scheduler_issues_a_ticket_listed_audited_and_on_the_timeline(
    client: Client, clinic: Clinic
) -> None:
    client.force_login(clinic.scheduler)
    response = client.post(reverse("scheduling:ticket_issue"), _ticket(clinic))
    assert response.status_code == 302
    assert response["Location"] == f"/schedule/?patient={clinic.patient.public_id}#tickets"
    ticket = BookingTicket.objects.get()
    assert (ticket.patient, ticket.visit_type, ticket.earliest_date, ticket.latest_date) == (
        clinic.patient,
        clinic.visit_type,
        dt.date(2026, 6, 15),
        dt.date(2026, 6, 29),
    )
    assert ticket.issued_by == clinic.scheduler
    created = AuditEvent.objects.get(resource_type="BookingTicket", action="create")
    assert (created.resource_id, created.patient_id) == (
        str(ticket.public_id),
        clinic.patient.public_id,
    )
    assert TimelineEvent.objects.filter(
        patient=clinic.patient,
        title="Invited to book Follow-up visit on the portal between 2026-06-15 and 2026-06-29",
    ).exists()
    page = client.get(reverse("scheduling:schedule"), {"patient": str(clinic.patient.public_id)})
    assert [(row.ticket.pk, row.status, row.can_revoke) for row in page.context["tickets"]] == [
        (ticket.pk, "open", True)
    ]
    html = page.content.decode()
    assert "2026-06-15 \u2013 2026-06-29" in html
    assert reverse("scheduling:ticket_revoke", args=[ticket.public_id]) in html


def test_a_ticket_is_revoked_once_audited_and_on_the_timeline(
    client: Client, clinic: Clinic
) -> None:
    client.force_login(clinic.scheduler)
    client.post(reverse("scheduling:ticket_issue"), _ticket(clinic))
    ticket = BookingTicket.objects.get()
    url = reverse("scheduling:ticket_revoke", args=[ticket.public_id])
    response = client.post(url)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.revoked_at == dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    revoked = AuditEvent.objects.get(resource_type="BookingTicket", action="update")
    assert revoked.details == {"revoked": True}
    assert TimelineEvent.objects.filter(
        patient=clinic.patient,
        title="Invitation to book Follow-up visit on the portal withdrawn",
    ).exists()
    again = client.post(url)
    assert again.status_code == 409
    assert AuditEvent.objects.filter(resource_type="BookingTicket", action="update").count() == 1
    page = client.get(reverse("scheduling:schedule"), {"patient": str(clinic.patient.public_id)})
    assert [(row.status, row.can_revoke) for row in page.context["tickets"]] == [("revoked", False)]


def test_a_window_that_ends_before_it_starts_issues_nothing(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.scheduler)
    response = client.post(
        reverse("scheduling:ticket_issue"),
        _ticket(clinic, earliest_date="2026-06-29", latest_date="2026-06-15"),
        follow=True,
    )
    assert response.status_code == 200
    assert "No ticket issued: The window must end on or after its first day." in (
        response.content.decode()
    )
    assert not BookingTicket.objects.exists()


def test_anonymous_is_sent_to_sign_in_and_nothing_is_issued(client: Client, clinic: Clinic) -> None:
    response = client.post(reverse("scheduling:ticket_issue"), _ticket(clinic))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not BookingTicket.objects.exists()


def test_a_role_without_booking_may_not_issue_or_revoke(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.scheduler)
    client.post(reverse("scheduling:ticket_issue"), _ticket(clinic))
    ticket = BookingTicket.objects.get()
    marketer = UserFactory.create(role=Role.MARKETER)
    marketer.locations.add(clinic.location)
    client.force_login(marketer)
    issued = client.post(reverse("scheduling:ticket_issue"), _ticket(clinic))
    revoked = client.post(reverse("scheduling:ticket_revoke", args=[ticket.public_id]))
    assert (issued.status_code, revoked.status_code) == (403, 403)
    assert BookingTicket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.revoked_at is None
    assert AuditEvent.objects.filter(actor=marketer, action="access_denied").count() == 2


def test_a_patient_outside_the_scope_gets_no_ticket(client: Client, clinic: Clinic) -> None:
    stranger = PatientFactory.create(primary_location=LocationFactory.create(name="Elsewhere"))
    client.force_login(clinic.scheduler)
    response = client.post(
        reverse("scheduling:ticket_issue"), _ticket(clinic, patient=str(stranger.public_id))
    )
    assert response.status_code == 403
    assert not BookingTicket.objects.exists()
    denied = AuditEvent.objects.get(action="access_denied")
    assert denied.patient_id == stranger.public_id


def test_a_portal_account_may_not_issue_a_ticket_even_for_herself(
    client: Client, clinic: Clinic
) -> None:
    client.force_login(_portal_account())
    response = client.post(reverse("scheduling:ticket_issue"), _ticket(clinic))
    assert response.status_code == 403
    assert "This is the staff site" in response.content.decode()
    assert "This is the staff site" in response.content.decode()
    assert not BookingTicket.objects.exists()
