"""Resolving a flagged appointment: bump it, keep it, or reschedule it.

Each checks ``scheduling.resolve_flagged_appointment`` and the actor's access to the patient
(``booking.access_for_booking``), runs in one transaction with the flag and the appointment
locked, audits, and keeps the appointment's history:

- **bump** — the visit ends as ``bumped`` (the metrics' own provider-bump outcome) with a
  reason from ``BumpReason``; its time is offered to the waitlist only if the provider is
  available then after all (a displaced visit's time is not bookable); the patient is told —
  a timeline event and a ``BumpNotice`` the messaging app sends (``notify``) — and, if staff
  ask, put on the waitlist for the same visit type with priority *high*;
- **keep** — staff override (the provider will see the patient anyway): a reason is required;
  the visit stays booked and is not flagged again;
- **reschedule** — ``services.reschedule_appointment`` moves the visit (every booking rule
  applies) with the cancel reason "provider".

All or nothing: if the waitlist refuses the patient (already waiting, a criterion), the bump
is not made either, and the refusal says why.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from careline.directory.visit_types import time_zone_of
from careline.patients.access import PatientAccess
from careline.patients.services import record_timeline_event
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit.services import AuditEntry
from careline.platform.errors import Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.platform.text import require_plain_text
from careline.scheduling import services as booking_services
from careline.scheduling.booking import access_for_booking
from careline.scheduling.bumps.detection import find_displaced
from careline.scheduling.bumps.models import (
    BumpNotice,
    BumpReason,
    FlaggedAppointment,
    FlagResolution,
    FlagStatus,
)
from careline.scheduling.bumps.notify import notify_bumps
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    CancelReason,
    Occupancy,
)
from careline.scheduling.waitlist import services as waitlist_services
from careline.scheduling.waitlist.freed import record_freed_slot
from careline.scheduling.waitlist.models import FreedSlotCause, WaitlistPriority


def _access(actor: Actor, flag_id: uuid.UUID) -> PatientAccess:
    patient_id = (
        FlaggedAppointment.objects.filter(public_id=flag_id)
        .values_list("appointment__patient__public_id", flat=True)
        .first()
    )
    if patient_id is None:
        raise NotFound("No such flagged appointment.")
    return access_for_booking(actor, patient_id, Permission.RESOLVE_FLAGGED_APPOINTMENT)


def _locked_open_flag(flag_id: uuid.UUID) -> tuple[FlaggedAppointment, Appointment]:
    flag = FlaggedAppointment.objects.select_for_update(of=("self",)).get(public_id=flag_id)
    if flag.status != FlagStatus.OPEN:
        raise Conflict(
            "This flag is resolved already "
            f"({FlagResolution(flag.resolution).label.lower()}); reload the list.",
            details={"resolution": flag.resolution},
        )
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("visit_type", "location", "patient")
        .get(pk=flag.appointment_id)
    )
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(
            f"The appointment is {appointment.get_status_display().lower()}, no longer booked; "
            "nothing to resolve.",
            details={"status": appointment.status},
        )
    return flag, appointment


def _resolve(
    flag: FlaggedAppointment,
    actor: Actor,
    resolution: str,
    now: datetime,
    **fields: Any,
) -> None:
    flag.status, flag.resolution = FlagStatus.RESOLVED, resolution
    flag.resolved_by, flag.resolved_at = actor.user, now
    for name, value in fields.items():
        setattr(flag, name, value)
    flag.save(update_fields=["status", "resolution", "resolved_by", "resolved_at", *fields.keys()])


def _audit(
    actor: Actor,
    access: PatientAccess,
    flag: FlaggedAppointment,
    appointment: Appointment,
    resolution: str,
) -> None:
    audit.record_events(
        actor=actor,
        entries=[
            AuditEntry(
                action=AuditAction.UPDATE,
                resource_type=resource_type,
                resource_id=str(public_id),
                patient_id=access.patient.public_id,
                is_break_glass=access.is_break_glass,
                details={"change": f"flag_{resolution}"},
            )
            for resource_type, public_id in (
                ("FlaggedAppointment", flag.public_id),
                ("Appointment", appointment.public_id),
            )
        ],
    )


def _history(
    actor: Actor, appointment: Appointment, action: str, from_status: str, **details: str
) -> None:
    AppointmentHistory.objects.create(
        appointment=appointment,
        occurred_at=clock.now(),
        action=action,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor.user,
        actor_label=actor.display,
        details=details,
    )


def _when(appointment: Appointment) -> str:
    zone = time_zone_of(appointment.location.time_zone)
    return f"{appointment.starts_at.astimezone(zone):%a %d %b %Y %H:%M}"


def bump_appointment(
    *,
    actor: Actor,
    flag_id: uuid.UUID,
    reason: str,
    note: str = "",
    add_to_waitlist: bool = False,
) -> FlaggedAppointment:
    """Cancel a flagged visit as a provider bump; tell the patient; waitlist her if asked."""
    if reason not in BumpReason.values:
        raise ValidationFailed(
            f"reason must be one of: {', '.join(BumpReason.values)}.", details={"field": "reason"}
        )
    require_plain_text(note, field="note", label="The note")
    access = _access(actor, flag_id)
    now = clock.now()
    with transaction.atomic():
        flag, appointment = _locked_open_flag(flag_id)
        provider_available = not find_displaced([appointment], now=now)
        Occupancy.objects.filter(appointment=appointment).delete()
        appointment.status = AppointmentStatus.BUMPED
        appointment.cancel_reason = CancelReason.PROVIDER
        appointment.cancel_note = note.strip()[:300]
        appointment.cancelled_at = appointment.updated_at = now
        appointment.save(
            update_fields=["status", "cancel_reason", "cancel_note", "cancelled_at", "updated_at"]
        )
        if provider_available:
            record_freed_slot(appointment=appointment, cause=FreedSlotCause.CANCELLATION, now=now)
        _resolve(
            flag,
            actor,
            FlagResolution.BUMPED,
            now,
            bump_reason=reason,
            resolution_note=note.strip()[:300],
        )
        _history(actor, appointment, "bumped", AppointmentStatus.BOOKED, reason=reason)
        _audit(actor, access, flag, appointment, FlagResolution.BUMPED)
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=(
                f"Bumped by the provider: {appointment.visit_type.name} of "
                f"{_when(appointment)} ({BumpReason(reason).label})"
            ),
        )
        if add_to_waitlist:
            _waitlist(actor, appointment, now)
        notice = BumpNotice.objects.create(
            flag=flag,
            patient=access.patient,
            appointment=appointment,
            reason=reason,
            is_waitlisted=add_to_waitlist,
            created_at=now,
        )
        notice_id = notice.public_id
        transaction.on_commit(lambda: notify_bumps([notice_id]))
    return flag


def _waitlist(actor: Actor, appointment: Appointment, now: datetime) -> None:
    """The bumped patient waits, with priority high, for the same visit type: from today to
    ``CARELINE_BUMP_WAITLIST_DAYS`` after the bumped visit's day."""
    today = now.astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
    visit_day = appointment.starts_at.astimezone(time_zone_of(appointment.location.time_zone))
    waitlist_services.join_waitlist(
        actor=actor,
        patient_id=appointment.patient.public_id,
        visit_type_id=appointment.visit_type.public_id,
        earliest_date=today,
        latest_date=max(today, visit_day.date())
        + timedelta(days=settings.CARELINE_BUMP_WAITLIST_DAYS),
        priority=WaitlistPriority.HIGH,
        note="Bumped by the provider",
    )


