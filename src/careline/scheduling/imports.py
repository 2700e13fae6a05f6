"""Import-side writes of scheduling: appointments, schedules and slots from an EHR (FHIR).

Called by the FHIR importer inside its unit's transaction, like the directory's and the
registry's bulk services; the importer audits per patient and run. What each write means is
explained where the FHIR is read (``interop.fhir.mapping.scheduling``); here:

- **Appointments** are rows of ``Appointment`` keyed by (source system, source id). A
  re-import with the same content hash writes nothing. An active one (booked, arrived) takes
  the time of every practitioner it names that Careline knows, and of its patient, in the
  occupancy table — under the same session lock as Careline's bookings. When that time is
  already taken (a Careline booking, or another EHR appointment), the EHR still wins for its
  own appointment: it is recorded, its occupancy rows are written as overbook rows (which
  the exclusion constraint admits and Careline's own bookings do not count), and
  ``conflict_note`` names what it overlaps, for staff (``list_import_conflicts``).
- **Schedules** are ``ImportedSchedule`` source rows linked to a practitioner and/or location.
- **Slots** are ``ImportedSlot`` source rows; a busy one owns an ``AvailabilityException``
  over its time (created, moved or removed on re-import), a free one blocks nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models, transaction

from careline.directory.visit_types import (
    ensure_imported_visit_type,
    list_locations,
    role_location_ids,
    time_zone_of,
    visit_type_ids_by_code,
)
from careline.patients.bulk import TimelineRow, record_source_events
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.bulk import SourceRow, UpsertOutcome, upsert_sourced_rows
from careline.scheduling import occupancy
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    BLOCKING_SLOT_STATUSES,
    Appointment,
    AppointmentHistory,
    AvailabilityException,
    ExceptionKind,
    ImportedSchedule,
    ImportedSlot,
    Occupancy,
)

# What each imported FHIR type is stored as (for the importer's text-length check).
IMPORT_MODELS: dict[str, type[models.Model]] = {
    "Appointment": Appointment,
    "Schedule": ImportedSchedule,
    "Slot": ImportedSlot,
}
NO_LOCATION = "names no Location, and no practitioner it names has a role at a location"
SLOT_REASONS = {
    "busy": "Busy in the EHR",
    "busy-tentative": "Held (tentative) in the EHR",
    "busy-unavailable": "Unavailable in the EHR",
}


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    """One EHR appointment, its references already resolved to primary keys."""

    source_id: str
    content_hash: str
    raw: dict[str, Any]
    patient_id: int
    practitioner_ids: list[int]  # the first is the appointment's practitioner
    location_id: int | None  # None: the location of a practitioner's role
    visit_codes: list[str]  # serviceType / appointmentType codes, in order
    visit_text: str
    status: str
    source_status: str
    starts_at: datetime
    ends_at: datetime
    cancel_reason: str = ""
    cancel_note: str = ""
    cancelled_at: datetime | None = None


@dataclass
class AppointmentOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # source id → reason
    conflicts: list[str] = field(default_factory=list)  # source ids flagged for staff


def import_appointments(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    rows: Sequence[AppointmentRow],
) -> AppointmentOutcome:
    """Create or update EHR appointments and the time they take (see the module docstring)."""
    outcome = AppointmentOutcome()
    with transaction.atomic(savepoint=False):
        stored = {
            source_id: (pk, digest)
            for source_id, pk, digest in Appointment.objects.filter(
                source_system=source_system, source_id__in=[row.source_id for row in rows]
            ).values_list("source_id", "pk", "content_hash")
        }
        changed = []
        for row in rows:
            known = stored.get(row.source_id)
            if known is not None and known[1] == row.content_hash:
                outcome.unchanged.append(row.source_id)
            else:
                changed.append(row)
        if changed:
            _write_appointments(actor, source_system, received_at, changed, stored, outcome)
    return outcome


def _write_appointments(
    actor: Actor,
    source_system: str,
    received_at: datetime,
    rows: list[AppointmentRow],
    stored: dict[str, tuple[int, str]],
    outcome: AppointmentOutcome,
) -> None:
    """A fixed number of queries for the whole batch: the old time of updated appointments
    goes, what already takes the new time is read once for every key, and appointments,
    their time, history and timeline are written in bulk."""
    locations = _locations(rows)
    zones = {
        pk: time_zone_of(info.time_zone)
        for pk, info in list_locations(location_ids=set(locations.values())).items()
    }
    occupancy.lock_sessions(
        (row.practitioner_ids[0], row.starts_at.astimezone(zones[locations[row.source_id]]).date())
        for row in rows
        if row.source_id in locations and row.status in ACTIVE_STATUSES
    )
    visit_types = _visit_type_ids(rows)
    existing = Appointment.objects.in_bulk([known[0] for known in stored.values()])
    if existing:
        Occupancy.objects.filter(appointment_id__in=list(existing)).delete()
    now = clock.now()
    writable = []
    for row in rows:
        location_id = locations.get(row.source_id)
        if location_id is None:
            outcome.refused[row.source_id] = NO_LOCATION
            continue
        known = stored.get(row.source_id)
        appointment = existing[known[0]] if known else Appointment(created_at=now)
        from_status = appointment.status if known else ""
        appointment.visit_type_id = visit_types[row.source_id]
        _fill(appointment, row, source_system, received_at, location_id, now)
        writable.append((row, appointment, from_status, known is not None))
    time_taken = _TimeTaken([row for row, appointment, _, _ in writable if appointment.is_active])
    takes: list[tuple[Appointment, list[str], set[str]]] = []
    for row, appointment, _, _ in writable:
        if appointment.is_active:
            keys = _keys(row)
            taken = time_taken.overlapping(keys, row.starts_at, row.ends_at)
            appointment.conflict_note = _conflict_note(taken)
            time_taken.add(appointment, keys)
            takes.append((appointment, keys, {key for _, key in taken}))
        else:
            appointment.conflict_note = ""
    Appointment.objects.bulk_create([a for _, a, _, is_update in writable if not is_update])
    Appointment.objects.bulk_update([a for _, a, _, is_update in writable if is_update], _FILLED)
    Occupancy.objects.bulk_create(
        Occupancy(
            resource_key=key,
            slot_key=occupancy.own_slot_key("appointment", appointment.public_id),
            occupied_from=appointment.starts_at,
            occupied_to=appointment.ends_at,
            appointment=appointment,
            is_overbook=key in taken_keys,
        )
        for appointment, keys, taken_keys in takes
        for key in keys
    )
    history, events = [], []
    for row, appointment, from_status, is_update in writable:
        if appointment.conflict_note:
            outcome.conflicts.append(row.source_id)
        (outcome.updated if is_update else outcome.created).append(row.source_id)
        history.append(_history(actor, appointment, from_status, is_new=not is_update))
        events.append(_event(row))
    AppointmentHistory.objects.bulk_create(history)
    record_source_events(
        actor=actor, source_system=source_system, received_at=received_at, events=events
    )


def _locations(rows: Sequence[AppointmentRow]) -> dict[str, int]:
    """Source id → location: the one named, else the first practitioner's role's."""
    unnamed = {p for row in rows if row.location_id is None for p in row.practitioner_ids}
    by_role = role_location_ids(practitioner_ids=unnamed) if unnamed else {}
    found: dict[str, int] = {}
    for row in rows:
        location = row.location_id or next(
            (by_role[p] for p in row.practitioner_ids if p in by_role), None
        )
        if location is not None:
            found[row.source_id] = location
    return found


def _visit_type_ids(rows: Sequence[AppointmentRow]) -> dict[str, int]:
    """Source id → visit type: the first code naming a catalog type, else "Visit from the EHR"."""
    by_code = visit_type_ids_by_code(code for row in rows for code in row.visit_codes)
    found: dict[str, int] = {}
    fallback: int | None = None
    for row in rows:
        codes = [code.casefold() for code in row.visit_codes]
        match = next((by_code[code] for code in codes if code in by_code), None)
        if match is None:
            fallback = fallback or ensure_imported_visit_type()
            match = fallback
        found[row.source_id] = match
    return found


def _fill(
    appointment: Appointment,
    row: AppointmentRow,
    source_system: str,
    received_at: datetime,
    location_id: int,
    now: datetime,
) -> None:
    appointment.patient_id = row.patient_id
    appointment.practitioner_id = row.practitioner_ids[0]
    appointment.location_id = location_id
    appointment.starts_at, appointment.ends_at = row.starts_at, row.ends_at
    appointment.status = row.status
    appointment.cancel_reason, appointment.cancel_note = row.cancel_reason, row.cancel_note
    appointment.cancelled_at = row.cancelled_at
    appointment.source_system, appointment.source_id = source_system, row.source_id
    appointment.received_at, appointment.content_hash = received_at, row.content_hash
    appointment.raw, appointment.source_status = row.raw, row.source_status
    appointment.visit_text = row.visit_text
    appointment.updated_at = now


# Every field ``_fill`` sets, and the conflict note: what an update writes.
_FILLED = [
    "visit_type_id",
    "patient_id",
    "practitioner_id",
    "location_id",
    "starts_at",
    "ends_at",
    "status",
    "cancel_reason",
    "cancel_note",
    "cancelled_at",
    "source_system",
    "source_id",
    "received_at",
    "content_hash",
    "raw",
    "source_status",
    "visit_text",
    "updated_at",
    "conflict_note",
]


def _keys(row: AppointmentRow) -> list[str]:
    """The occupancy keys an active appointment takes: each practitioner's, the patient's."""
    keys = [occupancy.practitioner_key(pk) for pk in dict.fromkeys(row.practitioner_ids)]
    keys.append(occupancy.patient_key(row.patient_id))
    return keys


class _TimeTaken:
    """What already takes the time of a batch's appointments: the live occupancy of their keys
    over the batch's span, read in one query, plus the batch's own appointments as they are
    placed (two EHR appointments of one batch can overlap each other)."""

    def __init__(self, rows: Sequence[AppointmentRow]) -> None:
        # (occupied_from, order, occupied_to, key, owner): stored rows sort before the batch's
        # own at the same start, as their smaller primary keys did when each row was saved.
        self.by_key: dict[str, list[tuple[datetime, tuple[int, int], datetime, str]]] = {}
        self.placed = 0
        if not rows:
            return
        keys = sorted({key for row in rows for key in _keys(row)})
        start = min(row.starts_at for row in rows)
        end = max(row.ends_at for row in rows)
        stored = (
            occupancy.overlapping(keys, start, end, clock.now())
            .select_related("appointment")
            .order_by()
        )
        for row in stored:
            owner = f"appointment {row.appointment.public_id}" if row.appointment else "a hold"
            self.by_key.setdefault(row.resource_key, []).append(
                (row.occupied_from, (0, row.pk), row.occupied_to, owner)
            )

    def overlapping(
        self, keys: Sequence[str], start: datetime, end: datetime
    ) -> list[tuple[str, str]]:
        """(owner, key) of what overlaps [start, end) on these keys, earliest first."""
        found = [
            (occupied_from, order, owner, key)
            for key in keys
            for occupied_from, order, occupied_to, owner in self.by_key.get(key, ())
            if occupied_from < end and occupied_to > start
        ]
        found.sort(key=lambda item: (item[0], item[1]))
        return [(owner, key) for _, _, owner, key in found]

    def add(self, appointment: Appointment, keys: Sequence[str]) -> None:
        self.placed += 1
        owner = f"appointment {appointment.public_id}"
        for key in keys:
            self.by_key.setdefault(key, []).append(
                (appointment.starts_at, (1, self.placed), appointment.ends_at, owner)
            )


def _conflict_note(taken: list[tuple[str, str]]) -> str:
    """What the EHR's time overlaps, by appointment (at most three named, within 300 chars)."""
    owners: dict[str, list[str]] = {}
    for owner, key in taken:
        owners.setdefault(owner, []).append(key.split(":", 1)[0])
    if not owners:
        return ""
    parts = [f"{owner} ({' and '.join(kinds)})" for owner, kinds in list(owners.items())[:3]]
    more = f" and {len(owners) - 3} more" if len(owners) > 3 else ""
    return f"The EHR's time overlaps {'; '.join(parts)}{more} in Careline."


