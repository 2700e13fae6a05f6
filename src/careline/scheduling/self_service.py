"""What a patient may do with her own schedule on the portal — the rules, in one place.

The booking services (``scheduling.services``, ``slot_search``) call these when the actor
is a portal account (``patients.access.is_self_service``); staff are not bound by them.

- **Which visit types.** A visit type's ``portal_booking`` decides: ``self`` — she books it
  herself; ``request`` — she asks and staff book (``patient_booking.request_visit``);
  ``none`` — not offered. A staff-issued **ticket** (``BookingTicket``) lets her book one
  visit of its type on a date inside its window, whatever the mode.
- **One visit at a time.** No series, no overbook (the latter needs a staff permission).
- **Changes.** She may reschedule or cancel up to the visit type's
  ``portal_change_notice_hours`` (else ``CARELINE_PORTAL_CHANGE_NOTICE_HOURS``) before the
  start; later she is told to call the clinic.
- **Waitlist.** She joins the waitlist (``waitlist.services.join_waitlist``) only for a
  self-schedulable visit type, at the routine priority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet

from careline.directory.visit_types import PortalBooking
from careline.platform.errors import Conflict
from careline.scheduling.errors import SelfServiceRefused
from careline.scheduling.models import ACTIVE_STATUSES, Appointment, BookingTicket
from careline.scheduling.waitlist.models import WaitlistPriority

if TYPE_CHECKING:
    from careline.directory.models import VisitType
    from careline.patients.models import Patient

CALL_THE_CLINIC = "Please call the clinic to book it."


@dataclass(frozen=True)
class SelfBookingDates:
    """The dates a patient may book a visit type herself: any (``None``) or a ticket's."""

    earliest: date | None
    latest: date | None


def usable_tickets(
    patient: Patient, visit_type: VisitType, *, replacing: Appointment | None = None
) -> QuerySet[BookingTicket]:
    """Her tickets for this type not revoked and not used by an active appointment (the
    appointment being rescheduled excepted)."""
    unused = Q(appointment__isnull=True) | ~Q(appointment__status__in=list(ACTIVE_STATUSES))
    if replacing is not None:
        unused |= Q(appointment=replacing)
    return BookingTicket.objects.filter(
        unused, patient=patient, visit_type=visit_type, revoked_at__isnull=True
    )


def _not_bookable(visit_type: VisitType) -> SelfServiceRefused:
    if visit_type.portal_booking == PortalBooking.REQUEST_ONLY:
        message = (
            f"{visit_type.name} is booked by the clinic: send a request and the clinic will "
            "contact you with a time."
        )
    else:
        message = f"{visit_type.name} cannot be booked on the portal. {CALL_THE_CLINIC}"
    return SelfServiceRefused(
        message, details={"rule": "visit_type.portal_booking", "mode": visit_type.portal_booking}
    )


def self_booking_dates(patient: Patient, visit_type: VisitType, today: date) -> SelfBookingDates:
    """For the slot search: any date when self-schedulable, else the span of her tickets."""
    if visit_type.portal_booking == PortalBooking.SELF_SCHEDULABLE:
        return SelfBookingDates(None, None)
    span = usable_tickets(patient, visit_type).filter(latest_date__gte=today)
    bounds = span.aggregate(earliest=Min("earliest_date"), latest=Max("latest_date"))
    if bounds["latest"] is None:
        raise _not_bookable(visit_type)
    return SelfBookingDates(bounds["earliest"], bounds["latest"])


def check_self_booking(
    *,
    patient: Patient,
    visit_type: VisitType,
    starts: Sequence[datetime],
    zone: ZoneInfo,
    replacing: Appointment | None = None,
) -> BookingTicket | None:
    """Refuse what a patient may not book herself; return the ticket that allows it (if the
    type is not self-schedulable)."""
    if len(starts) != 1:
        raise SelfServiceRefused(
            "A series of visits is booked by the clinic. " + CALL_THE_CLINIC,
            details={"rule": "portal.single_visit"},
        )
    if visit_type.portal_booking == PortalBooking.SELF_SCHEDULABLE:
        return None
    day = starts[0].astimezone(zone).date()
    tickets = usable_tickets(patient, visit_type, replacing=replacing)
    ticket = tickets.filter(earliest_date__lte=day, latest_date__gte=day).first()
    if ticket is not None:
        return ticket
    other = tickets.order_by("latest_date").last()
    if other is None:
        raise _not_bookable(visit_type)
    raise SelfServiceRefused(
        f"Your clinic asked you to book {visit_type.name} between "
        f"{other.earliest_date:%B %-d} and {other.latest_date:%B %-d, %Y}. Pick a date in "
        "that window.",
        details={"rule": "portal.ticket_window"},
    )


def use_ticket(ticket_pk: int, appointment: Appointment, replacing: Appointment | None) -> None:
    """Inside the booking transaction: the ticket now belongs to ``appointment``. Locked and
    checked again, so one ticket never books two visits at once."""
    ticket = BookingTicket.objects.select_for_update().get(pk=ticket_pk)
    if ticket.appointment_id is not None and ticket.appointment_id != (
        replacing.pk if replacing is not None else None
    ):
        still_active = Appointment.objects.filter(
            pk=ticket.appointment_id, status__in=list(ACTIVE_STATUSES)
        ).exists()
        if still_active:
            raise Conflict("This booking invitation was just used for another visit.")
    ticket.appointment = appointment
    ticket.save(update_fields=["appointment"])


def change_notice_hours(visit_type: VisitType) -> int:
    hours = visit_type.portal_change_notice_hours
    return settings.CARELINE_PORTAL_CHANGE_NOTICE_HOURS if hours is None else hours


def may_change(appointment: Appointment, now: datetime) -> bool:
    """Still far enough ahead for the patient to reschedule or cancel it herself."""
    notice = timedelta(hours=change_notice_hours(appointment.visit_type))
    return appointment.is_active and appointment.starts_at - now >= notice


def check_self_change(appointment: Appointment, now: datetime) -> None:
    if may_change(appointment, now) or not appointment.is_active:
        return  # an inactive one is refused by the service with its own reason
    hours = change_notice_hours(appointment.visit_type)
    raise SelfServiceRefused(
        f"Appointments can be changed on the portal up to {hours} hours before they start; "
        "this one is sooner. Please call the clinic to change or cancel it.",
        details={"rule": "visit_type.portal_change_notice", "hours": hours},
    )


def check_self_waitlist(visit_type: VisitType, *, priority: int) -> None:
    """Refuse a waitlist entry a patient may not make herself: only for a visit type she
    books herself (``portal_booking`` "self"), and at the routine priority (only staff move
    someone up the queue)."""
    if visit_type.portal_booking != PortalBooking.SELF_SCHEDULABLE:
        raise SelfServiceRefused(
            f"The portal's waitlist is for visits you book yourself; {visit_type.name} is "
            "booked by the clinic. Please call the clinic to be put on its waitlist.",
            details={
                "rule": "visit_type.portal_booking",
                "mode": visit_type.portal_booking,
                "field": "visit_type_id",
            },
        )
    if priority != WaitlistPriority.ROUTINE:
        raise SelfServiceRefused(
            "The clinic sets waitlist priorities. Join at the routine priority, or call the "
            "clinic if it is urgent.",
            details={"rule": "portal.waitlist_priority", "field": "priority"},
        )
