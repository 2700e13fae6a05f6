"""Booking writes: hold, book (one visit or a recurring series), reschedule, cancel, and the
front desk's arrived / no-show / completed.

Every write checks the actor's permission and her access to the patient
(``scheduling.access``: staff by role and scope, a portal account — the patient or her
proxy — by the portal's rule, bound besides by ``self_service``), runs in one transaction,
appends its audit events and a timeline event, and keeps the appointment's history. The
order of a booking:

1. resolve the visit type, practitioner and location; check the time is a slot of the
   practitioner's templates (``availability.offers_slot``, the search's own expansion) and
   inside the visit type's booking window — else ``SlotNotOffered`` naming which;
2. judge the visit-type criteria on the patient's facts — else ``RuleRefusal`` naming the rule;
3. the safety screen, when the visit type asks one: unanswered → ``SafetyScreenRequired``
   with the questions; any "yes" → recorded on the timeline, ``SafetyScreenPositive`` with the
   advice;
4. in the transaction, under the session lock (``occupancy``): expired holds cleared, the
   caller's own hold consumed, provider rules judged with the session's counts, the time of
   the practitioner, the rooms/devices and the patient taken — else ``SlotTaken``, also when
   the database's exclusion constraint refuses a concurrent overlap.

A recurring series is one request: every occurrence is checked and taken in the same
transaction, all or nothing. An authorised overbook (``scheduling.overbook_appointment``,
with a reason) may take a practitioner's or a room's taken time, up to
``CARELINE_OVERBOOK_CAP_PER_SESSION`` per session; never the patient's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from careline.directory.visit_types import list_locations, time_zone_of
from careline.patients.access import PatientAccess, is_self_service
from careline.patients.services import record_timeline_event
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit.services import AuditEntry
from careline.platform.authorization import require_permission
from careline.platform.errors import Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling import occupancy, self_service
from careline.scheduling.booking import (
    Plan,
    SlotRequest,
    access_for_booking,
    as_utc,
    check_offered,
    claim_slot,
    judge_criteria,
    occurrence_starts,
    resolve_slot_request,
    run_booking,
    run_safety_screen,
    take_slots,
)
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    CancelReason,
    Hold,
    Occupancy,
)
from careline.scheduling.waitlist.freed import note_rebooked, record_freed_slot
from careline.scheduling.waitlist.models import FreedSlotCause

# --- recording -------------------------------------------------------------------------------


def _history(
    actor: Actor,
    appointment: Appointment,
    action: str,
    from_status: str,
    details: dict[str, Any] | None = None,
) -> AppointmentHistory:
    return AppointmentHistory(
        appointment=appointment,
        occurred_at=clock.now(),
        action=action,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor.user,
        actor_label=actor.display,
        details=details or {},
    )


def _record(
    actor: Actor,
    access: PatientAccess,
    changes: Sequence[tuple[Appointment, str, str, str]],
    *,
    timeline_title: str,
    details: dict[str, Any] | None = None,
) -> None:
    """History rows, audit entries and one timeline event for (appointment, action, audit
    action, previous status) changes."""
    AppointmentHistory.objects.bulk_create(
        [
            _history(actor, appointment, action, from_status, details)
            for appointment, action, _, from_status in changes
        ]
    )
    audit.record_events(
        actor=actor,
        entries=[
            AuditEntry(
                action=audit_action,
                resource_type="Appointment",
                resource_id=str(appointment.public_id),
                patient_id=access.patient.public_id,
                is_break_glass=access.is_break_glass,
                details={"change": action, **(details or {})},
            )
            for appointment, action, audit_action, _ in changes
        ],
    )
    record_timeline_event(
        actor=actor, patient=access.patient, kind="appointment", title=timeline_title
    )


def _when(appointment: Appointment, zone: ZoneInfo) -> str:
    return f"{appointment.starts_at.astimezone(zone):%a %d %b %Y %H:%M}"


# --- the services ----------------------------------------------------------------------------


def book_appointment(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    visit_type_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    location_id: uuid.UUID,
    starts_at: datetime,
    occurrences: int = 1,
    interval_days: int = 7,
    hold_id: uuid.UUID | None = None,
    safety_answers: Mapping[str, bool] | None = None,
    overbook_reason: str = "",
) -> list[Appointment]:
    """Book one visit, or a series of ``occurrences`` every ``interval_days`` (all or none).

    Returns the appointments, first first. Refusals: see the module docstring.
    """
    access = access_for_booking(actor, patient_id)
    overbook_reason = overbook_reason.strip()
    if overbook_reason:
        require_permission(
            actor,
            Permission.OVERBOOK_APPOINTMENT,
            resource_type="Appointment",
            patient_id=patient_id,
            message="Your role may not overbook.",
        )
    request = resolve_slot_request(
        visit_type_id=visit_type_id, practitioner_id=practitioner_id, location_id=location_id
    )
    now = clock.now()
    starts = occurrence_starts(
        as_utc(starts_at), request.zone, occurrences=occurrences, interval_days=interval_days
    )
    ticket = None
    if is_self_service(actor):
        ticket = self_service.check_self_booking(
            patient=access.patient, visit_type=request.visit_type, starts=starts, zone=request.zone
        )
    check_offered(request, starts, now=now)
    facts = judge_criteria(request, access.patient, now)
    screen = run_safety_screen(actor, access, request.visit_type, safety_answers)
    plan = Plan(
        request=request,
        patient=access.patient,
        facts=facts,
        starts=starts,
        overbook_reason=overbook_reason,
        safety_screen=screen,
        hold_id=hold_id,
        ticket_pk=ticket.pk if ticket is not None else None,
    )

    def work() -> list[Appointment]:
        appointments = take_slots(actor, plan, now)
        note_rebooked(appointments, now=now)
        first = appointments[0]
        series = f" (series of {len(appointments)})" if len(appointments) > 1 else ""
        _record(
            actor,
            access,
            [(appointment, "booked", AuditAction.CREATE, "") for appointment in appointments],
            timeline_title=(
                f"Booked {request.visit_type.name} with {request.practitioner_name}, "
                f"{_when(first, request.zone)} at {request.location.name}{series}"
            ),
            details={"overbook": True} if first.is_overbook else None,
        )
        return appointments

    result: list[Appointment] = run_booking(work)
    return result


def hold_slot(
    *,
    actor: Actor,
    visit_type_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    location_id: uuid.UUID,
    starts_at: datetime,
    patient_id: uuid.UUID | None = None,
    replacing_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> Hold:
    """Keep a slot for ``CARELINE_HOLD_MINUTES`` (or until ``expires_at``: the waitlist holds
    a freed slot while its offers are out) while booking; ``SlotTaken`` if it is gone.
    ``replacing_id``: the patient's appointment this slot would replace (a reschedule)."""
    access = access_for_booking(actor, patient_id) if patient_id is not None else None
    if access is None:
        require_permission(actor, Permission.BOOK_APPOINTMENT, resource_type="Hold")
    request = resolve_slot_request(
        visit_type_id=visit_type_id, practitioner_id=practitioner_id, location_id=location_id
    )
    now = clock.now()
    start = as_utc(starts_at)
    if access is not None and is_self_service(actor):
        self_service.check_self_booking(
            patient=access.patient,
            visit_type=request.visit_type,
            starts=[start],
            zone=request.zone,
            replacing=_rescheduling(access.patient.pk, replacing_id),
        )
    check_offered(request, [start], now=now)
    patient = access.patient if access is not None else None

    def work() -> Hold:
        occupancy.lock_sessions([(request.practitioner_id, start.astimezone(request.zone).date())])
        occupancy.clear_expired_holds(now=now, start=start, end=start + timedelta(days=1))
        hold = Hold(
            practitioner_id=request.practitioner_id,
            location_id=request.location.id,
            visit_type=request.visit_type,
            patient=patient,
            starts_at=start,
            ends_at=start + timedelta(minutes=request.visit_type.duration_minutes),
            expires_at=expires_at or now + timedelta(minutes=settings.CARELINE_HOLD_MINUTES),
            held_by=actor.user,
            created_at=now,
        )
        claim = claim_slot(
            request,
            patient_pk=patient.pk if patient is not None else None,
            starts_at=start,
            own_key=occupancy.own_slot_key("hold", hold.public_id),
            now=now,
        )
        hold.save()
        for row in claim.rows:
            row.hold, row.expires_at = hold, hold.expires_at
        Occupancy.objects.bulk_create(claim.rows)
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="Hold",
            resource_id=str(hold.public_id),
            patient_id=patient.public_id if patient is not None else None,
            is_break_glass=access.is_break_glass if access is not None else False,
        )
        return hold

    result: Hold = run_booking(work)
    return result