def _history(
    actor: Actor, appointment: Appointment, from_status: str, *, is_new: bool
) -> AppointmentHistory:
    return AppointmentHistory(
        appointment=appointment,
        occurred_at=appointment.updated_at,
        action="imported" if is_new else "updated_from_ehr",
        from_status=from_status,
        to_status=appointment.status,
        actor=actor.user,
        actor_label=actor.display,
        details={
            "source_system": appointment.source_system,
            "source_status": appointment.source_status,
            **({"conflict": appointment.conflict_note} if appointment.conflict_note else {}),
        },
    )


def _event(row: AppointmentRow) -> TimelineRow:
    return TimelineRow(
        patient_id=row.patient_id,
        source_key=f"Appointment/{row.source_id}",
        kind="appointment",
        title=f"Appointment ({row.source_status} in the EHR)",
        occurred_at=row.starts_at,
        detail=row.visit_text,
    )


# --- schedules and slots ---------------------------------------------------------------------


def import_schedules(
    *, actor: Actor, source_system: str, received_at: datetime, rows: Sequence[SourceRow]
) -> UpsertOutcome:
    """Create or update EHR schedules (source rows linked to a practitioner and/or location)."""
    del actor  # the importer audits the run
    return upsert_sourced_rows(
        kinds={"Schedule": ImportedSchedule},
        source_system=source_system,
        received_at=received_at,
        rows={"Schedule": rows},
        want_ids=True,
    )["Schedule"]


