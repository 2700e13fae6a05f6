"""FHIR search values: escaping, tokens, dates with prefixes and partial precision.

Each parser either returns a value or raises ``BadParameter`` naming the parameter, which
the views answer as a 400 OperationOutcome: a caller learns which parameter to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum


class BadParameter(ValueError):
    """A search parameter whose name, modifier or value Careline cannot honour."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def split_or(raw: str) -> list[str]:
    """The comma-separated alternatives of a value (``a,b`` = a OR b), with FHIR's escapes
    (``\\,`` ``\\|`` ``\\$`` ``\\\\``) kept for ``split_token`` and removed by ``unescape``."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(raw):
        character = raw[index]
        if character == "\\" and index + 1 < len(raw):
            current.append(raw[index : index + 2])
            index += 2
            continue
        if character == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def split_token(value: str) -> tuple[str | None, str | None]:
    """``system|code`` → (system, code); ``code`` → (None, code); ``system|`` → (system,
    None); ``|code`` → ("", code)."""
    match = re.match(r"^((?:\\.|[^|\\])*)\|(.*)$", value)
    if match is None:
        return None, unescape(value)
    system, code = unescape(match.group(1)), unescape(match.group(2))
    return system, code or None


class Prefix(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    GT = "gt"
    GE = "ge"
    LE = "le"
    SA = "sa"
    EB = "eb"


LAST_YEAR = 9999
END_OF_TIME = datetime(LAST_YEAR, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
SUPPORTED_PREFIXES = tuple(prefix.value for prefix in Prefix)
_DATE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class DateRange:
    """The instants a search date stands for: ``[start, end)`` in UTC (``2024`` is the
    whole year, ``2024-03-05T10:00Z`` one minute)."""

    start: datetime
    end: datetime
    has_time: bool


@dataclass(frozen=True)
class Bounds:
    """What a prefixed date asks of the target value: within ``[start, end)`` (either may be
    open), or — ``negate`` — outside it."""

    start: datetime | None
    end: datetime | None
    negate: bool = False


def parse_prefixed_date(parameter: str, raw: str) -> Bounds:
    prefix = Prefix.EQ
    if raw[:2].isalpha():
        if raw[:2] not in SUPPORTED_PREFIXES:
            raise BadParameter(
                parameter,
                f"'{parameter}': the prefix '{raw[:2]}' is not supported; use one of "
                f"{', '.join(SUPPORTED_PREFIXES)}.",
            )
        prefix, raw = Prefix(raw[:2]), raw[2:]
    found = parse_date_range(parameter, raw)
    start, end = found.start, found.end
    return {
        Prefix.EQ: Bounds(start, end),
        Prefix.NE: Bounds(start, end, negate=True),
        Prefix.LT: Bounds(None, start),
        Prefix.EB: Bounds(None, start),
        Prefix.GT: Bounds(end, None),
        Prefix.SA: Bounds(end, None),
        Prefix.GE: Bounds(start, None),
        Prefix.LE: Bounds(None, end),
    }[prefix]


def parse_date_range(parameter: str, raw: str) -> DateRange:
    match = _DATE.match(raw)
    problem = (
        f"'{parameter}' needs a date as YYYY, YYYY-MM, YYYY-MM-DD or "
        "YYYY-MM-DDThh:mm[:ss][Z|±hh:mm], optionally after a prefix such as ge or lt."
    )
    if match is None:
        raise BadParameter(parameter, problem)
    parts = match.groupdict()
    try:
        year, month, day = int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1)
        start = datetime(year, month, day, tzinfo=UTC)
        if parts["hour"] is None:
            end = _after(start, year_only=parts["month"] is None, month_only=parts["day"] is None)
            return DateRange(start, end, has_time=False)
        zone = _zone(parts["zone"])
        second = int(parts["second"] or 0)
        hour, minute = int(parts["hour"]), int(parts["minute"])
        start = datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)
        step = timedelta(seconds=1) if parts["second"] else timedelta(minutes=1)
        return DateRange(start, start + step, has_time=True)
    except (ValueError, OverflowError) as error:
        raise BadParameter(parameter, problem) from error


def _after(start: datetime, *, year_only: bool, month_only: bool) -> datetime:
    if year_only:
        if start.year == LAST_YEAR:
            return END_OF_TIME
        return start.replace(year=start.year + 1)
    if month_only:
        if start.month == 12:
            return _after(start.replace(month=1), year_only=True, month_only=False)
        return start.replace(month=start.month + 1)
    return start + timedelta(days=1)


def _zone(text: str | None) -> tzinfo:
    if not text or text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError(text)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def as_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.date()


def parse_count(raw: str, *, maximum: int) -> int:
    """``_count``: a whole number from 0 (a count only) up, capped at ``maximum``."""
    if not raw.isdigit() or len(raw) > 9:
        raise BadParameter("_count", "'_count' must be a whole number from 0.")
    return min(int(raw), maximum)