def release_hold(*, actor: Actor, hold_id: uuid.UUID) -> None:
    """Let a held slot go before it expires (its occupancy goes with it). A hold for a
    patient needs access to that patient."""
    found = Hold.objects.filter(public_id=hold_id).values_list("patient__public_id").first()
    if found is None:
        raise NotFound("No such hold (it may have expired and been cleared).")
    patient_id = found[0]
    access = access_for_booking(actor, patient_id) if patient_id is not None else None
    if access is None:
        require_permission(actor, Permission.BOOK_APPOINTMENT, resource_type="Hold")
    with transaction.atomic():
        deleted, _ = Hold.objects.filter(public_id=hold_id).delete()
        if not deleted:
            raise NotFound("No such hold (it may have expired and been cleared).")
        audit.record_event(
            actor=actor,
            action=AuditAction.DELETE,
            resource_type="Hold",
            resource_id=str(hold_id),
            patient_id=patient_id,
            is_break_glass=access.is_break_glass if access is not None else False,
        )


def _rescheduling(patient_pk: int, appointment_id: uuid.UUID | None) -> Appointment | None:
    """The patient's own appointment a hold would replace (another patient's: none)."""
    if appointment_id is None:
        return None
    return (
        Appointment.objects.select_related("visit_type")
        .filter(public_id=appointment_id, patient_id=patient_pk)
        .first()
    )


