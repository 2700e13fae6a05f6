"""Opening hours of a location: the one stored shape, its summary and "open now".

``Location.hours`` holds FHIR R4 ``Location.hoursOfOperation`` as imported (the generator
writes the same): a list of

    {"daysOfWeek": ["mon", "tue", …], "allDay": true}
    {"daysOfWeek": ["sat"], "openingTime": "09:00:00", "closingTime": "12:00:00"}

Days are FHIR's ``mon`` … ``sun``; times are local wall-clock ``HH:MM[:SS]`` in the location's
time zone. A closing time at or before the opening time runs past midnight. An entry without
days, or with neither ``allDay`` nor both times, says nothing and is skipped (imported data
is not trusted to be tidy); a location whose entries all say nothing has unknown hours —
never "closed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TO = "\N{EN DASH}"


@dataclass(frozen=True)
class Opening:
    """Open on ``day`` (0 = Monday) from ``opens`` to ``closes``, or all day."""

    day: int
    opens: time | None = None
    closes: time | None = None

    @property
    def day_code(self) -> str:
        return DAYS[self.day]

    @property
    def is_all_day(self) -> bool:
        return self.opens is None

    @property
    def span(self) -> str:
        if self.opens is None or self.closes is None:
            return "24 hours"
        return f"{self.opens:%H:%M}{_TO}{self.closes:%H:%M}"


def parse_hours(value: object) -> tuple[Opening, ...]:
    """The openings of a stored ``hours`` value, by day and time; malformed entries skipped."""
    openings: set[Opening] = set()
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict):
            continue
        days = entry.get("daysOfWeek")
        day_numbers = [DAYS.index(d) for d in days if d in DAYS] if isinstance(days, list) else []
        if entry.get("allDay") is True:
            openings.update(Opening(day) for day in day_numbers)
            continue
        opens, closes = _time(entry.get("openingTime")), _time(entry.get("closingTime"))
        if opens is not None and closes is not None:
            openings.update(Opening(day, opens, closes) for day in day_numbers)
    return tuple(sorted(openings, key=lambda o: (o.day, o.opens or time.min, o.closes)))


def summarize_hours(openings: tuple[Opening, ...]) -> str:
    """E.g. "Mon-Fri 08:00-17:00 · Sat 09:00-12:00" (with en dashes), "Open 24 hours, every
    day", or "Hours unknown" when nothing is known."""
    if not openings:
        return "Hours unknown"
    spans_by_day: dict[int, str] = {}
    for opening in openings:
        spans = spans_by_day.get(opening.day)
        spans_by_day[opening.day] = f"{spans}, {opening.span}" if spans else opening.span
    if len(spans_by_day) == 7 and set(spans_by_day.values()) == {"24 hours"}:
        return "Open 24 hours, every day"
    groups: list[tuple[int, int, str]] = []
    for day in sorted(spans_by_day):
        spans = spans_by_day[day]
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == spans:
            groups[-1] = (groups[-1][0], day, spans)
        else:
            groups.append((day, day, spans))
    return " · ".join(
        f"{_DAY_LABELS[first]}{_TO + _DAY_LABELS[last] if last > first else ''} {spans}"
        for first, last, spans in groups
    )


def is_open_at(openings: tuple[Opening, ...], moment: datetime, zone: ZoneInfo) -> bool | None:
    """Open at ``moment`` (aware) in the location's zone; ``None`` when the hours are unknown."""
    if not openings:
        return None
    local = moment.astimezone(zone)
    today, now = local.weekday(), local.time()
    yesterday = (today - 1) % 7
    for opening in openings:
        if opening.opens is None or opening.closes is None:
            if opening.day == today:
                return True
            continue
        overnight = opening.closes <= opening.opens
        if opening.day == today and (
            opening.opens <= now < opening.closes or (overnight and now >= opening.opens)
        ):
            return True
        if opening.day == yesterday and overnight and now < opening.closes:
            return True
    return False


def time_zone_of(name: str, *fallbacks: str) -> ZoneInfo:
    """The first valid IANA zone among ``name`` and ``fallbacks``, else the clinic's zone."""
    for candidate in (name, *fallbacks, settings.CARELINE_TIME_ZONE):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _time(value: object) -> time | None:
    if not isinstance(value, str):
        return None
    for pattern in ("%H:%M:%S", "%H:%M"):
        try:
            return datetime.strptime(value, pattern).time()  # noqa: DTZ007 (a wall-clock time)
        except ValueError:
            continue
    return None