def keep_appointment(*, actor: Actor, flag_id: uuid.UUID, reason: str) -> FlaggedAppointment:
    """Staff override: the visit stays booked (the provider sees the patient anyway)."""
    require_plain_text(reason, field="reason", label="The reason")
    if not reason.strip():
        raise ValidationFailed(
            "Say why the visit is kept (e.g. the provider will see the patient anyway).",
            details={"field": "reason"},
        )
    access = _access(actor, flag_id)
    now = clock.now()
    with transaction.atomic():
        flag, appointment = _locked_open_flag(flag_id)
        _resolve(flag, actor, FlagResolution.KEPT, now, resolution_note=reason.strip()[:300])
        _history(actor, appointment, "kept", appointment.status, reason=reason.strip()[:300])
        _audit(actor, access, flag, appointment, FlagResolution.KEPT)
    return flag


def reschedule_flagged_appointment(
    *,
    actor: Actor,
    flag_id: uuid.UUID,
    starts_at: datetime,
    practitioner_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    hold_id: uuid.UUID | None = None,
    note: str = "",
) -> FlaggedAppointment:
    """Move a flagged visit to a slot the provider (or another) has, by the booking rules."""
    require_plain_text(note, field="note", label="The note")
    access = _access(actor, flag_id)
    now = clock.now()
    with transaction.atomic():
        flag, appointment = _locked_open_flag(flag_id)
        new = booking_services.reschedule_appointment(
            actor=actor,
            appointment_id=appointment.public_id,
            starts_at=starts_at,
            practitioner_id=practitioner_id,
            location_id=location_id,
            reason=CancelReason.PROVIDER,
            note=note.strip()[:300] or "Moved: the provider's schedule changed",
            hold_id=hold_id,
        )
        _resolve(
            flag,
            actor,
            FlagResolution.RESCHEDULED,
            now,
            rescheduled_to=new,
            resolution_note=note.strip()[:300],
        )
        _audit(actor, access, flag, appointment, FlagResolution.RESCHEDULED)
    return flag
