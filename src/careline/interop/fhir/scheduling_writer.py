"""Writing a unit's schedules, slots and appointments through ``scheduling.imports``.

Schedules first (slots point to them), then slots, then appointments (their patients are
found with every other resource's). What a reference names and Careline does not know is a
rejection with the FHIR path of the reference, like a fact whose patient is unknown.
"""

from __future__ import annotations

from careline.interop.fhir.context import ById, Mapped, RefKey
from careline.interop.fhir.mapping.scheduling import AppointmentDetails
from careline.interop.fhir.summary import Rejection
from careline.interop.fhir.unit_state import UnitState
from careline.patients.bulk import PatientRef
from careline.platform.bulk import SourceRow
from careline.scheduling.imports import (
    AppointmentRow,
    find_imported_schedule_ids,
    import_appointments,
    import_schedules,
    import_slots,
)

PARTICIPANT = "Appointment.participant.actor"


def unknown(key: RefKey) -> str:
    if isinstance(key, ById):
        named = f"{key.resource_type}/{key.source_id}, which is"
    else:
        named = f"a {key.resource_type} by identifier that is"
    return f"references {named} neither in this import nor known"


class SchedulingWriter:
    def __init__(self, unit: UnitState) -> None:
        self.unit = unit

    def write(self) -> None:
        by_type = self.unit.prepared.by_type
        schedules = self._write_schedules(by_type.get("Schedule", []))
        self._write_slots(by_type.get("Slot", []), schedules)
        self._write_appointments(by_type.get("Appointment", []))

    def _reject(self, resource_type: str, item: Mapped, path: str, reason: str) -> None:
        entry = item.entry
        self.unit.tally.reject(
            Rejection(self.unit.prepared.file, entry.index, entry.line, resource_type, path, reason)
        )

    def _source_row(self, item: Mapped, fields: dict[str, object]) -> SourceRow:
        return SourceRow(
            item.source_id,
            item.content_hash,
            item.raw,
            {**item.mapping.fields, **fields},
            item.canonical,
        )

    # -- schedules and slots -------------------------------------------------------------------

    def _write_schedules(self, items: list[Mapped]) -> dict[str, int]:
        if not items:
            return {}
        self.unit.prefetch(items)
        rows = []
        for item in items:
            links = self.unit.foreign_keys(item)
            if any(pk is not None for pk in links.values()):
                rows.append(self._source_row(item, dict(links)))
            else:
                first = next(iter(item.mapping.links.values()))
                self._reject("Schedule", item, "Schedule.actor", unknown(first))
        if not rows:
            return {}
        outcome = import_schedules(
            actor=self.unit.run.actor,
            source_system=self.unit.source,
            received_at=self.unit.received_at,
            rows=rows,
        )
        self.unit.count("Schedule", outcome)
        return outcome.ids

    def _write_slots(self, items: list[Mapped], schedules: dict[str, int]) -> None:
        if not items:
            return
        wanted = {
            key.source_id
            for item in items
            if isinstance(key := item.mapping.extra, ById) and key.source_id not in schedules
        }
        if wanted:
            schedules = {
                **find_imported_schedule_ids(source_system=self.unit.source, source_ids=wanted),
                **schedules,
            }
        rows = []
        for item in items:
            key = item.mapping.extra
            schedule = schedules.get(key.source_id) if isinstance(key, ById) else None
            if schedule is not None:
                rows.append(self._source_row(item, {"schedule_id": schedule}))
            else:
                reason = unknown(key) if key is not None else "does not name a Schedule"
                self._reject("Slot", item, "Slot.schedule", reason)
        if rows:
            outcome = import_slots(
                actor=self.unit.run.actor,
                source_system=self.unit.source,
                received_at=self.unit.received_at,
                rows=rows,
            )
            self.unit.count("Slot", outcome)

    # -- appointments --------------------------------------------------------------------------

    def _write_appointments(self, items: list[Mapped]) -> None:
        if not items:
            return
        resolver, source = self.unit.run.resolver, self.unit.source
        resolver.prefetch(
            source,
            [key for item in items for key in self._details(item).practitioners]
            + [key for item in items for key in item.mapping.links.values()],
        )
        rows: list[AppointmentRow] = []
        owners: dict[str, PatientRef] = {}
        for item in items:
            resolved = self._appointment_row(item)
            if resolved is not None:
                rows.append(resolved[0])
                owners[item.source_id] = resolved[1]
        if not rows:
            return
        outcome = import_appointments(
            actor=self.unit.run.actor,
            source_system=source,
            received_at=self.unit.received_at,
            rows=rows,
        )
        by_id = {item.source_id: item for item in items}
        for source_id, reason in outcome.refused.items():
            self._reject("Appointment", by_id[source_id], "Appointment.participant", reason)
        for name in ("created", "updated", "unchanged"):
            done = getattr(outcome, name)
            self.unit.tally.count("Appointment", name, len(done))
            if name != "unchanged":
                for source_id in done:
                    self.unit.touch(owners[source_id], name)

    @staticmethod
    def _details(item: Mapped) -> AppointmentDetails:
        details = item.mapping.extra
        assert isinstance(details, AppointmentDetails)  # noqa: S101 (the mapper's extra)
        return details

    def _appointment_row(self, item: Mapped) -> tuple[AppointmentRow, PatientRef] | None:
        """The row to write, or None after rejecting what cannot be resolved."""
        patient = self.unit.patient_for(item.mapping.patient)
        if patient is None:
            key = item.mapping.patient
            reason = unknown(key) if key is not None else "has no reference to a Patient"
            self._reject("Appointment", item, PARTICIPANT, reason)
            return None
        details = self._details(item)
        resolver, source = self.unit.run.resolver, self.unit.source
        practitioners = [
            pk for key in details.practitioners if (pk := resolver.pk(source, key)) is not None
        ]
        if not practitioners:
            self._reject("Appointment", item, PARTICIPANT, unknown(details.practitioners[0]))
            return None
        location_key = item.mapping.links.get("location_id")
        location = self.unit.pk(item, "location_id")
        if location_key is not None and location is None:
            self._reject("Appointment", item, PARTICIPANT, unknown(location_key))
            return None
        row = AppointmentRow(
            source_id=item.source_id,
            content_hash=item.content_hash,
            raw=item.raw,
            patient_id=patient.pk,
            practitioner_ids=practitioners,
            location_id=location,
            visit_codes=list(details.visit_codes),
            **item.mapping.fields,
        )
        return row, patient
