"""Reading the audit trail for the compliance officer: filter, page, export.

``AuditFilter`` narrows the trail (no PHI: user names, action, patient public id, dates,
channel, outcome, break-glass only). The log page reads one keyset page at a time, newest
first; an export freezes the trail at its last entry, records itself as an audit event and
then yields CSV rows or FHIR R4 AuditEvent ndjson lines in batches, oldest first — the views
and the ``audit_export`` command only stream what these functions yield.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, QuerySet

from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.models import (
    AuditAction,
    AuditChannel,
    AuditEvent,
    AuditOutcome,
    Purpose,
)
from careline.platform.permissions import Role

PAGE_SIZE = 50
EXPORT_BATCH_SIZE = 1000
AUDIT_RESOURCE_TYPE = "AuditEvent"


@dataclass(frozen=True)
class AuditFilter:
    """What the compliance officer asked for; empty values do not filter."""

    actor: str = ""
    action: str = ""
    patient_id: uuid.UUID | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    channel: str = ""
    outcome: str = ""
    break_glass_only: bool = False

    def names(self) -> list[str]:
        """The names of the filters in use (never their values) — for the audit record."""
        return [field.name for field in fields(self) if getattr(self, field.name)]

    def apply(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor:
            queryset = queryset.filter(actor_label__iexact=self.actor)
        if self.action:
            queryset = queryset.filter(action=self.action)
        if self.patient_id is not None:
            queryset = queryset.filter(patient_id=self.patient_id)
        if self.date_from is not None:
            queryset = queryset.filter(occurred_at__gte=_start_of(self.date_from))
        if self.date_to is not None:
            queryset = queryset.filter(occurred_at__lt=_start_of(self.date_to + dt.timedelta(1)))
        if self.channel:
            queryset = queryset.filter(channel=self.channel)
        if self.outcome:
            queryset = queryset.filter(outcome=self.outcome)
        if self.break_glass_only:
            queryset = queryset.filter(is_break_glass=True)
        return queryset


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the clinic's time zone (the one the log is shown in)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.CARELINE_TIME_ZONE))


def filter_events(audit_filter: AuditFilter) -> QuerySet[AuditEvent]:
    return audit_filter.apply(AuditEvent.objects.select_related("actor"))


# --- the log page -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    newer_cursor: int | None  # ?after=… shows the page above this one
    older_cursor: int | None  # ?before=… shows the page below this one


def page_of_events(
    audit_filter: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page, newest first, keyed by ``sequence``: three queries whatever the log size."""
    queryset = filter_events(audit_filter)
    if after is not None:
        rows = list(queryset.filter(sequence__gt=after).order_by("sequence")[: size + 1])
        has_newer = len(rows) > size
        events = rows[:size][::-1]
        has_older = queryset.filter(sequence__lte=after).exists()
    else:
        below = queryset if before is None else queryset.filter(sequence__lt=before)
        rows = list(below.order_by("-sequence")[: size + 1])
        has_older = len(rows) > size
        events = rows[:size]
        has_newer = before is not None and queryset.filter(sequence__gte=before).exists()
    newest = events[0].sequence if events else (before or 0) - 1
    oldest = events[-1].sequence if events else (after or 0) + 1
    return AuditPage(
        events=events,
        newer_cursor=newest if has_newer else None,
        older_cursor=oldest if has_older else None,
    )


def record_log_view(*, actor: Actor, audit_filter: AuditFilter, row_count: int) -> None:
    """Reading the audit trail is itself audited."""
    audit.record_event(
        actor=actor.for_purpose(Purpose.COMPLIANCE),
        action=AuditAction.READ,
        resource_type=AUDIT_RESOURCE_TYPE,
        details={"filters": audit_filter.names(), "rows": row_count},
    )


# --- exports ------------------------------------------------------------------------------


class ExportFormat:
    CSV = "csv"
    FHIR = "fhir"
    CHOICES = ((CSV, "CSV"), (FHIR, "FHIR AuditEvent (ndjson)"))


@dataclass(frozen=True)
class AuditExport:
    """A filtered trail frozen at ``up_to_sequence``; ``row_count`` rows will be yielded."""

    audit_filter: AuditFilter
    export_format: str
    up_to_sequence: int
    row_count: int
    started_at: dt.datetime

    @property
    def filename(self) -> str:
        extension = "csv" if self.export_format == ExportFormat.CSV else "ndjson"
        return f"careline-audit-{self.started_at:%Y%m%dT%H%M%SZ}.{extension}"

    def events(self, *, batch_size: int = EXPORT_BATCH_SIZE) -> Iterator[AuditEvent]:
        """The exported entries, oldest first, read in keyset batches."""
        queryset = filter_events(self.audit_filter).filter(sequence__lte=self.up_to_sequence)
        last_sequence = 0
        while True:
            after_last = queryset.filter(sequence__gt=last_sequence)
            batch = list(after_last.order_by("sequence")[:batch_size])
            if not batch:
                return
            yield from batch
            last_sequence = batch[-1].sequence


def start_export(*, actor: Actor, audit_filter: AuditFilter, export_format: str) -> AuditExport:
    """Freeze the trail, count the rows and audit the export before a single row leaves."""
    up_to = AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0
    row_count = filter_events(audit_filter).filter(sequence__lte=up_to).count()
    audit.record_event(
        actor=actor.for_purpose(Purpose.COMPLIANCE),
        action=AuditAction.EXPORT,
        resource_type=AUDIT_RESOURCE_TYPE,
        details={"filters": audit_filter.names(), "rows": row_count, "format": export_format},
    )
    return AuditExport(
        audit_filter=audit_filter,
        export_format=export_format,
        up_to_sequence=up_to,
        row_count=row_count,
        started_at=clock.now().astimezone(dt.UTC),
    )


def export_lines(export: AuditExport) -> Iterator[str]:
    if export.export_format == ExportFormat.CSV:
        return csv_lines(export.events())
    return ndjson_lines(export.events())


# --- CSV ----------------------------------------------------------------------------------

CSV_HEADER = (
    "sequence",
    "event_id",
    "occurred_at",
    "actor",
    "actor_id",
    "actor_role",
    "action",
    "resource_type",
    "resource_id",
    "patient_id",
    "purpose",
    "channel",
    "remote_addr",
    "user_agent",
    "outcome",
    "break_glass",
    "details",
    "previous_hash",
    "hash",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_row(event: AuditEvent) -> list[str]:
    row = [
        str(event.sequence),
        str(event.public_id),
        _instant(event.occurred_at),
        event.actor_label,
        str(event.actor.public_id) if event.actor else "",
        event.actor_role,
        event.action,
        event.resource_type,
        event.resource_id,
        str(event.patient_id) if event.patient_id else "",
        event.purpose,
        event.channel,
        event.remote_addr or "",
        event.user_agent,
        event.outcome,
        "yes" if event.is_break_glass else "no",
        json.dumps(event.details, sort_keys=True) if event.details else "",
        event.previous_hash,
        event.hash,
    ]
    return [_defuse_formula(cell) for cell in row]


def _defuse_formula(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


class _Line:
    """A write-only file that hands back what ``csv.writer`` writes."""

    def write(self, value: str) -> str:
        return value


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_HEADER)
    for event in events:
        yield writer.writerow(csv_row(event))


# --- FHIR R4 AuditEvent -------------------------------------------------------------------

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
        "recorded": _instant(event.occurred_at),
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


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
