"""The demo has one flagged appointment: a provider's leave added after booking."""

from __future__ import annotations

import random

import pytest

from careline.platform.actors import Actor
from careline.scheduling.bumps.models import FlagCause, FlaggedAppointment, FlagStatus
from careline.scheduling.demo import load_demo_schedule
from careline.scheduling.models import AppointmentStatus, AvailabilityException
from careline.scheduling.tests.test_demo import _clinic
from careline.testing.scheduling import NOW

pytestmark = pytest.mark.django_db


def test_the_demo_leave_flags_one_booked_visit(frozen_now: None) -> None:
    _clinic()
    load_demo_schedule(actor=Actor.system("test"), now=NOW, rng=random.Random("test-schedule"))
    flag = FlaggedAppointment.objects.select_related("appointment").get()
    leave = AvailabilityException.objects.get(kind="leave")
    assert (flag.status, flag.cause, flag.change_id) == (
        FlagStatus.OPEN,
        FlagCause.EXCEPTION_ADDED,
        leave.public_id,
    )
    assert flag.appointment.status == AppointmentStatus.BOOKED
    assert (leave.starts_at, leave.ends_at) == (
        flag.appointment.starts_at,
        flag.appointment.ends_at,
    )
    assert leave.practitioner_id == flag.appointment.practitioner_id
