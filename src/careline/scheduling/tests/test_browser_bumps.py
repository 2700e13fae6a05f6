"""An administrator adds leave over a booked visit on the set-up page; the visit shows on the
Flagged appointments page; she bumps it, and the patient's 360 timeline shows the bump — in
a real browser (Playwright driving Debian chromium; axe-core checks every page visited)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from careline.patients.tests.test_browser import _sign_in, assert_accessible, browser
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel
from careline.platform.permissions import Role
from careline.scheduling import services
from careline.scheduling.bumps.models import BumpNotice, FlaggedAppointment
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.testing.factories import LocationFactory, PatientFactory, UserFactory
from careline.testing.scheduling import make_practitioner, make_template, make_visit_type

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser"]  # the fixture, shared with the patients' browser tests


def test_leave_over_a_booked_visit_is_flagged_bumped_and_on_the_timeline(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
    location = LocationFactory.create(name="Harbor Clinic", time_zone=settings.CARELINE_TIME_ZONE)
    doctor = make_practitioner(given_name="Ana", family_name="Lopez")
    make_template(
        doctor, location, weekdays=(0, 1, 2, 3, 4, 5, 6), start=dt.time(0), end=dt.time(23, 45)
    )
    visit_type = make_visit_type(name="Follow-up visit", duration_minutes=15)
    admin = UserFactory.create(role=Role.ADMIN, first_name="Ada", last_name="Admin")
    admin.locations.add(location)
    patient = PatientFactory.create(
        given_names="Robert",
        family_name="Thornbury",
        search_name="robert thornbury",
        birth_date=dt.date(1951, 3, 14),
        primary_location=location,
    )
    day = clock.now().astimezone(zone).date() + dt.timedelta(days=2)
    starts_at = dt.datetime.combine(day, dt.time(10), tzinfo=zone)
    [visit] = services.book_appointment(
        actor=Actor(user=admin, channel=AuditChannel.UI, remote_addr="127.0.0.1"),
        patient_id=patient.public_id,
        visit_type_id=visit_type.public_id,
        practitioner_id=doctor.public_id,
        location_id=location.public_id,
        starts_at=starts_at,
    )

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    base = live_server.url
    _sign_in(page, base, admin)

    page.goto(f"{base}{reverse('scheduling:exception_new')}")
    assert_accessible(page)
    page.get_by_label("Kind").select_option("leave")
    page.get_by_label("Provider").select_option(str(doctor.public_id))
    page.get_by_label("From").fill(f"{day:%Y-%m-%d}T00:00")
    page.get_by_label("Until").fill(f"{day + dt.timedelta(days=1):%Y-%m-%d}T00:00")
    page.get_by_label("Reason").fill("conference")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()

    page.goto(f"{base}{reverse('scheduling:flagged')}")
    flag = FlaggedAppointment.objects.get()
    row = page.locator(f"tr[data-flag='{flag.public_id}']")
    row.get_by_text("Robert Thornbury").wait_for()
    row.get_by_text("Inside leave, a holiday or a closure").wait_for()
    assert_accessible(page)
    row.get_by_label("Reason").select_option("provider_leave")
    row.get_by_role("button", name="Bump").click()
    page.get_by_text("Bumped; the patient will be told.").wait_for()
    page.get_by_text("No flagged visits").wait_for()
    assert_accessible(page)

    page.goto(f"{base}{reverse('patients:detail', args=[patient.public_id])}")
    page.locator(".timeline__item", has_text="Bumped by the provider: Follow-up visit").wait_for()
    assert_accessible(page)
    context.close()

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BUMPED
    assert BumpNotice.objects.get().appointment == Appointment.objects.get(pk=visit.pk)
