"""Builders of small FHIR resources and bundles for the import tests (no tests here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from careline.interop.importer import ImportResult, import_fhir
from careline.platform.actors import Actor

SOURCE = "urn:test:ehr"
MRN_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


def system_actor() -> Actor:
    return Actor.system("import tests")


def patient(resource_id: str = "p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": resource_id,
        "identifier": [
            {"type": MRN_TYPE, "system": "urn:mrn:hospital", "value": f"MRN-{resource_id}"}
        ],
        "name": [{"use": "official", "family": "Núñez", "given": ["José", "Luis"]}],
        "gender": "male",
        "birthDate": "1951-03-14",
        **extra,
    }


def condition(resource_id: str = "c1", subject: str = "Patient/p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": resource_id,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "44054006"}],
            "text": "Diabetes mellitus type 2",
        },
        "subject": {"reference": subject},
        "onsetDateTime": "2019-05-01",
        **extra,
    }


def encounter(resource_id: str = "e1", subject: str = "Patient/p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": resource_id,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [
            {
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "185349003", "display": "Check up"}
                ]
            }
        ],
        "subject": {"reference": subject},
        "period": {"start": "2024-02-01T09:00:00-05:00", "end": "2024-02-01T09:30:00-05:00"},
        **extra,
    }


def observation(
    resource_id: str, code: str, answer: str, subject: str = "Patient/p1", day: str = "2024-03-01"
) -> dict[str, Any]:
    """A social-needs screening answer (LOINC question and answer codes)."""
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "social-history",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": subject},
        "effectiveDateTime": day,
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": answer}]},
    }


def bundle(*resources: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r['resourceType'].lower()}-{r.get('id', i)}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for i, r in enumerate(resources)
        ],
    }
    if source:
        data["meta"] = {"source": source}
    return data


def write_json(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def write_ndjson(folder: Path, name: str, lines: list[Any]) -> Path:
    path = folder / name
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    )
    return path


def run_import(*paths: Path, source: str | None = SOURCE, batch_size: int = 1000) -> ImportResult:
    return import_fhir(
        actor=system_actor(), paths=list(paths), source_system=source, batch_size=batch_size
    )


def counts(result: ImportResult, resource_type: str) -> tuple[int, int, int, int, int]:
    """(created, updated, unchanged, skipped, rejected) of one type."""
    c = result.summary.get(resource_type, {})
    return (
        c.get("created", 0),
        c.get("updated", 0),
        c.get("unchanged", 0),
        c.get("skipped", 0),
        c.get("rejected", 0),
    )
