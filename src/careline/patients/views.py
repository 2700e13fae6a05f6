"""Staff UI for the registry: find a patient, see her whole (the 360° view), small edits.

Each view parses (a Form), makes one service or selector call and renders. The search text
is PHI, so it travels in POST bodies, never in a URL. Clinical panels come from the
``clinical`` app through htmx (``patients`` may not import it). Errors become 4xx pages or
fragments through ``careline.platform.http.staff_view``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from careline.patients import access, services
from careline.patients.forms import (
    BreakGlassForm,
    CommunicationPreferenceForm,
    ConsentForm,
    ContactPointForm,
    ContactPointUpdateForm,
    SearchForm,
    ServiceForm,
    TimelineFilterForm,
)
from careline.patients.models import (
    CommunicationPreference,
    Consent,
    ContactPoint,
    ContactSystem,
    RelatedPerson,
)
from careline.patients.normalize import format_phone
from careline.patients.selectors import (
    SEARCH_LIMIT,
    PatientRegistryView,
    TimelinePage,
    get_patient_registry_view,
    list_patient_consent_rows,
    list_timeline,
    search_patients,
    search_patients_for_audit,
)
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import BreakGlassRequired, ValidationFailed
from careline.platform.http import is_htmx, local_today, staff_view
from careline.platform.permissions import Permission

_PHONE_SYSTEMS = frozenset({ContactSystem.PHONE, ContactSystem.SMS, ContactSystem.FAX})
_ADD_CONTACT_AUTO_ID = "contact-add-%s"
_CONSENT_AUTO_ID = "consent-%s"


# ---- search ------------------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def search(request: HttpRequest) -> HttpResponse:
    """The search page; a POST (no JavaScript) shows results on it, the text kept out of URLs."""
    context: dict[str, Any] = {"form": SearchForm()}
    if request.method == "POST":
        context = _search(request)
    return render(request, "patients/search.html", context)


@staff_view
@require_POST
@requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def search_results(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/_search_results.html", _search(request))


def _search(request: HttpRequest) -> dict[str, Any]:
    form = SearchForm(request.POST)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    try:
        hits = search_patients(actor=actor_from_request(request), text=text)
    except ValidationFailed as error:
        return {"form": form, "hits": None, "hint": error.message}
    return {"form": form, "hits": hits, "is_capped": len(hits) >= SEARCH_LIMIT}


# ---- the audit log's patient picker ------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.VIEW_AUDIT_LOG, resource_type="Patient")
def audit_patient_picker(request: HttpRequest) -> HttpResponse:
    """Find a patient by name, birth date or MRN to read her audit trail (compliance).

    htmx posts the text and swaps in the list; without JavaScript the page posts to itself.
    """
    context: dict[str, Any] = {"picker_form": SearchForm()}
    if request.method == "POST":
        form = SearchForm(request.POST)
        text = form.cleaned_data["q"] if form.is_valid() else ""
        context["picker_form"] = form
        try:
            hits = search_patients_for_audit(actor=actor_from_request(request), text=text)
        except ValidationFailed as error:
            context.update(hits=None, hint=error.message)
        else:
            context.update(hits=hits, is_capped=len(hits) >= SEARCH_LIMIT)
        if is_htmx(request):
            return render(request, "patients/_audit_patient_picker_results.html", context)
    return render(request, "patients/audit_patient_picker.html", context)


# ---- the 360° view -----------------------------------------------------------------------


@staff_view
@require_GET
@requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def detail(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    try:
        registry = get_patient_registry_view(
            actor=actor_from_request(request), patient_id=patient_id
        )
    except BreakGlassRequired as error:
        return _break_glass_page(request, patient_id, BreakGlassForm(), error.message, 403)
    return render(request, "patients/detail.html", _detail_context(registry))


@dataclass(frozen=True)
class ContactRow:
    """A contact detail as shown: its value for reading, and its prefilled edit form."""

    contact: ContactPoint
    display_value: str
    form: ContactPointUpdateForm


@dataclass(frozen=True)
class CaregiverRow:
    person: RelatedPerson
    phone_display: str


def _display_value(contact: ContactPoint) -> str:
    return format_phone(contact.value) if contact.system in _PHONE_SYSTEMS else contact.value


def _contact_row(contact: ContactPoint) -> ContactRow:
    display = _display_value(contact)
    form = ContactPointUpdateForm(
        initial={"value": display, "use": contact.use}, auto_id=_contact_auto_id(contact.public_id)
    )
    return ContactRow(contact=contact, display_value=display, form=form)


def _contact_auto_id(contact_id: uuid.UUID) -> str:
    """Field ids unique to one contact's edit form (the 360 page has one per contact)."""
    return f"contact-{contact_id.hex[:12]}-%s"


