"""Patient self-scheduling around the booking services: the questionnaire that picks a visit
type, what a patient may book or request, staff tickets and booking requests.

Reads here take a ``patient_id`` whose access the caller (a portal page, after
``portal_patient`` with the ``appointments`` scope) has checked and audited. Writes take
``actor`` first, check access themselves (``scheduling.access``), run in one transaction
with their audit entry and a line on the patient's timeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction

from careline.directory.visit_types import PortalBooking, get_visit_type, list_visit_types
from careline.patients.access import PatientAccess, access_patient
from careline.patients.services import record_timeline_event
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit.services import AuditEntry
from careline.platform.authorization import require_permission
from careline.platform.errors import Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.access import access_for_scheduling
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    BookingQuestion,
    BookingRequest,
    BookingRequestStatus,
    BookingTicket,
)
from careline.scheduling.self_service import usable_tickets

if TYPE_CHECKING:
    from careline.directory.models import VisitType

ANSWER_TARGETS = ("next", "visit_type", "advice")

# --- the questionnaire -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    label: str
    next_code: str = ""
    visit_type: VisitType | None = None
    advice: str = ""


@dataclass(frozen=True)
class QuestionStep:
    code: str
    text: str
    help_text: str
    answers: list[Answer]


def check_question_answers(answers: Any, *, known_codes: set[str]) -> None:
    """``ValidationFailed`` naming the first bad answer of a question (the admin's form)."""
    if not isinstance(answers, list) or not answers:
        raise ValidationFailed("Give at least one answer, as a list.", details={"field": "answers"})
    visit_types = {visit_type.code for visit_type in list_visit_types()}
    for number, answer in enumerate(answers, start=1):
        targets = [key for key in ANSWER_TARGETS if isinstance(answer, dict) and answer.get(key)]
        if not isinstance(answer, dict) or not str(answer.get("label", "")).strip():
            problem = "needs a label"
        elif len(targets) != 1:
            problem = "needs exactly one of next, visit_type or advice"
        elif targets[0] == "next" and answer["next"] not in known_codes:
            problem = f"leads to the unknown question {answer['next']!r}"
        elif targets[0] == "visit_type" and answer["visit_type"] not in visit_types:
            problem = f"names the unknown visit type {answer['visit_type']!r}"
        else:
            continue
        raise ValidationFailed(f"Answer {number} {problem}.", details={"field": "answers"})


def get_question_step(code: str = "") -> QuestionStep:
    """A question of the tree (blank: its start) with its answers resolved; ``NotFound``
    when there is none (no questionnaire: the portal lists the visit types instead)."""
    questions = BookingQuestion.objects.filter(is_active=True)
    question = (
        questions.filter(code=code).first() if code else questions.filter(is_start=True).first()
    )
    if question is None:
        raise NotFound("There is no such question.")
    visit_types = {visit_type.code: visit_type for visit_type in list_visit_types()}
    answers = []
    for answer in question.answers if isinstance(question.answers, list) else []:
        if not isinstance(answer, dict):
            continue
        answers.append(
            Answer(
                label=str(answer.get("label", "")),
                next_code=str(answer.get("next") or ""),
                visit_type=visit_types.get(str(answer.get("visit_type") or "")),
                advice=str(answer.get("advice") or ""),
            )
        )
    return QuestionStep(question.code, question.text, question.help_text, answers)


# --- what a patient may book -----------------------------------------------------------------


@dataclass(frozen=True)
class BookingOptions:
    self_schedulable: list[VisitType]
    request_only: list[VisitType]
    tickets: list[BookingTicket]  # usable ones, each with its visit type
    open_requests: list[BookingRequest]


def get_booking_options(*, patient_id: uuid.UUID, today: date) -> BookingOptions:
    """The visit types on the portal, her usable tickets and open requests; three queries."""
    visit_types = list_visit_types()
    tickets = list(
        BookingTicket.objects.filter(
            patient__public_id=patient_id,
            revoked_at__isnull=True,
            latest_date__gte=today,
            visit_type__is_active=True,
        )
        .exclude(appointment__status__in=["booked", "arrived"])
        .select_related("visit_type")
        .order_by("latest_date", "pk")
    )
    requests = list(
        BookingRequest.objects.filter(
            patient__public_id=patient_id, status=BookingRequestStatus.OPEN
        )
        .select_related("visit_type")
        .order_by("requested_at")
    )
    return BookingOptions(
        self_schedulable=[
            vt for vt in visit_types if vt.portal_booking == PortalBooking.SELF_SCHEDULABLE
        ],
        request_only=[vt for vt in visit_types if vt.portal_booking == PortalBooking.REQUEST_ONLY],
        tickets=tickets,
        open_requests=requests,
    )


# --- tickets (staff) -------------------------------------------------------------------------


def issue_booking_ticket(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    visit_type_id: uuid.UUID,
    earliest_date: date,
    latest_date: date,
    note: str = "",
) -> BookingTicket:
    """Let the patient book one ``visit_type`` herself on a date in the window."""
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.BOOK_APPOINTMENT,
        action=None,
        resource_type="BookingTicket",
    )
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    if earliest_date > latest_date:
        raise ValidationFailed(
            "The window must end on or after its first day.", details={"field": "latest_date"}
        )
    if latest_date < clock.now().date():
        raise ValidationFailed("The window is already over.", details={"field": "latest_date"})
    with transaction.atomic():
        ticket = BookingTicket.objects.create(
            patient=access.patient,
            visit_type=visit_type,
            earliest_date=earliest_date,
            latest_date=latest_date,
            note=note.strip()[:300],
            issued_by=actor.user,
            issued_at=clock.now(),
        )
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="BookingTicket",
            resource_id=str(ticket.public_id),
            patient_id=patient_id,
            is_break_glass=access.is_break_glass,
        )
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=(
                f"Invited to book {visit_type.name} on the portal between "
                f"{earliest_date:%Y-%m-%d} and {latest_date:%Y-%m-%d}"
            ),
        )
    return ticket


