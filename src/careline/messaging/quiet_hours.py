"""Quiet hours in the patient's own time zone.

Her time zone is her stated preference, else the one of her ZIP code (``zipcodes``), else the
one of her phone's area code (derived from the same ZIP data), else the organisation's. The
allowed window is the federal 08:00-21:00 local, narrowed by her state's stricter rule (data:
``STATE_WINDOWS``, overridable with ``CARELINE_MESSAGING_STATE_WINDOWS``) and by her own quiet
hours. A send outside the window is deferred to the next allowed instant, computed on the
local calendar so daylight-saving changeover days keep the same wall-clock window.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zipcodes
from django.conf import settings

FEDERAL_WINDOW = (time(8, 0), time(21, 0))
# State laws stricter than the federal TCPA window (telephone solicitation statutes):
# Florida (Fla. Stat. 501.059), Oklahoma (15 O.S. 775C.4), Maryland (Stop the Spam Calls
# Act), Washington (RCW 80.36.390): 08:00-20:00 local.
STATE_WINDOWS: dict[str, tuple[time, time]] = {
    "FL": (time(8, 0), time(20, 0)),
    "OK": (time(8, 0), time(20, 0)),
    "MD": (time(8, 0), time(20, 0)),
    "WA": (time(8, 0), time(20, 0)),
}


@dataclass(frozen=True, slots=True)
class Window:
    """The local hours [start, end) in which a message may arrive."""

    start: time
    end: time


def _parse_windows(text: str) -> dict[str, tuple[time, time]]:
    """``"FL=08:00-20:00,TX=09:00-21:00"`` → {state: (start, end)}."""
    windows: dict[str, tuple[time, time]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        state, _, hours = item.partition("=")
        start, _, end = hours.partition("-")
        windows[state.strip().upper()] = (time.fromisoformat(start), time.fromisoformat(end))
    return windows


def state_windows() -> dict[str, tuple[time, time]]:
    return {**STATE_WINDOWS, **_parse_windows(settings.CARELINE_MESSAGING_STATE_WINDOWS)}


def window_for(*, state: str, own_start: time | None = None, own_end: time | None = None) -> Window:
    """The federal window narrowed by the state rule and by the patient's own quiet hours
    (``own_start``-``own_end`` is when she does NOT want messages, e.g. 20:00-09:00)."""
    start, end = FEDERAL_WINDOW
    state_rule = state_windows().get(state.strip().upper())
    if state_rule:
        start, end = max(start, state_rule[0]), min(end, state_rule[1])
    if own_start is not None and own_end is not None and own_start > own_end:
        # Quiet overnight: allowed from her end-of-quiet to her start-of-quiet.
        start, end = max(start, own_end), min(end, own_start)
    return Window(start, end) if start < end else Window(*FEDERAL_WINDOW)


@functools.cache
def _area_code_zones() -> dict[str, str]:
    """Area code → the time zone most of its ZIP codes are in (built once, ~2 s)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for row in zipcodes.list_all():  # type: ignore[no-untyped-call]
        if row.get("timezone"):
            for code in row.get("area_codes") or ():
                votes[code][row["timezone"]] += 1
    return {code: counter.most_common(1)[0][0] for code, counter in votes.items()}


@functools.cache
def zone_for_zip(postal_code: str) -> str:
    digits = postal_code.strip()[:5]
    if len(digits) != 5 or not digits.isdigit():
        return ""
    try:
        found = zipcodes.matching(digits)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError):
        return ""
    return str(found[0].get("timezone") or "") if found else ""


def zone_for_phone(number: str) -> str:
    """A North American E.164 number's area code → time zone ("" if unknown)."""
    if not number.startswith("+1") or len(number) != 12:
        return ""
    return _area_code_zones().get(number[2:5], "")


def resolve_zone(*, preference: str, postal_code: str, phone: str) -> ZoneInfo:
    for name in (preference, zone_for_zip(postal_code), zone_for_phone(phone)):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo(settings.CARELINE_TIME_ZONE)


def _local(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The instant the wall clock in ``zone`` shows ``at`` on ``day``'s date. A wall time
    skipped by a spring-forward change resolves to the instant just after the gap."""
    naive = datetime.combine(day.date(), at)
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:  # in a gap: the first valid instant after
        return aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return aware


def next_allowed(moment: datetime, *, zone: ZoneInfo, window: Window) -> datetime:
    """``moment`` if it falls inside today's local window, else the next window's start."""
    local = moment.astimezone(zone)
    for offset in range(3):
        day = local + timedelta(days=offset)
        start = _local(day, window.start, zone)
        end = _local(day, window.end, zone)
        if moment < start:
            return start
        if moment < end:
            return moment
    raise AssertionError("a daily window always opens within two days")  # pragma: no cover
