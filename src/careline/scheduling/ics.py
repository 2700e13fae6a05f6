"""An appointment as an iCalendar file (RFC 5545) for "add to calendar".

Times are written in UTC (``…Z``): every calendar shows them in its own zone, so the visit
lands at the right local time on any device, across daylight-saving changes, with no
``VTIMEZONE`` to get wrong. The location's zone is named in the description for the reader.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from careline.directory.visit_types import time_zone_of

if TYPE_CHECKING:
    from careline.scheduling.models import Appointment

PRODUCT_ID = "-//Careline//Patient portal//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def appointment_ics(appointment: Appointment, *, stamp: datetime) -> str:
    """The VCALENDAR text of one appointment (its visit type, place and practitioner
    loaded)."""
    zone = time_zone_of(appointment.location.time_zone)
    local = appointment.starts_at.astimezone(zone)
    description = f"With {appointment.practitioner}. Local time: {local:%A %d %B %Y %H:%M} "
    description += f"({zone.key})."
    if appointment.visit_type.preparation_instructions:
        description += f"\nHow to prepare: {appointment.visit_type.preparation_instructions}"
    status = "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{appointment.public_id}@careline",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(appointment.starts_at)}",
        f"DTEND:{_utc(appointment.ends_at)}",
        f"SUMMARY:{_escape(appointment.visit_type.name)}",
        f"LOCATION:{_escape(appointment.location.name)}",
        f"DESCRIPTION:{_escape(description)}",
        f"STATUS:{status}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