def _detail_context(registry: PatientRegistryView) -> dict[str, Any]:
    patient, day = registry.patient, local_today()
    current = registry.current_coverages(day)
    return {
        "registry": registry,
        "patient": patient,
        "patient_id": patient.public_id,
        "contact_rows": [_contact_row(contact) for contact in registry.contact_points],
        "add_contact_form": ContactPointForm(auto_id=_ADD_CONTACT_AUTO_ID),
        "preference": registry.preference,
        "preference_form": CommunicationPreferenceForm.for_preference(registry.preference),
        "consent_rows": registry.consent_rows(day),
        "consent_form": ConsentForm(auto_id=_CONSENT_AUTO_ID),
        "current_coverages": current,
        "past_coverages": [c for c in registry.coverages if c not in current],
        "caregivers": [
            CaregiverRow(person, format_phone(person.phone) if person.phone else "")
            for person in registry.caregivers
        ],
        "timeline_form": TimelineFilterForm(auto_id="timeline-%s"),
        "page": registry.timeline,
        "older_url": _older_url(patient.public_id, registry.timeline, {}),
    }


@staff_view
@require_GET
@requires_permission(Permission.VIEW_PATIENT, resource_type="Timeline")
def timeline(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A page of the timeline, filtered; with ``cursor`` only the older rows (appended)."""
    form = TimelineFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "patients/_timeline_results.html", {"form": form}, status=422)
    since, until = form.window()
    page = list_timeline(
        actor=actor_from_request(request),
        patient_id=patient_id,
        kinds=form.kinds(),
        since=since,
        until=until,
        cursor=form.page_cursor(),
    )
    context = {"form": form, "page": page, "older_url": _older_url(patient_id, page, form.query())}
    if form.page_cursor():  # "older": only the rows, swapped in for the button
        return render(request, "patients/_timeline_items.html", context)
    return render(request, "patients/_timeline_results.html", context)


def _older_url(patient_id: uuid.UUID, page: TimelinePage, query: dict[str, str]) -> str | None:
    """The next (older) page of the same filter, or None on the last page."""
    if page.next_cursor is None:
        return None
    query = {**query, "cursor": page.next_cursor}
    return f"{reverse('patients:timeline', args=[patient_id])}?{urlencode(query)}"


# ---- break-glass -------------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def break_glass(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """State a reason to open a patient outside one's care teams and locations."""
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access.break_glass(
                actor=actor_from_request(request),
                patient_id=patient_id,
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            return redirect("patients:detail", patient_id=patient_id)
    status = 422 if request.method == "POST" else 200
    return _break_glass_page(request, patient_id, form, "", status)


def _break_glass_page(
    request: HttpRequest, patient_id: uuid.UUID, form: BreakGlassForm, message: str, status: int
) -> HttpResponse:
    """The reason form. It shows no PHI: the patient is not yet open to this user."""
    context = {"patient_id": patient_id, "form": form, "message": message}
    return render(request, "patients/break_glass.html", context, status=status)


# ---- edits -------------------------------------------------------------------------------
# Each edit is one ``_submit``: parse the form → call one service → render the changed
# section (htmx) or go back to the 360 page; a refusal shows the form again with its messages.

WrittenT = TypeVar("WrittenT")


@dataclass(frozen=True)
class FormSection:
    """Where an edit's form sits on the 360 page: its fragment, its context name, its element."""

    template: str
    form_name: str
    target: str
    context: dict[str, Any] = field(default_factory=dict)


def _submit(
    request: HttpRequest,
    patient_id: uuid.UUID,
    form: ServiceForm,
    *,
    write: Callable[..., WrittenT],
    render_saved: Callable[[WrittenT], tuple[str, dict[str, Any]]],
    section: FormSection,
) -> HttpResponse:
    """Parse ``form``, call the service ``write`` with the actor, the patient and the form's
    arguments, and answer with what ``render_saved`` makes of the result (or the form, 422)."""
    if form.is_valid():
        try:
            written = write(
                actor=actor_from_request(request),
                patient_id=patient_id,
                **form.service_arguments(),
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            template, context = render_saved(written)
            return _saved(request, patient_id, template, {**context, "patient_id": patient_id})
    context = {**section.context, section.form_name: form, "patient_id": patient_id}
    return _invalid(request, section.template, context, section.target)


@staff_view
@require_POST
@requires_permission(Permission.CHANGE_CONTACT, resource_type="ContactPoint")
def add_contact(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    def render_saved(contact: ContactPoint) -> tuple[str, dict[str, Any]]:
        context = {
            "row": _contact_row(contact),
            "add_contact_form": ContactPointForm(auto_id=_ADD_CONTACT_AUTO_ID),
        }
        return "patients/_contact_added.html", context

    return _submit(
        request,
        patient_id,
        ContactPointForm(request.POST, auto_id=_ADD_CONTACT_AUTO_ID),
        write=services.add_contact_point,
        render_saved=render_saved,
        section=FormSection("patients/_contact_add_form.html", "add_contact_form", "#contact-add"),
    )


@staff_view
@require_POST
@requires_permission(Permission.CHANGE_CONTACT, resource_type="ContactPoint")
def update_contact(
    request: HttpRequest, patient_id: uuid.UUID, contact_id: uuid.UUID
) -> HttpResponse:
    def render_saved(contact: ContactPoint) -> tuple[str, dict[str, Any]]:
        return "patients/_contact_row.html", {"row": _contact_row(contact)}

    return _submit(
        request,
        patient_id,
        ContactPointUpdateForm(request.POST, auto_id=_contact_auto_id(contact_id)),
        write=partial(services.update_contact_point, contact_id=contact_id),
        render_saved=render_saved,
        section=FormSection(
            "patients/_contact_edit_form.html",
            "form",
            f"#contact-edit-{contact_id.hex}",
            {"contact_id": contact_id},
        ),
    )


@staff_view
@require_POST
@requires_permission(Permission.CHANGE_CONTACT, resource_type="ContactPoint")
def remove_contact(
    request: HttpRequest, patient_id: uuid.UUID, contact_id: uuid.UUID
) -> HttpResponse:
    services.remove_contact_point(
        actor=actor_from_request(request), patient_id=patient_id, contact_id=contact_id
    )
    if not is_htmx(request):
        return redirect("patients:detail", patient_id=patient_id)
    return HttpResponse("")  # htmx swaps the row out for nothing


@staff_view
@require_POST
@requires_permission(Permission.CHANGE_PREFERENCES, resource_type="CommunicationPreference")
def update_preferences(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    def render_saved(preference: CommunicationPreference) -> tuple[str, dict[str, Any]]:
        context = {
            "preference": preference,
            "preference_form": CommunicationPreferenceForm.for_preference(preference),
        }
        return "patients/_preferences.html", context

    return _submit(
        request,
        patient_id,
        CommunicationPreferenceForm(request.POST),
        write=services.update_communication_preference,
        render_saved=render_saved,
        section=FormSection(
            "patients/_preferences_form.html", "preference_form", "#preferences-form"
        ),
    )


@staff_view
@require_POST
@requires_permission(Permission.CHANGE_CONSENT, resource_type="Consent")
def record_consent(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    def render_saved(consent: Consent) -> tuple[str, dict[str, Any]]:
        # The list again, by the same rule as the page: the new decision is current only if
        # it was decided last (one recorded now may be dated before an existing one).
        context = {
            "consent_rows": list_patient_consent_rows(
                patient_pk=consent.patient_id, today=local_today()
            ),
            "consent_form": ConsentForm(auto_id=_CONSENT_AUTO_ID),
        }
        return "patients/_consent_added.html", context

    return _submit(
        request,
        patient_id,
        ConsentForm(request.POST, auto_id=_CONSENT_AUTO_ID),
        write=services.record_consent,
        render_saved=render_saved,
        section=FormSection("patients/_consent_form.html", "consent_form", "#consent-form"),
    )


def _saved(
    request: HttpRequest, patient_id: uuid.UUID, template: str, context: dict[str, Any]
) -> HttpResponse:
    """After a write: the changed section for htmx, else back to the 360 (post/redirect/get)."""
    if not is_htmx(request):
        return redirect("patients:detail", patient_id=patient_id)
    return render(request, template, context)


def _invalid(
    request: HttpRequest, template: str, context: dict[str, Any], target: str
) -> HttpResponse:
    """The form again with its messages (422): swapped over itself, or on a page of its own."""
    if not is_htmx(request):
        page_context = {**context, "fragment": template}
        return render(request, "patients/form_page.html", page_context, status=422)
    response = render(request, template, context, status=422)
    return retarget(reswap(response, "outerHTML"), target)
