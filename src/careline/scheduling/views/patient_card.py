"""The Appointments card of the 360° view (upcoming and missed), loaded by htmx from the
patient's page like the clinical panel."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.platform import clock
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.http import staff_view
from careline.platform.permissions import Permission
from careline.scheduling.selectors import get_patient_appointments


@staff_view
@require_GET
@requires_permission(Permission.VIEW_SCHEDULE, resource_type="Appointment")
def patient_appointments(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    appointments = get_patient_appointments(
        actor=actor_from_request(request), patient_id=patient_id, now=clock.now()
    )
    return render(request, "scheduling/_patient_appointments.html", {"appointments": appointments})
