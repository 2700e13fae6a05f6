"""Exports of the audit trail for offline review: CSV, or FHIR R4 AuditEvent ndjson.

An export freezes the trail at its last sealed entry, records itself as an audit event and
then yields CSV rows or ndjson lines in batches, oldest first — the views and the
``audit_export`` command only stream what these functions yield.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.audit import fhir
from careline.platform.audit.selectors import (
    AUDIT_RESOURCE_TYPE,
    AuditFilter,
    filter_events,
    last_sealed_position,
)
from careline.platform.audit.services import record_event
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction, AuditEvent, Purpose
from careline.platform.permissions import Permission

EXPORT_BATCH_SIZE = 1000


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
            last_sequence = batch[-1].sequence or last_sequence  # sealed: never None


def start_export(*, actor: Actor, audit_filter: AuditFilter, export_format: str) -> AuditExport:
    """Freeze the trail, count the rows and audit the export before a single row leaves."""
    require_permission(actor, Permission.EXPORT_AUDIT_LOG, resource_type=AUDIT_RESOURCE_TYPE)
    up_to = last_sealed_position()
    row_count = filter_events(audit_filter).filter(sequence__lte=up_to).count()
    record_event(
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
    return fhir.ndjson_lines(export.events())


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
    "key_id",
    "sealed_at",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_row(event: AuditEvent) -> list[str]:
    row = [
        str(event.sequence),
        str(event.public_id),
        fhir.instant(event.occurred_at),
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
        event.key_id,
        fhir.instant(event.sealed_at) if event.sealed_at else "",
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
