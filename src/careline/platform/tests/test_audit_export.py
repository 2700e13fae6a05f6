"""The FHIR R4 AuditEvent and CSV mapping of audit entries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.export import csv_lines, csv_row
from careline.platform.audit.fhir import fhir_audit_event, ndjson_lines
from careline.platform.audit.selectors import AuditFilter
from careline.platform.models import (
    AuditAction,
    AuditChannel,
    AuditEvent,
    AuditOutcome,
    Purpose,
    User,
)
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db

PATIENT = uuid.UUID("7d9f2c1e-4b5a-4c3d-8e2f-1a2b3c4d5e6f")
DCM = "http://dicom.nema.org/resources/ontology/DCM"


@pytest.fixture
def nurse(make_user: Callable[..., User]) -> User:
    return make_user(Role.NURSE, username="nina")


def write(actor: Actor, action: str, **fields: Any) -> AuditEvent:
    fields.setdefault("resource_type", "Patient")
    return audit.record_event(actor=actor, action=action, **fields)


def exported(event: AuditEvent) -> dict[str, Any]:
    """The mapped resource, as the export reads it (actor joined), checked against R4B."""
    reloaded = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    resource = fhir_audit_event(reloaded)
    FhirAuditEvent.model_validate(resource)
    return resource


def test_patient_read_through_the_ui(nurse: User, actor_for) -> None:
    event = write(
        actor_for(nurse),
        AuditAction.READ,
        resource_id=str(PATIENT),
        patient_id=PATIENT,
    )

    resource = exported(event)

    assert resource == {
        "resourceType": "AuditEvent",
        "id": str(event.public_id),
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": "urn:careline:audit-action", "code": "read", "display": "Read"}],
        "action": "R",
        "recorded": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "outcome": "0",
        "purposeOfEvent": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "TREAT",
                        "display": "Treatment",
                    }
                ]
            }
        ],
        "agent": [
            {
                "who": {
                    "display": "nina",
                    "identifier": {"system": "urn:careline:user", "value": str(nurse.public_id)},
                },
                "requestor": True,
                "role": [
                    {
                        "coding": [
                            {"system": "urn:careline:role", "code": "nurse", "display": "Nurse"}
                        ],
                        "text": "Nurse",
                    }
                ],
                "network": {"address": "127.0.0.1", "type": "2"},
            }
        ],
        "source": {
            "observer": {"display": "Careline"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": [
            {
                "what": {"reference": f"Patient/{PATIENT}"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        ],
    }


@pytest.mark.parametrize(
    ("action", "fhir_action", "interaction"),
    [
        (AuditAction.READ, "R", "read"),
        (AuditAction.SEARCH, "E", "search-type"),
        (AuditAction.CREATE, "C", "create"),
        (AuditAction.UPDATE, "U", "update"),
        (AuditAction.DELETE, "D", "delete"),
    ],
)
def test_api_access_is_a_rest_event(
    nurse: User, actor_for, action: str, fhir_action: str, interaction: str
) -> None:
    event = write(
        actor_for(nurse, AuditChannel.API),
        action,
        resource_type="Coverage",
        resource_id="c0ffee00-0000-4000-8000-000000000001",
        patient_id=PATIENT,
    )

    resource = exported(event)

    assert resource["type"] == {
        "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
        "code": "rest",
        "display": "RESTful Operation",
    }
    assert resource["subtype"][1] == {
        "system": "http://hl7.org/fhir/restful-interaction",
        "code": interaction,
        "display": interaction.replace("-", " "),
    }
    assert resource["action"] == fhir_action
    assert [entity["what"] for entity in resource["entity"]] == [
        {"reference": f"Patient/{PATIENT}"},
        {
            "display": "Coverage",
            "identifier": {
                "system": "urn:careline:Coverage",
                "value": "c0ffee00-0000-4000-8000-000000000001",
            },
        },
    ]


def test_import_by_a_system_actor(db: None) -> None:
    event = write(
        Actor.system("careline import-fhir"),
        AuditAction.IMPORT,
        resource_type="Bundle",
        details={"created": 12, "rejected": 0},
    )

    resource = exported(event)

    assert resource["type"]["code"] == "110107"
    assert resource["action"] == "C"
    assert resource["agent"] == [{"who": {"display": "careline import-fhir"}, "requestor": True}]
    assert resource["purposeOfEvent"][0]["coding"][0]["code"] == "SYSADMIN"
    assert resource["entity"] == [
        {
            "what": {"display": "Bundle"},
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "2",
                "display": "System Object",
            },
            "detail": [
                {"type": "created", "valueString": "12"},
                {"type": "rejected", "valueString": "0"},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("action", "outcome", "subtype"),
    [
        (AuditAction.LOGIN, AuditOutcome.SUCCESS, "110122"),
        (AuditAction.LOGOUT, AuditOutcome.SUCCESS, "110123"),
        (AuditAction.LOGIN_FAILED, AuditOutcome.DENIED, None),
    ],
)
def test_session_events_are_user_authentication(
    nurse: User, actor_for, action: str, outcome: str, subtype: str | None
) -> None:
    event = write(actor_for(nurse), action, resource_type="Session", outcome=outcome)

    resource = exported(event)

    assert resource["type"] == {"system": DCM, "code": "110114", "display": "User Authentication"}
    assert resource["action"] == "E"
    assert [coding["code"] for coding in resource["subtype"][1:]] == ([subtype] if subtype else [])
    assert resource["outcome"] == {"success": "0", "denied": "4"}[outcome]
    assert "entity" in resource  # the session as a system object


def test_denied_and_failed_outcomes(nurse: User, actor_for) -> None:
    denied = write(
        actor_for(nurse), AuditAction.ACCESS_DENIED, patient_id=PATIENT, outcome=AuditOutcome.DENIED
    )
    failed = write(actor_for(nurse), AuditAction.UPDATE, outcome=AuditOutcome.FAILURE)

    assert (exported(denied)["outcome"], exported(denied)["outcomeDesc"]) == ("4", "Denied")
    assert (exported(failed)["outcome"], exported(failed)["outcomeDesc"]) == ("8", "Failure")
    assert exported(denied)["action"] == "E"


def test_break_glass_is_labelled_and_keeps_its_purpose(nurse: User, actor_for) -> None:
    event = write(
        actor_for(nurse).for_purpose(Purpose.EMERGENCY),
        AuditAction.BREAK_GLASS,
        resource_id=str(PATIENT),
        patient_id=PATIENT,
        is_break_glass=True,
    )

    resource = exported(event)

    assert resource["meta"] == {
        "security": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "BTG",
                "display": "break the glass",
            }
        ]
    }
    assert resource["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    assert resource["action"] == "E"


def test_reading_the_audit_log_is_audit_log_used(make_user: Callable[..., User], actor_for) -> None:
    officer = make_user(Role.COMPLIANCE)
    event = write(
        actor_for(officer).for_purpose(Purpose.COMPLIANCE),
        AuditAction.EXPORT,
        resource_type="AuditEvent",
        details={"filters": ["patient_id"], "rows": 3},
    )

    resource = exported(event)

    assert resource["type"] == {"system": DCM, "code": "110101", "display": "Audit Log Used"}
    assert resource["entity"][0]["detail"] == [
        {"type": "filters", "valueString": '["patient_id"]'},
        {"type": "rows", "valueString": "3"},
    ]


def test_every_action_and_channel_maps_to_a_valid_audit_event(nurse: User, actor_for) -> None:
    events = [
        write(actor_for(nurse, channel), action, patient_id=PATIENT, resource_id="x")
        for action in AuditAction.values
        for channel in AuditChannel.values
    ]

    lines = list(ndjson_lines(AuditEvent.objects.select_related("actor").order_by("sequence")))

    assert len(lines) == len(events) == len(AuditAction.values) * len(AuditChannel.values)
    for line in lines:
        assert line.endswith("\n") and "\n" not in line[:-1]
        FhirAuditEvent.model_validate(json.loads(line))


def test_csv_defuses_spreadsheet_formulas(db: None) -> None:
    event = write(Actor.system('=HYPERLINK("http://x")'), AuditAction.READ, resource_id="+1")

    row = csv_row(AuditEvent.objects.select_related("actor").get(pk=event.pk))

    assert row[3] == '\'=HYPERLINK("http://x")'
    assert row[8] == "'+1"


def test_csv_lines_are_rfc4180(nurse: User, actor_for) -> None:
    write(actor_for(nurse), AuditAction.READ, details={"note": 'a "quoted", value'})

    header, row = list(csv_lines(AuditEvent.objects.select_related("actor")))

    assert header.startswith("sequence,event_id,occurred_at,") and header.endswith("\r\n")
    assert '"{""note"": ""a \\""quoted\\"", value""}"' in row


def test_filter_names_never_hold_values() -> None:
    audit_filter = AuditFilter(actor="nina", patient_id=PATIENT, break_glass_only=True)

    assert audit_filter.names() == ["actor", "patient_id", "break_glass_only"]
