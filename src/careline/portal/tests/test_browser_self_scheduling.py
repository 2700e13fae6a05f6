"""A patient signs in, self-books a visit in the portal, and the scheduler sees it (the
staff API) — in a real browser (Playwright, Debian chromium; axe-core on every page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.patients.tests.test_browser import assert_accessible
from careline.platform.models import User
from careline.portal.models import PortalLink
from careline.portal.tests.test_browser import browser  # noqa: F401 (the fixture)
from careline.scheduling.models import Appointment
from careline.testing.factories import TEST_PASSWORD
from careline.testing.scheduling import make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_self_books_and_the_scheduler_sees_it(
    browser: Any,  # noqa: F811
    live_server: Any,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
    settings: Any,
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    clinic = make_clinic(portal_booking="self", name="Check-up")
    make_link(make_account("pat@example.org"), clinic.patient)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto(f"{live_server.url}{reverse('portal:login')}")
    page.get_by_label("Email address").fill("pat@example.org")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your record").wait_for()
    page.get_by_role("link", name="Book a visit").click()
    page.get_by_role("heading", name="Book a visit").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Check-up").click()
    page.get_by_role("heading", name="Pick a time: Check-up").wait_for()
    assert_accessible(page)
    page.locator(".slot-list button").first.click()
    page.get_by_role("heading", name="Confirm your visit").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Book this visit").click()
    page.get_by_text("Your visit is booked.").wait_for()
    page.get_by_role("heading", name="Check-up").wait_for()
    assert_accessible(page)
    assert page.get_by_role("link", name="Add to my calendar (.ics)").is_visible()

    appointment = Appointment.objects.get()
    scheduler = Client()
    scheduler.force_login(clinic.scheduler)
    seen = scheduler.get(f"/api/scheduling/appointments/{appointment.public_id}")
    assert seen.status_code == 200, seen.content
    assert seen.json()["patient_id"] == str(clinic.patient.public_id)
    assert seen.json()["status"] == "booked"
    assert appointment.booked_by is not None and appointment.booked_by.is_portal_account
    assert violations == []
