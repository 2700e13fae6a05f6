"""The slot search: the next free slots across practitioners and places, leaving out what is
booked, held, frozen or reserved for another type; filters; criteria and provider rules; the
same answers as booking on daylight-saving days; a query count that does not grow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careline.platform.errors import PermissionDenied
from careline.platform.permissions import Role
from careline.scheduling import services
from careline.scheduling.errors import RuleRefusal
from careline.scheduling.models import ProviderRule
from careline.scheduling.selectors import Place, search_slots
from careline.testing.factories import LocationFactory
from careline.testing.scheduling import (
    NEW_YORK,
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_practitioner,
    make_template,
)

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 6, 1)


def search(clinic: Clinic, **overrides: Any) -> list[Any]:
    values: dict[str, Any] = {
        "actor": clinic.actor,
        "visit_type_id": clinic.visit_type.public_id,
        "date_from": MONDAY,
        "date_to": MONDAY + dt.timedelta(days=13),
        "limit": 3,
    }
    values.update(overrides)
    return search_slots(**values)


def local(slots: list[Any]) -> list[str]:
    return [
        f"{slot.starts_at.astimezone(NEW_YORK):%a %H:%M} {slot.practitioner_name}" for slot in slots
    ]


def test_the_next_free_slots_earliest_first(clinic: Clinic) -> None:
    slots = search(clinic)
    assert local(slots) == [
        "Mon 09:00 Dr. Ana Lopez",
        "Mon 09:15 Dr. Ana Lopez",
        "Mon 09:30 Dr. Ana Lopez",
    ]
    first = slots[0]
    assert (first.location_id, first.location_name, first.time_zone, first.distance_km) == (
        clinic.location.public_id,
        "Harbor Clinic",
        "America/New_York",
        None,
    )
    assert first.ends_at - first.starts_at == dt.timedelta(minutes=30)


def test_booked_and_held_time_is_left_out_and_an_expired_hold_is_not(clinic: Clinic) -> None:
    services.book_appointment(**clinic.booking(at(MONDAY, 9)))
    services.hold_slot(
        actor=clinic.actor,
        visit_type_id=clinic.visit_type.public_id,
        practitioner_id=clinic.practitioner.public_id,
        location_id=clinic.location.public_id,
        starts_at=at(MONDAY, 9, 30),
    )
    assert local(search(clinic)) == [
        "Mon 10:00 Dr. Ana Lopez",
        "Mon 10:15 Dr. Ana Lopez",
        "Mon 10:30 Dr. Ana Lopez",
    ]
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        assert local(search(clinic))[0] == "Mon 09:30 Dr. Ana Lopez"


def test_frozen_and_other_type_reserved_blocks_are_not_offered(clinic: Clinic) -> None:
    clinic.practitioner.availability_templates.all().delete()
    make_template(
        clinic.practitioner,
        clinic.location,
        blocks=(
            {"kind": "reserved", "start_time": dt.time(9), "end_time": dt.time(10)},
            {"kind": "break", "start_time": dt.time(10, 30), "end_time": dt.time(11)},
        ),
    )
    assert local(search(clinic, limit=4)) == [
        "Mon 10:00 Dr. Ana Lopez",
        "Mon 11:00 Dr. Ana Lopez",
        "Mon 11:15 Dr. Ana Lopez",
        "Mon 11:30 Dr. Ana Lopez",
    ]


def test_language_and_gender_filters_and_places_nearest_first(clinic: Clinic) -> None:
    near = LocationFactory.create(name="Near Clinic", time_zone="America/New_York")
    spanish = make_practitioner(
        given_name="Luis", family_name="Vega", gender="male", languages=["es-MX", "en"]
    )
    make_template(spanish, near)
    assert local(search(clinic, language="es")) == [
        "Mon 09:00 Dr. Luis Vega",
        "Mon 09:15 Dr. Luis Vega",
        "Mon 09:30 Dr. Luis Vega",
    ]
    assert {slot.practitioner_name for slot in search(clinic, gender="female", limit=5)} == {
        "Dr. Ana Lopez"
    }
    places = [Place(near.public_id, 1.5), Place(clinic.location.public_id, 7.25)]
    slots = search(clinic, places=places, limit=4)
    assert [(local([s])[0], s.location_name, s.distance_km) for s in slots] == [
        ("Mon 09:00 Dr. Luis Vega", "Near Clinic", 1.5),
        ("Mon 09:00 Dr. Ana Lopez", "Harbor Clinic", 7.25),
        ("Mon 09:15 Dr. Luis Vega", "Near Clinic", 1.5),
        ("Mon 09:15 Dr. Ana Lopez", "Harbor Clinic", 7.25),
    ]
    only_near = search(clinic, places=[Place(near.public_id, 1.5)], limit=5)
    assert {slot.location_name for slot in only_near} == {"Near Clinic"}


def test_the_booking_window_applies(clinic: Clinic) -> None:
    clinic.visit_type.minimum_notice_minutes = 24 * 60
    clinic.visit_type.save()
    assert local(search(clinic))[0] == "Tue 09:00 Dr. Ana Lopez"


def test_with_a_patient_criteria_refuse_and_provider_rules_filter(clinic: Clinic) -> None:
    other = make_practitioner(given_name="Ben", family_name="Okafor")
    make_template(other, clinic.location)
    ProviderRule.objects.create(practitioner=clinic.practitioner, kind="no_new_patients")
    slots = search(clinic, patient_id=clinic.patient.public_id)
    assert {slot.practitioner_name for slot in slots} == {"Dr. Ben Okafor"}
    assert len({slot.practitioner_name for slot in search(clinic, limit=6)}) == 2  # no patient
    clinic.visit_type.min_age_years = 65
    clinic.visit_type.save()
    with pytest.raises(RuleRefusal) as refused:
        search(clinic, patient_id=clinic.patient.public_id)
    assert refused.value.details["rule"] == "visit_type.min_age"


def test_the_patients_own_appointments_are_left_out(clinic: Clinic) -> None:
    other = make_practitioner(given_name="Ben", family_name="Okafor")
    make_template(other, clinic.location)
    services.book_appointment(**clinic.booking(at(MONDAY, 9)))
    slots = search(clinic, patient_id=clinic.patient.public_id, limit=2)
    assert local(slots) == ["Mon 09:30 Dr. Ana Lopez", "Mon 09:30 Dr. Ben Okafor"]


def test_every_slot_found_on_a_changeover_day_can_be_booked(clinic: Clinic) -> None:
    sunday = dt.date(2026, 11, 1)  # New York falls back at 02:00
    make_template(
        clinic.practitioner,
        clinic.location,
        weekdays=(6,),
        start=dt.time(0, 30),
        end=dt.time(2),
        slot_minutes=30,
    )
    with time_machine.travel(dt.datetime(2026, 10, 30, 12, tzinfo=dt.UTC), tick=False):
        slots = search(clinic, date_from=sunday, date_to=sunday, limit=10)
        assert [f"{s.starts_at.astimezone(NEW_YORK):%H:%M %Z}" for s in slots] == [
            "00:30 EDT",
            "01:00 EDT",
            "01:30 EDT",
            "01:00 EST",
            "01:30 EST",
        ]
        for slot in slots[::2]:
            services.book_appointment(
                **clinic.booking(slot.starts_at, patient_id=clinic.new_patient().public_id)
            )
        assert [
            f"{s.starts_at.astimezone(NEW_YORK):%H:%M %Z}"
            for s in search(clinic, date_from=sunday, date_to=sunday)
        ] == ["01:00 EDT", "01:00 EST"]


def test_the_query_count_does_not_grow_with_practitioners_or_days(clinic: Clinic) -> None:
    def queries(**overrides: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            search(clinic, patient_id=clinic.patient.public_id, **overrides)
        return len(captured)

    services.book_appointment(
        **clinic.booking(at(MONDAY, 9), patient_id=clinic.new_patient().public_id)
    )
    one = queries()
    for index in range(5):
        make_template(
            make_practitioner(given_name="Doc", family_name=f"Many{index}"), clinic.location
        )
    assert queries() == one
    assert queries(date_from=TUESDAY) == one


def test_a_role_without_the_permission_is_refused(clinic: Clinic, make_user: Any) -> None:
    with pytest.raises(PermissionDenied):
        search(clinic, actor=clinic.actor_for(make_user(Role.MARKETER)))
