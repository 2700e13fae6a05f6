"""Importing one unit — a bundle, a single resource or an ndjson batch — in one transaction.

Order inside the unit: directory resources (organizations, then locations, practitioners,
roles), then patients (identity resolves each to a Careline patient), then everything that
belongs to a patient. Each type is written with one read and one write statement; the
audit trail gets one event per patient whose data the unit created or changed.

If writing fails, nothing of the unit stays and its resources are reported as rejected;
the import goes on with the next unit.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from django.db import transaction

from careline.directory import selectors as directory_selectors
from careline.directory.services import SourceRow, upsert_directory_rows
from careline.identity.services import (
    Outcome,
    SourcePatient,
    find_linked_patients,
    resolve_patients,
)
from careline.interop.fhir.context import ById, ByIdentifier, Mapped, RefKey
from careline.interop.fhir.inputs import Unit
from careline.interop.fhir.mapping import MAPPERS, TYPE_ORDER, Area
from careline.interop.fhir.mapping.patient import (
    MANAGING_ORGANIZATION,
    PRIMARY_CARE,
    PatientDetails,
)
from careline.interop.fhir.prepare import Prepared, prepare
from careline.interop.fhir.scheduling_writer import SchedulingWriter
from careline.interop.fhir.stored import find_stored
from careline.interop.fhir.summary import Rejection, Tally
from careline.interop.fhir.unit_state import Run, UnitState
from careline.interop.fhir.writers import FactWriter
from careline.patients.bulk import (
    PatientRecord,
    ResolvedRecord,
    apply_patient_records,
    find_identifier_owners,
)
from careline.platform import audit
from careline.platform.models import AuditAction

logger = logging.getLogger(__name__)

DIRECTORY_TYPES = ("Organization", "Location", "Practitioner", "PractitionerRole")
SOURCE_LENGTH = 200


@dataclass
class ReadyUnit:
    """A unit read, validated and mapped, waiting to be written."""

    unit: Unit
    source: str
    prepared: Prepared
    problem: str | None = None  # why the whole unit is refused (its meta.source)


def prepare_unit(unit: Unit, run: Run) -> ReadyUnit:
    """Read what is stored of the unit, then validate and map what changed (no writes)."""
    source = run.source_system or unit.source_system or run.default_source
    problem = _source_problem(source)
    prepared = prepare(unit, None if problem else find_stored(unit.entries, source))
    return ReadyUnit(unit, source, prepared, problem)


def write_unit(ready: ReadyUnit, run: Run) -> Tally:
    """Write a prepared unit in one transaction; on failure nothing of it stays."""
    unit, prepared = ready.unit, ready.prepared
    if not prepared.has_work:
        return prepared.tally
    if ready.problem:
        return _refused(unit, prepared, ready.problem)
    writer = UnitWriter(run, ready.source, prepared)
    try:
        with transaction.atomic():
            writer.write()
    except Exception as error:  # a database error (or a bug) loses this unit only
        run.resolver.discard()
        frames = "".join(traceback.format_tb(error.__traceback__))
        logger.error("FHIR import of a unit failed: %s\n%s", type(error).__name__, frames)
        return _failed(unit, prepared, error)
    run.resolver.commit()
    prepared.tally.add(writer.tally)
    return prepared.tally


def _source_problem(source: str) -> str | None:
    if len(source) > SOURCE_LENGTH:
        return "its meta.source is longer than 200 characters"
    if not source.isprintable():
        return "its meta.source is not printable text"
    return None


def _failed(unit: Unit, prepared: Prepared, error: Exception) -> Tally:
    lines = [entry.line for entry in unit.entries if entry.line is not None]
    where = f"batch (lines {lines[0]} to {lines[-1]})" if lines else "bundle"
    reason = f"could not be written ({type(error).__name__}); nothing of this {where} was kept"
    return _refused(unit, prepared, reason)


def _refused(unit: Unit, prepared: Prepared, reason: str) -> Tally:
    """Every resource of the unit rejected, with one rejection saying why."""
    tally = prepared.tally
    for resource_type, items in prepared.by_type.items():
        tally.count(resource_type, "rejected", len(items))
    line = next((entry.line for entry in unit.entries if entry.line is not None), None)
    tally.reject(Rejection(unit.file, None, line, None, None, reason), counted=False)
    return tally


def _types_of(area: Area) -> list[str]:
    return [resource_type for resource_type in TYPE_ORDER if MAPPERS[resource_type].area is area]


class UnitWriter(UnitState):
    """Writes a unit in stage order: directory, identity (patients), facts, audit."""

    def __init__(self, run: Run, source_system: str, prepared: Prepared) -> None:
        super().__init__(run, source_system, prepared)
        self.unchanged_patients: set[str] = set()  # source ids of Patients stored as they are

    def write(self) -> None:
        self._write_directory()
        self._write_patients()
        self._find_patients()
        SchedulingWriter(self).write()
        by_type = self.prepared.by_type
        facts = FactWriter(self)  # not kept: a reference back would make the unit a cycle
        for resource_type in _types_of(Area.REGISTRY):
            facts.write_registry(resource_type, by_type.get(resource_type, []))
        facts.write_clinical(
            {kind: by_type[kind] for kind in _types_of(Area.CLINICAL) if by_type.get(kind)}
        )
        facts.write_claim_coverage(self.prepared.claims)
        self._audit()

    # -- directory ---------------------------------------------------------------------------

    def _write_directory(self) -> None:
        for resource_type in DIRECTORY_TYPES:
            for item in self.prepared.by_type.get(resource_type, []):
                self.run.resolver.remember_identifiers(
                    self.source, resource_type, item.source_id, item.mapping.extra or []
                )
        for resource_type in DIRECTORY_TYPES:
            items = self.prepared.by_type.get(resource_type)
            if items:
                self._write_directory_type(resource_type, items)

    def _write_directory_type(self, resource_type: str, items: list[Mapped]) -> None:
        self.prefetch(items)
        rows = [
            SourceRow(
                item.source_id,
                item.content_hash,
                item.raw,
                {**item.mapping.fields, **self.foreign_keys(item)},
                item.canonical,
            )
            for item in items
        ]
        stored = self.prepared.stored
        is_known = stored.covers(resource_type, {item.source_id for item in items})
        outcome = upsert_directory_rows(
            actor=self.run.actor,
            kind=resource_type,
            source_system=self.source,
            received_at=self.received_at,
            rows=rows,
            stored=stored.rows.get(resource_type, {}) if is_known else None,
        )
        self.run.resolver.remember(self.source, resource_type, outcome.ids)
        self.count(resource_type, outcome)

    # -- patients ----------------------------------------------------------------------------

    def _write_patients(self) -> None:
        items = []
        for item in self.prepared.by_type.get("Patient", []):
            if item.is_unchanged:  # found with the other patients the unit points to
                self.tally.count("Patient", "unchanged")
                self.unchanged_patients.add(item.source_id)
            else:
                items.append(item)
        if not items:
            return
        self.prefetch(items)
        sources = self._patient_sources(items)
        resolutions = resolve_patients(
            actor=self.run.actor,
            source_system=self.source,
            received_at=self.received_at,
            sources=sources,
        )
        changed: dict[str, ResolvedRecord] = {}
        for source, resolution in zip(sources, resolutions, strict=True):
            self.patients[resolution.source_id] = resolution.patient
            self.tally.count("Patient", resolution.outcome.value)
            if resolution.outcome is Outcome.UNCHANGED:
                continue
            self.touch(resolution.patient, resolution.outcome.value)
            earlier = changed.get(resolution.source_id)
            is_new = resolution.is_new_patient or (earlier is not None and earlier.is_new_patient)
            changed[resolution.source_id] = ResolvedRecord(
                source.record, resolution.patient, is_new
            )
        apply_patient_records(
            actor=self.run.actor,
            source_system=self.source,
            received_at=self.received_at,
            items=list(changed.values()),
        )

    def _patient_sources(self, items: list[Mapped]) -> list[SourcePatient]:
        organizations = {pk for item in items if (pk := self.pk(item, MANAGING_ORGANIZATION))}
        locations = directory_selectors.first_location_ids(organization_ids=organizations)
        sources = []
        for item in items:
            details = item.mapping.extra
            assert isinstance(details, PatientDetails)  # noqa: S101 (the Patient mapper's extra)
            organization = self.pk(item, MANAGING_ORGANIZATION)
            fields = {
                **item.mapping.fields,
                PRIMARY_CARE: self.pk(item, PRIMARY_CARE),
                "primary_location_id": locations.get(organization) if organization else None,
            }
            record = PatientRecord(
                item.source_id, fields, details.identifiers, details.telecoms, details.ssn
            )
            sources.append(SourcePatient(record, item.content_hash, item.raw, item.canonical))
        return sources

    def _find_patients(self) -> None:
        """The patients the unit's other resources point to (one query per kind of key)."""
        keys: list[RefKey] = [claim.patient for claim in self.prepared.claims]
        for resource_type, items in self.prepared.by_type.items():
            if resource_type != "Patient" and MAPPERS[resource_type].area is not Area.DIRECTORY:
                keys.extend(item.mapping.patient for item in items if item.mapping.patient)
        source_ids = self.unchanged_patients | {
            key.source_id
            for key in keys
            if isinstance(key, ById) and key.resource_type == "Patient"
        }
        source_ids -= set(self.patients)
        self.patients.update(find_linked_patients(source_system=self.source, source_ids=source_ids))
        identifiers = {
            (key.system, key.value)
            for key in keys
            if isinstance(key, ByIdentifier) and key.resource_type == "Patient"
        }
        self.patients_by_identifier = find_identifier_owners(identifiers=identifiers)

    # -- audit -------------------------------------------------------------------------------

    def _audit(self) -> None:
        audit.record_events(
            actor=self.run.actor,
            entries=[
                audit.AuditEntry(
                    action=AuditAction.IMPORT,
                    resource_type="Patient",
                    patient_id=touched.patient.public_id,
                    details={
                        "source_system": self.source,
                        "created": touched.created,
                        "updated": touched.updated,
                    },
                )
                for touched in self.touched.values()
            ],
        )
