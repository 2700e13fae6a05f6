"""The Flagged visits page (``/schedule/flagged/``): visits a set-up change left outside
their provider's availability, per provider and day, each with *Bump*, *Keep* and
*Reschedule*. Each view parses a form and makes one call into ``bumps``; the services check
the permission and the patient's access, and audit."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import local_today, staff_view
from careline.platform.permissions import Permission
from careline.scheduling import selectors as scheduling_selectors
from careline.scheduling.bumps import selectors, services
from careline.scheduling.bumps.forms import BumpForm, FlagFilterForm, FlagRescheduleForm, KeepForm
from careline.scheduling.errors import RuleRefusal, SlotNotOffered, SlotTaken

RESCHEDULE_OPTIONS = 15
RESCHEDULE_DAYS = 60


def _page(
    request: HttpRequest, *, failed: tuple[uuid.UUID, Any] | None = None, status: int = 200
) -> HttpResponse:
    bookables = scheduling_selectors.list_bookables()
    filters = FlagFilterForm(
        request.GET or None,
        practitioners=[(str(row.public_id), row.display_name) for row in bookables.practitioners],
    )
    if filters.is_bound and not filters.is_valid():
        raise ValidationFailed("Pick a provider from the list and give a day as YYYY-MM-DD.")
    cleaned = filters.cleaned_data if filters.is_bound else {}
    flags = selectors.list_flagged_appointments(
        actor=actor_from_request(request),
        practitioner_id=cleaned.get("practitioner"),
        day=cleaned.get("day"),
    )
    rows = [
        {
            "flag": flag,
            "bump_form": failed[1]
            if failed and failed[0] == flag.public_id and isinstance(failed[1], BumpForm)
            else BumpForm(auto_id=f"bump-{flag.public_id}-%s"),
            "keep_form": failed[1]
            if failed and failed[0] == flag.public_id and isinstance(failed[1], KeepForm)
            else KeepForm(auto_id=f"keep-{flag.public_id}-%s"),
        }
        for flag in flags
    ]
    context = {"filters": filters, "rows": rows, "limit": selectors.LIST_LIMIT}
    return render(request, "scheduling/flagged.html", context, status=status)


@staff_view
@require_GET
@requires_permission(Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment")
def flagged(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_view
@require_POST
@requires_permission(Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment")
def bump(request: HttpRequest, flag_id: uuid.UUID) -> HttpResponse:
    form = BumpForm(request.POST, auto_id=f"bump-{flag_id}-%s")
    if form.is_valid():
        try:
            services.bump_appointment(
                actor=actor_from_request(request), flag_id=flag_id, **form.cleaned_data
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Bumped; the patient will be told.")
            return redirect("scheduling:flagged")
    return _page(request, failed=(flag_id, form), status=422)


@staff_view
@require_POST
@requires_permission(Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment")
def keep(request: HttpRequest, flag_id: uuid.UUID) -> HttpResponse:
    form = KeepForm(request.POST, auto_id=f"keep-{flag_id}-%s")
    if form.is_valid():
        try:
            services.keep_appointment(
                actor=actor_from_request(request),
                flag_id=flag_id,
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Kept; the visit stays booked.")
            return redirect("scheduling:flagged")
    return _page(request, failed=(flag_id, form), status=422)


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment")
def reschedule(request: HttpRequest, flag_id: uuid.UUID) -> HttpResponse:
    """GET: the next free slots of the visit type; POST: move the visit to the one picked."""
    actor = actor_from_request(request)
    flag = selectors.get_flag(flag_id=flag_id)
    current = scheduling_selectors.get_appointment_with_history(
        actor=actor, appointment_id=flag.appointment.public_id
    )
    context: dict[str, Any] = {"flag": flag, "appointment": current, "form": FlagRescheduleForm()}
    if request.method == "POST":
        form = FlagRescheduleForm(request.POST)
        if not form.is_valid():
            raise ValidationFailed("Pick a new slot from the list.")
        try:
            services.reschedule_flagged_appointment(
                actor=actor,
                flag_id=flag_id,
                starts_at=form.cleaned_data["starts_at"],
                practitioner_id=form.cleaned_data["practitioner"],
                location_id=form.cleaned_data["location"],
                note=form.cleaned_data["note"],
            )
        except (SlotTaken, RuleRefusal, SlotNotOffered) as error:
            context["error"] = error
        else:
            messages.success(request, "Rescheduled.")
            return redirect("scheduling:flagged")
    today = local_today()
    context["options"] = scheduling_selectors.search_slots(
        actor=actor,
        visit_type_id=current.visit_type.public_id,
        patient_id=current.patient.public_id,
        date_from=today,
        date_to=today + timedelta(days=RESCHEDULE_DAYS),
        limit=RESCHEDULE_OPTIONS,
    )
    status = 422 if "error" in context else 200
    return render(request, "scheduling/flag_reschedule.html", context, status=status)
