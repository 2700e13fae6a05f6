"""``careline demo`` makes a patient's portal account and her caregiver's (demo mode only)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from careline.directory.visit_types import create_visit_type
from careline.platform import clock
from careline.platform.actors import Actor
from careline.portal.demo import DEMO_PORTAL_PASSWORD
from careline.portal.models import PortalLink
from careline.scheduling.models import BookingTicket
from careline.scheduling.selectors import list_open_entries
from careline.testing.factories import ContactPointFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_demo_accounts_are_linked_and_sign_in(settings: Any) -> None:
    settings.DEMO_MODE = True
    patient = PatientFactory.create(given_names="Ada", family_name="Aaronson")
    ContactPointFactory.create(patient=patient, system="email", value="ada@example.org")
    out = io.StringIO()

    call_command("create_demo_portal_accounts", stdout=out)
    call_command("create_demo_portal_accounts", stdout=io.StringIO())  # again: nothing new

    assert out.getvalue().splitlines() == [
        f"Patient portal (http://127.0.0.1:8000/portal/), password {DEMO_PORTAL_PASSWORD}:",
        "  patient@demo.careline.test       Ada Aaronson, her own record",
        "  caregiver@demo.careline.test     Ada Aaronson, as her proxy (caregiver)",
    ]
    assert sorted(PortalLink.objects.values_list("relationship", "method")) == [
        ("proxy", "demo"),
        ("self", "demo"),
    ]
    client = Client()
    response = client.post(
        reverse("portal:login"),
        {"email": "caregiver@demo.careline.test", "password": DEMO_PORTAL_PASSWORD},
    )
    assert (response.status_code, response["Location"]) == (302, reverse("portal:home"))
    assert client.get(reverse("portal:patient_home", args=[patient.public_id])).status_code == 200


def test_with_the_demo_schedule_the_patient_has_a_follow_up_ticket(settings: Any) -> None:
    settings.DEMO_MODE = True
    patient = PatientFactory.create(given_names="Ada", family_name="Aaronson")
    ContactPointFactory.create(patient=patient, system="email", value="ada@example.org")
    create_visit_type(
        actor=Actor.system("test"), code="follow-up", name="Follow-up visit", duration_minutes=15
    )

    call_command("create_demo_portal_accounts", stdout=io.StringIO())
    call_command("create_demo_portal_accounts", stdout=io.StringIO())  # again: no second one

    ticket = BookingTicket.objects.get()
    today = clock.now().date()
    assert (ticket.patient_id, ticket.visit_type.code) == (patient.pk, "follow-up")
    assert (ticket.earliest_date, ticket.latest_date) == (
        today + dt.timedelta(days=14),
        today + dt.timedelta(days=28),
    )


def test_outside_demo_mode_the_command_refuses(settings: Any) -> None:
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="demo mode only"):
        call_command("create_demo_portal_accounts", stdout=io.StringIO())
    assert not PortalLink.objects.exists()


def test_with_the_demo_schedule_the_patient_has_one_open_waitlist_entry(settings: Any) -> None:
    settings.DEMO_MODE = True
    patient = PatientFactory.create(given_names="Ada", family_name="Aaronson")
    ContactPointFactory.create(patient=patient, system="email", value="ada@example.org")
    actor = Actor.system("test")
    create_visit_type(
        actor=actor, code="ct-contrast", name="CT with contrast", duration_minutes=30
    )  # not on the portal: never the demo's choice
    create_visit_type(
        actor=actor,
        code="flu-shot",
        name="Flu shot",
        duration_minutes=15,
        portal_booking="self",
    )

    call_command("create_demo_portal_accounts", stdout=io.StringIO())
    call_command("create_demo_portal_accounts", stdout=io.StringIO())  # again: still one

    [entry] = list_open_entries(patient_id=patient.public_id, now=clock.now())
    today = clock.now().astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
    assert (entry.visit_type_name, entry.status) == ("Flu shot", "active")
    assert (entry.earliest_date, entry.latest_date) == (
        today + dt.timedelta(days=1),
        today + dt.timedelta(days=21),
    )
    assert (entry.earliest_time, entry.latest_time) == (dt.time(8), dt.time(12))
    client = Client()
    client.post(
        reverse("portal:login"),
        {"email": "patient@demo.careline.test", "password": DEMO_PORTAL_PASSWORD},
    )
    page = client.get(reverse("portal:patient_home", args=[patient.public_id]))
    assert 'Flu shot <span class="muted">· Waiting</span>' in page.content.decode()
