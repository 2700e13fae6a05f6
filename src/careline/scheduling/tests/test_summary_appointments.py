"""The API summary lists upcoming and missed appointments and open waitlist entries, with a
query count that does not grow with them, and null for a caller who may not see the
schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from careline.platform.actors import Actor
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.scheduling import services
from careline.testing.scheduling import (
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_visit_type,
    waitlist_with_offer,
)

pytestmark = pytest.mark.django_db


def summary(clinic: Clinic, role: str = Role.SCHEDULER) -> Any:
    user = clinic.scheduler if role == Role.SCHEDULER else clinic.user(role)
    token = issue_api_token(actor=Actor.system("test"), user=user, name="t").secret
    response = Client().get(
        f"/api/patients/{clinic.patient.public_id}/summary",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_upcoming_and_missed_appointments(clinic: Clinic) -> None:
    book = services.book_appointment
    [past] = book(**clinic.booking(at(dt.date(2026, 6, 1), 9)))
    [upcoming] = book(**clinic.booking(at(TUESDAY, 10)))
    [cancelled] = book(**clinic.booking(at(TUESDAY, 11)))
    services.cancel_appointment(
        actor=clinic.actor, appointment_id=cancelled.public_id, reason="patient"
    )
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        services.mark_no_show(actor=clinic.actor, appointment_id=past.public_id)
        body = summary(clinic)["appointments"]
    assert [a["public_id"] for a in body["upcoming"]] == [str(upcoming.public_id)]
    assert body["upcoming"][0] == {
        "public_id": str(upcoming.public_id),
        "starts_at": "2026-06-02T14:00:00Z",
        "ends_at": "2026-06-02T14:30:00Z",
        "status": "booked",
        "visit_type_id": str(clinic.visit_type.public_id),
        "visit_type_name": "Follow-up visit",
        "practitioner_id": str(clinic.practitioner.public_id),
        "practitioner_name": "Dr. Ana Lopez",
        "location_id": str(clinic.location.public_id),
        "location_name": "Harbor Clinic",
    }
    assert [(a["public_id"], a["status"]) for a in body["missed"]] == [
        (str(past.public_id), "no_show")
    ]


def test_a_caller_who_may_not_see_the_schedule_gets_null(clinic: Clinic) -> None:
    services.book_appointment(**clinic.booking(at(TUESDAY, 10)))
    assert summary(clinic, Role.INTEGRATION)["appointments"] is None


def test_the_query_count_does_not_grow_with_appointments(clinic: Clinic) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            summary(clinic)
        return len(captured)

    services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    waitlist_with_offer(clinic, at(TUESDAY, 11))
    few = queries()
    services.book_appointment(**clinic.booking(at(TUESDAY, 10), occurrences=6))
    for hour, name in ((14, "Flu shot"), (15, "Annual physical")):
        waitlist_with_offer(clinic, at(TUESDAY, hour), visit_type=make_visit_type(name=name))
    assert len(summary(clinic)["appointments"]["waitlist"]) == 3
    assert queries() == few
