"""Appointments, schedules and slots as FHIR R4 Appointment, Schedule and Slot.

Ids are Careline's public ids (never a primary key): an appointment's ``public_id``; a
schedule — a practitioner's templates at a location — and a free slot have no row of their
own, so their ids are name-based UUIDs of what they are (the same slot always has the same
id). References name Patient, Practitioner and Location by public id; no names of patients.

An imported appointment carries the EHR's identifier (source system and id) and status as
the EHR said it; its visit is the EHR's text when no catalog visit type matched. Every
resource is checked against the R4B model before it is returned: an invalid one is a bug.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from careline.directory.visit_types import IMPORTED_VISIT_TYPE_CODE
from careline.interop.fhir.validation import model_class
from careline.interop.fhir.values import JSON

if TYPE_CHECKING:
    from careline.scheduling.models import Appointment
    from careline.scheduling.selectors import ScheduleInfo, SlotOption

VISIT_TYPE_SYSTEM = "https://careline.health/fhir/CodeSystem/visit-type"
CANCELLATION_REASONS = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
_NAMESPACE = uuid.UUID("6f0c4c52-5f7e-4c1b-9a57-1b0d3f6a7c21")
STATUSES = {  # Careline status → FHIR Appointment.status
    "booked": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
    "bumped": "cancelled",
}
CANCEL_CODES = {"patient": "pat", "provider": "prov", "weather": "oth-weath", "other": "other"}


def appointment_resource(appointment: Appointment) -> JSON:
    """An appointment (with its patient, practitioner, location and visit type loaded)."""
    resource: JSON = {
        "resourceType": "Appointment",
        "id": str(appointment.public_id),
        "status": appointment.source_status or STATUSES[appointment.status],
        "serviceType": [_visit(appointment)],
        "start": _instant(appointment.starts_at),
        "end": _instant(appointment.ends_at),
        "minutesDuration": int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        "created": _instant(appointment.created_at),
        "participant": [
            _participant(f"Patient/{appointment.patient.public_id}"),
            _participant(f"Practitioner/{appointment.practitioner.public_id}"),
            _participant(f"Location/{appointment.location.public_id}"),
        ],
    }
    if appointment.is_imported:
        resource["identifier"] = [
            {"system": appointment.source_system, "value": appointment.source_id}
        ]
    reason = appointment.cancel_reason or ("provider" if appointment.status == "bumped" else "")
    if reason:
        coding = {"system": CANCELLATION_REASONS, "code": CANCEL_CODES[reason]}
        resource["cancelationReason"] = {
            "coding": [coding],
            **({"text": appointment.cancel_note} if appointment.cancel_note else {}),
        }
    if appointment.conflict_note:
        resource["comment"] = appointment.conflict_note
    return _checked(resource)


def schedule_id(practitioner_id: uuid.UUID, location_id: uuid.UUID) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"schedule:{practitioner_id}:{location_id}"))


def schedule_resource(schedule: ScheduleInfo) -> JSON:
    horizon: JSON = {"start": _instant(_midnight(schedule.effective_from))}
    if schedule.effective_to is not None:
        horizon["end"] = _instant(_midnight(schedule.effective_to, end=True))
    return _checked(
        {
            "resourceType": "Schedule",
            "id": schedule_id(schedule.practitioner_id, schedule.location_id),
            "active": True,
            "actor": [
                {
                    "reference": f"Practitioner/{schedule.practitioner_id}",
                    "display": schedule.practitioner_name,
                },
                {
                    "reference": f"Location/{schedule.location_id}",
                    "display": schedule.location_name,
                },
            ],
            "planningHorizon": horizon,
        }
    )


def slot_resource(option: SlotOption, *, visit_type_code: str = "") -> JSON:
    """A free slot the search offers, on its practitioner's schedule at the location."""
    key = f"slot:{option.practitioner_id}:{option.location_id}:{option.visit_type_id}:"
    resource: JSON = {
        "resourceType": "Slot",
        "id": str(uuid.uuid5(_NAMESPACE, key + option.starts_at.isoformat())),
        "schedule": {
            "reference": f"Schedule/{schedule_id(option.practitioner_id, option.location_id)}"
        },
        "status": "free",
        "start": _instant(option.starts_at),
        "end": _instant(option.ends_at),
    }
    if visit_type_code:
        resource["serviceType"] = [
            {"coding": [{"system": VISIT_TYPE_SYSTEM, "code": visit_type_code}]}
        ]
    return _checked(resource)


def _visit(appointment: Appointment) -> JSON:
    visit_type = appointment.visit_type
    if visit_type.code == IMPORTED_VISIT_TYPE_CODE:
        return {"text": appointment.visit_text or visit_type.name}
    coding = {"system": VISIT_TYPE_SYSTEM, "code": visit_type.code, "display": visit_type.name}
    return {"coding": [coding], "text": appointment.visit_text or visit_type.name}


def _participant(reference: str) -> JSON:
    return {"actor": {"reference": reference}, "required": "required", "status": "accepted"}


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _midnight(day: date, *, end: bool = False) -> datetime:
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC).replace(microsecond=0)


def _checked(resource: dict[str, Any]) -> JSON:
    model_class(str(resource["resourceType"])).model_validate(resource)
    return resource
