"""Booking tickets on the Schedule page: staff let the chosen patient book one visit herself
on the portal within a window ("book a follow-up within 2 to 4 weeks"), see her tickets and
revoke one. The services check access and permission, audit and write the timeline."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from careline.directory.visit_types import list_visit_types
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import local_today, staff_view
from careline.platform.permissions import Permission
from careline.scheduling import patient_booking
from careline.scheduling.forms import TicketForm


def ticket_form(data: Any = None, *, patient_id: uuid.UUID | None = None) -> TicketForm:
    form = TicketForm(
        data,
        visit_types=[(str(row.public_id), row.name) for row in list_visit_types()],
        today=local_today(),
    )
    if patient_id is not None:
        form.initial["patient"] = patient_id
    return form


def _patient_page(patient_id: uuid.UUID) -> HttpResponse:
    return redirect(f"{reverse('scheduling:schedule')}?patient={patient_id}#tickets")


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="BookingTicket")
def issue(request: HttpRequest) -> HttpResponse:
    form = ticket_form(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label}: {' '.join(str(message) for message in error_list)}"
            for name, error_list in form.errors.items()
            if name in form.fields
        )
        raise ValidationFailed(f"Check the ticket: {errors or 'the form could not be read'}.")
    data = form.cleaned_data
    try:
        ticket = patient_booking.issue_booking_ticket(
            actor=actor_from_request(request),
            patient_id=data["patient"],
            visit_type_id=uuid.UUID(str(data["visit_type"])),
            earliest_date=data["earliest_date"],
            latest_date=data["latest_date"],
            note=data["note"],
        )
    except ValidationFailed as error:
        messages.error(request, f"No ticket issued: {error.message}")
    else:
        messages.success(
            request,
            f"Ticket issued: the patient may book {ticket.visit_type.name} on the portal from "
            f"{ticket.earliest_date:%Y-%m-%d} to {ticket.latest_date:%Y-%m-%d}.",
        )
    return _patient_page(data["patient"])


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="BookingTicket")
def revoke(request: HttpRequest, ticket_id: uuid.UUID) -> HttpResponse:
    ticket = patient_booking.revoke_booking_ticket(
        actor=actor_from_request(request), ticket_id=ticket_id
    )
    messages.success(request, f"Ticket for {ticket.visit_type.name} revoked.")
    return _patient_page(ticket.patient.public_id)
