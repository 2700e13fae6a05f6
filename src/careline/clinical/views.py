"""Staff UI for the EHR mirror: the clinical panels of the 360° view, loaded by htmx.

The answer also carries the allergy strip, swapped out of band into the banner of the 360
page, so the most safety-relevant fact is at the top of the patient's screen. When the
summary cannot be shown the strip says so, rather than looking like "no allergies". What the
strip says is decided in ``clinical.banner`` (the API's summary says the same).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.clinical.selectors import ClinicalSummary, get_clinical_summary
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import CarelineError
from careline.platform.http import staff_view
from careline.platform.permissions import Permission

P = ParamSpec("P")


def _unavailable_on_error(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """A refusal or error still answers the panel, with a banner that says allergies are not
    shown (never one that looks like "no allergies")."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except CarelineError as error:
            context = {"error": error, "patient_id": kwargs.get("patient_id")}
            template = "clinical/summary_unavailable.html"
            return render(request, template, context, status=error.status)

    return wrapper


@staff_view
@require_GET
@_unavailable_on_error
@requires_permission(Permission.VIEW_CLINICAL, resource_type="ClinicalSummary")
def patient_summary(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    summary = get_clinical_summary(actor=actor_from_request(request), patient_id=patient_id)
    return render(request, "clinical/patient_summary.html", _summary_context(summary))


def _summary_context(summary: ClinicalSummary) -> dict[str, Any]:
    return {
        "summary": summary,
        "banner": summary.allergy_banner,
        "patient_id": summary.access.patient.public_id,
    }
