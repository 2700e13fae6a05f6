"""Flagged-appointment routes, mounted at /api/scheduling/flagged by ``scheduling.api``.

``GET /api/scheduling/flagged`` lists the open flags (the page's own selector);
``POST /api/scheduling/flagged/{id}/resolve`` bumps, keeps or reschedules one. Refusals keep
the one error shape: 404 for an unknown flag, 409 ``conflict`` for a flag resolved already
(or a visit no longer booked) and ``slot_taken`` when the new slot was just taken, 422
``validation_failed`` naming the field (a reason not in the list, a keep without a reason,
a reschedule without ``starts_at``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from careline.patients.api.schemas import Instant, PlainText
from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission
from careline.scheduling.bumps import selectors, services
from careline.scheduling.bumps.models import BumpReason, FlaggedAppointment

router = Router(tags=["scheduling"])


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request, channel=AuditChannel.API)


class FlagFilters(Schema):
    practitioner: uuid.UUID | None = None
    day: date | None = Field(None, description="A local day (the organisation's time zone).")


class FlaggedOut(Schema):
    public_id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    visit_type_id: uuid.UUID
    practitioner_id: uuid.UUID
    location_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    detected_at: datetime
    cause: str = Field(
        description="The change: exception_added, template_removed, template_changed."
    )
    change_id: uuid.UUID | None
    change_summary: str
    finding: str = Field(description="exception, outside_hours or closed_block.")
    status: str
    resolution: str
    bump_reason: str
    resolution_note: str
    resolved_at: datetime | None
    rescheduled_to_id: uuid.UUID | None

    @staticmethod
    def resolve_appointment_id(flag: FlaggedAppointment) -> uuid.UUID:
        return flag.appointment.public_id

    @staticmethod
    def resolve_patient_id(flag: FlaggedAppointment) -> uuid.UUID:
        return flag.appointment.patient.public_id

    @staticmethod
    def resolve_visit_type_id(flag: FlaggedAppointment) -> uuid.UUID:
        return flag.appointment.visit_type.public_id

    @staticmethod
    def resolve_practitioner_id(flag: FlaggedAppointment) -> uuid.UUID:
        return flag.appointment.practitioner.public_id

    @staticmethod
    def resolve_location_id(flag: FlaggedAppointment) -> uuid.UUID:
        return flag.appointment.location.public_id

    @staticmethod
    def resolve_starts_at(flag: FlaggedAppointment) -> datetime:
        return flag.appointment.starts_at

    @staticmethod
    def resolve_ends_at(flag: FlaggedAppointment) -> datetime:
        return flag.appointment.ends_at

    @staticmethod
    def resolve_rescheduled_to_id(flag: FlaggedAppointment) -> uuid.UUID | None:
        moved = flag.rescheduled_to
        return moved.public_id if moved is not None else None


class ResolveIn(Schema):
    action: Literal["bump", "keep", "reschedule"]
    reason: PlainText = Field(
        "",
        max_length=300,
        description=(
            "bump: one of " + ", ".join(BumpReason.values) + "; keep: why (required); "
            "reschedule: unused."
        ),
    )
    note: PlainText = Field("", max_length=300)
    add_to_waitlist: bool = Field(False, description="bump: waitlist the patient, priority high.")
    starts_at: Instant | None = Field(None, description="reschedule: the new slot's start.")
    practitioner_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    hold_id: uuid.UUID | None = None


@router.get("", response=list[FlaggedOut], summary="List the open flagged appointments")
@api_requires_permission(Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment")
def list_flagged(request: HttpRequest, filters: Query[FlagFilters]) -> list[FlaggedAppointment]:
    return selectors.list_flagged_appointments(
        actor=_actor(request), practitioner_id=filters.practitioner, day=filters.day
    )


@router.post(
    "{uuid:flag_id}/resolve",
    response=FlaggedOut,
    summary="Resolve a flagged appointment: bump, keep or reschedule",
)
@api_requires_permission(Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment")
def resolve_flagged(
    request: HttpRequest, flag_id: uuid.UUID, payload: ResolveIn
) -> FlaggedAppointment:
    actor = _actor(request)
    if payload.action == "bump":
        services.bump_appointment(
            actor=actor,
            flag_id=flag_id,
            reason=payload.reason,
            note=payload.note,
            add_to_waitlist=payload.add_to_waitlist,
        )
    elif payload.action == "keep":
        services.keep_appointment(actor=actor, flag_id=flag_id, reason=payload.reason)
    else:
        if payload.starts_at is None:
            raise ValidationFailed(
                "Give starts_at, the new slot's start, to reschedule.",
                details={"field": "starts_at"},
            )
        services.reschedule_flagged_appointment(
            actor=actor,
            flag_id=flag_id,
            starts_at=payload.starts_at,
            practitioner_id=payload.practitioner_id,
            location_id=payload.location_id,
            hold_id=payload.hold_id,
            note=payload.note,
        )
    return selectors.get_flag(flag_id=flag_id)
