"""Names and contact values without the characters that disguise how they read.

The rule (bidi embeddings, overrides and isolates; C0 and C1 controls — never the ordinary
direction marks of right-to-left names) is ``careline.platform.text``'s, the one staff forms
and the API refuse with. The importer does not refuse a whole resource for it: it removes
them from the names and contact values it maps, and the summary lists each value cleaned
(file, entry, FHIR path and the code points removed), so nothing is changed silently. The
raw resource is kept as it arrived.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping as MappingOf

from careline.interop.fhir.context import Mapping
from careline.interop.fhir.mapping.patient import PatientDetails
from careline.platform.text import strip_disguising_characters

# resource type → mapped field → the FHIR element it comes from
_NAME = "name"
_TELECOM = "telecom"
NAMES_AND_CONTACTS: MappingOf[str, MappingOf[str, str]] = {
    "Patient": {"given_names": _NAME, "family_name": _NAME, "prefix": _NAME, "suffix": _NAME},
    "RelatedPerson": {"name": _NAME, "phone": _TELECOM, "email": _TELECOM},
    "Practitioner": {
        "prefix": _NAME,
        "given_name": _NAME,
        "family_name": _NAME,
        "phone": _TELECOM,
        "email": _TELECOM,
    },
    "Organization": {"name": _NAME, "phone": _TELECOM},
    "Location": {"name": _NAME, "phone": _TELECOM},
}


def strip_disguises(resource_type: str, mapping: Mapping) -> dict[str, list[str]]:
    """Clean the mapping's names and contact values in place; FHIR path → code points."""
    found: dict[str, set[str]] = {}
    for name, element in NAMES_AND_CONTACTS.get(resource_type, {}).items():
        value = mapping.fields.get(name)
        if isinstance(value, str):
            mapping.fields[name], removed = strip_disguising_characters(value)
            if removed:
                found.setdefault(f"{resource_type}.{element}", set()).update(removed)
    if isinstance(mapping.extra, PatientDetails):
        telecoms = mapping.extra.telecoms
        for index, telecom in enumerate(telecoms):
            value, removed = strip_disguising_characters(telecom.value)
            if removed:
                telecoms[index] = dataclasses.replace(telecom, value=value)
                found.setdefault(f"{resource_type}.telecom[{index}].value", set()).update(removed)
    return {path: sorted(characters) for path, characters in found.items()}
