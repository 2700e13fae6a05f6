"""Waitlist routes, mounted at /api/scheduling/waitlist by ``scheduling.api``.

Join (201), list, remove, a patient's open offers, accept (201 with the appointment; 409
``slot_taken`` when another acceptance won) and decline. Refusals keep the one error shape;
a criterion refusing at join is 422 ``rule_violation`` naming the rule.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from careline.patients.api.schemas import PlainText
from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission
from careline.scheduling.models import Appointment, WaitlistEntry
from careline.scheduling.waitlist import selectors, services
from careline.scheduling.waitlist.models import RemovedReason, WaitlistPriority
from careline.scheduling.waitlist.selectors import PatientOffer

router = Router(tags=["waitlist"])


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request, channel=AuditChannel.API)


class JoinIn(Schema):
    patient_id: uuid.UUID
    visit_type_id: uuid.UUID
    earliest_date: date
    latest_date: date
    practitioner_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    earliest_time: time | None = None
    latest_time: time | None = None
    priority: WaitlistPriority = WaitlistPriority.ROUTINE
    appointment_id: uuid.UUID | None = Field(
        None, description="Move up: the patient's booked appointment to offer earlier slots for."
    )
    note: PlainText = Field("", max_length=300)


class OfferOut(Schema):
    public_id: uuid.UUID
    status: str
    offered_at: datetime
    expires_at: datetime
    starts_at: datetime
    appointment_id: uuid.UUID | None

    @staticmethod
    def resolve_starts_at(offer: Any) -> datetime:
        return offer.freed_slot.starts_at  # type: ignore[no-any-return]

    @staticmethod
    def resolve_appointment_id(offer: Any) -> uuid.UUID | None:
        return offer.appointment.public_id if offer.appointment_id else None


class EntryOut(Schema):
    public_id: uuid.UUID
    patient_id: uuid.UUID
    visit_type_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    location_id: uuid.UUID | None
    earliest_date: date
    latest_date: date
    earliest_time: time | None
    latest_time: time | None
    priority: int
    status: str
    removed_reason: str
    move_up_appointment_id: uuid.UUID | None
    created_at: datetime

    @staticmethod
    def resolve_patient_id(entry: WaitlistEntry) -> uuid.UUID:
        return entry.patient.public_id

    @staticmethod
    def resolve_visit_type_id(entry: WaitlistEntry) -> uuid.UUID:
        return entry.visit_type.public_id

    @staticmethod
    def resolve_practitioner_id(entry: WaitlistEntry) -> uuid.UUID | None:
        return entry.practitioner.public_id if entry.practitioner is not None else None

    @staticmethod
    def resolve_location_id(entry: WaitlistEntry) -> uuid.UUID | None:
        return entry.location.public_id if entry.location is not None else None

    @staticmethod
    def resolve_move_up_appointment_id(entry: WaitlistEntry) -> uuid.UUID | None:
        return entry.appointment.public_id if entry.appointment is not None else None


class EntryWithOffersOut(EntryOut):
    offers: list[OfferOut]

    @staticmethod
    def resolve_offers(entry: WaitlistEntry) -> list[Any]:
        return list(entry.offers.all())


class ListFilters(Schema):
    visit_type: uuid.UUID | None = None
    location: uuid.UUID | None = None
    limit: int = Field(100, ge=1, le=selectors.LIST_LIMIT)


class RemoveIn(Schema):
    reason: RemovedReason
    note: PlainText = Field("", max_length=300)


class AcceptIn(Schema):
    safety_answers: dict[Annotated[str, StringConstraints(max_length=64)], bool] | None = None


class PatientOfferOut(Schema):
    offer_id: uuid.UUID
    visit_type_name: str
    practitioner_name: str
    location_name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    expires_at: datetime
    is_move_up: bool


class AcceptedOut(Schema):
    appointment_id: uuid.UUID
    starts_at: datetime
    status: str

    @staticmethod
    def resolve_appointment_id(appointment: Appointment) -> uuid.UUID:
        return appointment.public_id


@router.post("", response={201: EntryOut}, summary="Put a patient on the waitlist")
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistEntry")
def join_waitlist(request: HttpRequest, payload: JoinIn) -> Status[WaitlistEntry]:
    entry = services.join_waitlist(actor=_actor(request), **payload.model_dump())
    return Status(201, entry)


@router.get("", response=list[EntryWithOffersOut], summary="List waiting patients and offers")
@api_requires_permission(Permission.VIEW_SCHEDULE, resource_type="WaitlistEntry")
def list_waitlist(request: HttpRequest, filters: Query[ListFilters]) -> list[WaitlistEntry]:
    return selectors.list_waitlist(
        actor=_actor(request),
        visit_type_id=filters.visit_type,
        location_id=filters.location,
        limit=filters.limit,
    )


@router.post("{uuid:entry_id}/remove", response=EntryOut, summary="Take a patient off the waitlist")
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistEntry")
def remove_from_waitlist(
    request: HttpRequest, entry_id: uuid.UUID, payload: RemoveIn
) -> WaitlistEntry:
    return services.remove_from_waitlist(
        actor=_actor(request), entry_id=entry_id, reason=payload.reason, note=payload.note
    )


@router.get(
    "patients/{uuid:patient_id}/offers",
    response=list[PatientOfferOut],
    summary="A patient's open offers",
)
@api_requires_permission(Permission.VIEW_SCHEDULE, resource_type="WaitlistOffer")
def list_patient_offers(request: HttpRequest, patient_id: uuid.UUID) -> list[PatientOffer]:
    return selectors.list_patient_offers(actor=_actor(request), patient_id=patient_id)


@router.post(
    "offers/{uuid:offer_id}/accept", response={201: AcceptedOut}, summary="Accept an offer"
)
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistOffer")
def accept_offer(
    request: HttpRequest, offer_id: uuid.UUID, payload: AcceptIn
) -> Status[Appointment]:
    appointment = services.accept_offer(
        actor=_actor(request), offer_id=offer_id, safety_answers=payload.safety_answers
    )
    return Status(201, appointment)


@router.post("offers/{uuid:offer_id}/decline", response=OfferOut, summary="Decline an offer")
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistOffer")
def decline_offer(request: HttpRequest, offer_id: uuid.UUID) -> Any:
    return services.decline_offer(actor=_actor(request), offer_id=offer_id)
