"""Template expansion: which slots a practitioner's weekly hours offer on a day — pure Python.

No database here: ``selectors`` (slot search) and ``services`` (booking) load the rows, turn
them into the specs below and call the same functions, so both agree to the minute.

**Time zones and daylight saving.** Template hours are wall-clock times in the location's
zone. A session's start and end, and each block's, are turned into instants with
``zoneinfo`` (a wall time that does not exist on a spring-forward day is read with the offset
before the change, as ``fold=0`` does; a repeated wall time on a fall-back day is its first
occurrence). Slots then step through *real* time from the session's start every
``slot_minutes``, and a slot is offered only when it ends by the session's end: on a
changeover day a session is an hour shorter or longer, never a slot outside its hours.

**What a slot must avoid.** Breaks always. Exceptions (leave, holidays) always. A reserved
block takes only its visit type; a frozen block (reserved for no type) takes nothing — until
``release_minutes_before`` its start, when either opens to every type. The booking window of
the visit type (minimum notice, same-day cutoff, maximum horizon) applies on top.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BREAK = "break"
RESERVED = "reserved"


@dataclass(frozen=True, slots=True)
class BlockSpec:
    kind: str  # BREAK or RESERVED
    start: time
    end: time
    visit_type_id: int | None = None
    release_minutes_before: int | None = None


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One weekly session of a practitioner at a location, in the location's wall time."""

    id: int
    practitioner_id: int
    location_id: int
    weekday: int  # Monday = 0
    start: time
    end: time
    slot_minutes: int
    effective_from: date
    effective_to: date | None = None
    visit_type_ids: frozenset[int] = frozenset()  # empty: any visit type
    blocks: tuple[BlockSpec, ...] = ()

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )

    def offers(self, visit_type_id: int) -> bool:
        return not self.visit_type_ids or visit_type_id in self.visit_type_ids


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class Candidate:
    """A slot a template offers (before anything booked is taken into account)."""

    starts_at: datetime  # UTC
    ends_at: datetime
    practitioner_id: int
    location_id: int
    template_id: int


@dataclass(frozen=True, slots=True)
class BookingWindow:
    """When a visit type may be booked, seen from ``now``: start in [earliest, latest), and
    not on ``closed_day`` (the location's today, once the same-day cutoff has passed)."""

    earliest: datetime
    latest: datetime
    closed_day: date | None

    def admits(self, starts_at: datetime, zone: ZoneInfo) -> bool:
        if not self.earliest <= starts_at < self.latest:
            return False
        return self.closed_day is None or starts_at.astimezone(zone).date() != self.closed_day


def booking_window(
    *,
    now: datetime,
    zone: ZoneInfo,
    minimum_notice_minutes: int,
    maximum_horizon_days: int,
    same_day_cutoff: time | None,
) -> BookingWindow:
    local_now = now.astimezone(zone)
    closed = None
    if same_day_cutoff is not None and local_now.time() >= same_day_cutoff:
        closed = local_now.date()
    return BookingWindow(
        earliest=now + timedelta(minutes=minimum_notice_minutes),
        latest=now + timedelta(days=maximum_horizon_days),
        closed_day=closed,
    )


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day (fold=0 on changeover days)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local calendar days that [start, end) touches in ``zone``."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def expand(
    template: TemplateSpec,
    day: date,
    zone: ZoneInfo,
    *,
    duration_minutes: int,
    visit_type_id: int,
    now: datetime,
    exceptions: Sequence[Interval] = (),
) -> Iterator[Candidate]:
    """The template's slots for ``visit_type_id`` on local ``day``, earliest first.

    ``exceptions`` are the intervals of leave and closures that concern this practitioner at
    this location. Nothing is yielded if the template does not apply on ``day`` or does not
    offer the visit type.
    """
    if not template.applies_on(day) or not template.offers(visit_type_id):
        return
    session_start, session_end = session_bounds(template, day, zone)
    duration = timedelta(minutes=duration_minutes)
    step = timedelta(minutes=template.slot_minutes)
    closed = _closed_intervals(template, day, zone, visit_type_id=visit_type_id, now=now)
    closed.extend(
        exception for exception in exceptions if exception.overlaps(session_start, session_end)
    )
    starts_at = session_start
    while starts_at + duration <= session_end:
        ends_at = starts_at + duration
        if not any(interval.overlaps(starts_at, ends_at) for interval in closed):
            yield Candidate(
                starts_at, ends_at, template.practitioner_id, template.location_id, template.id
            )
        starts_at += step


