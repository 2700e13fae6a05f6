"""The Schedule page: pick a patient and a visit type, see the next free slots across the
eligible providers, hold one while the safety screen is answered, book it in one click.

Refusals are the services' own (the rule that applied, by its message); a slot taken in the
meantime brings the page back with fresh options.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from careline.directory.visit_types import get_visit_type, list_visit_types
from careline.patients.selectors import SEARCH_LIMIT, search_patients
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import CarelineError, ValidationFailed
from careline.platform.http import local_today, staff_view
from careline.platform.permissions import Permission
from careline.scheduling import patient_booking, selectors, services
from careline.scheduling.errors import (
    RuleRefusal,
    SafetyScreenPositive,
    SafetyScreenRequired,
    SlotNotOffered,
    SlotTaken,
)
from careline.scheduling.forms import (
    BookForm,
    OverbookForm,
    SlotForm,
    SlotSearchForm,
    set_choices,
)
from careline.scheduling.views import tickets

RESULT_LIMIT = 20
FRESH_OPTIONS = 5
FRESH_DAYS = 30


def _search_form(data: Any) -> SlotSearchForm:
    bookables = selectors.list_bookables()
    return SlotSearchForm(
        data,
        visit_types=[(str(row.public_id), row.name) for row in list_visit_types()],
        locations=[(str(row.public_id), row.name) for row in bookables.locations],
        today=local_today(),
    )


def _overbook_form(search: SlotSearchForm) -> OverbookForm:
    bookables = selectors.list_bookables()
    form = OverbookForm(
        initial={
            "patient": search["patient"].value(),
            "visit_type": search["visit_type"].value(),
        }
    )
    set_choices(
        form,
        "practitioner",
        [(str(row.public_id), row.display_name) for row in bookables.practitioners],
    )
    set_choices(form, "location", [(str(row.public_id), row.name) for row in bookables.locations])
    return form


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Slot")
def schedule(request: HttpRequest) -> HttpResponse:
    """The search form; with a patient and a visit type, the next free slots (near the
    place given, nearest first). The form POSTs (a place may be the patient's address);
    links back here GET with ids only."""
    # Choosing a patient (only ``patient`` given) starts an unbound search form for her.
    data = request.POST if request.method == "POST" else request.GET
    patient_id = data.get("patient", "")
    form = _search_form(data if "visit_type" in data else None)
    if not form.is_bound:
        form.initial["patient"] = patient_id
    context: dict[str, Any] = {"form": form, "options": None}
    if _is_uuid(patient_id):
        context["patient"] = selectors.get_booking_patient(
            actor=actor_from_request(request), patient_id=uuid.UUID(patient_id)
        )
    if form.is_bound and form.is_valid():
        try:
            found = _search_near(request, form.cleaned_data)
        except ValidationFailed as error:
            if _place_error(error):
                form.add_error("place", error.message)
            else:
                context["refusal"] = error
        except RuleRefusal as error:
            context["refusal"] = error
        else:
            context.update(options=found.options, origin=found.origin, near=found.locations)
    if "patient" in context:
        context["overbook_form"] = _overbook_form(form)
        patient_uuid = context["patient"].public_id
        context["tickets"] = patient_booking.list_booking_tickets(
            actor=actor_from_request(request), patient_id=patient_uuid
        )
        context["ticket_form"] = tickets.ticket_form(patient_id=patient_uuid)
    return render(request, "scheduling/schedule.html", context)


def _search_near(request: HttpRequest, cleaned: dict[str, Any]) -> selectors.SlotsNear:
    return selectors.search_slots_near(
        actor=actor_from_request(request),
        visit_type_id=uuid.UUID(str(cleaned["visit_type"])),
        patient_id=cleaned["patient"],
        place=selectors.PlaceQuery(
            address=cleaned["place"] or None, near_patient=cleaned["near_patient"]
        ),
        location_ids=[uuid.UUID(str(value)) for value in cleaned["location"]],
        date_from=cleaned["date_from"],
        date_to=cleaned["date_to"],
        language=cleaned["language"],
        gender=cleaned["gender"],
        limit=RESULT_LIMIT,
    )


def _place_error(error: ValidationFailed) -> bool:
    details = error.details if isinstance(error.details, dict) else {}
    return details.get("parameter") in {"address", "zip", "near_patient"}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _search(
    request: HttpRequest, cleaned: dict[str, Any], limit: int
) -> list[selectors.SlotOption]:
    return selectors.search_slots(
        actor=actor_from_request(request),
        visit_type_id=uuid.UUID(str(cleaned["visit_type"])),
        patient_id=cleaned["patient"],
        places=[selectors.Place(uuid.UUID(str(value))) for value in cleaned["location"]] or None,
        date_from=cleaned["date_from"],
        date_to=cleaned["date_to"],
        language=cleaned["language"],
        gender=cleaned["gender"],
        limit=limit,
    )


@staff_view
@require_POST
@requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def patient_picker(request: HttpRequest) -> HttpResponse:
    """The patient search (the registry's own, audited) with links that pick for booking."""
    text = request.POST.get("q", "")[:200]
    context: dict[str, Any] = {"hits": None}
    try:
        hits = search_patients(actor=actor_from_request(request), text=text)
    except ValidationFailed as error:
        context["hint"] = error.message
    else:
        context.update(hits=hits, is_capped=len(hits) >= SEARCH_LIMIT)
    return render(request, "scheduling/_patient_picker_results.html", context)


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Hold")
def hold(request: HttpRequest) -> HttpResponse:
    """Hold the chosen slot and show what booking it asks (the safety screen, if any)."""
    form = SlotForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed("That slot could not be read; search again.")
    slot = form.cleaned_data
    try:
        held = services.hold_slot(
            actor=actor_from_request(request),
            visit_type_id=slot["visit_type"],
            practitioner_id=slot["practitioner"],
            location_id=slot["location"],
            starts_at=slot["starts_at"],
            patient_id=slot["patient"],
        )
    except SlotTaken as taken:
        return _taken(request, taken, slot)
    book_form = _book_form(slot["visit_type"], initial={**slot, "hold": held.public_id})
    return _confirm(request, book_form, slot, hold=held)


def _book_form(visit_type_id: uuid.UUID, data: Any = None, **kwargs: Any) -> BookForm:
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    red_flags = (
        selectors.get_red_flag_list(code=visit_type.safety_screen_code)
        if visit_type.requires_safety_screen
        else None
    )
    return BookForm(data, visit_type=visit_type, red_flags=red_flags, **kwargs)


def _confirm(
    request: HttpRequest,
    form: BookForm,
    slot: dict[str, Any],
    *,
    hold: Any = None,
    error: CarelineError | None = None,
    status: int = 200,
) -> HttpResponse:
    screen = form.red_flags
    questions = [
        {"code": code, "text": str(question.get("text")), "field": form[f"screen_{code}"]}
        for code, question in zip(
            form.question_codes, screen.questions if screen else [], strict=False
        )
    ]
    context = {
        "form": form,
        "slot": slot,
        "hold": hold,
        "visit_type": form.visit_type,
        "questions": questions,
        "error": error,
        "back_url": _back_url(slot),
    }
    return render(request, "scheduling/confirm.html", context, status=status)


def _back_url(slot: dict[str, Any]) -> str:
    return (
        f"{reverse('scheduling:schedule')}?patient={slot['patient']}"
        f"&visit_type={slot['visit_type']}"
    )


def _taken(request: HttpRequest, taken: CarelineError, slot: dict[str, Any]) -> HttpResponse:
    """The refusal, with the next free slots of the visit type at that location."""
    day = slot["starts_at"].date()
    try:
        options = _search(
            request,
            {
                "visit_type": slot["visit_type"],
                "patient": slot["patient"],
                "location": [slot["location"]],
                "date_from": day,
                "date_to": day + timedelta(days=FRESH_DAYS),
                "language": "",
                "gender": "",
            },
            FRESH_OPTIONS,
        )
    except CarelineError:
        options = []
    context = {
        "error": taken,
        "options": options,
        "patient_id": slot["patient"],
        "back_url": _back_url(slot),
    }
    return render(request, "scheduling/taken.html", context, status=taken.status)


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Appointment")
def book(request: HttpRequest) -> HttpResponse:
    """Book the held slot with the screen's answers (or overbook with a reason)."""
    visit_type_id = request.POST.get("visit_type", "")
    if not _is_uuid(visit_type_id):
        raise ValidationFailed("That slot could not be read; search again.")
    form = _book_form(uuid.UUID(visit_type_id), request.POST)
    if not form.is_valid():
        raise ValidationFailed("That slot could not be read; search again.")
    slot = form.cleaned_data
    try:
        appointments = services.book_appointment(
            actor=actor_from_request(request),
            patient_id=slot["patient"],
            visit_type_id=slot["visit_type"],
            practitioner_id=slot["practitioner"],
            location_id=slot["location"],
            starts_at=slot["starts_at"],
            hold_id=slot["hold"],
            safety_answers=form.safety_answers(),
            overbook_reason=slot["overbook_reason"],
        )
    except SlotTaken as taken:
        return _taken(request, taken, slot)
    except (SafetyScreenRequired, SafetyScreenPositive, RuleRefusal, SlotNotOffered) as error:
        return _confirm(request, form, slot, error=error, status=error.status)
    messages.success(request, "Booked.")
    return redirect("scheduling:appointment", appointment_id=appointments[0].public_id)


@staff_view
@require_POST
@requires_permission(Permission.OVERBOOK_APPOINTMENT, resource_type="Appointment")
def overbook(request: HttpRequest) -> HttpResponse:
    """Start an authorised overbook: the time chosen, the reason; then the confirm page."""
    data = request.POST
    form = OverbookForm(data)
    set_choices(form, "practitioner", [(data.get("practitioner", ""), "")])
    set_choices(form, "location", [(data.get("location", ""), "")])
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label if name in form.fields else ''}: "
            + " ".join(str(message) for message in error_list)
            for name, error_list in form.errors.items()
        )
        raise ValidationFailed(f"Check the overbook: {errors}")
    slot = dict(form.cleaned_data)
    for name in ("practitioner", "location"):
        if not _is_uuid(str(slot[name])):
            raise ValidationFailed(f"Choose the {name}.")
        slot[name] = uuid.UUID(str(slot[name]))
    book_form = _book_form(slot["visit_type"], initial=slot)
    return _confirm(request, book_form, slot)


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Hold")
def release(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    """Let the held slot go and return to the search."""
    services.release_hold(actor=actor_from_request(request), hold_id=hold_id)
    back = request.POST.get("next", "")
    if back.startswith(reverse("scheduling:schedule")):
        return redirect(back)
    return redirect("scheduling:schedule")
