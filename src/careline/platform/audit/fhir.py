"""An audit entry as a FHIR R4 AuditEvent (valid for the R4B models too)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from careline.platform.audit.selectors import AUDIT_RESOURCE_TYPE
from careline.platform.models import AuditAction, AuditChannel, AuditEvent, AuditOutcome, Purpose
from careline.platform.permissions import Role

DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
PURPOSE_OF_USE = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CARELINE_ACTION = "urn:careline:audit-action"
CARELINE_USER = "urn:careline:user"
CARELINE_ROLE = "urn:careline:role"

_FHIR_ACTION = {
    AuditAction.CREATE: "C",
    AuditAction.IMPORT: "C",
    AuditAction.READ: "R",
    AuditAction.EXPORT: "R",
    AuditAction.UPDATE: "U",
    AuditAction.DELETE: "D",
}  # everything else (search, log-in/out, break-glass, denial) executes a function: "E"
_FHIR_OUTCOME = {AuditOutcome.SUCCESS: "0", AuditOutcome.DENIED: "4", AuditOutcome.FAILURE: "8"}
_RESTFUL = {
    AuditAction.READ: ("read", "read"),
    AuditAction.SEARCH: ("search-type", "search type"),
    AuditAction.CREATE: ("create", "create"),
    AuditAction.UPDATE: ("update", "update"),
    AuditAction.DELETE: ("delete", "delete"),
}
_SYSTEM_OBJECT = {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}
_SESSION_ACTIONS = {AuditAction.LOGIN, AuditAction.LOGOUT, AuditAction.LOGIN_FAILED}
_ROLE_LABELS = dict(Role.choices)
_PURPOSE_LABELS = dict(Purpose.choices)


def fhir_audit_event(event: AuditEvent) -> dict[str, Any]:
    """One audit entry as a FHIR R4 AuditEvent (valid for the R4B models too)."""
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.public_id),
        "type": _event_type(event),
        "subtype": _event_subtypes(event),
        "action": _FHIR_ACTION.get(AuditAction(event.action), "E"),
        "recorded": instant(event.occurred_at),
        "outcome": _FHIR_OUTCOME[AuditOutcome(event.outcome)],
        "purposeOfEvent": [
            {
                "coding": [
                    {
                        "system": PURPOSE_OF_USE,
                        "code": event.purpose,
                        "display": _PURPOSE_LABELS.get(event.purpose, event.purpose),
                    }
                ]
            }
        ],
        "agent": [_agent(event)],
        "source": {
            "observer": {"display": "Careline"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
    }
    if event.outcome != AuditOutcome.SUCCESS:
        resource["outcomeDesc"] = AuditOutcome(event.outcome).label
    if event.is_break_glass:
        resource["meta"] = {
            "security": [{"system": ACT_CODE, "code": "BTG", "display": "break the glass"}]
        }
    entities = _entities(event)
    if entities:
        resource["entity"] = entities
    return resource


def ndjson_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(fhir_audit_event(event), separators=(",", ":")) + "\n"


def _event_type(event: AuditEvent) -> dict[str, str]:
    if event.action in _SESSION_ACTIONS:
        return {"system": DICOM, "code": "110114", "display": "User Authentication"}
    if event.resource_type == AUDIT_RESOURCE_TYPE:
        return {"system": DICOM, "code": "110101", "display": "Audit Log Used"}
    if event.action == AuditAction.EXPORT:
        return {"system": DICOM, "code": "110106", "display": "Export"}
    if event.action == AuditAction.IMPORT:
        return {"system": DICOM, "code": "110107", "display": "Import"}
    if event.channel == AuditChannel.API:
        return {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
    return {"system": DICOM, "code": "110110", "display": "Patient Record"}


def _event_subtypes(event: AuditEvent) -> list[dict[str, str]]:
    action = AuditAction(event.action)
    subtypes = [{"system": CARELINE_ACTION, "code": action.value, "display": action.label}]
    if action == AuditAction.LOGIN:
        subtypes.append({"system": DICOM, "code": "110122", "display": "Login"})
    elif action == AuditAction.LOGOUT:
        subtypes.append({"system": DICOM, "code": "110123", "display": "Logout"})
    elif event.channel == AuditChannel.API and action in _RESTFUL:
        code, display = _RESTFUL[action]
        subtypes.append({"system": RESTFUL_INTERACTION, "code": code, "display": display})
    return subtypes


def _agent(event: AuditEvent) -> dict[str, Any]:
    who: dict[str, Any] = {"display": event.actor_label or "unknown"}
    if event.actor is not None:
        who["identifier"] = {"system": CARELINE_USER, "value": str(event.actor.public_id)}
    agent: dict[str, Any] = {"who": who, "requestor": True}
    if event.actor_role:
        label = _ROLE_LABELS.get(event.actor_role, event.actor_role)
        agent["role"] = [
            {
                "coding": [{"system": CARELINE_ROLE, "code": event.actor_role, "display": label}],
                "text": label,
            }
        ]
    if event.remote_addr:
        agent["network"] = {"address": event.remote_addr, "type": "2"}  # 2 = IP address
    return agent


def _entities(event: AuditEvent) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if event.patient_id is not None:
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    is_the_patient = event.resource_type == "Patient" and event.resource_id == str(event.patient_id)
    if event.resource_type and not is_the_patient:
        what: dict[str, Any] = {"display": event.resource_type}
        if event.resource_id:
            what["identifier"] = {
                "system": f"urn:careline:{event.resource_type}",
                "value": event.resource_id,
            }
        entities.append(
            {
                "what": what,
                "type": _SYSTEM_OBJECT,
            }
        )
    details = _entity_details(event.details)
    if details:
        if not entities:
            entities.append({"type": _SYSTEM_OBJECT})
        entities[-1]["detail"] = details
    return entities


def _entity_details(details: dict[str, Any]) -> list[dict[str, str]]:
    rendered = []
    for key, value in sorted(details.items()):
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if text.strip():
            rendered.append({"type": key, "valueString": text})
    return rendered


def instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
