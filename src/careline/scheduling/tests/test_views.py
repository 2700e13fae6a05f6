"""The appointments card of the 360 page (htmx): contents, access, audit, query cost (with
appointments and waitlist entries present)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.patients.tests.ui_support import HTMX, audit_rows, signed_in
from careline.platform.permissions import Role
from careline.scheduling import services
from careline.testing.factories import LocationFactory, PatientFactory
from careline.testing.scheduling import (
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_visit_type,
    waitlist_with_offer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def card(client: Client, patient_id: Any) -> Any:
    url = reverse("scheduling:patient_appointments", args=[patient_id])
    return client.get(url, headers=HTMX)


def test_the_card_lists_upcoming_and_missed_and_is_audited(clinic: Clinic, client: Client) -> None:
    [missed] = services.book_appointment(**clinic.booking(at(dt.date(2026, 6, 1), 9)))
    services.book_appointment(**clinic.booking(at(TUESDAY, 10)))
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        services.mark_no_show(actor=clinic.actor, appointment_id=missed.public_id)
        response = card(signed_in(client, clinic.scheduler), clinic.patient.public_id)
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 upcoming" in html
    assert "Tue 2 Jun 2026, 10:00 · Follow-up visit" in html
    assert "Dr. Ana Lopez · Harbor Clinic" in html
    assert "Missed (1)" in html
    assert "No-show · Dr. Ana Lopez" in html
    assert audit_rows(action="read", resource_type="Appointment") == [
        ("read", "Appointment", clinic.patient.public_id, False)
    ]


def test_the_360_page_loads_the_card_for_a_role_that_may_see_the_schedule(
    clinic: Clinic, client: Client
) -> None:
    page = signed_in(client, clinic.scheduler).get(
        reverse("patients:detail", args=[clinic.patient.public_id])
    )
    assert reverse("scheduling:patient_appointments", args=[clinic.patient.public_id]) in (
        page.content.decode()
    )


def test_a_role_without_the_permission_is_refused_and_audited(
    clinic: Clinic, client: Client
) -> None:
    compliance = clinic.user(Role.COMPLIANCE)
    response = card(signed_in(client, compliance), clinic.patient.public_id)
    assert response.status_code == 403
    assert audit_rows(action="access_denied") == [
        ("access_denied", "Appointment", clinic.patient.public_id, False)
    ]


def test_a_patient_out_of_scope_needs_break_glass(clinic: Clinic, client: Client) -> None:
    outside = PatientFactory.create(primary_location=LocationFactory.create())
    response = card(signed_in(client, clinic.scheduler), outside.public_id)
    assert response.status_code == 403
    assert "reason" in response.content.decode()


def test_the_card_costs_the_same_queries_however_many_appointments(
    clinic: Clinic, client: Client
) -> None:
    signed_in(client, clinic.scheduler)
    services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    waitlist_with_offer(clinic, at(TUESDAY, 11))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert card(client, clinic.patient.public_id).status_code == 200
        return len(captured)

    card(client, clinic.patient.public_id)  # the session's first save is not the card's
    one = queries()
    services.book_appointment(**clinic.booking(at(TUESDAY, 10), occurrences=5))
    for hour, name in ((14, "Flu shot"), (15, "Annual physical")):
        waitlist_with_offer(clinic, at(TUESDAY, hour), visit_type=make_visit_type(name=name))
    assert card(client, clinic.patient.public_id).content.decode().count("Offered a slot") == 3
    assert queries() == one