def find_imported_schedule_ids(
    *, source_system: str, source_ids: Collection[str]
) -> dict[str, int]:
    """Source id → pk of the schedules of this source imported before."""
    return dict(
        ImportedSchedule.objects.filter(
            source_system=source_system, source_id__in=list(source_ids)
        ).values_list("source_id", "pk")
    )


def import_slots(
    *, actor: Actor, source_system: str, received_at: datetime, rows: Sequence[SourceRow]
) -> UpsertOutcome:
    """Create or update EHR slots (fields name their ``schedule_id``); keep each busy slot's
    exception over its time in step."""
    del actor  # the importer audits the run
    with transaction.atomic(savepoint=False):
        outcome = upsert_sourced_rows(
            kinds={"Slot": ImportedSlot},
            source_system=source_system,
            received_at=received_at,
            rows={"Slot": rows},
            want_ids=True,
        )["Slot"]
        changed = [outcome.ids[source_id] for source_id in outcome.created + outcome.updated]
        if changed:
            _block_busy_slots(changed)
    return outcome


def _block_busy_slots(slot_ids: list[int]) -> None:
    slots = list(ImportedSlot.objects.filter(pk__in=slot_ids).select_related("schedule"))
    AvailabilityException.objects.filter(
        pk__in=[slot.exception_id for slot in slots if slot.exception_id]
    ).delete()
    blocking = [slot for slot in slots if slot.status in BLOCKING_SLOT_STATUSES]
    exceptions = AvailabilityException.objects.bulk_create(
        AvailabilityException(
            practitioner_id=slot.schedule.practitioner_id,
            location_id=slot.schedule.location_id,
            kind=ExceptionKind.OTHER,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            reason=_slot_reason(slot),
        )
        for slot in blocking
    )
    for slot in slots:
        slot.exception = None
    for slot, exception in zip(blocking, exceptions, strict=True):
        slot.exception = exception
    ImportedSlot.objects.bulk_update(slots, ["exception"])


def _slot_reason(slot: ImportedSlot) -> str:
    reason = SLOT_REASONS.get(slot.status, "Busy in the EHR")
    return f"{reason}: {slot.comment}"[:200] if slot.comment else reason