def _appointment_patient(appointment_id: uuid.UUID) -> uuid.UUID:
    patient_id = (
        Appointment.objects.filter(public_id=appointment_id)
        .values_list("patient__public_id", flat=True)
        .first()
    )
    if patient_id is None:
        raise NotFound("No such appointment.")
    return patient_id


def _locked_appointment(appointment_id: uuid.UUID) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("visit_type", "location", "practitioner")
        .get(public_id=appointment_id)
    )


def reschedule_appointment(
    *,
    actor: Actor,
    appointment_id: uuid.UUID,
    starts_at: datetime,
    practitioner_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    reason: str = CancelReason.PATIENT,
    note: str = "",
    hold_id: uuid.UUID | None = None,
) -> Appointment:
    """Move a booked appointment: the new one is booked by the same rules (its time freed
    first, in the same transaction), the old one is cancelled with ``reason`` and linked."""
    access = access_for_booking(actor, _appointment_patient(appointment_id))
    _require_reason(reason)
    current = Appointment.objects.select_related("visit_type", "practitioner", "location").get(
        public_id=appointment_id
    )
    request = resolve_slot_request(
        visit_type_id=current.visit_type.public_id,
        practitioner_id=practitioner_id or current.practitioner.public_id,
        location_id=location_id or current.location.public_id,
    )
    now = clock.now()
    start = as_utc(starts_at)
    ticket = None
    if is_self_service(actor):
        self_service.check_self_change(current, now)
        ticket = self_service.check_self_booking(
            patient=access.patient,
            visit_type=request.visit_type,
            starts=[start],
            zone=request.zone,
            replacing=current,
        )
    check_offered(request, [start], now=now)
    facts = judge_criteria(request, access.patient, now)

    def work() -> Appointment:
        old = _locked_appointment(appointment_id)
        if old.status != AppointmentStatus.BOOKED:
            raise Conflict(
                f"Only a booked appointment can be rescheduled; this one is {old.status}."
            )
        old_zone = time_zone_of(
            list_locations(location_ids=[old.location_id])[old.location_id].time_zone
        )
        occupancy.lock_sessions(
            [
                (old.practitioner_id, old.starts_at.astimezone(old_zone).date()),
                (request.practitioner_id, start.astimezone(request.zone).date()),
            ]
        )
        Occupancy.objects.filter(appointment=old).delete()
        old.status, old.cancel_reason, old.cancel_note = (
            AppointmentStatus.CANCELLED,
            reason,
            note[:300],
        )
        old.cancelled_at = old.updated_at = now
        old.save(
            update_fields=["status", "cancel_reason", "cancel_note", "cancelled_at", "updated_at"]
        )
        plan = Plan(
            request=request,
            patient=access.patient,
            facts=facts,
            starts=[start],
            safety_screen=old.safety_screen,
            hold_id=hold_id,
            rescheduled_from=old,
            is_new_patient=old.is_new_patient,
            ticket_pk=ticket.pk if ticket is not None else None,
        )
        new = take_slots(actor, plan, now)[0]
        note_rebooked([new], now=now)
        record_freed_slot(appointment=old, cause=FreedSlotCause.RESCHEDULE, now=now)
        _record(
            actor,
            access,
            [
                (old, "rescheduled", AuditAction.UPDATE, AppointmentStatus.BOOKED),
                (new, "booked", AuditAction.CREATE, ""),
            ],
            timeline_title=(
                f"Rescheduled {request.visit_type.name} from {_when(old, old_zone)} "
                f"to {_when(new, request.zone)}"
            ),
            details={"reason": reason},
        )
        return new

    result: Appointment = run_booking(work)
    return result


