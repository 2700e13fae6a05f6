"""The demo's scheduling data: set up through the services, history without an overlap,
upcoming visits that hold their time, loaded once; the Access metrics page has content — a
third-next-available trend measured week by week and a fill rate of freed slots."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.db.models import F
from django.test import Client

from careline.platform.actors import Actor
from careline.platform.errors import ValidationFailed
from careline.platform.permissions import Role
from careline.scheduling import configuration
from careline.scheduling.demo import load_demo_schedule
from careline.scheduling.models import (
    AccessSnapshot,
    Appointment,
    BookingQuestion,
    Occupancy,
    ProviderRule,
    RedFlagList,
)
from careline.scheduling.patient_booking import get_question_step
from careline.scheduling.tests.test_metrics import page_data
from careline.scheduling.waitlist.models import WaitlistEntry
from careline.testing.factories import LocationFactory, PatientFactory, UserFactory
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


def test_the_demo_gives_the_access_metrics_page_a_trend_and_a_fill_rate(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    _clinic()
    loaded = load_demo_schedule(actor=Actor.system("test"), now=NOW, rng=random.Random("fill"))
    client = Client()
    client.force_login(UserFactory.create(role=Role.SCHEDULING_LEAD))

    with time_machine.travel(NOW, tick=False):
        page = client.get("/schedule/metrics/")

    assert page.status_code == 200
    data = page_data(page.content.decode())
    # Twelve Mondays, each measured as of that Monday 07:00 by the weekly task's function:
    # six visit types across their providers, and per provider with hours for it (3 family
    # doctors for the five family visit types, the radiologist with hours for CT).
    mondays = [NOW.date() - dt.timedelta(weeks=weeks) for weeks in range(11, -1, -1)]
    assert loaded is not None and loaded.snapshots == 12 * (6 + 5 * 3 + 1)
    assert sorted({row.week_start for row in AccessSnapshot.objects.all()}) == mondays
    across = [row for row in data["third_next_available"] if row["practitioner_id"] is None]
    assert [row["week_start"] for row in across if row["visit_type_name"] == "Follow-up visit"] == [
        monday.isoformat() for monday in mondays
    ]
    assert all(row["days"] is not None and 0 <= row["days"] <= 7 for row in across)
    assert b'data-testid="tna-table"' in page.content
    fill = data["fill"]
    assert 0 < fill["rebooked"] < fill["freed"]
    assert 0 < fill["fill_rate"] < 1
    assert f'data-testid="fill-rate">{round(100 * fill["rebooked"] / fill["freed"])} %' in (
        page.content.decode()
    )
    # The snapshots' occupancy was put back only while each week was measured.
    assert not Occupancy.objects.exclude(appointment__status="booked").exists()


def test_a_backfilled_slot_was_booked_after_the_freeing_and_before_its_start() -> None:
    _clinic()
    load_demo_schedule(actor=Actor.system("test"), now=NOW, rng=random.Random("fill"))
    freed = Appointment.objects.filter(status="cancelled", cancelled_at__lt=F("starts_at"))

    backfills = {
        slot.pk: list(
            Appointment.objects.filter(
                practitioner_id=slot.practitioner_id, starts_at=slot.starts_at
            )
            .exclude(pk=slot.pk)
            .values_list("created_at", "patient_id", "visit_type_id", "status")
        )
        for slot in freed
    }

    assert 0.3 < sum(bool(rows) for rows in backfills.values()) / len(backfills) < 0.7
    for slot in freed:
        for created_at, patient_id, visit_type_id, status in backfills[slot.pk]:
            assert slot.cancelled_at is not None
            assert slot.cancelled_at < created_at < slot.starts_at
            assert created_at <= NOW
            assert patient_id != slot.patient_id and visit_type_id == slot.visit_type_id
            assert status in {"booked", "completed", "no_show"}
