"""Staff UI for the EHR mirror: the clinical panels of the 360° view, loaded by htmx.

The answer also carries the allergy strip, swapped out of band into the banner of the 360
page, so the most safety-relevant fact is at the top of the patient's screen. When the
summary cannot be shown the strip says so, rather than looking like "no allergies".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.clinical.models import AllergyIntolerance
from careline.clinical.selectors import ClinicalSummary, get_clinical_summary
from careline.platform.actors import actor_from_request
from careline.platform.errors import CarelineError
from careline.platform.http import staff_view

# SNOMED CT situations recorded as an AllergyIntolerance meaning "none known".
NO_KNOWN_ALLERGY_CODES = frozenset(
    {
        "716186003",  # No known allergy
        "409137002",  # No known drug allergy
        "429625007",  # No known food allergy
        "428607008",  # No known environmental allergy
    }
)
_NOT_AN_ALLERGY_STATUSES = frozenset({"refuted", "entered-in-error"})
_CRITICALITY_ORDER = {"high": 0, "unable-to-assess": 1, "low": 2}


@dataclass(frozen=True)
class AllergyBanner:
    allergies: list[AllergyIntolerance]  # the most critical first
    no_known_allergies: AllergyIntolerance | None  # the record saying "none known"


@staff_view
@require_GET
def patient_summary(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    try:
        summary = get_clinical_summary(actor=actor_from_request(request), patient_id=patient_id)
    except CarelineError as error:
        context = {"error": error, "patient_id": patient_id}
        return render(request, "clinical/summary_unavailable.html", context, status=error.status)
    return render(request, "clinical/patient_summary.html", _summary_context(summary))


def _summary_context(summary: ClinicalSummary) -> dict[str, Any]:
    return {
        "summary": summary,
        "banner": allergy_banner(summary.allergies),
        "patient_id": summary.access.patient.public_id,
    }


def allergy_banner(allergies: list[AllergyIntolerance]) -> AllergyBanner:
    real = [
        allergy
        for allergy in allergies
        if allergy.code not in NO_KNOWN_ALLERGY_CODES
        and allergy.verification_status not in _NOT_AN_ALLERGY_STATUSES
    ]
    real.sort(key=lambda allergy: _CRITICALITY_ORDER.get(allergy.criticality, 3))
    none_known = next((a for a in allergies if a.code in NO_KNOWN_ALLERGY_CODES), None)
    return AllergyBanner(allergies=real, no_known_allergies=None if real else none_known)
