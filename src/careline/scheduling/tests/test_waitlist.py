"""Waitlist backfill with time-machine: a freed slot is held and offered to the first
eligible patients, offers expire or are declined and the list moves down, the first of
several acceptances wins, quiet hours defer, the cutoff closes, move-up cascades, rules
refuse by name, and the fill rate counts rebooked slots."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from careline.patients.models import Patient
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.scheduling import services
from careline.scheduling.configuration import create_provider_rule, create_template
from careline.scheduling.errors import RuleRefusal, SlotTaken
from careline.scheduling.models import Appointment, Hold
from careline.scheduling.waitlist import engine, selectors
from careline.scheduling.waitlist import services as waitlist
from careline.scheduling.waitlist.models import (
    FreedSlot,
    FreedSlotCause,
    FreedSlotStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistPolicy,
    WaitlistStatus,
)
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

SLOT = at(TUESDAY, 9)


def join(clinic: Clinic, patient: Patient, **changes: Any) -> WaitlistEntry:
    values: dict[str, Any] = {
        "actor": clinic.actor,
        "patient_id": patient.public_id,
        "visit_type_id": clinic.visit_type.public_id,
        "earliest_date": TUESDAY,
        "latest_date": TUESDAY + dt.timedelta(days=7),
    }
    values.update(changes)
    return waitlist.join_waitlist(**values)


def free_slot(clinic: Clinic, starts_at: dt.datetime = SLOT) -> FreedSlot:
    """Book the slot for a patient, cancel it: the freed slot."""
    [appointment] = services.book_appointment(
        **clinic.booking(starts_at, patient_id=clinic.new_patient().public_id)
    )
    services.cancel_appointment(
        actor=clinic.actor, appointment_id=appointment.public_id, reason="patient"
    )
    return FreedSlot.objects.get(source_appointment=appointment)


def offered_patients(slot: FreedSlot, status: str = OfferStatus.PENDING) -> set[int]:
    return set(
        WaitlistOffer.objects.filter(freed_slot=slot, status=status).values_list(
            "entry__patient_id", flat=True
        )
    )


def round_of(slot: FreedSlot) -> str:
    return engine.run_offer_round(freed_slot_id=slot.public_id)


@pytest.fixture
def waiting(clinic: Clinic) -> list[Patient]:
    """Three adults on the waitlist, in this order."""
    patients = [clinic.new_patient(birth_date=dt.date(1970 + index, 1, 1)) for index in range(3)]
    for patient in patients:
        join(clinic, patient)
    return patients


@override_settings(CARELINE_WAITLIST_OFFERS_AT_ONCE=2)
def test_cancellation_holds_the_slot_for_the_first_two_then_expiry_moves_down(
    clinic: Clinic, waiting: list[Patient]
) -> None:
    slot = free_slot(clinic)
    assert (slot.cause, slot.status) == (FreedSlotCause.CANCELLATION, FreedSlotStatus.OPEN)
    queued = DBTaskResult.objects.filter(task_path__endswith="offer_freed_slot_task")
    assert [row.args_kwargs["args"] for row in queued] == [[str(slot.public_id)]]

    assert round_of(slot) == engine.OFFERED
    first, second, third = waiting
    assert offered_patients(slot) == {first.pk, second.pk}
    hold = Hold.objects.get()
    assert hold.expires_at == NOW + dt.timedelta(minutes=15)
    assert set(WaitlistOffer.objects.values_list("expires_at", flat=True)) == {hold.expires_at}
    assert WaitlistEntry.objects.get(patient=third).status == WaitlistStatus.ACTIVE
    with pytest.raises(SlotTaken):  # the hold keeps the slot from anyone else
        services.book_appointment(**clinic.booking(SLOT, patient_id=clinic.new_patient().public_id))
    assert round_of(slot) == engine.WAITING  # offers still out: nothing moves

    with time_machine.travel(NOW + dt.timedelta(minutes=15), tick=False):
        assert round_of(slot) == engine.OFFERED
    assert offered_patients(slot, OfferStatus.EXPIRED) == {first.pk, second.pk}
    assert offered_patients(slot) == {third.pk}
    assert set(
        WaitlistEntry.objects.filter(patient__in=[first, second]).values_list("status", flat=True)
    ) == {WaitlistStatus.ACTIVE}
    assert FreedSlot.objects.get(pk=slot.pk).round == 2
    timeline_titles = list(third.timeline.values_list("title", flat=True))
    assert any(
        title.startswith("Offered from the waitlist: Follow-up visit") for title in timeline_titles
    )


@override_settings(CARELINE_WAITLIST_OFFERS_AT_ONCE=1)
def test_a_decline_offers_the_slot_to_the_next_patient(
    clinic: Clinic, waiting: list[Patient]
) -> None:
    slot = free_slot(clinic)
    round_of(slot)
    offer = WaitlistOffer.objects.get(entry__patient=waiting[0])
    DBTaskResult.objects.all().delete()
    declined = waitlist.decline_offer(actor=clinic.actor, offer_id=offer.public_id)
    assert declined.status == OfferStatus.DECLINED
    queued = DBTaskResult.objects.filter(task_path__endswith="offer_freed_slot_task")
    assert [row.args_kwargs["args"] for row in queued] == [[str(slot.public_id)]]
    assert round_of(slot) == engine.OFFERED
    assert offered_patients(slot) == {waiting[1].pk}
    assert WaitlistEntry.objects.get(patient=waiting[0]).status == WaitlistStatus.ACTIVE


@override_settings(CARELINE_WAITLIST_OFFERS_AT_ONCE=3)
def test_the_first_of_several_acceptances_wins_the_other_gets_slot_taken(
    clinic: Clinic, waiting: list[Patient]
) -> None:
    slot = free_slot(clinic)
    round_of(slot)
    offers = {o.entry.patient_id: o for o in WaitlistOffer.objects.select_related("entry")}
    later = NOW + dt.timedelta(minutes=3)
    with time_machine.travel(later, tick=False):
        appointment = waitlist.accept_offer(
            actor=clinic.actor, offer_id=offers[waiting[1].pk].public_id
        )
        with pytest.raises(SlotTaken) as taken:
            waitlist.accept_offer(actor=clinic.actor, offer_id=offers[waiting[0].pk].public_id)
    assert taken.value.code == "slot_taken"
    assert (appointment.patient_id, appointment.starts_at) == (waiting[1].pk, SLOT)
    assert Appointment.objects.filter(starts_at=SLOT, status="booked").count() == 1
    assert offered_patients(slot, OfferStatus.ACCEPTED) == {waiting[1].pk}
    assert offered_patients(slot, OfferStatus.TAKEN) == {waiting[0].pk, waiting[2].pk}
    slot.refresh_from_db()
    assert (slot.status, slot.rebooked_appointment_id, slot.rebooked_at) == (
        FreedSlotStatus.FILLED,
        appointment.pk,
        later,
    )
    assert slot.is_rebooked_before_start
    assert not Hold.objects.exists()
    statuses = dict(WaitlistEntry.objects.values_list("patient_id", "status"))
    assert statuses == {
        waiting[0].pk: WaitlistStatus.ACTIVE,
        waiting[1].pk: WaitlistStatus.BOOKED,
        waiting[2].pk: WaitlistStatus.ACTIVE,
    }
    rate = selectors.fill_rate(actor=clinic.actor, date_from=TUESDAY, date_to=TUESDAY)
    assert (rate.freed, rate.rebooked_before_start, rate.rate) == (1, 1, 1.0)
    assert AuditEvent.objects.filter(resource_type="WaitlistOffer", action="update").count() == 3


def test_quiet_hours_defer_the_round_to_the_next_opening(
    clinic: Clinic, waiting: list[Patient]
) -> None:
    evening = dt.datetime(2026, 6, 1, 21, 30, tzinfo=NEW_YORK)
    with time_machine.travel(evening, tick=False):
        slot = free_slot(clinic, at(TUESDAY, 11))
        DBTaskResult.objects.all().delete()
        assert round_of(slot) == engine.DEFERRED
    opening = dt.datetime(2026, 6, 2, 8, 0, tzinfo=NEW_YORK)
    slot.refresh_from_db()
    assert slot.next_round_at == opening
    assert not WaitlistOffer.objects.exists() and not Hold.objects.exists()
    [deferred] = DBTaskResult.objects.all()
    assert deferred.run_after == opening
    with time_machine.travel(opening - dt.timedelta(minutes=1), tick=False):
        assert round_of(slot) == engine.DEFERRED
        assert not WaitlistOffer.objects.exists()
    with time_machine.travel(opening, tick=False):
        assert round_of(slot) == engine.OFFERED
    assert offered_patients(slot) == {patient.pk for patient in waiting}


def test_no_offer_within_the_cutoff_before_the_slot(clinic: Clinic, waiting: list[Patient]) -> None:
    slot = free_slot(clinic, at(TUESDAY, 9))
    with time_machine.travel(at(TUESDAY, 8, 1), tick=False):  # 59 minutes before; cutoff 60
        assert round_of(slot) == engine.CLOSED
    slot.refresh_from_db()
    assert (slot.status, slot.closed_reason) == (
        FreedSlotStatus.CLOSED,
        "Too close to the start to offer.",
    )
    assert not WaitlistOffer.objects.exists()


def test_an_offer_never_outlasts_the_cutoff(clinic: Clinic, waiting: list[Patient]) -> None:
    slot = free_slot(clinic, at(TUESDAY, 10))
    with time_machine.travel(at(TUESDAY, 8, 50), tick=False):  # 15 minutes would end 09:05
        assert round_of(slot) == engine.OFFERED
    assert set(WaitlistOffer.objects.values_list("expires_at", flat=True)) == {at(TUESDAY, 9)}


def test_the_visit_types_minimum_lead_stops_offers(clinic: Clinic, waiting: list[Patient]) -> None:
    WaitlistPolicy.objects.create(visit_type=clinic.visit_type, minimum_lead_minutes=26 * 60)
    slot = free_slot(clinic, at(TUESDAY, 9))  # 25 hours ahead
    assert round_of(slot) == engine.CLOSED
    assert not WaitlistOffer.objects.exists()


def test_move_up_offers_an_earlier_slot_and_cascades_the_one_it_frees(clinic: Clinic) -> None:
    mover = clinic.new_patient(birth_date=dt.date(1960, 1, 1))
    [later] = services.book_appointment(
        **clinic.booking(at(TUESDAY, 11), patient_id=mover.public_id)
    )
    join(clinic, mover, appointment_id=later.public_id)
    waiting = clinic.new_patient(birth_date=dt.date(1990, 1, 1))
    join(clinic, waiting)
    slot = free_slot(clinic, at(TUESDAY, 9))
    with override_settings(CARELINE_WAITLIST_OFFERS_AT_ONCE=1):
        assert round_of(slot) == engine.OFFERED
    assert offered_patients(slot) == {mover.pk}  # joined first
    [offer] = WaitlistOffer.objects.all()
    moved = waitlist.accept_offer(actor=clinic.actor, offer_id=offer.public_id)
    assert (moved.starts_at, moved.rescheduled_from_id) == (at(TUESDAY, 9), later.pk)
    later.refresh_from_db()
    assert later.status == "cancelled"
    cascade = FreedSlot.objects.get(source_appointment=later)
    assert (cascade.cause, cascade.starts_at) == (FreedSlotCause.RESCHEDULE, at(TUESDAY, 11))
    assert round_of(cascade) == engine.OFFERED
    assert offered_patients(cascade) == {waiting.pk}


def test_a_move_up_entry_is_not_offered_a_later_slot(clinic: Clinic) -> None:
    mover = clinic.new_patient()
    [booked] = services.book_appointment(
        **clinic.booking(at(TUESDAY, 9), patient_id=mover.public_id)
    )
    join(clinic, mover, appointment_id=booked.public_id)
    slot = free_slot(clinic, at(TUESDAY, 11))
    assert round_of(slot) == engine.NONE_ELIGIBLE


def test_eligibility_uses_the_booking_rules_and_names_the_rule(clinic: Clinic) -> None:
    create_provider_rule(
        actor=clinic.actor_for(clinic.user(Role.ADMIN)),
        practitioner_id=clinic.practitioner.public_id,
        kind="min_age",
        parameters={"years": 18},
    )
    child = clinic.new_patient(birth_date=dt.date(2015, 1, 1))
    adult = clinic.new_patient(birth_date=dt.date(1980, 1, 1))
    child_entry = join(clinic, child)
    join(clinic, adult)
    slot = free_slot(clinic)
    assert round_of(slot) == engine.OFFERED
    assert offered_patients(slot) == {adult.pk}
    slot.refresh_from_db()
    assert slot.skipped == [
        {"entry_id": str(child_entry.public_id), "round": 1, "rules": ["provider_rule.min_age"]}
    ]


def test_joining_is_refused_by_the_visit_types_criteria_naming_the_rule(clinic: Clinic) -> None:
    clinic.visit_type.min_age_years = 18
    clinic.visit_type.save()
    child = clinic.new_patient(birth_date=dt.date(2015, 1, 1))
    with pytest.raises(RuleRefusal) as refused:
        join(clinic, child)
    assert refused.value.details["rule"] == "visit_type.min_age"
    assert not WaitlistEntry.objects.exists()


def test_a_patient_busy_at_that_time_is_skipped(clinic: Clinic) -> None:
    busy = clinic.new_patient()
    join(clinic, busy, practitioner_id=None)
    doctor = make_practitioner(given_name="Ben", family_name="Cho")
    make_template(doctor, clinic.location)
    services.book_appointment(
        **clinic.booking(SLOT, patient_id=busy.public_id, practitioner_id=doctor.public_id)
    )
    slot = free_slot(clinic)
    assert round_of(slot) == engine.NONE_ELIGIBLE
    slot.refresh_from_db()
    assert slot.skipped[0]["rules"] == ["patient.busy"]


def test_a_new_entry_wakes_an_idle_freed_slot(clinic: Clinic) -> None:
    slot = free_slot(clinic)
    assert round_of(slot) == engine.NONE_ELIGIBLE
    DBTaskResult.objects.all().delete()
    join(clinic, clinic.new_patient())
    queued = DBTaskResult.objects.filter(task_path__endswith="offer_freed_slot_task")
    assert [row.args_kwargs["args"] for row in queued] == [[str(slot.public_id)]]
    assert round_of(slot) == engine.OFFERED


def test_a_direct_booking_of_a_freed_slot_counts_as_rebooked(clinic: Clinic) -> None:
    slot = free_slot(clinic)  # nobody waits: the slot is not held
    services.book_appointment(**clinic.booking(SLOT, patient_id=clinic.new_patient().public_id))
    slot.refresh_from_db()
    assert slot.status == FreedSlotStatus.FILLED and slot.is_rebooked_before_start
    assert round_of(slot) == engine.GONE
    unfilled = free_slot(clinic, at(TUESDAY, 10))
    rate = selectors.fill_rate(actor=clinic.actor, date_from=TUESDAY, date_to=TUESDAY)
    assert (rate.freed, rate.rebooked_before_start, rate.rate) == (2, 1, 0.5)
    assert unfilled.rebooked_at is None


def test_removing_an_offered_entry_withdraws_its_offer(
    clinic: Clinic, waiting: list[Patient]
) -> None:
    slot = free_slot(clinic)
    round_of(slot)
    entry = WaitlistEntry.objects.get(patient=waiting[0])
    removed = waitlist.remove_from_waitlist(
        actor=clinic.actor, entry_id=entry.public_id, reason="patient_request"
    )
    assert (removed.status, removed.removed_reason) == (WaitlistStatus.REMOVED, "patient_request")
    assert WaitlistOffer.objects.get(entry=entry).status == OfferStatus.WITHDRAWN
    assert (
        AuditEvent.objects.filter(
            resource_type="WaitlistEntry", action="update", resource_id=str(entry.public_id)
        ).count()
        == 1
    )


def test_the_sweep_runs_rounds_a_lost_task_left(clinic: Clinic, waiting: list[Patient]) -> None:
    slot = free_slot(clinic)
    round_of(slot)
    with time_machine.travel(NOW + dt.timedelta(minutes=16), tick=False):
        assert engine.sweep() == 1
        assert engine.sweep() == 0
    assert offered_patients(slot, OfferStatus.EXPIRED) == {patient.pk for patient in waiting}


def test_new_hours_become_offers_for_waiting_patients(clinic: Clinic) -> None:
    doctor = make_practitioner(given_name="Ben", family_name="Cho")
    patient = clinic.new_patient(birth_date=dt.date(1985, 1, 1))
    join(clinic, patient, latest_date=TUESDAY)
    DBTaskResult.objects.all().delete()
    create_template(
        actor=clinic.actor_for(clinic.user(Role.ADMIN)),
        practitioner_id=doctor.public_id,
        location_id=clinic.location.public_id,
        weekday=TUESDAY.weekday(),
        start_time=dt.time(7),
        end_time=dt.time(8),
        slot_minutes=30,
        effective_from=TUESDAY,
    )
    queued = DBTaskResult.objects.filter(task_path__endswith="find_new_availability_task")
    assert [row.args_kwargs["args"] for row in queued] == [[str(doctor.public_id)]]
    with override_settings(CARELINE_WAITLIST_OFFERS_AT_ONCE=1):
        assert engine.find_new_availability(practitioner_id=doctor.public_id) == 1
        assert engine.find_new_availability(practitioner_id=doctor.public_id) == 0  # idempotent
    slot = FreedSlot.objects.get(cause=FreedSlotCause.NEW_AVAILABILITY)
    assert (slot.practitioner_id, slot.starts_at) == (doctor.pk, at(TUESDAY, 7))
    assert round_of(slot) == engine.OFFERED
    assert offered_patients(slot) == {patient.pk}
    rate = selectors.fill_rate(actor=clinic.actor, date_from=TUESDAY, date_to=TUESDAY)
    assert rate.freed == 0  # new hours are not freed slots
