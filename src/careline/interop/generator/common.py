"""Small helpers shared by the generator modules: ids, dates, references, bundles."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from .codes import UCUM

Resource = dict[str, Any]
T = TypeVar("T")

REFERENCE_DATE = date(2026, 11, 1)
"""The generator's "today": every date is at or before it."""


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability


def weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


def draw_count(rng: random.Random, mean: float) -> int:
    """A cheap Poisson-like count: whole part of the mean plus a coin for the rest."""
    spread = mean * rng.uniform(0.5, 1.5)
    whole = int(spread)
    return whole + (1 if rng.random() < spread - whole else 0)


# --- dates -----------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def years_between(start: date, end: date) -> int:
    before = (end.month, end.day) < (start.month, start.day)
    return end.year - start.year - (1 if before else 0)


def random_day(rng: random.Random, start: date, end: date) -> date:
    span = max(0, (end - start).days)
    return start + timedelta(days=rng.randint(0, span))


def at_time(rng: random.Random, day: date, first_hour: int = 8, last_hour: int = 16) -> datetime:
    clock = time(rng.randint(first_hour, last_hour), rng.choice((0, 15, 30, 45)))
    return datetime.combine(day, clock)


def _nth_sunday(year: int, month: int, nth: int) -> datetime:
    first = date(year, month, 1)
    offset = (6 - first.weekday()) % 7
    return datetime.combine(first + timedelta(days=offset + 7 * (nth - 1)), time(2))


def eastern_offset(moment: datetime) -> str:
    """UTC offset of US Eastern time (DST rules since 2007) for a local wall-clock time."""
    dst = _nth_sunday(moment.year, 3, 2) <= moment < _nth_sunday(moment.year, 11, 1)
    return "-04:00" if dst else "-05:00"


def fhir_datetime(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + eastern_offset(moment)


def fhir_date(day: date) -> str:
    return day.isoformat()


# --- resources -------------------------------------------------------------


def local_ref(resource: Resource) -> dict[str, str]:
    """Reference to a resource of the same bundle."""
    return {"reference": f"urn:uuid:{resource['id']}"}


def directory_ref(resource_type: str, resource_id: str) -> dict[str, str]:
    """Reference to a resource of the directory bundle."""
    return {"reference": f"{resource_type}/{resource_id}"}


def quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def transaction(bundle_id: str, resources: Sequence[Resource]) -> Resource:
    entries = [
        {
            "fullUrl": f"urn:uuid:{resource['id']}",
            "resource": resource,
            "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"},
        }
        for resource in resources
    ]
    timestamp = fhir_datetime(datetime.combine(REFERENCE_DATE, time()))
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "transaction",
        "timestamp": timestamp,
        "entry": entries,
    }


def phone_number(rng: random.Random, area_code: str) -> str:
    """Ten digits in the fictional 555-0100..0199 range."""
    return f"{area_code}55501{rng.randint(0, 99):02d}"


def format_phone(rng: random.Random, digits: str, style: int | None = None) -> str:
    """Render a ten-digit US number in one of the formats seen in real intake data."""
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    formats = (
        f"({area}) {exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        f"{area}{exchange}{line}",
        f"{area}-{exchange}-{line}",
    )
    return formats[rng.randrange(len(formats)) if style is None else style]
