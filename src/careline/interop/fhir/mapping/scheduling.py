"""Appointment, Schedule and Slot → scheduling; AppointmentResponse is refused with a reason.

The EHR is the source of truth for its own appointments; Careline's availability templates
stay Careline's. The choices, and why:

**Appointment** → a scheduling appointment keyed by (source, id), re-imported idempotently.

- Status: booked and pending → booked; arrived and checked-in → arrived; fulfilled →
  completed; noshow → no-show; cancelled and entered-in-error → cancelled (the EHR's own
  status is kept in ``source_status``, so metrics can leave errors out). proposed and
  waitlist are requests, not booked time: refused with the reason (the waitlist is
  Careline's own).
- A time is required: ``start``, and ``end`` or ``minutesDuration``.
- Participants (a declined one does not count): the patient; every practitioner — the first
  Careline knows is the appointment's, and each known one's time is taken; the location,
  else the location of a named practitioner's role. No practitioner at all, or none known,
  or a location not known: refused with the participant path and the reference.
- Visit type: the first ``serviceType`` or ``appointmentType`` code equal to a catalog code
  (case-folded); else the inactive catalog row "Visit from the EHR". The EHR's name of the
  visit is kept in ``visit_text`` either way.
- Cancel reason from ``cancelationReason`` (appointment-cancellation-reason codes: ``pat*``
  → patient, ``prov*`` → provider, ``oth-weath`` → weather, others → other) with its text.
- Overlap with time already taken in Careline: the EHR's appointment is recorded anyway,
  its occupancy rows are overbook rows (the no-double-booking constraint admits them, and
  Careline's own bookings keep refusing that time), and ``conflict_note`` flags it for staff
  (``scheduling.selectors.list_import_conflicts``). Nothing is dropped and the constraint
  holds. Until staff resolve it, cancelling the Careline appointment leaves the EHR's time
  held only by overbook rows, which new Careline bookings do not see — the conflict list
  is where staff look.

**Schedule** → a source row linked to its first Practitioner and first Location actor (one
of them must be known); it describes whose slots they are, and creates no template.

**Slot** → a source row on its imported schedule. busy, busy-tentative and busy-unavailable
block their time with an availability exception (for the schedule's practitioner, or the
whole location when the schedule has no practitioner): an EHR that sends slots may send no
appointments, and Careline must not book over its busy time. free and entered-in-error are
kept for information only: Careline's templates decide what is bookable.

**AppointmentResponse** is refused: a participant's reply does not change the appointment;
the EHR sends the Appointment with its new status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from careline.interop.fhir.context import Mapping, RefKey, UnitContext, Unmappable
from careline.interop.fhir.values import (
    JSON,
    as_dict,
    concept_display,
    dicts,
    parse_datetime,
    period_bounds,
    text,
)

CANCELLATION_REASONS = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
STATUSES = {
    "booked": "booked",
    "pending": "booked",
    "arrived": "arrived",
    "checked-in": "arrived",
    "fulfilled": "completed",
    "noshow": "no_show",
    "cancelled": "cancelled",
    "entered-in-error": "cancelled",
}
REQUESTS = frozenset({"proposed", "waitlist"})


@dataclass(frozen=True, slots=True)
class AppointmentDetails:
    """What the writer resolves itself: every practitioner named, the visit codes."""

    practitioners: tuple[RefKey, ...]
    visit_codes: tuple[str, ...]


def map_appointment(resource: JSON, context: UnitContext) -> Mapping:
    status = text(resource.get("status"))
    if status in REQUESTS:
        raise Unmappable(
            "Appointment.status",
            f"is {status}: a request for an appointment, not booked time "
            f"(imported: {', '.join(STATUSES)})",
        )
    starts_at, ends_at = _period(resource)
    actors = _participants(resource, context)
    practitioners = tuple(key for key in actors if key.resource_type == "Practitioner")
    if not practitioners:
        raise Unmappable(
            "Appointment.participant",
            "names no Practitioner; Careline keeps an appointment on its practitioner's calendar",
        )
    location = next((key for key in actors if key.resource_type == "Location"), None)
    patient = next((key for key in actors if key.resource_type == "Patient"), None)
    reason, note = _cancellation(resource, status)
    return Mapping(
        fields={
            "status": STATUSES.get(status, "booked"),
            "source_status": status,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "visit_text": _visit_text(resource),
            "cancel_reason": reason,
            "cancel_note": note,
            "cancelled_at": (
                parse_datetime(as_dict(resource.get("meta")).get("lastUpdated")) if reason else None
            ),
        },
        links={"location_id": location} if location is not None else {},
        patient=patient,
        extra=AppointmentDetails(practitioners, _visit_codes(resource)),
    )


def _period(resource: JSON) -> tuple[datetime, datetime]:
    starts_at = parse_datetime(resource.get("start"))
    if starts_at is None:
        raise Unmappable("Appointment.start", "is missing: a booked appointment has a time")
    ends_at = parse_datetime(resource.get("end"))
    minutes = resource.get("minutesDuration")
    if ends_at is None and isinstance(minutes, int) and not isinstance(minutes, bool):
        ends_at = starts_at + timedelta(minutes=minutes)
    if ends_at is None:
        raise Unmappable("Appointment.end", "is missing and there is no minutesDuration")
    if ends_at <= starts_at:
        raise Unmappable("Appointment.end", "is not after the start")
    return starts_at, ends_at


def _participants(resource: JSON, context: UnitContext) -> list[RefKey]:
    """The keys of the participants who have not declined, in order."""
    keys = []
    for participant in dicts(resource.get("participant")):
        if participant.get("status") == "declined":
            continue
        key = context.key(participant.get("actor"))
        if key is not None:
            keys.append(key)
    return keys


def _visit_codes(resource: JSON) -> tuple[str, ...]:
    concepts = [*dicts(resource.get("serviceType")), as_dict(resource.get("appointmentType"))]
    return tuple(
        code
        for concept in concepts
        for coding in dicts(concept.get("coding"))
        if (code := text(coding.get("code")))
    )


def _visit_text(resource: JSON) -> str:
    service = next(dicts(resource.get("serviceType")), None)
    return (
        concept_display(service)
        or concept_display(resource.get("appointmentType"))
        or text(resource.get("description"))
    )


def _cancellation(resource: JSON, status: str) -> tuple[str, str]:
    """(Careline's cancel reason, the EHR's words) of a cancelled appointment."""
    if status not in {"cancelled", "entered-in-error"}:
        return "", ""
    concept = as_dict(resource.get("cancelationReason"))
    code = next(
        (
            text(coding.get("code"))
            for coding in dicts(concept.get("coding"))
            if coding.get("system") == CANCELLATION_REASONS
        ),
        "",
    )
    note = concept_display(concept)
    if status == "entered-in-error":
        return "other", note or "Entered in error in the EHR"
    if code.startswith("pat"):
        return "patient", note
    if code.startswith("prov"):
        return "provider", note
    return ("weather" if code == "oth-weath" else "other"), note


def map_schedule(resource: JSON, context: UnitContext) -> Mapping:
    actors = [context.key(actor) for actor in dicts(resource.get("actor"))]
    practitioner = next((k for k in actors if k and k.resource_type == "Practitioner"), None)
    location = next((k for k in actors if k and k.resource_type == "Location"), None)
    if practitioner is None and location is None:
        raise Unmappable(
            "Schedule.actor",
            "names no Practitioner or Location; Careline keeps the schedules of those only",
        )
    links = {"practitioner_id": practitioner, "location_id": location}
    planning_from, planning_to = period_bounds(resource.get("planningHorizon"))
    service = next(dicts(resource.get("serviceType")), None)
    specialty = next(dicts(resource.get("specialty")), None)
    return Mapping(
        fields={
            "is_active": resource.get("active") is not False,
            "service_text": concept_display(service) or concept_display(specialty),
            "planning_from": planning_from,
            "planning_to": planning_to,
            "comment": text(resource.get("comment")),
        },
        links={name: key for name, key in links.items() if key is not None},
    )


def map_slot(resource: JSON, context: UnitContext) -> Mapping:
    starts_at = parse_datetime(resource.get("start"))
    ends_at = parse_datetime(resource.get("end"))
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise Unmappable("Slot.end", "is not after the start")
    schedule = context.key(resource.get("schedule"), expected="Schedule")
    return Mapping(
        fields={
            "status": text(resource.get("status")),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "is_overbooked": resource.get("overbooked") is True,
            "comment": text(resource.get("comment")),
        },
        extra=schedule,
    )


def map_appointment_response(resource: JSON, context: UnitContext) -> Mapping:
    raise Unmappable(
        "AppointmentResponse",
        "a participant's reply is not imported: it does not change the appointment, and "
        "the EHR sends the Appointment itself with its new status",
    )
