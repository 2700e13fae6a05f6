"""A patient's open waitlist entries (``list_open_entries``): what they carry, which are
left out, and how the 360 page's Appointments card and the API summary show them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.patients.tests.ui_support import HTMX, signed_in
from careline.platform.actors import Actor
from careline.platform.services import issue_api_token
from careline.scheduling.selectors import list_open_entries
from careline.scheduling.waitlist import services as waitlist
from careline.scheduling.waitlist.models import WaitlistEntry
from careline.testing.scheduling import (
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_practitioner,
    make_visit_type,
    waitlist_with_offer,
)

pytestmark = pytest.mark.django_db

EXPIRES = NOW + dt.timedelta(minutes=15)
DASH = "\N{EN DASH}"


def join(clinic: Clinic, **fields: Any) -> WaitlistEntry:
    values: dict[str, Any] = {
        "actor": clinic.actor,
        "patient_id": clinic.patient.public_id,
        "visit_type_id": clinic.visit_type.public_id,
        "earliest_date": TUESDAY,
        "latest_date": TUESDAY + dt.timedelta(days=7),
    }
    return waitlist.join_waitlist(**{**values, **fields})


def test_open_entries_carry_the_window_and_the_pending_offer(clinic: Clinic) -> None:
    offered = waitlist_with_offer(clinic, at(TUESDAY, 9))
    flu = make_visit_type(name="Flu shot", duration_minutes=15)
    waiting = join(
        clinic,
        visit_type_id=flu.public_id,
        practitioner_id=clinic.practitioner.public_id,
        location_id=clinic.location.public_id,
        earliest_time=dt.time(9),
        latest_time=dt.time(12),
    )

    first, second = list_open_entries(patient_id=clinic.patient.public_id, now=NOW)

    assert (first.entry_id, first.visit_type_name, first.status, first.status_label) == (
        offered.public_id,
        "Follow-up visit",
        "offered",
        "Offered a slot",
    )
    assert (first.practitioner_name, first.location_name) == ("", "")
    assert (first.earliest_date, first.latest_date) == (TUESDAY, dt.date(2026, 6, 9))
    assert first.offer is not None
    assert (first.offer.starts_at, first.offer.ends_at, first.offer.expires_at) == (
        at(TUESDAY, 9),
        at(TUESDAY, 9, 30),
        EXPIRES,
    )
    assert (first.offer.practitioner_name, first.offer.location_name) == (
        "Dr. Ana Lopez",
        "Harbor Clinic",
    )
    assert first.offer.time_zone == "America/New_York"
    assert (second.entry_id, second.visit_type_name, second.status, second.offer) == (
        waiting.public_id,
        "Flu shot",
        "active",
        None,
    )
    assert (second.practitioner_name, second.location_name) == ("Dr. Ana Lopez", "Harbor Clinic")
    assert (second.earliest_time, second.latest_time) == (dt.time(9), dt.time(12))


def test_removed_entries_and_expired_offers_are_left_out(clinic: Clinic) -> None:
    offered = waitlist_with_offer(clinic, at(TUESDAY, 9))
    removed = join(clinic, visit_type_id=make_visit_type(name="Flu shot").public_id)
    waitlist.remove_from_waitlist(
        actor=clinic.actor, entry_id=removed.public_id, reason="no_longer_needed"
    )
    other = clinic.new_patient()
    join(clinic, patient_id=other.public_id)

    later = NOW + dt.timedelta(minutes=15)
    [entry] = list_open_entries(patient_id=clinic.patient.public_id, now=later)

    assert (entry.entry_id, entry.status, entry.offer) == (offered.public_id, "offered", None)


@pytest.fixture
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.mark.usefixtures("_staff_without_mfa")
def test_the_360_card_lists_the_entries_with_the_offer_and_its_expiry(
    clinic: Clinic, client: Client
) -> None:
    waitlist_with_offer(clinic, at(TUESDAY, 9))
    join(
        clinic,
        visit_type_id=make_visit_type(name="Flu shot", duration_minutes=15).public_id,
        location_id=clinic.location.public_id,
        earliest_time=dt.time(13),
    )
    url = reverse("scheduling:patient_appointments", args=[clinic.patient.public_id])

    html = signed_in(client, clinic.scheduler).get(url, headers=HTMX).content.decode()

    assert (
        f'Follow-up visit · 2 Jun {DASH} 9 Jun 2026 <span class="status">Offered a slot</span>'
        in html
    )
    assert (
        "Any location · any provider · Offered Tue 2 Jun 2026, 09:00 with Dr. Ana Lopez, "
        "answer by Mon 1 Jun, 08:15" in html
    )
    assert (
        f'Flu shot · 2 Jun {DASH} 9 Jun 2026 (13:00{DASH}…) <span class="status">Waiting</span>'
        in html
    )
    assert "Harbor Clinic · any provider</span>" in html
    assert "Not on the waitlist." not in html


@pytest.mark.usefixtures("_staff_without_mfa")
def test_the_360_card_says_when_she_is_not_waiting(clinic: Clinic, client: Client) -> None:
    url = reverse("scheduling:patient_appointments", args=[clinic.patient.public_id])
    html = signed_in(client, clinic.scheduler).get(url, headers=HTMX).content.decode()
    assert "Not on the waitlist." in html


def test_the_api_summary_lists_the_entries(clinic: Clinic) -> None:
    entry = waitlist_with_offer(clinic, at(TUESDAY, 9))
    token = issue_api_token(actor=Actor.system("test"), user=clinic.scheduler, name="t").secret

    response = Client().get(
        f"/api/patients/{clinic.patient.public_id}/summary",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200, response.content
    [offer_id] = [row["offer"]["offer_id"] for row in response.json()["appointments"]["waitlist"]]
    assert response.json()["appointments"]["waitlist"] == [
        {
            "entry_id": str(entry.public_id),
            "visit_type_id": str(clinic.visit_type.public_id),
            "visit_type_name": "Follow-up visit",
            "practitioner_name": "",
            "location_name": "",
            "earliest_date": "2026-06-02",
            "latest_date": "2026-06-09",
            "earliest_time": None,
            "latest_time": None,
            "status": "offered",
            "is_move_up": False,
            "offer": {
                "offer_id": offer_id,
                "starts_at": "2026-06-02T13:00:00Z",
                "ends_at": "2026-06-02T13:30:00Z",
                "practitioner_name": "Dr. Ana Lopez",
                "location_name": "Harbor Clinic",
                "expires_at": "2026-06-01T12:15:00Z",
            },
        }
    ]


def test_an_entry_for_another_practitioner_names_them(clinic: Clinic) -> None:
    other = make_practitioner(given_name="Ben", family_name="Okafor")
    join(clinic, practitioner_id=other.public_id)
    [entry] = list_open_entries(patient_id=clinic.patient.public_id, now=NOW)
    assert entry.practitioner_name == "Dr. Ben Okafor"
