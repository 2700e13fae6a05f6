"""Opening hours: the stored FHIR shape, its one-line summary, and "open now" locally."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from careline.directory.hours import Opening, is_open_at, parse_hours, summarize_hours, time_zone_of

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CLINIC = [
    {"daysOfWeek": WEEKDAYS, "openingTime": "08:00:00", "closingTime": "17:30:00"},
    {"daysOfWeek": ["sat"], "openingTime": "09:00:00", "closingTime": "12:00:00"},
]
HOSPITAL = [{"daysOfWeek": [*WEEKDAYS, "sat", "sun"], "allDay": True}]
BOSTON = ZoneInfo("America/New_York")


def test_the_generator_and_fhir_shape_parses_into_openings() -> None:
    openings = parse_hours(CLINIC)

    assert openings == (
        *(Opening(day, time(8), time(17, 30)) for day in range(5)),
        Opening(5, time(9), time(12)),
    )


def test_summaries_group_days_with_the_same_hours() -> None:
    assert summarize_hours(parse_hours(CLINIC)) == (
        "Mon\u2013Fri 08:00\u201317:30 · Sat 09:00\u201312:00"
    )
    assert summarize_hours(parse_hours(HOSPITAL)) == "Open 24 hours, every day"
    assert summarize_hours(parse_hours([])) == "Hours unknown"
    split = [
        {"daysOfWeek": ["mon", "wed"], "openingTime": "08:00", "closingTime": "12:00"},
        {"daysOfWeek": ["mon"], "openingTime": "13:00", "closingTime": "17:00"},
    ]
    assert summarize_hours(parse_hours(split)) == (
        "Mon 08:00\u201312:00, 13:00\u201317:00 · Wed 08:00\u201312:00"
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        "Mon-Fri 8-5",
        [{"daysOfWeek": ["funday"], "allDay": True}],
        [{"daysOfWeek": WEEKDAYS, "openingTime": "08:00:00"}],
        [{"daysOfWeek": WEEKDAYS, "openingTime": "8am", "closingTime": "5pm"}],
        [{"openingTime": "08:00:00", "closingTime": "17:00:00"}],
        [["mon"]],
    ],
)
def test_entries_that_say_nothing_leave_the_hours_unknown(value: object) -> None:
    openings = parse_hours(value)

    assert openings == ()
    assert is_open_at(openings, datetime(2026, 11, 23, 15, tzinfo=UTC), BOSTON) is None


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 23, 12, 59, tzinfo=UTC), False),  # Monday 07:59 in Boston
        (datetime(2026, 11, 23, 13, 0, tzinfo=UTC), True),  # Monday 08:00
        (datetime(2026, 11, 23, 22, 29, tzinfo=UTC), True),  # Monday 17:29
        (datetime(2026, 11, 23, 22, 30, tzinfo=UTC), False),  # Monday 17:30: closed
        (datetime(2026, 11, 28, 15, 0, tzinfo=UTC), True),  # Saturday 10:00
        (datetime(2026, 11, 29, 15, 0, tzinfo=UTC), False),  # Sunday 10:00
        (datetime(2026, 7, 6, 12, 30, tzinfo=UTC), True),  # Monday 08:30 EDT (UTC-4)
    ],
)
def test_open_now_is_judged_in_the_location_time_zone(moment: datetime, expected: bool) -> None:
    assert is_open_at(parse_hours(CLINIC), moment, BOSTON) is expected


def test_hours_past_midnight_belong_to_the_day_they_open() -> None:
    night = parse_hours(
        [{"daysOfWeek": ["fri"], "openingTime": "22:00:00", "closingTime": "06:00:00"}]
    )

    assert is_open_at(night, datetime(2026, 11, 28, 4, 0, tzinfo=UTC), BOSTON) is True  # Fri 23:00
    assert is_open_at(night, datetime(2026, 11, 28, 10, 0, tzinfo=UTC), BOSTON) is True  # Sat 05:00
    assert (
        is_open_at(night, datetime(2026, 11, 28, 12, 0, tzinfo=UTC), BOSTON) is False
    )  # Sat 07:00
    assert (
        is_open_at(night, datetime(2026, 11, 27, 10, 0, tzinfo=UTC), BOSTON) is False
    )  # Fri 05:00


def test_all_day_is_open_at_any_hour() -> None:
    assert is_open_at(parse_hours(HOSPITAL), datetime(2026, 11, 29, 8, tzinfo=UTC), BOSTON) is True


def test_the_time_zone_is_the_first_valid_name_else_the_clinic_zone(settings: Any) -> None:
    settings.CARELINE_TIME_ZONE = "America/Phoenix"

    assert time_zone_of("America/Chicago", "America/Denver").key == "America/Chicago"
    assert time_zone_of("", "America/Denver").key == "America/Denver"
    assert time_zone_of("Mars/Olympus", "../etc/passwd").key == "America/Phoenix"
