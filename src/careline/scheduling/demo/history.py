"""The demo's generated appointment history: about three months back and three weeks ahead.

Written in bulk with the booking service's invariants: one provider's visits never overlap,
a patient has at most one visit a day, at most two new patients per session and none on
Friday afternoons for the providers with those rules, and every upcoming booked visit owns
its occupancy rows (provider, patient, CT scanner) exactly as ``book_appointment`` writes
them, so the database's no-overlap guard and the slot search see them.

Like a real clinic's, the history backfills: about half of the slots freed by a cancellation
with time to spare are booked again — by another patient, for the same visit, after the
cancellation and before the start — which is what the access metrics' fill rate counts.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from careline.directory.visit_types import (
    list_locations,
    resolve_location_ids,
    resolve_practitioner_ids,
    time_zone_of,
)
from careline.patients.selectors import list_living_patient_keys
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.models import AuditAction
from careline.scheduling import occupancy
from careline.scheduling.availability import local_instant
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    CancelReason,
    Occupancy,
    Resource,
    Weekday,
)

FAMILY = "Family medicine"
RADIOLOGY = "Radiology"
RED_FLAGS = "contrast-safety"
HISTORY_DAYS = 90
AHEAD_DAYS = 21
STEP = timedelta(minutes=15)
SESSIONS = ((time(9), time(12)), (time(13), time(17)))
# Share of freed slots (cancelled with at least BACKFILL_LEAD to spare) booked again.
BACKFILL_SHARE = 0.5
BACKFILL_LEAD = timedelta(hours=2)
# Visit types in the generated history, with their weights, per specialty.
_HISTORY_MIX = {
    FAMILY: (
        ("follow-up", 5),
        ("new-patient-physical", 2),
        ("flu-shot", 2),
        ("telehealth-follow-up", 2),
    ),
    RADIOLOGY: (("ct-contrast", 1),),
}
_RED_FLAG_CODES = ("contrast_reaction", "kidney_disease", "pregnant", "chest_pain")
_GONE = (AppointmentStatus.CANCELLED, AppointmentStatus.BUMPED)


@dataclass(frozen=True, slots=True)
class _Place:
    practitioner_pk: int
    location_pk: int
    zone: ZoneInfo


class History:
    """Generated appointments of the chosen providers, kept free of overlaps."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: datetime,
        visit_types: dict[str, Any],
        rule_holders: set[uuid.UUID],
    ) -> None:
        self.rng, self.now, self.visit_types = rng, now, visit_types
        self.rule_holders = rule_holders
        self.patients = list_living_patient_keys(limit=400)
        self.busy_days: set[tuple[int, date]] = set()
        self.rows: list[Appointment] = []
        self.history: list[AppointmentHistory] = []
        self.ct_scanners = dict(
            Resource.objects.filter(kind="CT scanner").values_list("location_id", "pk")
        )

    def add_provider(
        self, practitioner_id: uuid.UUID, location_id: uuid.UUID, specialty: str
    ) -> None:
        if not self.patients:
            return
        location_pk = resolve_location_ids([location_id])[location_id]
        place = _Place(
            practitioner_pk=resolve_practitioner_ids([practitioner_id])[practitioner_id],
            location_pk=location_pk,
            zone=time_zone_of(list_locations(location_ids=[location_pk])[location_pk].time_zone),
        )
        mix = _HISTORY_MIX[FAMILY if specialty.casefold() == FAMILY.casefold() else RADIOLOGY]
        ruled = practitioner_id in self.rule_holders
        today = self.now.astimezone(place.zone).date()
        day = today - timedelta(days=HISTORY_DAYS)
        while day <= today + timedelta(days=AHEAD_DAYS):
            if day.weekday() < 5:
                for session_start, session_end in SESSIONS:
                    self._session(place, day, session_start, session_end, mix, ruled=ruled)
            day += timedelta(days=1)

    def _session(
        self,
        place: _Place,
        day: date,
        session_start: time,
        session_end: time,
        mix: tuple[tuple[str, int], ...],
        *,
        ruled: bool,
    ) -> None:
        zone = place.zone
        moment = local_instant(day, session_start, zone)
        end = local_instant(day, session_end, zone)
        new_patients = 0
        afternoon = session_start >= time(12)
        while moment < end:
            if session_start < time(12) and local_instant(
                day, time(10, 30), zone
            ) <= moment < local_instant(day, time(10, 45), zone):
                moment += STEP
                continue
            if self.rng.random() > 0.42:
                moment += STEP
                continue
            code = self.rng.choices([code for code, _ in mix], weights=[w for _, w in mix])[0]
            if (
                code == "new-patient-physical"
                and ruled
                and (new_patients >= 2 or (day.weekday() == Weekday.FRIDAY and afternoon))
            ):
                code = "follow-up"
            if (
                afternoon
                and code != "flu-shot"
                and moment >= local_instant(day, time(16), zone)
                and code in {"follow-up", "new-patient-physical", "telehealth-follow-up"}
            ):
                code = "flu-shot"  # the reserved flu block
            visit_type = self.visit_types[code]
            duration = timedelta(minutes=visit_type.duration_minutes)
            buffer = timedelta(minutes=visit_type.buffer_after_minutes)
            if moment + duration + buffer > end:
                break
            if self._book(place, visit_type, moment, day):
                new_patients += code == "new-patient-physical"
                moment += duration + buffer
            else:
                moment += STEP

    def _free_patient(self, day: date) -> int | None:
        for _ in range(5):
            patient_pk, _public_id = self.rng.choice(self.patients)
            if (patient_pk, day) not in self.busy_days:
                self.busy_days.add((patient_pk, day))
                return patient_pk
        return None

    def _book(self, place: _Place, visit_type: Any, starts_at: datetime, day: date) -> bool:
        patient_pk = self._free_patient(day)
        if patient_pk is None:
            return False
        booked_at = min(starts_at - timedelta(days=self.rng.randint(1, 30)), self.now)
        freed = self._add(place, visit_type, starts_at, patient_pk, booked_at, may_cancel=True)
        if freed is not None and self.rng.random() < BACKFILL_SHARE:
            self._backfill(place, visit_type, freed, day)
        return True

    def _backfill(self, place: _Place, visit_type: Any, freed: Appointment, day: date) -> None:
        """Book the freed time again, for another patient, between the cancellation and
        the start (and not after now)."""
        latest = min(freed.starts_at, self.now)
        if freed.cancelled_at is None or latest - freed.cancelled_at < BACKFILL_LEAD:
            return
        patient_pk = self._free_patient(day)
        if patient_pk is None:
            return
        spare = (latest - freed.cancelled_at - timedelta(minutes=1)).total_seconds()
        booked_at = freed.cancelled_at + timedelta(seconds=1 + self.rng.random() * spare)
        self._add(place, visit_type, freed.starts_at, patient_pk, booked_at, may_cancel=False)

    def _add(
        self,
        place: _Place,
        visit_type: Any,
        starts_at: datetime,
        patient_pk: int,
        booked_at: datetime,
        *,
        may_cancel: bool,
    ) -> Appointment | None:
        """Write one appointment booked at ``booked_at``; return it when it was cancelled
        before its start (a freed slot)."""
        ends_at = starts_at + timedelta(minutes=visit_type.duration_minutes)
        status, reason = self._outcome(ends_at, may_cancel=may_cancel)
        changed_at = (
            booked_at
            if status == AppointmentStatus.BOOKED
            else (
                max(min(starts_at - timedelta(hours=self.rng.randint(2, 72)), self.now), booked_at)
                if status == AppointmentStatus.CANCELLED
                else ends_at
            )
        )
        appointment = Appointment(
            public_id=uuid.uuid4(),
            patient_id=patient_pk,
            practitioner_id=place.practitioner_pk,
            location_id=place.location_pk,
            visit_type=visit_type,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
            is_new_patient=visit_type.code == "new-patient-physical",
            cancel_reason=reason,
            cancelled_at=changed_at if status == AppointmentStatus.CANCELLED else None,
            safety_screen=(
                {"list": RED_FLAGS, "answers": dict.fromkeys(_RED_FLAG_CODES, False)}
                if visit_type.requires_safety_screen
                else {}
            ),
            created_at=booked_at,
            updated_at=changed_at,
        )
        self.rows.append(appointment)
        self.history.append(_entry(appointment, booked_at, "booked", "", AppointmentStatus.BOOKED))
        if status != AppointmentStatus.BOOKED:
            self.history.append(
                _entry(appointment, changed_at, status, AppointmentStatus.BOOKED, status)
            )
        if status == AppointmentStatus.CANCELLED and changed_at < starts_at:
            return appointment
        return None

    def _outcome(self, ends_at: datetime, *, may_cancel: bool) -> tuple[str, str]:
        draw = self.rng.random()
        if ends_at > self.now:
            if may_cancel and draw < 0.1:
                return AppointmentStatus.CANCELLED, self._reason()
            return AppointmentStatus.BOOKED, ""
        if draw < 0.09:
            return AppointmentStatus.NO_SHOW, ""
        if may_cancel and draw < 0.22:
            return AppointmentStatus.CANCELLED, self._reason()
        return AppointmentStatus.COMPLETED, ""

    def _reason(self) -> str:
        return self.rng.choices(
            [CancelReason.PATIENT, CancelReason.PROVIDER, CancelReason.WEATHER, CancelReason.OTHER],
            weights=[6, 2, 1, 1],
        )[0]

    def claims_as_of(self, moment: datetime) -> list[Occupancy]:
        """The occupancy rows the schedule held at ``moment``: every appointment booked by
        then, not yet cancelled then, and not yet over — what the slot search saw that day."""
        return [
            claim
            for appointment in self.rows
            if appointment.created_at <= moment < appointment.ends_at
            and (
                appointment.status not in _GONE
                or (appointment.cancelled_at is not None and appointment.cancelled_at > moment)
            )
            for claim in self._claims(appointment)
        ]

    def _claims(self, appointment: Appointment) -> list[Occupancy]:
        """The rows ``book_appointment`` writes for it: provider (with the visit's buffer),
        CT scanner when the visit needs one, patient."""
        visit_type = appointment.visit_type
        own = occupancy.own_slot_key("appointment", appointment.public_id)
        occupied_to = appointment.ends_at + timedelta(minutes=visit_type.buffer_after_minutes)
        keys = [occupancy.practitioner_key(appointment.practitioner_id)]
        if visit_type.required_resource_kinds and appointment.location_id in self.ct_scanners:
            keys.append(occupancy.resource_key(self.ct_scanners[appointment.location_id]))
        rows = [
            Occupancy(
                resource_key=key,
                slot_key=own,
                occupied_from=appointment.starts_at,
                occupied_to=occupied_to,
                appointment=appointment,
            )
            for key in keys
        ]
        rows.append(
            Occupancy(
                resource_key=occupancy.patient_key(appointment.patient_id),
                slot_key=own,
                occupied_from=appointment.starts_at,
                occupied_to=appointment.ends_at,
                appointment=appointment,
            )
        )
        return rows

    def write(self, actor: Actor) -> tuple[int, int]:
        """The appointments and their history (the upcoming ones' occupancy rows come with
        ``claim_upcoming``, after the past weeks' snapshots are measured)."""
        Appointment.objects.bulk_create(self.rows, batch_size=1000)
        AppointmentHistory.objects.bulk_create(self.history, batch_size=1000)
        audit.record_event(
            actor=actor,
            action=AuditAction.IMPORT,
            resource_type="Appointment",
            details={"generated": len(self.rows)},
        )
        upcoming = sum(row.status == AppointmentStatus.BOOKED for row in self.rows)
        return len(self.rows), upcoming

    def claim_upcoming(self) -> None:
        """Every booked visit holds its time, as a booking does."""
        Occupancy.objects.bulk_create(
            [
                claim
                for row in self.rows
                if row.status == AppointmentStatus.BOOKED
                for claim in self._claims(row)
            ],
            batch_size=1000,
        )


def _entry(
    appointment: Appointment, at: datetime, action: str, from_status: str, to_status: str
) -> AppointmentHistory:
    return AppointmentHistory(
        appointment=appointment,
        occurred_at=at,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_label="Demo data",
        details={"reason": appointment.cancel_reason}
        if appointment.cancel_reason and action == "cancelled"
        else {},
    )