def session_bounds(template: TemplateSpec, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a template's session starts and ends on local ``day``."""
    return local_instant(day, template.start, zone), local_instant(day, template.end, zone)


def _closed_intervals(
    template: TemplateSpec, day: date, zone: ZoneInfo, *, visit_type_id: int, now: datetime
) -> list[Interval]:
    """Breaks, and reserved blocks closed to this visit type (not reserved for it, not yet
    released), as instants."""
    closed = []
    for block in template.blocks:
        start = local_instant(day, block.start, zone)
        if block.kind == RESERVED:
            if block.visit_type_id is not None and block.visit_type_id == visit_type_id:
                continue
            release = block.release_minutes_before
            if release is not None and now >= start - timedelta(minutes=release):
                continue
        closed.append(Interval(start, local_instant(day, block.end, zone)))
    return closed


def offers_slot(
    templates: Sequence[TemplateSpec],
    zone: ZoneInfo,
    *,
    starts_at: datetime,
    duration_minutes: int,
    visit_type_id: int,
    now: datetime,
    exceptions: Sequence[Interval] = (),
) -> bool:
    """Whether one of ``templates`` offers exactly this slot — the booking-side question,
    answered by the same expansion the search uses."""
    for day in local_days(starts_at, starts_at + timedelta(minutes=1), zone):
        for template in templates:
            for candidate in expand(
                template,
                day,
                zone,
                duration_minutes=duration_minutes,
                visit_type_id=visit_type_id,
                now=now,
                exceptions=exceptions,
            ):
                if candidate.starts_at == starts_at:
                    return True
                if candidate.starts_at > starts_at:
                    break
    return False


# Why a booked visit is no longer inside its provider's availability (``displacement``).
IN_EXCEPTION = "exception"
OUTSIDE_HOURS = "outside_hours"
IN_CLOSED_BLOCK = "closed_block"


def displacement(
    templates: Sequence[TemplateSpec],
    zone: ZoneInfo,
    *,
    starts_at: datetime,
    ends_at: datetime,
    visit_type_id: int,
    now: datetime,
    exceptions: Sequence[Interval] = (),
) -> str | None:
    """Why ``[starts_at, ends_at)`` is no longer time the practitioner offers this visit type
    — ``IN_EXCEPTION`` (leave, a holiday, a closure), ``IN_CLOSED_BLOCK`` (a break, or a
    block reserved for another type and not released), ``OUTSIDE_HOURS`` (no session of
    ``templates`` that offers the type holds it) — or None when it still is.

    The provider-bump workflow asks this of visits booked before a set-up change. It reads
    the sessions, breaks and blocks exactly as ``expand`` does, but asks whether the visit's
    time lies inside them, not whether it starts on the session's slot grid: a visit booked
    before the slot length changed, or an authorised overbook, is still in the hours.
    """
    if any(exception.overlaps(starts_at, ends_at) for exception in exceptions):
        return IN_EXCEPTION
    finding = OUTSIDE_HOURS
    for day in local_days(starts_at, ends_at, zone):
        for template in templates:
            if not template.applies_on(day) or not template.offers(visit_type_id):
                continue
            session_start, session_end = session_bounds(template, day, zone)
            if not session_start <= starts_at < ends_at <= session_end:
                continue
            closed = _closed_intervals(template, day, zone, visit_type_id=visit_type_id, now=now)
            if not any(interval.overlaps(starts_at, ends_at) for interval in closed):
                return None
            finding = IN_CLOSED_BLOCK
    return finding


def part_of_day(starts_at: datetime, zone: ZoneInfo) -> str:
    """ "am" before local noon, else "pm" — a session, for per-session counts and rules."""
    return "am" if starts_at.astimezone(zone).hour < 12 else "pm"


def session_key(practitioner_id: int, starts_at: datetime, zone: ZoneInfo) -> tuple[int, date, str]:
    """The practitioner's session a slot falls in: (practitioner, local day, am/pm)."""
    local = starts_at.astimezone(zone)
    return practitioner_id, local.date(), part_of_day(starts_at, zone)
