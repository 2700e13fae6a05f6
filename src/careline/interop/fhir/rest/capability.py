"""The CapabilityStatement, generated from the registry: it can only state what the search
views actually do, because both read the same table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from careline.interop.fhir.rest.registry import list_definitions

SOFTWARE_VERSION = "0.1"
STATEMENT_DATE = datetime(2026, 11, 27, tzinfo=UTC)
HANDLING = (
    "Unknown or unsupported search parameters: ignored by default (lenient) and left out of "
    "the Bundle's self link; with 'Prefer: handling=strict' they are refused with a 400 "
    "OperationOutcome. An unsupported modifier or an invalid value is always a 400."
)
SECURITY = (
    "Bearer tokens issued by a Careline administrator (Authorization: Bearer cl_…). Every "
    "patient read is checked against the token user's role, care teams and locations "
    "(break-glass for others, granted in the staff site or API) and audited; a search lists "
    "only the patients the user may open."
)


def capability_statement(*, base_url: str) -> dict[str, Any]:
    resources = [
        {
            "type": definition.type,
            "profile": definition.profile,
            "documentation": definition.documentation,
            "interaction": [{"code": code} for code in definition.interactions],
            "versioning": "versioned",
            "readHistory": False,
            "updateCreate": False,
            "conditionalRead": "not-supported",
            "searchParam": [
                {
                    "name": parameter.name,
                    "type": parameter.type,
                    **({"definition": parameter.definition} if parameter.definition else {}),
                    "documentation": parameter.documentation
                    + (
                        " Modifiers: " + ", ".join(f":{m}" for m in parameter.modifiers) + "."
                        if parameter.modifiers
                        else ""
                    ),
                }
                for parameter in definition.parameters
            ],
        }
        for definition in list_definitions()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE.date().isoformat(),
        "publisher": "Careline",
        "kind": "instance",
        "software": {"name": "Careline", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Careline FHIR R4 facade", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"{HANDLING} Paging: _count (default 20, at most 100) and the Bundle's "
                    "next link (keyset paging, stable under concurrent writes). _summary=count "
                    "returns the total only. POST [type]/_search takes the same parameters "
                    "form-encoded."
                ),
                "security": {"cors": False, "description": SECURITY},
                "resource": resources,
            }
        ],
    }
