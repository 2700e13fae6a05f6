"""A scheduler finds a slot and books it, sees it in the day list and marks the patient
arrived — in a real browser (Playwright driving Debian chromium; the ``browser`` marker
skips with a printed reason where it is missing). axe-core checks every page visited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from careline.patients.tests.test_browser import _sign_in, assert_accessible, browser
from careline.platform import clock
from careline.platform.permissions import Role
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.testing.factories import LocationFactory, PatientFactory, UserFactory
from careline.testing.scheduling import make_practitioner, make_template, make_visit_type

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser"]  # the fixture, shared with the patients' browser tests


def test_scheduler_books_a_slot_and_marks_the_patient_arrived(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    location = LocationFactory.create(name="Harbor Clinic", time_zone=settings.CARELINE_TIME_ZONE)
    doctor = make_practitioner(given_name="Ana", family_name="Lopez")
    make_template(
        doctor, location, weekdays=(0, 1, 2, 3, 4, 5, 6), start=dt.time(0), end=dt.time(23, 45)
    )
    visit_type = make_visit_type(name="Follow-up visit", duration_minutes=15)
    scheduler = UserFactory.create(role=Role.SCHEDULER, first_name="Dana", last_name="Reyes")
    scheduler.locations.add(location)
    patient = PatientFactory.create(
        given_names="Robert",
        family_name="Thornbury",
        search_name="robert thornbury",
        birth_date=dt.date(1951, 3, 14),
        primary_location=location,
    )
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    base = live_server.url
    _sign_in(page, base, scheduler)

    page.goto(f"{base}{reverse('scheduling:schedule')}")
    assert_accessible(page)
    page.locator("#picker-q").press_sequentially("thornb", delay=40)
    choice = page.locator(".picker__choice", has_text="Robert Thornbury")
    choice.wait_for()
    choice.click()
    page.get_by_test_id("patient").wait_for()
    page.get_by_label("Visit type").select_option(str(visit_type.public_id))
    page.get_by_role("button", name="Find slots").click()
    slots = page.get_by_test_id("slots")
    slots.wait_for()
    assert_accessible(page)
    first = slots.locator("tbody tr").first
    when = first.locator("td").first.inner_text()
    first.get_by_role("button").click()
    page.get_by_text("Slot held until").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_test_id("status").get_by_text("Booked").wait_for()
    assert_accessible(page)

    appointment = Appointment.objects.get(patient=patient)
    day = appointment.starts_at.astimezone(location_zone(settings)).date()
    page.goto(f"{base}{reverse('scheduling:day')}?day={day:%Y-%m-%d}&location={location.public_id}")
    row = page.locator(f"#appointment-{appointment.public_id}")
    row.get_by_text("Robert Thornbury").wait_for()
    assert when.endswith(row.locator("td").first.inner_text()[:5])
    assert_accessible(page)
    row.get_by_role("button", name="Arrived").click()
    page.locator(f"#appointment-{appointment.public_id} [data-status=arrived]").wait_for()
    context.close()

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED
    assert appointment.starts_at > clock.now() - dt.timedelta(minutes=15)


def location_zone(settings: Any) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.CARELINE_TIME_ZONE)
