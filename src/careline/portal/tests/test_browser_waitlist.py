"""A patient joins a waitlist in the portal and the scheduler sees her on the staff Waitlist
page — in a real browser (Playwright, Debian chromium; axe-core on every page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from careline.patients.tests.test_browser import _sign_in, assert_accessible
from careline.platform.models import User
from careline.portal.models import PortalLink
from careline.portal.tests.test_browser import browser  # noqa: F401 (the fixture)
from careline.scheduling.waitlist.models import WaitlistEntry
from careline.testing.factories import TEST_PASSWORD
from careline.testing.scheduling import make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_joins_a_waitlist_and_the_scheduler_sees_it(
    browser: Any,  # noqa: F811
    live_server: Any,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
    settings: Any,
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    clinic = make_clinic(portal_booking="self", name="Check-up")
    make_link(make_account("pat@example.org"), clinic.patient)
    today = dt.datetime.now(dt.UTC).date()
    first, last = today + dt.timedelta(days=2), today + dt.timedelta(days=16)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()

    page.goto(f"{live_server.url}{reverse('portal:login')}")
    page.get_by_label("Email address").fill("pat@example.org")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your record").wait_for()
    assert page.get_by_text("You are not on a waitlist.").is_visible()
    page.get_by_role("link", name="Join a waitlist").click()
    page.get_by_role("heading", name="Join a waitlist").wait_for()
    assert_accessible(page)
    page.get_by_label("Visit").select_option(label="Check-up")
    page.get_by_label("Location").select_option(label="Harbor Clinic")
    page.get_by_label("From").fill(last.isoformat())
    page.get_by_label("Until").fill(first.isoformat())  # reversed: refused beside the field
    page.get_by_role("button", name="Join the waitlist").click()
    page.get_by_text("latest_date must be on or after earliest_date.").wait_for()
    assert_accessible(page)
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("Until").fill(last.isoformat())
    page.get_by_label("Not before").fill("13:00")
    page.get_by_role("button", name="Join the waitlist").click()
    page.get_by_text("You are on the waitlist for Check-up.").wait_for()
    assert_accessible(page)
    assert page.get_by_role("button", name="Leave the Check-up waitlist").is_visible()

    entry = WaitlistEntry.objects.get()
    assert (entry.patient_id, entry.earliest_date, entry.latest_date) == (
        clinic.patient.pk,
        first,
        last,
    )
    staff = browser.new_context().new_page()
    _sign_in(staff, live_server.url, clinic.scheduler)
    staff.goto(f"{live_server.url}{reverse('waitlist:list')}")
    row = staff.get_by_role("row").filter(has_text=clinic.patient.display_name)
    row.wait_for()
    assert "Check-up" in row.inner_text()
    assert "Harbor Clinic" in row.inner_text()
    assert "Waiting" in row.inner_text()
    assert_accessible(staff)
