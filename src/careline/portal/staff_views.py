"""Staff side of the portal: on the 360 page, who has portal access, invite, revoke; and the
list of visits patients asked for on the portal (booking requests).

The card is loaded by htmx into the patient's 360 page; its forms post here and the card
is swapped in again (or, without JavaScript, the 360 page reloads).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import is_htmx, staff_view
from careline.platform.permissions import Permission
from careline.portal import services
from careline.portal.forms import StaffInvitationForm
from careline.portal.selectors import PortalAccessCard, get_portal_access_card
from careline.scheduling import patient_booking


def _form(card: PortalAccessCard, data: Any = None) -> StaffInvitationForm:
    proxies = [
        (
            str(person.public_id),
            f"{person.name} ({person.relationship or 'caregiver'}) — {person.email}",
        )
        for person in card.proxy_candidates
    ]
    return StaffInvitationForm(
        data, emails=card.emails_on_file, proxies=proxies, auto_id="portal-invite-%s"
    )


def _render_card(
    request: HttpRequest,
    patient_id: uuid.UUID,
    *,
    form: StaffInvitationForm | None = None,
    sent_to: str = "",
    status: int = 200,
) -> HttpResponse:
    card = get_portal_access_card(actor=actor_from_request(request), patient_id=patient_id)
    context = {
        "card": card,
        "form": form or _form(card),
        "patient_id": patient_id,
        "sent_to": sent_to,
    }
    return render(request, "portal/staff/_card.html", context, status=status)


@staff_view
@require_GET
@requires_permission(Permission.MANAGE_PORTAL_ACCESS, resource_type="PortalLink")
def patient_card(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    return _render_card(request, patient_id)


@staff_view
@require_POST
@requires_permission(Permission.MANAGE_PORTAL_ACCESS, resource_type="PortalInvitation")
def invite(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    card = get_portal_access_card(actor=actor_from_request(request), patient_id=patient_id)
    form = _form(card, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            sent = services.invite_to_portal(
                actor=actor_from_request(request),
                patient_id=patient_id,
                relationship=data["relationship"],
                email=data["email"],
                related_person_id=uuid.UUID(data["related_person"])
                if data["related_person"]
                else None,
                scopes=data["scopes"],
                grant_days=data["grant_days"],
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationFailed as error:
            form.add_error(None, error.message)
        else:
            if not is_htmx(request):
                return redirect("patients:detail", patient_id=patient_id)
            return _render_card(request, patient_id, sent_to=sent.invitation.email)
    return _render_card(request, patient_id, form=form, status=422)


@staff_view
@require_POST
@requires_permission(Permission.MANAGE_PORTAL_ACCESS, resource_type="PortalLink")
def revoke(request: HttpRequest, patient_id: uuid.UUID, link_id: uuid.UUID) -> HttpResponse:
    services.revoke_portal_link(
        actor=actor_from_request(request), patient_id=patient_id, link_id=link_id
    )
    if not is_htmx(request):
        return redirect("patients:detail", patient_id=patient_id)
    return _render_card(request, patient_id)


# --- booking requests from the portal ---------------------------------------------------------


@staff_view
@require_GET
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="BookingRequest")
def booking_requests(request: HttpRequest) -> HttpResponse:
    """The visits patients asked for on the portal ("request only" types), oldest first."""
    requests = patient_booking.list_open_booking_requests(actor=actor_from_request(request))
    return render(request, "portal/staff/booking_requests.html", {"requests": requests})


@staff_view
@require_POST
@requires_permission(Permission.BOOK_APPOINTMENT, resource_type="BookingRequest")
def close_booking_request(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    patient_booking.close_booking_request(
        actor=actor_from_request(request),
        request_id=request_id,
        status=request.POST.get("status", ""),
        staff_note=request.POST.get("staff_note", ""),
    )
    return redirect("portal_access:booking_requests")
