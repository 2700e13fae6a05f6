"""The staff Waitlist page: who waits per visit type / location with their offers and the
offers' state, the freed slots being offered, add a patient, remove an entry, and record a
patient's answer to an offer (she phoned). Each view parses a form and makes one call."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import staff_view
from careline.platform.permissions import Permission
from careline.scheduling.waitlist import selectors, services
from careline.scheduling.waitlist.forms import FilterForm, JoinForm, RemoveForm


def _page(
    request: HttpRequest, join_form: JoinForm | None = None, status: int = 200
) -> HttpResponse:
    actor = actor_from_request(request)
    choices = selectors.waitlist_choices(actor=actor)
    filters = FilterForm(request.GET or None, choices=choices)
    visit_type_id = location_id = None
    if filters.is_valid():
        visit_type_id = filters.cleaned_data["visit_type"]
        location_id = filters.cleaned_data["location"]
    context = {
        "filters": filters,
        "entries": selectors.list_waitlist(
            actor=actor, visit_type_id=visit_type_id, location_id=location_id
        ),
        "slots": selectors.list_offered_slots(actor=actor),
        "join_form": join_form
        or JoinForm(choices=choices, initial={"patient_id": request.GET.get("patient", "")}),
        "remove_form": RemoveForm(),
    }
    return render(request, "scheduling/waitlist.html", context, status=status)


@staff_view
@require_GET
@requires_permission(Permission.VIEW_SCHEDULE, resource_type="WaitlistEntry")
def waitlist(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistEntry")
def join(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    form = JoinForm(request.POST, choices=selectors.waitlist_choices(actor=actor))
    if form.is_valid():
        try:
            services.join_waitlist(actor=actor, **form.cleaned_data)
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Added to the waitlist.")
            return redirect(reverse("waitlist:list"))
    return _page(request, join_form=form, status=422)


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistEntry")
def remove(request: HttpRequest, entry_id: uuid.UUID) -> HttpResponse:
    form = RemoveForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed("Choose why the patient leaves the waitlist.")
    services.remove_from_waitlist(
        actor=actor_from_request(request), entry_id=entry_id, reason=form.cleaned_data["reason"]
    )
    messages.success(request, "Taken off the waitlist.")
    return redirect(reverse("waitlist:list"))


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistOffer")
def accept(request: HttpRequest, offer_id: uuid.UUID) -> HttpResponse:
    appointment = services.accept_offer(actor=actor_from_request(request), offer_id=offer_id)
    messages.success(request, f"Booked for {appointment.starts_at:%a %d %b %Y %H:%M}.")
    return redirect(reverse("waitlist:list"))


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="WaitlistOffer")
def decline(request: HttpRequest, offer_id: uuid.UUID) -> HttpResponse:
    services.decline_offer(actor=actor_from_request(request), offer_id=offer_id)
    messages.success(request, "Offer declined; the slot goes to the next patient.")
    return redirect(reverse("waitlist:list"))
