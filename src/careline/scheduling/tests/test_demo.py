"""The demo's scheduling data: set up through the services, history without an overlap,
upcoming visits that hold their time, loaded once."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter

import pytest

from careline.platform.actors import Actor
from careline.platform.errors import ValidationFailed
from careline.scheduling import configuration
from careline.scheduling.demo import load_demo_schedule
from careline.scheduling.models import (
    Appointment,
    BookingQuestion,
    Occupancy,
    ProviderRule,
    RedFlagList,
)
from careline.scheduling.patient_booking import get_question_step
from careline.scheduling.waitlist.models import WaitlistEntry
from careline.testing.factories import LocationFactory, PatientFactory
from careline.testing.scheduling import NOW, make_practitioner

pytestmark = pytest.mark.django_db


def _clinic() -> None:
    north = LocationFactory.create(name="North", time_zone="America/New_York")
    south = LocationFactory.create(name="South", time_zone="America/New_York")
    for name in ("Avery", "Blake", "Casey"):
        doctor = make_practitioner(family_name=name)
        doctor.roles.update(location=north)
    # A radiologist at two places: weekly hours at one of them only.
    radiologist = make_practitioner(family_name="Drew", specialty="Radiology")
    radiologist.roles.update(location=south)
    for index in range(40):
        PatientFactory.create(family_name=f"P{index}", birth_date=dt.date(1970, 1, 1))


def test_demo_schedule_is_loaded_once_without_overlaps() -> None:
    _clinic()
    loaded = load_demo_schedule(
        actor=Actor.system("test"), now=NOW, rng=random.Random("test-schedule")
    )
    assert loaded is not None
    assert (loaded.visit_types, loaded.templates, loaded.rules) == (6, 40, 4)
    statuses = Counter(Appointment.objects.values_list("status", flat=True))
    assert set(statuses) == {"completed", "no_show", "cancelled", "booked"}
    assert loaded.appointments == sum(statuses.values())
    assert loaded.upcoming == statuses["booked"]
    assert ProviderRule.objects.count() == 4
    assert RedFlagList.objects.get().code == "contrast-safety"
    rows = list(
        Occupancy.objects.order_by("resource_key", "occupied_from").values_list(
            "resource_key", "occupied_from", "occupied_to"
        )
    )
    overlaps = [(a, b) for a, b in itertools.pairwise(rows) if a[0] == b[0] and b[1] < a[2]]
    assert overlaps == []
    booked = Appointment.objects.filter(status="booked")
    assert all(row.starts_at >= NOW - dt.timedelta(hours=1) for row in booked)
    assert Occupancy.objects.filter(appointment__status="booked").count() >= 2 * booked.count()
    assert not Occupancy.objects.exclude(appointment__status="booked").exists()
    assert load_demo_schedule(actor=Actor.system("test"), now=NOW, rng=random.Random(1)) is None
    waiting = list(WaitlistEntry.objects.values_list("visit_type__code", "status"))
    assert waiting == [("follow-up", "active")] * 3


def test_the_demo_questionnaire_leads_to_the_demo_visit_types() -> None:
    _clinic()
    load_demo_schedule(actor=Actor.system("test"), now=NOW, rng=random.Random("q"))

    start = get_question_step()
    follow_up = get_question_step("follow-up-how")

    assert start.code == "what-brings-you"
    assert [
        answer.visit_type.code if answer.visit_type else answer.next_code or "advice"
        for answer in start.answers
    ] == [
        "new-patient-physical",
        "follow-up-how",
        "flu-shot",
        "advice",
    ]
    assert [answer.visit_type.code for answer in follow_up.answers if answer.visit_type] == [
        "follow-up",
        "telehealth-follow-up",
    ]


def test_a_questionnaire_with_a_dead_end_is_refused_whole() -> None:
    _clinic()
    load_demo_schedule(actor=Actor.system("test"), now=NOW, rng=random.Random("q"))
    questions = [
        {"code": "new-a", "text": "A?", "answers": [{"label": "B", "next": "new-b"}]},
        {"code": "new-b", "text": "B?", "answers": [{"label": "X", "visit_type": "x-ray"}]},
    ]

    with pytest.raises(ValidationFailed, match="Answer 1 names the unknown visit type 'x-ray'"):
        configuration.save_booking_questionnaire(actor=Actor.system("test"), questions=questions)
    assert not BookingQuestion.objects.filter(code__startswith="new-").exists()
