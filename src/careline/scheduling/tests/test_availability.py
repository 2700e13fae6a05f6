"""Template expansion: hours, breaks, reserved and frozen blocks, exceptions, booking windows,
and daylight-saving changeover days — exact slots, then properties under hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from careline.scheduling.availability import (
    BREAK,
    RESERVED,
    BlockSpec,
    Interval,
    TemplateSpec,
    booking_window,
    expand,
    local_instant,
    offers_slot,
)

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)
SPRING_FORWARD = date(2026, 3, 8)  # a Sunday: 02:00 EST → 03:00 EDT
FALL_BACK = date(2026, 11, 1)  # a Sunday: 02:00 EDT → 01:00 EST
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def template(**fields) -> TemplateSpec:
    values: dict[str, Any] = {
        "id": 1,
        "practitioner_id": 7,
        "location_id": 3,
        "weekday": 0,
        "start": time(9),
        "end": time(11),
        "slot_minutes": 30,
        "effective_from": date(2026, 1, 1),
    }
    values.update(fields)
    return TemplateSpec(**values)


def local_starts(spec: TemplateSpec, day: date, *, visit_type_id: int = 1, **kwargs) -> list[str]:
    kwargs.setdefault("duration_minutes", 30)
    kwargs.setdefault("now", LONG_AGO)
    return [
        f"{candidate.starts_at.astimezone(NEW_YORK):%H:%M}"
        for candidate in expand(spec, day, NEW_YORK, visit_type_id=visit_type_id, **kwargs)
    ]


def test_a_session_yields_every_slot_that_ends_by_its_end() -> None:
    assert local_starts(template(), MONDAY) == ["09:00", "09:30", "10:00", "10:30"]
    assert local_starts(template(), MONDAY, duration_minutes=45) == ["09:00", "09:30", "10:00"]


def test_slots_are_utc_instants_of_the_local_hours() -> None:
    first = next(
        expand(template(), MONDAY, NEW_YORK, duration_minutes=30, visit_type_id=1, now=LONG_AGO)
    )
    assert first.starts_at == datetime(2026, 6, 1, 13, 0, tzinfo=UTC)  # EDT is UTC-4
    assert (first.practitioner_id, first.location_id, first.template_id) == (7, 3, 1)


def test_other_weekdays_and_days_outside_the_effective_range_yield_nothing() -> None:
    assert local_starts(template(), MONDAY + timedelta(days=1)) == []
    assert local_starts(template(effective_from=date(2026, 6, 2)), MONDAY) == []
    assert local_starts(template(effective_to=date(2026, 5, 31)), MONDAY) == []
    assert local_starts(template(effective_to=MONDAY), MONDAY) != []


def test_a_template_limited_to_visit_types_offers_only_those() -> None:
    limited = template(visit_type_ids=frozenset({5}))
    assert local_starts(limited, MONDAY, visit_type_id=1) == []
    assert local_starts(limited, MONDAY, visit_type_id=5) == ["09:00", "09:30", "10:00", "10:30"]


def test_a_break_is_never_booked() -> None:
    spec = template(blocks=(BlockSpec(BREAK, time(9, 45), time(10, 0)),), slot_minutes=15)
    assert local_starts(spec, MONDAY) == ["09:00", "09:15", "10:00", "10:15", "10:30"]


def test_a_reserved_block_takes_only_its_visit_type_until_released() -> None:
    block = BlockSpec(RESERVED, time(10), time(11), visit_type_id=5, release_minutes_before=60)
    spec = template(blocks=(block,))
    before_release = datetime(2026, 6, 1, 12, 59, tzinfo=UTC)  # 08:59 local
    after_release = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)  # 09:00, an hour before 10:00
    assert local_starts(spec, MONDAY, visit_type_id=1, now=before_release) == ["09:00", "09:30"]
    assert local_starts(spec, MONDAY, visit_type_id=5, now=before_release) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
    ]
    assert local_starts(spec, MONDAY, visit_type_id=1, now=after_release) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
    ]


def test_a_frozen_block_takes_nothing_and_without_a_release_never_opens() -> None:
    spec = template(blocks=(BlockSpec(RESERVED, time(9), time(10)),))
    on_the_day = datetime(2026, 6, 1, 13, 55, tzinfo=UTC)
    assert local_starts(spec, MONDAY, visit_type_id=1, now=on_the_day) == ["10:00", "10:30"]


def test_exceptions_remove_the_slots_they_touch() -> None:
    leave = Interval(
        datetime(2026, 6, 1, 13, 40, tzinfo=UTC), datetime(2026, 6, 1, 14, 10, tzinfo=UTC)
    )
    assert local_starts(template(), MONDAY, exceptions=[leave]) == ["09:00", "10:30"]


def test_spring_forward_day_session_is_an_hour_shorter_in_real_time() -> None:
    spec = template(weekday=6, start=time(1), end=time(4), slot_minutes=30)
    assert local_starts(spec, SPRING_FORWARD, duration_minutes=30) == [
        "01:00",
        "01:30",
        "03:00",
        "03:30",
    ]


def test_fall_back_day_session_repeats_the_hour() -> None:
    spec = template(weekday=6, start=time(0, 30), end=time(2), slot_minutes=30)
    candidates = list(
        expand(spec, FALL_BACK, NEW_YORK, duration_minutes=30, visit_type_id=1, now=LONG_AGO)
    )
    assert [f"{c.starts_at.astimezone(NEW_YORK):%H:%M %Z}" for c in candidates] == [
        "00:30 EDT",
        "01:00 EDT",
        "01:30 EDT",
        "01:00 EST",
        "01:30 EST",
    ]


def test_booking_window_minimum_notice_horizon_and_same_day_cutoff() -> None:
    now = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)  # 14:00 in New York
    window = booking_window(
        now=now,
        zone=NEW_YORK,
        minimum_notice_minutes=120,
        maximum_horizon_days=30,
        same_day_cutoff=time(12),
    )
    assert window.closed_day == MONDAY
    assert not window.admits(datetime(2026, 6, 1, 21, 0, tzinfo=UTC), NEW_YORK)  # same day
    assert window.admits(datetime(2026, 6, 2, 13, 0, tzinfo=UTC), NEW_YORK)
    assert not window.admits(now + timedelta(days=30), NEW_YORK)
    morning = booking_window(
        now=datetime(2026, 6, 1, 13, 0, tzinfo=UTC),
        zone=NEW_YORK,
        minimum_notice_minutes=120,
        maximum_horizon_days=30,
        same_day_cutoff=time(12),
    )
    assert morning.closed_day is None
    assert not morning.admits(datetime(2026, 6, 1, 14, 59, tzinfo=UTC), NEW_YORK)
    assert morning.admits(datetime(2026, 6, 1, 15, 0, tzinfo=UTC), NEW_YORK)


def test_offers_slot_agrees_with_expansion() -> None:
    spec = template(blocks=(BlockSpec(BREAK, time(10), time(10, 30)),))
    kwargs: dict[str, Any] = {"duration_minutes": 30, "visit_type_id": 1, "now": LONG_AGO}
    at = datetime(2026, 6, 1, 13, 30, tzinfo=UTC)  # 09:30 local
    assert offers_slot([spec], NEW_YORK, starts_at=at, **kwargs)
    assert not offers_slot([spec], NEW_YORK, starts_at=at + timedelta(minutes=30), **kwargs)
    assert not offers_slot([spec], NEW_YORK, starts_at=at + timedelta(minutes=5), **kwargs)


# --- properties ---------------------------------------------------------------------------

DAYS = st.sampled_from(
    [SPRING_FORWARD, FALL_BACK, MONDAY, date(2026, 3, 9), date(2026, 10, 31), date(2026, 11, 2)]
)
ZONES = st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"])
QUARTERS = st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def sessions(draw):
    day = draw(DAYS)
    start, end = sorted(draw(st.lists(QUARTERS, min_size=2, max_size=2, unique=True)))
    blocks = []
    for _ in range(draw(st.integers(0, 3))):
        block_start, block_end = sorted(
            draw(st.lists(QUARTERS, min_size=2, max_size=2, unique=True))
        )
        kind = draw(st.sampled_from([BREAK, RESERVED]))
        visit_type = draw(st.sampled_from([None, 1, 2])) if kind == RESERVED else None
        release = draw(st.sampled_from([None, 30])) if kind == RESERVED else None
        blocks.append(BlockSpec(kind, block_start, block_end, visit_type, release))
    spec = template(
        weekday=day.weekday(),
        start=start,
        end=end,
        slot_minutes=draw(st.sampled_from([5, 10, 15, 20, 30])),
        blocks=tuple(blocks),
    )
    return day, spec


@settings(max_examples=300, deadline=None)
@given(
    session=sessions(),
    zone_name=ZONES,
    duration=st.sampled_from([5, 15, 20, 30, 45, 60]),
    visit_type_id=st.sampled_from([1, 2]),
    exception_hours=st.lists(st.tuples(st.integers(-2, 30), st.integers(1, 180)), max_size=2),
)
def test_expansion_never_yields_a_slot_outside_hours_or_in_a_break_or_exception(
    session, zone_name, duration, visit_type_id, exception_hours
) -> None:
    day, spec = session
    zone = ZoneInfo(zone_name)
    midnight = local_instant(day, time(0), zone)
    exceptions = [
        Interval(
            midnight + timedelta(hours=offset), midnight + timedelta(hours=offset, minutes=length)
        )
        for offset, length in exception_hours
    ]
    now = LONG_AGO
    candidates = list(
        expand(
            spec,
            day,
            zone,
            duration_minutes=duration,
            visit_type_id=visit_type_id,
            now=now,
            exceptions=exceptions,
        )
    )
    session_start = local_instant(day, spec.start, zone)
    session_end = local_instant(day, spec.end, zone)
    for candidate in candidates:
        assert candidate.ends_at - candidate.starts_at == timedelta(minutes=duration)
        assert session_start <= candidate.starts_at
        assert candidate.ends_at <= session_end
        assert candidate.starts_at.astimezone(zone).date() == day
        assert (candidate.starts_at - session_start) % timedelta(
            minutes=spec.slot_minutes
        ) == timedelta(0)
        for exception in exceptions:
            assert not exception.overlaps(candidate.starts_at, candidate.ends_at)
        for block in spec.blocks:
            interval = Interval(
                local_instant(day, block.start, zone), local_instant(day, block.end, zone)
            )
            closed = block.kind == BREAK or block.visit_type_id != visit_type_id
            if closed and block.release_minutes_before is None:
                assert not interval.overlaps(candidate.starts_at, candidate.ends_at)
    starts = [candidate.starts_at for candidate in candidates]
    assert starts == sorted(set(starts))
    for candidate in candidates:
        assert offers_slot(
            [spec],
            zone,
            starts_at=candidate.starts_at,
            duration_minutes=duration,
            visit_type_id=visit_type_id,
            now=now,
            exceptions=exceptions,
        )
