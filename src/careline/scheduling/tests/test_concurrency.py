"""No double booking under concurrency, on PostgreSQL: N threads (each its own connection)
race for one slot, for slots overlapping by a few minutes, a reschedule against a new booking,
and the new-patient count of one session — exactly the allowed number win; the others get
``SlotTaken`` (or the rule), never a second appointment."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection

from careline.platform.permissions import Role
from careline.scheduling import services
from careline.scheduling.configuration import create_provider_rule
from careline.scheduling.errors import RuleRefusal, SlotTaken
from careline.scheduling.models import Appointment, Occupancy
from careline.testing.scheduling import (
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_clinic,
    make_practitioner,
    make_template,
)

THREADS = 8


@pytest.fixture
def racing_clinic(postgres_only: None, transactional_db: None) -> Clinic:
    with time_machine.travel(NOW, tick=False):
        return make_clinic()


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, each in its own thread and connection; their results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait(timeout=30)
                results[index] = calls[index]()
        except Exception as error:  # the outcome under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def booking_call(clinic: Clinic, starts_at: dt.datetime, **overrides: Any) -> Callable[[], Any]:
    patient_id = overrides.pop("patient_id", None) or clinic.new_patient().public_id
    return lambda: services.book_appointment(
        **clinic.booking(starts_at, patient_id=patient_id, **overrides)
    )


def outcome(results: list[Any]) -> tuple[int, int, list[Any]]:
    booked = [result for result in results if isinstance(result, list)]
    taken = [result for result in results if isinstance(result, SlotTaken)]
    other = [result for result in results if not isinstance(result, list | SlotTaken)]
    return len(booked), len(taken), other


def test_many_bookings_of_one_slot_exactly_one_wins(racing_clinic: Clinic) -> None:
    results = race([booking_call(racing_clinic, at(TUESDAY, 9)) for _ in range(THREADS)])
    assert outcome(results) == (1, THREADS - 1, [])
    assert Appointment.objects.filter(status="booked").count() == 1


def test_bookings_overlapping_by_a_few_minutes_exactly_one_wins(racing_clinic: Clinic) -> None:
    fine_grid = make_clinic()  # its own practitioner on a 5-minute grid
    fine_grid.practitioner.availability_templates.all().delete()
    make_template(fine_grid.practitioner, fine_grid.location, slot_minutes=5)
    starts = [at(TUESDAY, 9, 5 * index) for index in range(THREADS)]  # 09:00 … 09:35
    results = race([booking_call(fine_grid, start) for start in starts])
    booked, taken, other = outcome(results)
    assert other == []
    winners = sorted(result[0].starts_at for result in results if isinstance(result, list))
    for earlier, later in itertools.pairwise(winners):
        assert later - earlier >= dt.timedelta(minutes=30)  # no two overlap
    assert booked + taken == THREADS
    assert 1 <= booked <= 2  # 09:00 and 09:30 can both win; no overlapping pair can
    rows = Occupancy.objects.filter(resource_key=f"practitioner:{fine_grid.practitioner.pk}")
    assert rows.count() == booked


def test_a_reschedule_racing_a_new_booking_for_the_same_slot(racing_clinic: Clinic) -> None:
    clinic = racing_clinic
    with time_machine.travel(NOW, tick=False):
        [existing] = services.book_appointment(**clinic.booking(at(TUESDAY, 10)))
    for target in (at(TUESDAY, 9), at(TUESDAY, 10, 30), at(TUESDAY, 11)):  # none overlap
        reschedule = functools.partial(
            services.reschedule_appointment,
            actor=clinic.actor,
            appointment_id=existing.public_id,
            starts_at=target,
        )
        results = race([reschedule, booking_call(clinic, target)])
        successes = [r for r in results if isinstance(r, Appointment | list)]
        assert len(successes) == 1, results
        assert isinstance(next(r for r in results if r not in successes), SlotTaken)
        in_slot = Appointment.objects.filter(starts_at=target, status="booked")
        assert in_slot.count() == 1
        if isinstance(successes[0], Appointment):
            existing = successes[0]
    assert Appointment.objects.filter(patient=clinic.patient, status="booked").count() == 1


def test_max_new_per_session_holds_under_concurrency(racing_clinic: Clinic) -> None:
    clinic = racing_clinic
    with time_machine.travel(NOW, tick=False):
        create_provider_rule(
            actor=clinic.actor_for(clinic.user(Role.ADMIN)),
            practitioner_id=clinic.practitioner.public_id,
            kind="max_new_per_session",
            parameters={"max": 2},
        )
    starts = [at(TUESDAY, 9, 30 * index) for index in range(6)]  # six distinct morning slots
    results = race([booking_call(clinic, start) for start in starts])
    booked = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, RuleRefusal)]
    assert (len(booked), len(refused)) == (2, 4), results
    assert {r.details["rule"] for r in refused} == {"provider_rule.max_new_per_session"}
    assert Appointment.objects.filter(is_new_patient=True, status="booked").count() == 2


def test_one_patient_at_two_practitioners_at_once_exactly_one_wins(racing_clinic: Clinic) -> None:
    """Different practitioners take different session locks: the exclusion constraint on the
    patient's occupancy is what refuses the second booking."""
    clinic = racing_clinic
    others = []
    for index in range(THREADS - 1):
        practitioner = make_practitioner(given_name="Doc", family_name=f"Other{index}")
        make_template(practitioner, clinic.location)
        others.append(practitioner)
    calls = [booking_call(clinic, at(TUESDAY, 9), patient_id=clinic.patient.public_id)]
    calls += [
        booking_call(
            clinic,
            at(TUESDAY, 9, 15),
            patient_id=clinic.patient.public_id,
            practitioner_id=practitioner.public_id,
        )
        for practitioner in others
    ]
    assert outcome(race(calls)) == (1, THREADS - 1, [])
    assert Appointment.objects.filter(patient=clinic.patient).count() == 1
