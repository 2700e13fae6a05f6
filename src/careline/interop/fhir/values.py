"""Small readers of FHIR datatypes in plain JSON: codings, dates, names, telecom, extensions.

They take the resource as parsed JSON and never raise on odd shapes: a missing or malformed
element reads as empty (validation has already rejected what the model refuses).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

JSON = dict[str, Any]


def as_dict(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: object) -> Iterator[JSON]:
    """The objects in a FHIR array (anything else is ignored)."""
    return (item for item in as_list(value) if isinstance(item, dict))


def text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return ""


def first_coding(concept: object) -> JSON:
    return next(dicts(as_dict(concept).get("coding")), {})


def coding_in(concept: object, system: str) -> JSON:
    """The first coding of a CodeableConcept in ``system``, or {}."""
    return next((c for c in dicts(as_dict(concept).get("coding")) if c.get("system") == system), {})


def concept_code(concept: object) -> tuple[str, str, str]:
    """(code, system, display) of a CodeableConcept's first coding; display falls back to text."""
    coding = first_coding(concept)
    display = text(coding.get("display")) or text(as_dict(concept).get("text"))
    return text(coding.get("code")), text(coding.get("system")), display


def concept_display(concept: object) -> str:
    """What people read: the text, else the first coding's display, else its code."""
    concept = as_dict(concept)
    coding = first_coding(concept)
    return text(concept.get("text")) or text(coding.get("display")) or text(coding.get("code"))


def codes(concept: object) -> set[tuple[str, str]]:
    """Every (system, code) of a CodeableConcept."""
    return {
        (text(c.get("system")), text(c.get("code"))) for c in dicts(as_dict(concept).get("coding"))
    }


def parse_datetime(value: object) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime; a date alone is midnight UTC."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) <= 10:
        day = parse_date(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_date(value: object) -> date | None:
    """A FHIR date (``2020``, ``2020-05`` or ``2020-05-17``; a partial one is its first day)."""
    if not isinstance(value, str):
        return None
    parts = value[:10].split("-")
    try:
        numbers = [int(part) for part in parts]
        return date(numbers[0], *[*numbers[1:], 1, 1][:2])
    except (ValueError, IndexError, TypeError):
        return None


def period_bounds(period: object) -> tuple[datetime | None, datetime | None]:
    period = as_dict(period)
    return parse_datetime(period.get("start")), parse_datetime(period.get("end"))


def choose_name(names: object) -> JSON:
    """The official HumanName, else the usual one, else the first."""
    candidates = list(dicts(names))
    for use in ("official", "usual"):
        for name in candidates:
            if name.get("use") == use:
                return name
    return candidates[0] if candidates else {}


def name_parts(name: JSON) -> tuple[str, str, str, str]:
    """(given names, family, prefix, suffix) of a HumanName."""
    given = " ".join(text(part) for part in as_list(name.get("given")) if text(part))
    prefix = " ".join(text(part) for part in as_list(name.get("prefix")) if text(part))
    suffix = " ".join(text(part) for part in as_list(name.get("suffix")) if text(part))
    family = text(name.get("family"))
    if not given and not family:
        given = text(name.get("text"))
    return given, family, prefix, suffix


def full_name(names: object) -> str:
    given, family, _, _ = name_parts(choose_name(names))
    return " ".join(part for part in (given, family) if part)


def telecom_value(telecoms: object, system: str) -> str:
    """The value of the best-ranked contact point of one system (phone, email, …)."""
    matching = [t for t in dicts(telecoms) if t.get("system") == system and text(t.get("value"))]
    matching.sort(key=_rank)
    return text(matching[0].get("value")) if matching else ""


def _rank(telecom: JSON) -> int:
    rank = telecom.get("rank")
    return rank if isinstance(rank, int) else 1_000


def extension(element: object, url: str) -> JSON:
    return next((e for e in dicts(as_dict(element).get("extension")) if e.get("url") == url), {})


def sub_extension_value(element: JSON, url: str, key: str) -> Any:
    return extension(element, url).get(key)


def identifier_value(identifiers: object, system: str) -> str:
    return next((text(i.get("value")) for i in dicts(identifiers) if i.get("system") == system), "")


def address_parts(address: JSON) -> tuple[str, str, str, str]:
    """(lines joined, city, state, postal code) of an Address."""
    line = ", ".join(text(part) for part in as_list(address.get("line")) if text(part))
    return (
        line,
        text(address.get("city")),
        text(address.get("state")),
        text(address.get("postalCode")),
    )