def _require_reason(reason: str) -> None:
    if reason not in CancelReason.values:
        raise ValidationFailed(
            f"reason must be one of: {', '.join(CancelReason.values)}.", details={"field": "reason"}
        )


def cancel_appointment(
    *, actor: Actor, appointment_id: uuid.UUID, reason: str, note: str = ""
) -> Appointment:
    """Cancel a booked appointment with a reason; its time is free at once."""
    access = access_for_booking(actor, _appointment_patient(appointment_id))
    _require_reason(reason)
    now = clock.now()
    with transaction.atomic():
        appointment = _locked_appointment(appointment_id)
        if appointment.status != AppointmentStatus.BOOKED:
            raise Conflict(
                f"Only a booked appointment can be cancelled; this one is {appointment.status}."
            )
        if is_self_service(actor):
            self_service.check_self_change(appointment, now)
        Occupancy.objects.filter(appointment=appointment).delete()
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancel_reason, appointment.cancel_note = reason, note.strip()[:300]
        appointment.cancelled_at = appointment.updated_at = now
        appointment.save(
            update_fields=["status", "cancel_reason", "cancel_note", "cancelled_at", "updated_at"]
        )
        record_freed_slot(appointment=appointment, cause=FreedSlotCause.CANCELLATION, now=now)
        _record(
            actor,
            access,
            [(appointment, "cancelled", AuditAction.UPDATE, AppointmentStatus.BOOKED)],
            timeline_title=(
                f"Cancelled {appointment.visit_type.name} of "
                f"{_when(appointment, time_zone_of(appointment.location.time_zone))} "
                f"({CancelReason(reason).label})"
            ),
            details={"reason": reason},
        )
    return appointment


_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.ARRIVED: frozenset({AppointmentStatus.BOOKED}),
    AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.BOOKED}),
    AppointmentStatus.COMPLETED: frozenset({AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED}),
}


def _change_status(actor: Actor, appointment_id: uuid.UUID, to_status: str) -> Appointment:
    access = access_for_booking(
        actor, _appointment_patient(appointment_id), Permission.CHANGE_APPOINTMENT_STATUS
    )
    now = clock.now()
    with transaction.atomic():
        appointment = _locked_appointment(appointment_id)
        from_status = appointment.status
        if from_status not in _TRANSITIONS[to_status]:
            raise Conflict(
                f"An appointment that is {from_status} cannot be marked {to_status}.",
                details={"status": from_status},
            )
        if to_status == AppointmentStatus.NO_SHOW and now < appointment.starts_at:
            raise Conflict("A no-show can be recorded only once the visit's start has passed.")
        appointment.status, appointment.updated_at = to_status, now
        appointment.save(update_fields=["status", "updated_at"])
        label = AppointmentStatus(to_status).label
        _record(
            actor,
            access,
            [(appointment, to_status, AuditAction.UPDATE, from_status)],
            timeline_title=f"{appointment.visit_type.name}: {label}",
        )
    return appointment


def mark_arrived(*, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    return _change_status(actor, appointment_id, AppointmentStatus.ARRIVED)


def mark_no_show(*, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    return _change_status(actor, appointment_id, AppointmentStatus.NO_SHOW)


def mark_completed(*, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    return _change_status(actor, appointment_id, AppointmentStatus.COMPLETED)


__all__ = [
    "ACTIVE_STATUSES",
    "SlotRequest",
    "book_appointment",
    "cancel_appointment",
    "check_offered",
    "hold_slot",
    "mark_arrived",
    "mark_completed",
    "mark_no_show",
    "occurrence_starts",
    "release_hold",
    "reschedule_appointment",
    "resolve_slot_request",
]
