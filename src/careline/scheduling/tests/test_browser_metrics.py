"""The Access metrics page in a real browser: plotly draws every chart under the
Content-Security-Policy without one violation (its stylesheet is our static file, so it
injects no ``<style>``), each chart keeps to its box above the table that follows it, and
the static stylesheet holds exactly the rules the shipped plotly.js would inject."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.urls import reverse

from careline.patients.tests.test_browser import _sign_in, assert_accessible, browser
from careline.platform import clock
from careline.platform.permissions import Role
from careline.scheduling.metrics import week_of
from careline.scheduling.models import AccessSnapshot, Appointment, AppointmentStatus
from careline.testing.plotly_css import (
    GLOBAL_ID,
    injected_stylesheets,
    served_name,
    stylesheet_rules,
)
from careline.testing.scheduling import Clinic, make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser"]  # the fixture, shared with the patients' browser tests

_RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
CHARTS = ("third-next-available", "no-shows", "cancellations", "utilisation", "fill")


def _recent_weeks(clinic: Clinic) -> None:
    """Three weeks of visits (one no-show, one freed slot rebooked) and their snapshots."""
    this_week = week_of(clock.now().date())
    for weeks_back in (1, 2, 3):
        monday = this_week - dt.timedelta(weeks=weeks_back)
        start = dt.datetime.combine(monday, dt.time(14), tzinfo=dt.UTC)
        for offset, status in enumerate(
            (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)
        ):
            starts_at = start + dt.timedelta(hours=offset)
            Appointment.objects.create(
                patient=clinic.new_patient(),
                practitioner=clinic.practitioner,
                location=clinic.location,
                visit_type=clinic.visit_type,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=30),
                status=status,
                created_at=starts_at - dt.timedelta(days=9),
                updated_at=starts_at,
                cancelled_at=(
                    starts_at - dt.timedelta(days=2)
                    if status == AppointmentStatus.CANCELLED
                    else None
                ),
                cancel_reason="patient" if status == AppointmentStatus.CANCELLED else "",
            )
        for who, days in ((None, weeks_back), (clinic.practitioner, weeks_back + 1)):
            AccessSnapshot.objects.create(
                week_start=monday,
                visit_type=clinic.visit_type,
                practitioner=who,
                request_date=monday,
                days=days,
                recorded_at=start,
            )


def test_charts_draw_under_the_policy_and_stay_above_their_tables(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    clinic = make_clinic()
    _recent_weeks(clinic)
    lead = clinic.user(Role.SCHEDULING_LEAD)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    _sign_in(page, live_server.url, lead)

    page.goto(f"{live_server.url}{reverse('scheduling:metrics')}")
    for name in CHARTS:
        page.locator(f'[data-chart="{name}"] .main-svg').first.wait_for()

    assert page.evaluate("window.cspViolations") == []
    assert [text for text in console if "Content Security Policy" in text] == []
    assert page.locator("head style").count() == 0
    for name in CHARTS:
        chart = page.locator(f'[data-chart="{name}"]')
        below = chart.locator("xpath=following-sibling::table[1]")
        chart_box, table_box = chart.bounding_box(), below.bounding_box()
        drawn = chart.locator(".main-svg").evaluate_all(
            "(layers) => Math.max(...layers.map((layer) => layer.getBoundingClientRect().bottom"
            " + window.scrollY))"
        )
        assert chart_box is not None and table_box is not None
        assert drawn <= table_box["y"], name
        assert chart_box["y"] + chart_box["height"] <= table_box["y"], name
    assert page.locator('[data-chart="third-next-available"] .legend .traces').count() == 0
    assert page.locator('[data-chart="fill"] .legend .traces').count() == 2
    assert_accessible(page)
    context.close()


def test_the_static_stylesheets_are_what_the_shipped_plotly_would_inject(browser: Any) -> None:
    include = get_template("platform/_plotly.html").template.source  # type: ignore[attr-defined]
    page = browser.new_page()

    injected = injected_stylesheets(page)

    assert GLOBAL_ID in injected and len(injected) == 2
    for element_id, rules in injected.items():
        name = served_name(element_id)
        found = finders.find(name)
        assert isinstance(found, str), name
        served = stylesheet_rules(page, Path(found).read_text(encoding="utf-8"))
        assert served == rules, f"{name}: run `python -m careline.testing.plotly_css`"
        assert f'id="{element_id}"' in include and f"{{% static '{name}' %}}" in include
    page.close()
