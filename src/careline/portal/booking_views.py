"""The portal's appointment pages: choose a visit (questionnaire, tickets, the visit types
on the portal), pick a slot, hold it while the safety screen is answered, book; open an
appointment, move or cancel it within the policy, add it to a calendar; ask for a
"request only" visit.

Each page first asks ``portal_patient`` for the ``appointments`` scope (one audited read;
a proxy without the scope, or another patient's id, gets the same 404). Every write goes
through scheduling's own services with the portal actor — the rules, the safety screen and
the patient's limits (``scheduling.self_service``) are the staff path's, in one place.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.directory.visit_types import PortalBooking, get_visit_type
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.errors import CarelineError, NotFound
from careline.portal.access import PortalPatient, portal_actor, portal_patient
from careline.portal.forms import CancelForm, SafetyScreenForm, SlotChoiceForm, VisitRequestForm
from careline.portal.http import portal_view
from careline.portal.models import ProxyScope
from careline.scheduling import patient_booking, selectors, services
from careline.scheduling.errors import SafetyScreenPositive, SelfServiceRefused, SlotTaken
from careline.scheduling.ics import appointment_ics
from careline.scheduling.self_service import may_change

SEARCH_DAYS = 42
SLOT_LIMIT = 12
EMERGENCY_ADVICE = "If this is an emergency, call 911 now."


def _granted(request: HttpRequest, patient_id: uuid.UUID) -> tuple[Actor, PortalPatient]:
    actor = portal_actor(request)
    granted = portal_patient(
        actor=actor,
        patient_id=patient_id,
        scope=ProxyScope.APPOINTMENTS,
        resource_type="Appointment",
    )
    return actor, granted


def _today() -> date:
    return timezone.localdate(clock.now())


@portal_view
@require_GET
def choose_visit(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Start here: her tickets, the questionnaire's current step, the visit types."""
    _granted(request, patient_id)
    step, advice = None, ""
    try:
        step = patient_booking.get_question_step(request.GET.get("question", "")[:64])
    except NotFound:
        step = None  # no questionnaire defined: the lists below are enough
    answer = request.GET.get("answer", "")
    if step is not None and answer.isdigit() and int(answer) < len(step.answers):
        advice = step.answers[int(answer)].advice
    context = {
        "patient_id": patient_id,
        "options": patient_booking.get_booking_options(patient_id=patient_id, today=_today()),
        "step": step,
        "advice": advice,
    }
    return render(request, "portal/book_choose.html", context)


@portal_view
@require_GET
def choose_slot(
    request: HttpRequest, patient_id: uuid.UUID, visit_type_id: uuid.UUID
) -> HttpResponseBase:
    """The next free slots of a visit type for her (``?from=`` a later date)."""
    actor, _ = _granted(request, patient_id)
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    date_from = _date_param(request.GET.get("from", "")) or _today()
    reschedule = _uuid_param(request.GET.get("reschedule", ""))
    try:
        slots = selectors.search_slots(
            actor=actor,
            visit_type_id=visit_type_id,
            date_from=date_from,
            date_to=date_from + timedelta(days=SEARCH_DAYS),
            patient_id=patient_id,
            limit=SLOT_LIMIT,
        )
    except SelfServiceRefused as error:
        if visit_type.portal_booking == PortalBooking.REQUEST_ONLY and reschedule is None:
            return redirect(
                "portal:request_visit", patient_id=patient_id, visit_type_id=visit_type_id
            )
        return _refused(request, patient_id, error)
    return _slot_page(request, patient_id, visit_type, slots, date_from, reschedule)