@dataclass(frozen=True)
class TicketRow:
    """A ticket as staff see it: what it allows and whether it is still open."""

    ticket: BookingTicket
    status: str  # open, used, expired, revoked

    @property
    def can_revoke(self) -> bool:
        return self.status == "open"


def list_booking_tickets(*, actor: Actor, patient_id: uuid.UUID) -> list[TicketRow]:
    """Staff: the patient's tickets, the latest window first (access checked; one audited
    read of her tickets; one query)."""
    access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.BOOK_APPOINTMENT,
        resource_type="BookingTicket",
    )
    today = clock.now().date()
    tickets = (
        BookingTicket.objects.filter(patient__public_id=patient_id)
        .select_related("visit_type", "appointment")
        .order_by("-latest_date", "-pk")
    )
    return [TicketRow(ticket, _ticket_status(ticket, today)) for ticket in tickets]


def _ticket_status(ticket: BookingTicket, today: date) -> str:
    if ticket.revoked_at is not None:
        return "revoked"
    if ticket.appointment is not None and ticket.appointment.status in ACTIVE_STATUSES:
        return "used"
    return "expired" if ticket.latest_date < today else "open"


def _staff_access_to(
    actor: Actor,
    model: type[BookingTicket] | type[BookingRequest],
    public_id: uuid.UUID,
    *,
    missing: str,
) -> PatientAccess:
    """A booking staff member's access to the patient a ticket or request is for
    (``NotFound`` with ``missing`` when there is no such row); the write audits itself."""
    patient_id = (
        model.objects.filter(public_id=public_id)
        .values_list("patient__public_id", flat=True)
        .first()
    )
    if patient_id is None:
        raise NotFound(missing)
    return access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.BOOK_APPOINTMENT,
        action=None,
        resource_type=model.__name__,
    )


def revoke_booking_ticket(*, actor: Actor, ticket_id: uuid.UUID) -> BookingTicket:
    """Staff: the patient may no longer book with this ticket (an appointment it booked
    stays booked)."""
    access = _staff_access_to(actor, BookingTicket, ticket_id, missing="No such booking ticket.")
    with transaction.atomic():
        ticket = (
            BookingTicket.objects.select_for_update(of=("self",))
            .select_related("visit_type")
            .get(public_id=ticket_id)
        )
        if ticket.revoked_at is not None:
            raise Conflict("This ticket is already revoked.")
        ticket.revoked_at = clock.now()
        ticket.save(update_fields=["revoked_at"])
        audit.record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="BookingTicket",
            resource_id=str(ticket_id),
            patient_id=access.patient.public_id,
            is_break_glass=access.is_break_glass,
            details={"revoked": True},
        )
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=f"Invitation to book {ticket.visit_type.name} on the portal withdrawn",
        )
    return ticket


