"""Access metrics on a small hand-built schedule: exact values of every definition, the weekly
third-next-available snapshot (time-machine), bounded queries, the page and the API agreeing,
and who may see them."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from careline.platform.actors import Actor
from careline.platform.models import AuditAction, AuditChannel, AuditEvent
from careline.platform.permissions import Permission, Role, permissions_for_role
from careline.platform.services import issue_api_token
from careline.scheduling import cadence, metrics, services
from careline.scheduling.models import (
    AccessSnapshot,
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    CancelReason,
    ExceptionKind,
)
from careline.scheduling.tasks import record_access_snapshots_task
from careline.testing.scheduling import (
    NEW_YORK,
    NOW,
    Clinic,
    at,
    make_practitioner,
    make_template,
    make_visit_type,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


WEEK = dt.date(2026, 5, 18)  # a Monday, two weeks before "now"
TUESDAY = dt.date(2026, 5, 19)
WEDNESDAY = dt.date(2026, 5, 20)
FRIDAY = dt.date(2026, 5, 22)
PERIOD = metrics.MetricFilters(date_from=WEEK, date_to=dt.date(2026, 5, 24))


def appointment(clinic: Clinic, starts_at: dt.datetime, status: str, **fields: Any) -> Appointment:
    values: dict[str, Any] = {
        "patient": clinic.new_patient(),
        "practitioner": clinic.practitioner,
        "location": clinic.location,
        "visit_type": clinic.visit_type,
        "starts_at": starts_at,
        "ends_at": starts_at + dt.timedelta(minutes=30),
        "status": status,
        "created_at": starts_at - dt.timedelta(days=10),
        "updated_at": starts_at,
    }
    values.update(fields)
    return Appointment.objects.create(**values)


def cancelled(
    clinic: Clinic, starts_at: dt.datetime, before: dt.timedelta, reason: str
) -> Appointment:
    return appointment(
        clinic,
        starts_at,
        AppointmentStatus.CANCELLED,
        cancel_reason=reason,
        cancelled_at=starts_at - before,
    )


def build_week(clinic: Clinic) -> None:
    """14 appointments in the week of 18 May: 8 completed and 2 no-shows (20 %); a late
    cancellation (2 h before); an early one (3 days before) whose time was rebooked by a
    completed visit booked after it; a bump; a provider's cancellation 2 h before (a bump,
    not late). Freed: 3, rebooked: 1. Leave on Friday afternoon."""
    for hour in (9, 10, 11):
        appointment(clinic, at(TUESDAY, hour), AppointmentStatus.COMPLETED)
    appointment(clinic, at(TUESDAY, 13), AppointmentStatus.NO_SHOW)
    appointment(clinic, at(TUESDAY, 14), AppointmentStatus.NO_SHOW)
    for hour in (9, 10, 11, 13):
        appointment(clinic, at(WEDNESDAY, hour), AppointmentStatus.COMPLETED)
    appointment(clinic, at(TUESDAY, 15), AppointmentStatus.CANCELLED, cancel_reason="patient",
                cancelled_at=at(TUESDAY, 13))  # fmt: skip
    cancelled(clinic, at(WEDNESDAY, 14), dt.timedelta(days=3), CancelReason.PATIENT)
    appointment(
        clinic,
        at(WEDNESDAY, 14, 15),  # overlaps the freed 14:00-14:30
        AppointmentStatus.COMPLETED,
        created_at=at(WEDNESDAY, 14) - dt.timedelta(days=3, hours=-1),  # after the freeing
    )
    appointment(clinic, at(WEDNESDAY, 15), AppointmentStatus.BUMPED)
    cancelled(clinic, at(WEDNESDAY, 16), dt.timedelta(hours=2), CancelReason.PROVIDER)
    AvailabilityException.objects.create(
        practitioner=clinic.practitioner,
        kind=ExceptionKind.LEAVE,
        starts_at=at(FRIDAY, 13),
        ends_at=at(FRIDAY, 17),
    )


def executive(clinic: Clinic) -> Actor:
    return clinic.actor_for(clinic.user(Role.EXECUTIVE))


def test_every_metric_has_its_exact_value(clinic: Clinic) -> None:
    build_week(clinic)

    result = metrics.get_access_metrics(actor=executive(clinic), filters=PERIOD)

    [week] = result.outcomes
    assert week.week_start == WEEK
    assert (week.scheduled, week.no_shows, week.attended) == (14, 2, 8)
    assert week.no_show_rate == 0.2
    assert (week.late_cancellations, week.bumps) == (1, 2)
    assert week.late_cancellation_rate == round(1 / 14, 4)
    assert week.bump_rate == round(2 / 14, 4)
    [fill] = result.fill
    assert (fill.week_start, fill.freed, fill.rebooked, fill.fill_rate) == (WEEK, 3, 1, 0.3333)
    [row] = result.utilisation
    # Mon-Fri 9-12 and 13-17 = 5 x 420 minutes, less Friday afternoon's 240 minutes of leave;
    # booked: the ten visits that kept their time, 30 minutes each.
    assert (row.practitioner_id, row.available_minutes, row.booked_minutes) == (
        clinic.practitioner.public_id,
        1860,
        300,
    )
    assert row.utilisation == 0.1613


def test_late_cancellation_window_is_configurable(clinic: Clinic, settings: Any) -> None:
    build_week(clinic)
    settings.CARELINE_LATE_CANCEL_HOURS = 100  # the early cancellation (72 h) is late now

    [week] = metrics.get_access_metrics(actor=executive(clinic), filters=PERIOD).outcomes

    assert (week.late_cancellations, week.bumps) == (2, 2)


def test_a_rebooking_made_before_the_freeing_or_after_the_start_does_not_fill(
    clinic: Clinic,
) -> None:
    cancelled(clinic, at(TUESDAY, 9), dt.timedelta(days=1), CancelReason.PATIENT)
    appointment(clinic, at(TUESDAY, 9), AppointmentStatus.COMPLETED,
                created_at=at(TUESDAY, 9) - dt.timedelta(days=1, minutes=1))  # fmt: skip
    appointment(clinic, at(TUESDAY, 9, 15), AppointmentStatus.COMPLETED,
                created_at=at(TUESDAY, 9, 1))  # fmt: skip
    appointment(clinic, at(TUESDAY, 9), AppointmentStatus.CANCELLED, cancel_reason="patient",
                cancelled_at=at(TUESDAY, 10), created_at=at(TUESDAY, 8))  # fmt: skip

    [fill] = metrics.get_access_metrics(actor=executive(clinic), filters=PERIOD).fill

    assert (fill.freed, fill.rebooked) == (1, 0)


def test_filters_narrow_to_a_visit_type_and_a_location(clinic: Clinic) -> None:
    build_week(clinic)
    other_type = make_visit_type(name="Flu shot", duration_minutes=15)
    appointment(clinic, at(TUESDAY, 16), AppointmentStatus.NO_SHOW, visit_type=other_type,
                ends_at=at(TUESDAY, 16, 15))  # fmt: skip

    only_flu = metrics.get_access_metrics(
        actor=executive(clinic),
        filters=metrics.MetricFilters(
            date_from=WEEK, date_to=dt.date(2026, 5, 24), visit_type_id=other_type.public_id
        ),
    )
    everything = metrics.get_access_metrics(actor=executive(clinic), filters=PERIOD)

    assert [(w.scheduled, w.no_shows) for w in only_flu.outcomes] == [(1, 1)]
    assert [(w.scheduled, w.no_shows) for w in everything.outcomes] == [(15, 3)]
    assert only_flu.fill == []
    assert [row.booked_minutes for row in only_flu.utilisation] == [15]


def test_metric_queries_do_not_grow_with_the_schedule(clinic: Clinic) -> None:
    actor = executive(clinic)
    build_week(clinic)
    with CaptureQueriesContext(connection) as small:
        metrics.get_access_metrics(actor=actor, filters=PERIOD)
    second = make_practitioner(given_name="Ben", family_name="Okafor")
    make_template(second, clinic.location)
    for day in range(18, 23):
        for hour in (9, 10, 11):
            appointment(clinic, at(dt.date(2026, 5, day), hour), AppointmentStatus.NO_SHOW,
                        practitioner=second)  # fmt: skip
            cancelled(clinic, at(dt.date(2026, 5, day), hour, 30), dt.timedelta(days=1), "patient")
    AccessSnapshot.objects.create(
        week_start=WEEK, visit_type=clinic.visit_type, request_date=WEEK, days=3, recorded_at=NOW
    )

    with CaptureQueriesContext(connection) as large:
        result = metrics.get_access_metrics(actor=actor, filters=PERIOD)

    assert len(result.utilisation) == 2 and len(result.snapshots) == 1
    assert len(large.captured_queries) == len(small.captured_queries) == 11


def test_invalid_filters_are_refused_with_the_parameter_named(clinic: Clinic) -> None:
    from careline.platform.errors import NotFound, ValidationFailed

    actor = executive(clinic)
    with pytest.raises(ValidationFailed) as reversed_range:
        metrics.get_access_metrics(
            actor=actor, filters=metrics.MetricFilters(dt.date(2026, 5, 2), dt.date(2026, 5, 1))
        )
    with pytest.raises(NotFound):
        metrics.get_access_metrics(
            actor=actor,
            filters=metrics.MetricFilters(WEEK, WEEK, location_id=clinic.patient.public_id),
        )
    assert reversed_range.value.details == {"parameter": "to"}


# --- third next available and its weekly snapshot --------------------------------------------


def dermatology(clinic: Clinic) -> tuple[Any, Any]:
    """A dermatologist seeing patients on Wednesdays 9:00-10:00 in 30-minute slots, the first
    half hour frozen (a reserve kept back): one bookable slot a week, at 9:30."""
    visit_type = make_visit_type(name="Skin check", specialty="Dermatology")
    practitioner = make_practitioner(specialty="Dermatology", given_name="Dee", family_name="Ray")
    make_template(
        practitioner,
        clinic.location,
        weekdays=(2,),
        start=dt.time(9),
        end=dt.time(10),
        slot_minutes=30,
        blocks=({"kind": "reserved", "start_time": dt.time(9), "end_time": dt.time(9, 30)},),
    )
    return visit_type, practitioner


def test_third_next_available_skips_frozen_blocks_and_held_slots(clinic: Clinic) -> None:
    visit_type, practitioner = dermatology(clinic)
    system = Actor.system("test", channel=AuditChannel.TASK)
    today = NOW.astimezone(NEW_YORK).date()  # Monday 1 June

    def days() -> int | None:
        return metrics.third_next_available(
            actor=system,
            visit_type_id=visit_type.public_id,
            request_date=today,
            practitioner_pk=practitioner.pk,
        )

    # 9:30 on 3, 10 and 17 June: the third is 16 days on.
    assert days() == 16
    services.hold_slot(
        actor=clinic.actor,
        visit_type_id=visit_type.public_id,
        practitioner_id=practitioner.public_id,
        location_id=clinic.location.public_id,
        starts_at=at(dt.date(2026, 6, 3), 9, 30),
    )
    assert days() == 23  # 10, 17 and 24 June


def test_weekly_snapshot_is_recorded_once_a_week(clinic: Clinic) -> None:
    visit_type, practitioner = dermatology(clinic)

    assert cadence.enqueue_snapshot_if_due() is True
    written = record_access_snapshots_task.call()
    again = record_access_snapshots_task.call()
    due_again = cadence.enqueue_snapshot_if_due()
    with time_machine.travel(NOW + dt.timedelta(days=7), tick=False):
        next_week = record_access_snapshots_task.call()

    # Two visit types, each across its providers and per provider (one each).
    assert (written, again, due_again, next_week) == (4, 0, False, 4)
    skin = {
        (row.week_start, row.practitioner_id): row.days
        for row in AccessSnapshot.objects.filter(visit_type=visit_type)
    }
    assert skin == {
        (dt.date(2026, 6, 1), None): 16,
        (dt.date(2026, 6, 1), practitioner.pk): 16,
        (dt.date(2026, 6, 8), None): 16,  # 10, 17 and 24 June from Monday 8 June
        (dt.date(2026, 6, 8), practitioner.pk): 16,
    }
    family = AccessSnapshot.objects.filter(
        visit_type=clinic.visit_type, week_start=dt.date(2026, 6, 1)
    )
    # Ana Lopez works weekday mornings: 9:00, 9:15 and 9:30 today are free.
    assert sorted((row.practitioner_id is None, row.days) for row in family) == [
        (False, 0),
        (True, 0),
    ]


def test_a_snapshot_recorded_for_a_past_moment_searches_as_of_that_moment(
    clinic: Clinic,
) -> None:
    visit_type, practitioner = dermatology(clinic)

    with time_machine.travel(NOW + dt.timedelta(weeks=5), tick=False):
        written = metrics.record_access_snapshots(
            actor=Actor.system("test", channel=AuditChannel.TASK), now=NOW
        )

    assert written == 4
    skin = AccessSnapshot.objects.filter(visit_type=visit_type)
    # As on Monday 1 June (9:30 on 3, 10 and 17 June), not as five weeks later.
    assert {row.practitioner_id: (row.week_start, row.request_date, row.days) for row in skin} == {
        None: (dt.date(2026, 6, 1), dt.date(2026, 6, 1), 16),
        practitioner.pk: (dt.date(2026, 6, 1), dt.date(2026, 6, 1), 16),
    }


def test_the_trend_reads_the_snapshots(clinic: Clinic) -> None:
    visit_type, practitioner = dermatology(clinic)
    for week, days in ((dt.date(2026, 5, 18), 9), (dt.date(2026, 5, 25), 12)):
        for who in (None, practitioner):
            AccessSnapshot.objects.create(
                week_start=week,
                visit_type=visit_type,
                practitioner=who,
                request_date=week,
                days=days + (who is not None),
                recorded_at=NOW,
            )

    result = metrics.get_access_metrics(
        actor=executive(clinic),
        filters=metrics.MetricFilters(dt.date(2026, 5, 18), dt.date(2026, 5, 31)),
    )

    assert [(row.week_start, row.practitioner_name, row.days) for row in result.snapshots] == [
        (dt.date(2026, 5, 18), "", 9),
        (dt.date(2026, 5, 18), "Dr. Dee Ray", 10),
        (dt.date(2026, 5, 25), "", 12),
        (dt.date(2026, 5, 25), "Dr. Dee Ray", 13),
    ]
    assert [row.days for row in metrics.latest_per_provider(result.snapshots)] == [13]


# --- the page and the API ---------------------------------------------------------------------


def api_headers(clinic: Clinic, role: str) -> dict[str, str]:
    issued = issue_api_token(actor=Actor.system("test"), user=clinic.user(role), name="token")
    return {"Authorization": f"Bearer {issued.secret}"}


QUERY = "from=2026-05-18&to=2026-05-24"


def page_data(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script id="access-metrics-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_page_and_api_show_the_same_numbers(clinic: Clinic) -> None:
    build_week(clinic)
    AccessSnapshot.objects.create(
        week_start=WEEK, visit_type=clinic.visit_type, request_date=WEEK, days=4, recorded_at=NOW
    )
    client = Client()
    client.force_login(clinic.user(Role.EXECUTIVE))

    page = client.get(f"/schedule/metrics/?{QUERY}")
    api = Client().get(f"/api/scheduling/metrics?{QUERY}", headers=api_headers(clinic, Role.ADMIN))

    assert page.status_code == 200 and api.status_code == 200
    html = page.content.decode()
    data = page_data(html)
    assert data == api.json()
    assert data["outcomes"]["no_show_rate"] == 0.2
    assert (data["fill"]["freed"], data["fill"]["rebooked"]) == (3, 1)
    assert data["third_next_available"][0]["days"] == 4
    assert '<strong data-testid="no-show-rate">20 %</strong>' in html
    assert '<strong data-testid="fill-rate">33 %</strong>' in html
    assert 'src="/static/vendor/plotly.min.js"' in html
    assert "<script>" not in html  # no inline script under the CSP


def test_plotly_is_served_as_our_own_static_file(clinic: Clinic) -> None:
    from django.contrib.staticfiles import finders

    found = finders.find("vendor/plotly.min.js")

    assert isinstance(found, str) and found.endswith("plotly.min.js")
    with open(found, encoding="utf-8") as script:
        assert "plotly.js" in script.read(300)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.EXECUTIVE, 200),
        (Role.ADMIN, 200),
        (Role.SCHEDULING_LEAD, 200),
        (Role.SCHEDULER, 403),
        (Role.MARKETER, 403),
    ],
)
def test_who_may_see_the_metrics(clinic: Clinic, role: str, status: int) -> None:
    client = Client()
    client.force_login(clinic.user(role))

    page = client.get("/schedule/metrics/")
    api = Client().get("/api/scheduling/metrics", headers=api_headers(clinic, role))

    assert (page.status_code, api.status_code) == (status, status)


def test_the_scheduling_lead_is_a_scheduler_who_may_also_see_the_metrics(clinic: Clinic) -> None:
    lead, scheduler = clinic.user(Role.SCHEDULING_LEAD), clinic.user(Role.SCHEDULER)
    lead_client, scheduler_client = Client(), Client()
    lead_client.force_login(lead)
    scheduler_client.force_login(scheduler)

    refused = scheduler_client.get("/schedule/metrics/")
    shown = lead_client.get("/schedule/metrics/")

    assert (refused.status_code, shown.status_code) == (403, 200)
    assert permissions_for_role(Role.SCHEDULING_LEAD) == permissions_for_role(Role.SCHEDULER) | {
        Permission.VIEW_ACCESS_METRICS
    }
    denied = AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED)
    assert list(denied.values_list("actor_id", "resource_type")) == [
        (scheduler.pk, "AccessMetrics")
    ]


def test_anonymous_callers_are_refused(clinic: Clinic) -> None:
    page = Client().get("/schedule/metrics/")
    api = Client().get("/api/scheduling/metrics")

    assert page.status_code == 302 and "/login" in page["Location"]
    assert api.status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-05-24&to=2026-05-18",
        "from=1000-01-01&to=2026-05-18",
        "from=2025-01-01&to=2026-05-18",
        "from=not-a-date",
        f"visit_type={'0' * 8}-0000-0000-0000-{'0' * 12}",
        "location=nope",
    ],
)
def test_api_refuses_bad_filters_in_the_one_error_shape(clinic: Clinic, query: str) -> None:
    answer = Client().get(
        f"/api/scheduling/metrics?{query}", headers=api_headers(clinic, Role.EXECUTIVE)
    )

    assert answer.status_code in {404, 422}
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
