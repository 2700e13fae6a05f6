"""The portal's patient-facing pages: home ("acting for"), linking a record, invitations,
and the patient's own list of proxies.

Every page wears ``portal_view`` and reads a patient only through ``portal_patient``.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.patients.self_service import get_patient_basics
from careline.platform import clock
from careline.platform.errors import CarelineError, NotFound
from careline.platform.models import User
from careline.portal import proof, services
from careline.portal.access import NOT_FOUND_MESSAGE, portal_actor, portal_patient
from careline.portal.appointments import get_appointments
from careline.portal.forms import CodeForm, ProofForm, ProxyInvitationForm
from careline.portal.http import portal_view
from careline.portal.models import ProxyScope
from careline.portal.selectors import list_acting_for, list_proxies_granted
from careline.scheduling.selectors import list_open_entries


def _account(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 (portal_view let only portal accounts in)
    return user


@portal_view
@require_GET
def home(request: HttpRequest) -> HttpResponseBase:
    """Her own record if linked, else the first patient she acts for, else linking."""
    acting_for = list_acting_for(account=_account(request))
    if not acting_for:
        return redirect("portal:link")
    return redirect(
        "portal:patient_home", patient_id=acting_for[-1 if acting_for[-1].is_self else 0].patient_id
    )


@portal_view
@require_GET
def patient_home(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    granted = portal_patient(actor=portal_actor(request), patient_id=patient_id)
    basics = get_patient_basics(patient_id)
    if basics is None:  # removed since the check: the same answer as "not yours"
        raise NotFound(NOT_FOUND_MESSAGE)
    now = clock.now()
    may_schedule = granted.allows(ProxyScope.APPOINTMENTS)
    context = {
        "granted": granted,
        "basics": basics,
        "appointments": get_appointments(patient_id, now) if may_schedule else None,
        "waitlist": list_open_entries(patient_id=patient_id, now=now) if may_schedule else [],
        "acting_for": list_acting_for(account=_account(request)),
    }
    return render(request, "portal/home.html", context)


@portal_view
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    """Link my record by proof: name and birth date; a code goes to an email on file."""
    form = ProofForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        challenge = proof.start_proof(actor=portal_actor(request), **form.cleaned_data)
        return redirect("portal:link_code", challenge_id=challenge.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/link.html", {"form": form}, status=status)


@portal_view
@require_http_methods(["GET", "POST"])
def link_code(request: HttpRequest, challenge_id: uuid.UUID) -> HttpResponseBase:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = proof.complete_proof(
                actor=portal_actor(request),
                challenge_id=challenge_id,
                code=form.cleaned_data["code"],
            )
        except CarelineError as error:
            form.add_error("code", error.message)
            return render(request, "portal/link_code.html", {"form": form}, status=error.status)
        messages.success(request, "Your record is linked to your account.")
        return redirect("portal:patient_home", patient_id=created.patient_public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/link_code.html", {"form": form}, status=status)


@portal_view
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponseBase:
    """GET asks to accept (mail scanners follow links); POST links the signed-in account."""
    if request.method == "POST":
        created = services.accept_invitation(actor=portal_actor(request), token=token)
        messages.success(
            request, "The invitation is accepted: the record is linked to your account."
        )
        return redirect("portal:patient_home", patient_id=created.patient_public_id)
    return render(request, "portal/invitation.html", {"token": token})


@portal_view
@require_http_methods(["GET", "POST"])
def proxies(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponseBase:
    """The patient's own page: who may act for her, and inviting someone."""
    actor = portal_actor(request)
    granted = portal_patient(actor=actor, patient_id=patient_id, resource_type="PortalLink")
    if not granted.is_self:
        raise NotFound(NOT_FOUND_MESSAGE)
    form = ProxyInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.invite_proxy_from_portal(
            actor=actor,
            patient_id=patient_id,
            email=form.cleaned_data["email"],
            scopes=form.cleaned_data["scopes"],
            grant_days=form.cleaned_data["grant_days"],
            site_url=request.build_absolute_uri("/"),
        )
        messages.success(request, "The invitation is on its way.")
        return redirect("portal:proxies", patient_id=patient_id)
    context = {
        "form": form,
        "patient_id": patient_id,
        "proxies": list_proxies_granted(patient_id=patient_id),
    }
    return render(
        request, "portal/proxies.html", context, status=422 if request.method == "POST" else 200
    )


@portal_view
@require_POST
def revoke_proxy(
    request: HttpRequest, patient_id: uuid.UUID, link_id: uuid.UUID
) -> HttpResponseBase:
    services.revoke_proxy_from_portal(
        actor=portal_actor(request), patient_id=patient_id, link_id=link_id
    )
    messages.success(request, "Their access has ended.")
    return redirect("portal:proxies", patient_id=patient_id)
