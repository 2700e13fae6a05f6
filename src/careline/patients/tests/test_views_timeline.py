"""The timeline partial of the 360 page: filter by kind and dates, page back with "older"."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.patients.tests.ui_support import (
    HTMX,
    audit_rows,
    grant_for,
    patient_in_scope_of,
    signed_in,
)
from careline.platform.permissions import Role
from careline.testing.factories import PatientFactory, TimelineEventFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _url(patient, **query):
    return reverse("patients:timeline", args=[patient.public_id])


def _titles(response):
    return re.findall(r'<p class="timeline__title">([^<]*)</p>', response.content.decode())


def _events(patient):
    """Five touches of three kinds around New Year (clinic time zone: America/New_York)."""
    for title, kind, occurred_at in (
        ("Registered", "registration", dt.datetime(2025, 12, 1, 15, tzinfo=UTC)),
        ("Call on New Year's Eve, 11 pm", "call", dt.datetime(2026, 1, 1, 4, tzinfo=UTC)),
        ("Reminder text", "message", dt.datetime(2026, 1, 1, 14, tzinfo=UTC)),
        ("Call back", "call", dt.datetime(2026, 1, 2, 16, tzinfo=UTC)),
        ("Late call, Jan 2 local", "call", dt.datetime(2026, 1, 3, 3, tzinfo=UTC)),
    ):
        TimelineEventFactory.create(
            patient=patient, title=title, kind=kind, occurred_at=occurred_at
        )


@pytest.fixture
def signed_in_user(client, make_user):
    user = make_user()
    signed_in(client, user)
    return user


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(_url(PatientFactory.create()), headers=HTMX)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_role_without_patient_access_gets_403(client, make_user):
    user = make_user(role=Role.MARKETER)
    patient = patient_in_scope_of(user)
    TimelineEventFactory.create(patient=patient, title="Secret call")
    signed_in(client, user)

    response = client.get(_url(patient), headers=HTMX)

    assert response.status_code == 403
    assert "Secret call" not in response.content.decode()
    assert audit_rows() == [("access_denied", "Timeline", patient.public_id, False)]


def test_out_of_scope_without_break_glass_shows_no_event(client, signed_in_user):
    patient = PatientFactory.create()
    TimelineEventFactory.create(patient=patient, title="Secret call")

    response = client.get(_url(patient), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 403
    assert "Access requires a reason." in html
    assert "Secret call" not in html
    assert audit_rows() == [("access_denied", "Timeline", patient.public_id, False)]


def test_out_of_scope_with_break_glass_is_flagged(client, signed_in_user):
    patient = PatientFactory.create()
    TimelineEventFactory.create(patient=patient, title="Needed call")
    grant_for(signed_in_user, patient)

    response = client.get(_url(patient), headers=HTMX)

    assert response.status_code == 200
    assert _titles(response) == ["Needed call"]
    assert audit_rows(action="read") == [("read", "Timeline", patient.public_id, True)]


def test_unfiltered_is_newest_first_and_audited(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    _events(patient)

    response = client.get(_url(patient), headers=HTMX)

    assert response.status_code == 200
    assert _titles(response) == [
        "Late call, Jan 2 local",
        "Call back",
        "Reminder text",
        "Call on New Year&#x27;s Eve, 11 pm",
        "Registered",
    ]
    assert audit_rows(patient_id=patient.public_id) == [
        ("read", "Timeline", patient.public_id, False)
    ]


def test_filter_by_kind(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    _events(patient)

    response = client.get(_url(patient), {"kind": "call"}, headers=HTMX)

    assert _titles(response) == [
        "Late call, Jan 2 local",
        "Call back",
        "Call on New Year&#x27;s Eve, 11 pm",
    ]


def test_filter_by_dates_is_inclusive_in_the_clinic_time_zone(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    _events(patient)

    response = client.get(
        _url(patient), {"since": "2026-01-01", "until": "2026-01-02"}, headers=HTMX
    )

    # 2026-01-01 04:00 UTC is Dec 31 in Boston; 2026-01-03 03:00 UTC is still Jan 2 there.
    assert _titles(response) == ["Late call, Jan 2 local", "Call back", "Reminder text"]


def test_filter_by_kind_and_dates(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    _events(patient)

    query = {"kind": "call", "since": "2025-12-31", "until": "2026-01-01"}
    response = client.get(_url(patient), query, headers=HTMX)

    assert _titles(response) == ["Call on New Year&#x27;s Eve, 11 pm"]


def test_nothing_matching_says_so(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    _events(patient)

    response = client.get(_url(patient), {"kind": "survey"}, headers=HTMX)

    assert "No touches match this filter." in response.content.decode()


def test_end_before_start_is_refused(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)

    response = client.get(
        _url(patient), {"since": "2026-02-01", "until": "2026-01-01"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "The end date is before the start date." in response.content.decode()
    assert audit_rows(action="read") == []


def test_older_pages_back_keeping_the_filter(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(30):
        TimelineEventFactory.create(
            patient=patient,
            kind="call",
            title=f"Call {hour:02d}",
            occurred_at=start + dt.timedelta(hours=hour),
        )
        TimelineEventFactory.create(
            patient=patient,
            kind="message",
            title=f"Text {hour:02d}",
            occurred_at=start + dt.timedelta(hours=hour),
        )

    first = client.get(_url(patient), {"kind": "call"}, headers=HTMX)
    match = re.search(r'hx-get="([^"]+)"', first.content.decode())
    assert match is not None
    older_url = unescape(match.group(1))
    older = client.get(older_url, headers=HTMX)

    assert _titles(first) == [f"Call {hour:02d}" for hour in range(29, 4, -1)]
    assert "kind=call" in older_url and "cursor=" in older_url
    assert _titles(older) == [f"Call {hour:02d}" for hour in range(4, -1, -1)]
    assert "<ol" not in older.content.decode()  # rows only: they replace the "older" button
    assert 'hx-get="' not in older.content.decode()  # the last page


def _older_url(response):
    match = re.search(r'hx-get="([^"]+)"', response.content.decode())
    return unescape(match.group(1)) if match else None


def test_paging_shows_events_sharing_a_time_exactly_once(client, signed_in_user, monkeypatch):
    monkeypatch.setattr("careline.patients.selectors.TIMELINE_PAGE_SIZE", 7)
    patient = patient_in_scope_of(signed_in_user)
    shared = dt.datetime(2026, 1, 10, 12, tzinfo=UTC)
    times = [shared + dt.timedelta(hours=hour) for hour in range(9, 0, -1)]  # 9 newer
    times += [shared] * 10  # the second page of 7 starts among these
    times += [shared - dt.timedelta(hours=hour) for hour in range(1, 12)]  # 11 older
    for index, occurred_at in enumerate(times):
        TimelineEventFactory.create(patient=patient, title=f"E{index}", occurred_at=occurred_at)
    newest_first = [
        event.title
        for event in sorted(
            patient.timeline.all(), key=lambda e: (e.occurred_at, e.public_id), reverse=True
        )
    ]

    response = client.get(_url(patient), headers=HTMX)
    pages = [_titles(response)]
    while (older_url := _older_url(response)) is not None:
        assert "cursor=" in older_url
        response = client.get(older_url, headers=HTMX)
        assert response.status_code == 200
        pages.append(_titles(response))

    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    assert [title for page in pages for title in page] == newest_first
    assert sorted(newest_first) == sorted(f"E{index}" for index in range(30))


def test_malformed_cursor_is_refused(client, signed_in_user):
    patient = patient_in_scope_of(signed_in_user)
    _events(patient)

    response = client.get(_url(patient), {"cursor": "not-a-cursor"}, headers=HTMX)

    assert response.status_code == 422
    assert "The page cursor is not valid; start from the first page." in response.content.decode()
    assert _titles(response) == []
    assert audit_rows(action="read") == []


def _touches(patient, count, first=0):
    """``count`` events titled "Touch 00", "Touch 01", …, each an hour older than the last."""
    for number in range(first, first + count):
        TimelineEventFactory.create(
            patient=patient,
            title=f"Touch {number:02d}",
            occurred_at=dt.datetime(2026, 1, 10, tzinfo=UTC) - dt.timedelta(hours=number),
        )
    return [f"Touch {number:02d}" for number in range(first, first + count)]


def test_older_page_costs_the_queries_of_the_first(
    client, signed_in_user, django_assert_num_queries
):
    patient = patient_in_scope_of(signed_in_user)
    titles = _touches(patient, 40)
    client.get(reverse("patients:search"))

    with CaptureQueriesContext(connection) as first:
        response = client.get(_url(patient), headers=HTMX)
    with django_assert_num_queries(len(first.captured_queries)):
        older = client.get(_older_url(response), headers=HTMX)

    assert (response.status_code, _titles(response)) == (200, titles[:25])
    assert (older.status_code, _titles(older)) == (200, titles[25:])
    assert _older_url(older) is None


def test_query_count_does_not_grow_with_history(client, signed_in_user, django_assert_num_queries):
    short = patient_in_scope_of(signed_in_user)
    long = patient_in_scope_of(signed_in_user)
    TimelineEventFactory.create(patient=short, title="The only touch")
    titles = _touches(long, 40)
    client.get(reverse("patients:search"))

    with CaptureQueriesContext(connection) as first:
        short_page = client.get(_url(short), headers=HTMX)
    with django_assert_num_queries(len(first.captured_queries)):
        long_page = client.get(_url(long), headers=HTMX)

    assert (short_page.status_code, _titles(short_page)) == (200, ["The only touch"])
    assert (long_page.status_code, _titles(long_page)) == (200, titles[:25])
