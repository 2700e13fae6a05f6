"""The patient's secure messages in the portal: a list and a read view (opening one marks it
read). Messages come from ``careline.messaging`` (its selectors and services); who may read
them is the portal's rule (``portal_patient`` with the messages scope for a proxy)."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.messaging import selectors, services
from careline.platform.models import AuditAction
from careline.portal.access import portal_actor, portal_patient
from careline.portal.http import portal_view
from careline.portal.models import ProxyScope


@portal_view
@require_GET
def messages(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    granted = portal_patient(
        actor=portal_actor(request),
        patient_id=patient_id,
        scope=ProxyScope.MESSAGES,
        action=AuditAction.READ,
        resource_type="Message",
    )
    rows = selectors.list_portal_messages(patient_id=patient_id)
    return render(request, "portal/messages.html", {"granted": granted, "messages": rows})


@portal_view
@require_GET
def message(request: HttpRequest, patient_id: uuid.UUID, message_id: uuid.UUID) -> HttpResponse:
    actor = portal_actor(request)
    granted = portal_patient(
        actor=actor,
        patient_id=patient_id,
        scope=ProxyScope.MESSAGES,
        action=AuditAction.READ,
        resource_type="Message",
    )
    found = selectors.get_portal_message(patient_id=patient_id, message_id=message_id)
    services.mark_read(actor=actor, message=found)
    return render(request, "portal/message.html", {"granted": granted, "message": found})
