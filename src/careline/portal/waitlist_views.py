"""The portal's waitlist pages: join a waitlist for a visit she books herself, leave one, and
answer an offer (take the freed time, after the visit type's safety screen, or say no). Her
open entries (with an offer out and its expiry) are listed on her home page.

Each page first asks ``portal_patient`` for the ``appointments`` scope (a proxy without it,
or another patient's id, gets the same 404). Joining and leaving call the waitlist services
staff use, with the portal actor: the same validation, the same audit and timeline, and the
patient's own limits (``scheduling.self_service.check_self_waitlist``) in one place.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from careline.directory.visit_types import get_visit_type
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.errors import CarelineError, NotFound
from careline.portal.access import NOT_FOUND_MESSAGE, portal_actor, portal_patient
from careline.portal.booking_views import EMERGENCY_ADVICE
from careline.portal.forms import SafetyScreenForm, WaitlistJoinForm
from careline.portal.http import portal_view
from careline.portal.models import ProxyScope
from careline.scheduling import patient_booking
from careline.scheduling.errors import SafetyScreenPositive, SlotTaken
from careline.scheduling.selectors import (
    OpenEntry,
    get_safety_screen,
    list_bookables,
    list_open_entries,
)
from careline.scheduling.waitlist import services

PATIENT_REQUEST = "patient_request"  # the reason she leaves (``RemovedReason``)


def _granted(request: HttpRequest, patient_id: uuid.UUID) -> Actor:
    actor = portal_actor(request)
    portal_patient(
        actor=actor,
        patient_id=patient_id,
        scope=ProxyScope.APPOINTMENTS,
        resource_type="WaitlistEntry",
    )
    return actor


def _join_form(request: HttpRequest, patient_id: uuid.UUID) -> WaitlistJoinForm:
    today = timezone.localdate(clock.now())
    options = patient_booking.get_booking_options(patient_id=patient_id, today=today)
    bookables = list_bookables()
    return WaitlistJoinForm(
        request.POST if request.method == "POST" else None,
        initial={"visit_type_id": request.GET.get("visit_type", "")[:36]},
        visit_types=[(str(row.public_id), row.name) for row in options.self_schedulable],
        locations=[(str(row.public_id), row.name) for row in bookables.locations],
        practitioners=[(str(row.public_id), row.display_name) for row in bookables.practitioners],
    )


@portal_view
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponseBase:
    """The form; on "Join", the waitlist service (its refusals shown beside the field)."""
    actor = _granted(request, patient_id)
    form = _join_form(request, patient_id)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                entry = services.join_waitlist(
                    actor=actor, patient_id=patient_id, **form.cleaned_data
                )
            except CarelineError as error:
                form.add_service_error(error)
                status = error.status
            else:
                messages.success(
                    request,
                    f"You are on the waitlist for {entry.visit_type.name}. We will offer you "
                    "a time if one frees up.",
                )
                return redirect("portal:patient_home", patient_id=patient_id)
    context = {"patient_id": patient_id, "form": form}
    return render(request, "portal/waitlist_join.html", context, status=status)


@portal_view
@require_POST
def leave(request: HttpRequest, patient_id: uuid.UUID, entry_id: uuid.UUID) -> HttpResponseBase:
    """Take her entry off the waitlist (an offer it has out is withdrawn)."""
    actor = _granted(request, patient_id)
    mine = {row.entry_id for row in list_open_entries(patient_id=patient_id, now=clock.now())}
    if entry_id not in mine:  # someone else's, or no longer open: the same answer
        raise NotFound(NOT_FOUND_MESSAGE)
    services.remove_from_waitlist(actor=actor, entry_id=entry_id, reason=PATIENT_REQUEST)
    messages.success(request, "You are off that waitlist.")
    return redirect("portal:patient_home", patient_id=patient_id)


def _open_offer(patient_id: uuid.UUID, offer_id: uuid.UUID) -> OpenEntry:
    """Her entry with this offer still open; anyone else's, answered or expired: not found."""
    for entry in list_open_entries(patient_id=patient_id, now=clock.now()):
        if entry.offer is not None and entry.offer.offer_id == offer_id:
            return entry
    raise NotFound("That offer is no longer open. It may have expired or been answered.")


@portal_view
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, patient_id: uuid.UUID, offer_id: uuid.UUID) -> HttpResponseBase:
    """The offered time and its expiry; "Take this time" books it through the waitlist
    service (after the visit type's safety screen, unless she moves a booked visit up),
    "No, thanks" declines it and keeps her on the list."""
    actor = _granted(request, patient_id)
    entry = _open_offer(patient_id, offer_id)
    visit_type = get_visit_type(visit_type_id=entry.visit_type_id)
    screen = (
        get_safety_screen(code=visit_type.safety_screen_code)
        if visit_type.requires_safety_screen and not entry.is_move_up
        else None
    )
    data = request.POST if request.method == "POST" else None
    form = SafetyScreenForm(data, questions=list(screen.questions) if screen else [])
    status = 200
    if request.method == "POST" and request.POST.get("answer") == "decline":
        services.decline_offer(actor=actor, offer_id=offer_id)
        messages.success(request, "You said no to that time. You stay on the waitlist.")
        return redirect("portal:patient_home", patient_id=patient_id)
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                appointment = services.accept_offer(
                    actor=actor, offer_id=offer_id, safety_answers=form.answers()
                )
            except SafetyScreenPositive as error:
                context = {
                    "patient_id": patient_id,
                    "advice": error.message,
                    "emergency": EMERGENCY_ADVICE,
                }
                return render(request, "portal/book_stopped.html", context, status=422)
            except SlotTaken:
                messages.error(request, "Someone else took that time first. You stay on the list.")
                return redirect("portal:patient_home", patient_id=patient_id)
            except CarelineError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                messages.success(request, "Your visit is booked.")
                return redirect(
                    "portal:appointment",
                    patient_id=patient_id,
                    appointment_id=appointment.public_id,
                )
    context = {
        "patient_id": patient_id,
        "entry": entry,
        "visit_type": visit_type,
        "form": form,
        "screen": screen,
    }
    return render(request, "portal/waitlist_offer.html", context, status=status)