# --- requests (the patient asks, staff book) -------------------------------------------------


def request_visit(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    visit_type_id: uuid.UUID,
    preferred_times: str = "",
    note: str = "",
) -> BookingRequest:
    """Ask for a "request only" visit type; staff see it in their list and book it."""
    access = access_for_scheduling(
        actor,
        patient_id,
        permission=Permission.BOOK_APPOINTMENT,
        action=None,
        resource_type="BookingRequest",
    )
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    if visit_type.portal_booking != PortalBooking.REQUEST_ONLY:
        raise ValidationFailed(
            f"{visit_type.name} is not requested this way.",
            details={"rule": "visit_type.portal_booking", "mode": visit_type.portal_booking},
        )
    with transaction.atomic():
        duplicate = BookingRequest.objects.select_for_update().filter(
            patient=access.patient, visit_type=visit_type, status=BookingRequestStatus.OPEN
        )
        if duplicate.exists():
            raise Conflict(f"You already asked for {visit_type.name}; the clinic will contact you.")
        booking_request = BookingRequest.objects.create(
            patient=access.patient,
            visit_type=visit_type,
            preferred_times=preferred_times.strip()[:300],
            note=note.strip()[:500],
            requested_by=actor.user,
            requested_at=clock.now(),
        )
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="BookingRequest",
            resource_id=str(booking_request.public_id),
            patient_id=patient_id,
            is_break_glass=access.is_break_glass,
        )
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=f"Asked for {visit_type.name} on the portal",
        )
    return booking_request


def list_open_booking_requests(*, actor: Actor, limit: int = 200) -> list[BookingRequest]:
    """Staff: the open requests, oldest first; the listing is audited per patient."""
    require_permission(actor, Permission.BOOK_APPOINTMENT, resource_type="BookingRequest")
    requests = list(
        BookingRequest.objects.filter(status=BookingRequestStatus.OPEN)
        .select_related("patient", "visit_type")
        .defer("patient__ssn")
        .order_by("requested_at", "pk")[:limit]
    )
    audit.record_events(
        actor=actor,
        entries=[
            AuditEntry(
                action=AuditAction.SEARCH,
                resource_type="BookingRequest",
                resource_id=str(booking_request.public_id),
                patient_id=booking_request.patient.public_id,
            )
            for booking_request in requests
        ],
    )
    return requests


def close_booking_request(
    *, actor: Actor, request_id: uuid.UUID, status: str, staff_note: str = ""
) -> BookingRequest:
    """Staff: the request is booked (they booked it) or declined (with a note)."""
    if status not in (BookingRequestStatus.BOOKED, BookingRequestStatus.DECLINED):
        raise ValidationFailed("status must be booked or declined.", details={"field": "status"})
    access = _staff_access_to(actor, BookingRequest, request_id, missing="No such booking request.")
    with transaction.atomic():
        booking_request = (
            BookingRequest.objects.select_for_update(of=("self",))
            .select_related("visit_type")
            .get(public_id=request_id)
        )
        if booking_request.status != BookingRequestStatus.OPEN:
            raise Conflict(f"This request is already {booking_request.status}.")
        booking_request.status, booking_request.staff_note = status, staff_note.strip()[:300]
        booking_request.handled_by, booking_request.handled_at = actor.user, clock.now()
        booking_request.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
        audit.record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="BookingRequest",
            resource_id=str(request_id),
            patient_id=access.patient.public_id,
            is_break_glass=access.is_break_glass,
            details={"status": status},
        )
        label = BookingRequestStatus(status).label.lower()
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=f"Request for {booking_request.visit_type.name}: {label}",
        )
    return booking_request


__all__ = [
    "Answer",
    "BookingOptions",
    "QuestionStep",
    "TicketRow",
    "check_question_answers",
    "close_booking_request",
    "get_booking_options",
    "get_question_step",
    "issue_booking_ticket",
    "list_booking_tickets",
    "list_open_booking_requests",
    "request_visit",
    "revoke_booking_ticket",
    "usable_tickets",
]
