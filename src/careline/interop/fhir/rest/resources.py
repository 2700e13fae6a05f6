"""The resource types the facade serves: each type's module defines it, this one lists
them (add a type here and the views and the CapabilityStatement serve and state it)."""

from __future__ import annotations

from functools import cache

from careline.interop.fhir.rest.patient import PATIENT
from careline.interop.fhir.rest.registry import register


@cache
def ensure_registered() -> None:
    for definition in (PATIENT,):
        register(definition)
