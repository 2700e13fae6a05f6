"""The front desk's day list (arrived / no-show / completed, by htmx), one appointment with
its history, cancel with a reason, and reschedule to a slot picked from the same search."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import is_htmx, local_today, staff_view
from careline.platform.permissions import Permission
from careline.scheduling import selectors, services
from careline.scheduling.errors import RuleRefusal, SlotNotOffered, SlotTaken
from careline.scheduling.forms import CancelForm, DayForm, RescheduleForm
from careline.scheduling.models import Appointment

RESCHEDULE_OPTIONS = 15
RESCHEDULE_DAYS = 60


@staff_view
@require_GET
@requires_permission(Permission.VIEW_SCHEDULE, resource_type="Appointment")
def day_list(request: HttpRequest) -> HttpResponse:
    """A day's appointments at a location and/or with a provider, earliest first."""
    bookables = selectors.list_bookables()
    form = DayForm(
        request.GET or None,
        locations=[(str(row.public_id), row.name) for row in bookables.locations],
        practitioners=[(str(row.public_id), row.display_name) for row in bookables.practitioners],
    )
    if form.is_bound and not form.is_valid():
        raise ValidationFailed("Give a day (YYYY-MM-DD) and pick a location or a provider.")
    cleaned = form.cleaned_data if form.is_bound else {}
    day = cleaned.get("day") or local_today()
    appointments = selectors.list_day_appointments(
        actor=actor_from_request(request),
        day=day,
        location_id=cleaned.get("location"),
        practitioner_id=cleaned.get("practitioner"),
    )
    context = {
        "form": form,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "query": {
            name: value
            for name, value in request.GET.items()
            if name in {"location", "practitioner"}
        },
        "appointments": appointments,
        "limit": selectors.DAY_LIMIT,
    }
    return render(request, "scheduling/day.html", context)


_STATUS_ACTIONS: dict[str, Callable[..., Appointment]] = {
    "arrived": services.mark_arrived,
    "no-show": services.mark_no_show,
    "completed": services.mark_completed,
}


@staff_view
@require_POST
@requires_permission(Permission.CHANGE_APPOINTMENT_STATUS, resource_type="Appointment")
def change_status(request: HttpRequest, appointment_id: uuid.UUID, action: str) -> HttpResponse:
    """Arrived / no-show / completed: the row again (htmx), or back to the list."""
    mark = _STATUS_ACTIONS.get(action)
    if mark is None:
        raise ValidationFailed("Mark arrived, no-show or completed.")
    appointment = mark(actor=actor_from_request(request), appointment_id=appointment_id)
    if is_htmx(request):
        return render(request, "scheduling/_day_row.html", {"appointment": appointment})
    messages.success(request, f"Marked {appointment.get_status_display().lower()}.")
    return redirect("scheduling:appointment", appointment_id=appointment_id)


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


@staff_view
@require_GET
@requires_permission(Permission.VIEW_SCHEDULE, resource_type="Appointment")
def appointment(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    found = selectors.get_appointment_with_history(
        actor=_actor(request), appointment_id=appointment_id
    )
    return render(
        request,
        "scheduling/appointment.html",
        {"appointment": found, "cancel_form": CancelForm(auto_id="cancel-%s")},
    )


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Appointment")
def cancel(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    form = CancelForm(request.POST, auto_id="cancel-%s")
    if not form.is_valid():
        raise ValidationFailed("Choose why it is cancelled: patient, provider, weather or other.")
    services.cancel_appointment(
        actor=_actor(request),
        appointment_id=appointment_id,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
    )
    messages.success(request, "Cancelled; the time is free again.")
    return redirect("scheduling:appointment", appointment_id=appointment_id)


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Appointment")
def reschedule(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """GET: the next free slots of the same visit type; POST: move to the one picked."""
    actor = _actor(request)
    current = selectors.get_appointment_with_history(actor=actor, appointment_id=appointment_id)
    context: dict[str, Any] = {"appointment": current, "form": RescheduleForm()}
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if not form.is_valid():
            raise ValidationFailed("Pick a new slot and say why the visit moves.")
        try:
            moved = services.reschedule_appointment(
                actor=actor,
                appointment_id=appointment_id,
                starts_at=form.cleaned_data["starts_at"],
                practitioner_id=form.cleaned_data["practitioner"],
                location_id=form.cleaned_data["location"],
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except (SlotTaken, RuleRefusal, SlotNotOffered) as error:
            context["error"] = error
        else:
            messages.success(request, "Rescheduled.")
            return redirect("scheduling:appointment", appointment_id=moved.public_id)
    today = local_today()
    context["options"] = selectors.search_slots(
        actor=actor,
        visit_type_id=current.visit_type.public_id,
        patient_id=current.patient.public_id,
        date_from=today,
        date_to=today + timedelta(days=RESCHEDULE_DAYS),
        limit=RESCHEDULE_OPTIONS,
    )
    return render(
        request, "scheduling/reschedule.html", context, status=422 if "error" in context else 200
    )
