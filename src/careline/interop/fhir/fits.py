"""Mapped text against the columns the owning apps store it in: a value too long is a
reasoned rejection of its resource, never a value cut to fit.
"""

from __future__ import annotations

from django.db import models

from careline.clinical.services import FACT_MODELS as CLINICAL_MODELS
from careline.directory.services import DIRECTORY_MODELS
from careline.interop.fhir.context import Mapping
from careline.interop.fhir.mapping.patient import PatientDetails
from careline.interop.fhir.validation import Problem
from careline.patients.bulk import FACT_MODELS as REGISTRY_MODELS
from careline.patients.bulk import MRN_TYPE, RECORD_MODELS, normalize_contact
from careline.platform.rows import overlong_text, text_limits
from careline.scheduling.imports import IMPORT_MODELS as SCHEDULING_MODELS

TARGETS: dict[str, type[models.Model]] = {
    **DIRECTORY_MODELS,
    **CLINICAL_MODELS,
    **REGISTRY_MODELS,
    **SCHEDULING_MODELS,
    "Patient": RECORD_MODELS["Patient"],
}


def text_problem(resource_type: str, mapping: Mapping) -> Problem | None:
    """The first mapped text longer than where it is stored, as a rejection, or None."""
    model = TARGETS.get(resource_type)
    if model is not None:
        for name, length, limit in overlong_text(model, mapping.fields):
            return Problem(resource_type, _reason(name.replace("_", " "), length, limit))
    if isinstance(mapping.extra, PatientDetails):
        return _record_problem(mapping.extra)
    return None


def _record_problem(details: PatientDetails) -> Problem | None:
    identifier = text_limits(RECORD_MODELS["Identifier"])
    mrn = text_limits(RECORD_MODELS["Patient"])["mrn"]
    for item in details.identifiers:
        limit = min(identifier["value"], mrn) if item.type_code == MRN_TYPE else identifier["value"]
        for name, value, most in (
            ("system", item.system, identifier["system"]),
            ("value", item.value, limit),
            ("type", item.type_code, identifier["type_code"]),
        ):
            if len(value) > most:
                return Problem(
                    "Patient.identifier", _reason(f"identifier {name}", len(value), most)
                )
    contact = text_limits(RECORD_MODELS["ContactPoint"])["value"]
    for telecom in details.telecoms:
        value = normalize_contact(telecom.system, telecom.value)
        if len(value) > contact:
            return Problem("Patient.telecom", _reason("contact value", len(value), contact))
    return None


def _reason(label: str, length: int, limit: int) -> str:
    return (
        f"its {label} is {length:,} characters long; Careline stores at most {limit:,} "
        "and does not cut imported text"
    )
