"""Racing acceptances of one freed slot on PostgreSQL: exactly one appointment, every other
acceptance gets ``SlotTaken`` and its offer ends as taken."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
import time_machine
from django.test import override_settings

from careline.scheduling import services
from careline.scheduling.errors import SlotTaken
from careline.scheduling.models import Appointment
from careline.scheduling.tests.test_concurrency import race
from careline.scheduling.waitlist import engine
from careline.scheduling.waitlist import services as waitlist
from careline.scheduling.waitlist.models import FreedSlot, OfferStatus, WaitlistOffer
from careline.testing.scheduling import NOW, TUESDAY, Clinic, at, make_clinic

OFFERS = 4


@pytest.fixture
def racing_clinic(postgres_only: None, transactional_db: None) -> Clinic:
    with time_machine.travel(NOW, tick=False):
        return make_clinic()


@override_settings(CARELINE_WAITLIST_OFFERS_AT_ONCE=OFFERS)
def test_racing_acceptances_of_one_slot_book_exactly_one(racing_clinic: Clinic) -> None:
    clinic = racing_clinic
    slot_start = at(TUESDAY, 9)
    with time_machine.travel(NOW, tick=False):
        for index in range(OFFERS):
            waitlist.join_waitlist(
                actor=clinic.actor,
                patient_id=clinic.new_patient(birth_date=dt.date(1970 + index, 1, 1)).public_id,
                visit_type_id=clinic.visit_type.public_id,
                earliest_date=TUESDAY,
                latest_date=TUESDAY,
            )
        [appointment] = services.book_appointment(**clinic.booking(slot_start))
        services.cancel_appointment(
            actor=clinic.actor, appointment_id=appointment.public_id, reason="patient"
        )
        slot = FreedSlot.objects.get()
        assert engine.run_offer_round(freed_slot_id=slot.public_id) == engine.OFFERED
    offers = list(WaitlistOffer.objects.values_list("public_id", flat=True))
    assert len(offers) == OFFERS
    results = race(
        [
            functools.partial(waitlist.accept_offer, actor=clinic.actor, offer_id=offer_id)
            for offer_id in offers
        ]
    )
    booked = [result for result in results if isinstance(result, Appointment)]
    taken = [result for result in results if isinstance(result, SlotTaken)]
    assert (len(booked), len(taken)) == (1, OFFERS - 1), results
    assert Appointment.objects.filter(starts_at=slot_start, status="booked").count() == 1
    statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == sorted([OfferStatus.ACCEPTED] + [OfferStatus.TAKEN] * (OFFERS - 1))
    assert FreedSlot.objects.get().rebooked_appointment_id == booked[0].pk