def _slot_page(
    request: HttpRequest,
    patient_id: uuid.UUID,
    visit_type: Any,
    slots: list[Any],
    date_from: date,
    reschedule: uuid.UUID | None,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    days = [
        (day, list(group))
        for day, group in groupby(slots, key=lambda slot: timezone.localdate(slot.starts_at))
    ]
    later = (slots[-1].starts_at.date() + timedelta(days=1)) if slots else None
    context = {
        "patient_id": patient_id,
        "visit_type": visit_type,
        "days": days,
        "date_from": date_from,
        "later": later,
        "reschedule": reschedule,
        "problem": problem,
    }
    return render(request, "portal/book_slots.html", context, status=status)


@portal_view
@require_POST
def hold(request: HttpRequest, patient_id: uuid.UUID, visit_type_id: uuid.UUID) -> HttpResponseBase:
    """Keep the chosen slot for a few minutes, then the confirmation (and safety screen)."""
    actor, _ = _granted(request, patient_id)
    form = SlotChoiceForm(request.POST)
    if not form.is_valid():
        raise NotFound("That time is not one we offered. Pick a time from the list.")
    data = form.cleaned_data
    try:
        held = services.hold_slot(
            actor=actor,
            visit_type_id=visit_type_id,
            practitioner_id=data["practitioner_id"],
            location_id=data["location_id"],
            starts_at=data["starts_at"],
            patient_id=patient_id,
            replacing_id=data["reschedule"],
        )
    except SlotTaken as error:
        return _taken_again(request, actor, patient_id, visit_type_id, data["reschedule"], error)
    url = reverse("portal:confirm", args=[patient_id, held.public_id])
    if data["reschedule"] is not None:
        url += f"?reschedule={data['reschedule']}"
    return redirect(url)


def _taken_again(
    request: HttpRequest,
    actor: Actor,
    patient_id: uuid.UUID,
    visit_type_id: uuid.UUID,
    reschedule: uuid.UUID | None,
    error: CarelineError,
) -> HttpResponse:
    today = _today()
    slots = selectors.search_slots(
        actor=actor,
        visit_type_id=visit_type_id,
        date_from=today,
        date_to=today + timedelta(days=SEARCH_DAYS),
        patient_id=patient_id,
        limit=SLOT_LIMIT,
    )
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    return _slot_page(
        request, patient_id, visit_type, slots, today, reschedule, problem=error.message, status=409
    )


@portal_view
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, patient_id: uuid.UUID, hold_id: uuid.UUID) -> HttpResponseBase:
    """The held slot, the preparation, the safety screen; "Book" (or "Move my visit")."""
    actor, _ = _granted(request, patient_id)
    held = selectors.get_patient_hold(patient_id=patient_id, hold_id=hold_id, now=clock.now())
    reschedule = _uuid_param(request.GET.get("reschedule", ""))
    moving = (
        selectors.get_patient_appointment(
            actor=actor, patient_id=patient_id, appointment_id=reschedule
        )
        if reschedule is not None
        else None
    )
    screen = (
        selectors.get_safety_screen(code=held.visit_type.safety_screen_code)
        if held.visit_type.requires_safety_screen and moving is None
        else None
    )
    questions = list(screen.questions) if screen is not None else []
    data = request.POST if request.method == "POST" else None
    form = SafetyScreenForm(data, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = _book_or_move(actor, patient_id, held, moving, form.answers())
        except SafetyScreenPositive as error:
            services.release_hold(actor=actor, hold_id=hold_id)
            context = {
                "patient_id": patient_id,
                "advice": error.message,
                "emergency": EMERGENCY_ADVICE,
            }
            return render(request, "portal/book_stopped.html", context, status=422)
        except SlotTaken as error:
            return _taken_again(
                request, actor, patient_id, held.visit_type.public_id, reschedule, error
            )
        messages.success(
            request, "Your visit is booked." if moving is None else "Your visit is moved."
        )
        return redirect(
            "portal:appointment", patient_id=patient_id, appointment_id=appointment.public_id
        )
    context = {
        "patient_id": patient_id,
        "hold": held,
        "form": form,
        "moving": moving,
        "screen": screen,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/book_confirm.html", context, status=status)


def _book_or_move(
    actor: Actor, patient_id: uuid.UUID, held: Any, moving: Any, answers: dict[str, bool]
) -> Any:
    if moving is not None:
        return services.reschedule_appointment(
            actor=actor,
            appointment_id=moving.public_id,
            starts_at=held.starts_at,
            practitioner_id=held.practitioner.public_id,
            location_id=held.location.public_id,
            reason="patient",
            note="Moved by the patient on the portal",
            hold_id=held.public_id,
        )
    [appointment] = services.book_appointment(
        actor=actor,
        patient_id=patient_id,
        visit_type_id=held.visit_type.public_id,
        practitioner_id=held.practitioner.public_id,
        location_id=held.location.public_id,
        starts_at=held.starts_at,
        hold_id=held.public_id,
        safety_answers=answers,
    )
    return appointment


@portal_view
@require_GET
def appointment(
    request: HttpRequest, patient_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponse:
    actor, _ = _granted(request, patient_id)
    found = selectors.get_patient_appointment(
        actor=actor, patient_id=patient_id, appointment_id=appointment_id
    )
    context = {
        "patient_id": patient_id,
        "appointment": found,
        "can_change": may_change(found, clock.now()),
        "form": CancelForm(),
    }
    return render(request, "portal/appointment.html", context)


@portal_view
@require_POST
def cancel(
    request: HttpRequest, patient_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponseBase:
    actor, _ = _granted(request, patient_id)
    found = selectors.get_patient_appointment(
        actor=actor, patient_id=patient_id, appointment_id=appointment_id
    )
    form = CancelForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.cancel_appointment(
            actor=actor, appointment_id=found.public_id, reason="patient", note=note
        )
    except SelfServiceRefused as error:
        return _refused(request, patient_id, error)
    messages.success(request, "Your visit is cancelled.")
    return redirect("portal:patient_home", patient_id=patient_id)


@portal_view
@require_GET
def calendar_file(
    request: HttpRequest, patient_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponse:
    actor, _ = _granted(request, patient_id)
    found = selectors.get_patient_appointment(
        actor=actor, patient_id=patient_id, appointment_id=appointment_id
    )
    response = HttpResponse(
        appointment_ics(found, stamp=clock.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


@portal_view
@require_http_methods(["GET", "POST"])
def request_visit(
    request: HttpRequest, patient_id: uuid.UUID, visit_type_id: uuid.UUID
) -> HttpResponseBase:
    actor, _ = _granted(request, patient_id)
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    if visit_type.portal_booking != PortalBooking.REQUEST_ONLY:
        raise NotFound("This visit is not requested this way.")
    form = VisitRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        patient_booking.request_visit(
            actor=actor, patient_id=patient_id, visit_type_id=visit_type_id, **form.cleaned_data
        )
        messages.success(request, "Your request is sent. The clinic will contact you with a time.")
        return redirect("portal:choose_visit", patient_id=patient_id)
    context = {"patient_id": patient_id, "visit_type": visit_type, "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/book_request.html", context, status=status)


def _refused(request: HttpRequest, patient_id: uuid.UUID, error: CarelineError) -> HttpResponse:
    context = {"patient_id": patient_id, "message": error.message}
    return render(request, "portal/book_refused.html", context, status=error.status)


def _date_param(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _uuid_param(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
