"""The demo's scheduling set-up and a few months of appointment history (``careline demo``).

Set-up goes through the configuration services (audited like an administrator's): a
red-flag list, six visit types, a CT scanner, weekly hours for the demo's family doctors and
radiologists at their locations, two provider rules and a closure. The history — about three
months back and three weeks ahead — is written in bulk inside the app with the booking
service's invariants: one provider's visits never overlap, a patient has at most one visit a
day, at most two new patients per session and none on Friday afternoons for the providers
with those rules, and every upcoming booked visit owns its occupancy rows (provider,
patient, CT scanner) exactly as ``book_appointment`` writes them, so the database's
no-overlap guard and the slot search see them.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from careline.directory.visit_types import (
    Modality,
    PatientStatus,
    PortalBooking,
    PractitionerPlace,
    create_visit_type,
    list_locations,
    list_practitioner_places,
    list_visit_types,
    resolve_location_ids,
    resolve_practitioner_ids,
    time_zone_of,
)
from careline.patients.selectors import list_living_patient_keys
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.errors import CarelineError
from careline.platform.models import AuditAction
from careline.scheduling import configuration, occupancy
from careline.scheduling.availability import local_instant
from careline.scheduling.configuration import BlockIn
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    CancelReason,
    ExceptionKind,
    Occupancy,
    PartOfDay,
    Resource,
    RuleKind,
    Weekday,
)
from careline.scheduling.waitlist.services import join_waitlist

FAMILY = "Family medicine"
RADIOLOGY = "Radiology"
RED_FLAGS = "contrast-safety"
HISTORY_DAYS = 90
AHEAD_DAYS = 21
MAX_PROVIDERS = 8
STEP = timedelta(minutes=15)
_VISIT_TYPES: tuple[dict[str, Any], ...] = (
    {
        "code": "new-patient-physical",
        "name": "New-patient physical",
        "specialty": FAMILY,
        "duration_minutes": 45,
        "patient_status": PatientStatus.NEW,
        "portal_booking": PortalBooking.SELF_SCHEDULABLE,
        "preparation_instructions": "Bring your medication list and insurance card.",
    },
    {
        "code": "follow-up",
        "name": "Follow-up visit",
        "specialty": FAMILY,
        "duration_minutes": 15,
        "patient_status": PatientStatus.ESTABLISHED,
        "portal_booking": PortalBooking.SELF_SCHEDULABLE,
    },
    {
        "code": "flu-shot",
        "name": "Flu shot",
        "specialty": FAMILY,
        "duration_minutes": 15,
        "min_age_years": 1,
        "portal_booking": PortalBooking.SELF_SCHEDULABLE,
    },
    {
        "code": "ct-contrast",
        "name": "CT with contrast",
        "specialty": RADIOLOGY,
        "duration_minutes": 30,
        "min_age_years": 18,
        "referral_required": True,
        "requires_safety_screen": True,
        "safety_screen_code": RED_FLAGS,
        "minimum_notice_minutes": 24 * 60,
        "buffer_after_minutes": 15,
        "required_resource_kinds": ["CT scanner"],
        "preparation_instructions": "Nothing to eat for 4 hours before; drink water.",
    },
    {
        "code": "telehealth-follow-up",
        "name": "Telehealth follow-up",
        "specialty": FAMILY,
        "duration_minutes": 15,
        "modality": Modality.VIDEO,
        "patient_status": PatientStatus.ESTABLISHED,
        "portal_booking": PortalBooking.SELF_SCHEDULABLE,
    },
    {
        "code": "diabetes-class",
        "name": "Diabetes self-management class",
        "specialty": FAMILY,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_years": 18,
        "portal_booking": PortalBooking.REQUEST_ONLY,
    },
)
# Visit types in the generated history, with their weights, per specialty.
# The portal's "what visit do you need?" tree.
_QUESTIONNAIRE: tuple[dict[str, Any], ...] = (
    {
        "code": "what-brings-you",
        "text": "What do you need a visit for?",
        "is_start": True,
        "answers": [
            {
                "label": "A check-up or physical, and I am new here",
                "visit_type": "new-patient-physical",
            },
            {"label": "A follow-up on something already being treated", "next": "follow-up-how"},
            {"label": "A flu shot", "visit_type": "flu-shot"},
            {
                "label": "Chest pain, trouble breathing, or another emergency",
                "advice": "Call 911 now, or go to the nearest emergency department.",
            },
        ],
    },
    {
        "code": "follow-up-how",
        "text": "Would you like to come in, or talk by video?",
        "answers": [
            {"label": "Come in", "visit_type": "follow-up"},
            {"label": "By video", "visit_type": "telehealth-follow-up"},
        ],
    },
)
_HISTORY_MIX = {
    FAMILY: (
        ("follow-up", 5),
        ("new-patient-physical", 2),
        ("flu-shot", 2),
        ("telehealth-follow-up", 2),
    ),
    RADIOLOGY: (("ct-contrast", 1),),
}
_SESSIONS = ((time(9), time(12)), (time(13), time(17)))


@dataclass(frozen=True)
class DemoSchedule:
    visit_types: int
    templates: int
    rules: int
    appointments: int
    upcoming: int


def load_demo_schedule(*, actor: Actor, now: datetime, rng: random.Random) -> DemoSchedule | None:
    """Set up scheduling and write its history (every draw from ``rng``); None when it was
    loaded before."""
    if _loaded():
        return None
    visit_types = _visit_types(actor)
    configuration.save_booking_questionnaire(actor=actor, questions=_QUESTIONNAIRE)
    places = list_practitioner_places(specialties=[FAMILY, RADIOLOGY])
    family = [place for place in places if place.specialty.casefold() == FAMILY.casefold()]
    radiology = [place for place in places if place.specialty.casefold() == RADIOLOGY.casefold()]
    # One place per provider (a template is weekly hours at one place), and one radiologist
    # per CT scanner: the generated visits then never compete for a provider or a scanner.
    chosen = _one_each(family, by_location=False)[:MAX_PROVIDERS]
    chosen += _one_each(radiology, by_location=True)[:2]
    today = now.date()
    templates = _templates(actor, chosen, visit_types, today)
    rules = _rules(actor, chosen[:2], visit_types)
    if family:
        configuration.add_exception(
            actor=actor,
            kind=ExceptionKind.CLOSURE,
            location_id=family[0].location_id,
            starts_at=local_instant(
                today + timedelta(days=16), time(13), _zone(family[0].location_id)
            ),
            ends_at=local_instant(
                today + timedelta(days=16), time(17), _zone(family[0].location_id)
            ),
            reason="Staff training afternoon",
        )
    history = _History(rng=rng, now=now, visit_types=visit_types, rule_holders=rules)
    for place in chosen:
        history.add_provider(place.practitioner_id, place.location_id, place.specialty)
    written = history.write(actor)
    _waitlist(actor, visit_types, patients=history.patients[:3])
    return DemoSchedule(
        visit_types=len(visit_types),
        templates=templates,
        rules=len(rules) * 2,
        appointments=written[0],
        upcoming=written[1],
    )


def _waitlist(
    actor: Actor, visit_types: dict[str, Any], *, patients: list[tuple[int, uuid.UUID]]
) -> None:
    """A few patients who want an earlier follow-up in the next three weeks (those a
    criterion refuses are left off, as staff adding them would be told)."""
    follow_up = visit_types.get("follow-up")
    if follow_up is None:
        return
    today = clock.now().astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
    for _, patient_id in patients:
        with contextlib.suppress(CarelineError):
            join_waitlist(
                actor=actor,
                patient_id=patient_id,
                visit_type_id=follow_up.public_id,
                earliest_date=today,
                latest_date=today + timedelta(days=21),
                note="Would take an earlier time if one frees up",
            )


def _one_each(places: list[PractitionerPlace], *, by_location: bool) -> list[PractitionerPlace]:
    seen_practitioners: set[uuid.UUID] = set()
    seen_locations: set[uuid.UUID] = set()
    kept = []
    for place in places:
        if place.practitioner_id in seen_practitioners or (
            by_location and place.location_id in seen_locations
        ):
            continue
        seen_practitioners.add(place.practitioner_id)
        seen_locations.add(place.location_id)
        kept.append(place)
    return kept


def _loaded() -> bool:
    return any(row.code == "follow-up" for row in list_visit_types(active_only=False))


def _zone(location_id: uuid.UUID) -> ZoneInfo:
    pk = resolve_location_ids([location_id])[location_id]
    return time_zone_of(list_locations(location_ids=[pk])[pk].time_zone)


def _visit_types(actor: Actor) -> dict[str, Any]:
    configuration.create_red_flag_list(
        actor=actor,
        code=RED_FLAGS,
        name="Contrast safety screen",
        questions=[
            {"code": "contrast_reaction", "text": "Has iodine contrast ever caused a reaction?"},
            {"code": "kidney_disease", "text": "Do you have kidney disease or dialysis?"},
            {"code": "pregnant", "text": "Could you be pregnant?"},
            {"code": "chest_pain", "text": "Do you have chest pain or trouble breathing now?"},
        ],
        advice=(
            "Do not book. Transfer to the nurse line (extension 4400) for a contrast review; "
            "for chest pain or trouble breathing now, call 911."
        ),
    )
    return {fields["code"]: create_visit_type(actor=actor, **fields) for fields in _VISIT_TYPES}


def _templates(
    actor: Actor, places: list[PractitionerPlace], visit_types: dict[str, Any], today: date
) -> int:
    count = 0
    start = today - timedelta(days=HISTORY_DAYS + 7)
    flu = visit_types["flu-shot"].public_id
    cts = {
        place.location_id for place in places if place.specialty.casefold() == RADIOLOGY.casefold()
    }
    for location_id in sorted(cts):
        configuration.create_resource(
            actor=actor, location_id=location_id, kind="CT scanner", name="CT 1"
        )
    for place in places:
        for weekday in (
            Weekday.MONDAY,
            Weekday.TUESDAY,
            Weekday.WEDNESDAY,
            Weekday.THURSDAY,
            Weekday.FRIDAY,
        ):
            for session_start, session_end in _SESSIONS:
                morning = session_start < time(12)
                blocks = (
                    [BlockIn(kind="break", start=time(10, 30), end=time(10, 45))]
                    if morning
                    else [
                        BlockIn(
                            kind="reserved",
                            start=time(16),
                            end=time(17),
                            visit_type_id=flu,
                            release_minutes_before=24 * 60,
                        )
                    ]
                    if place.specialty.casefold() == FAMILY.casefold()
                    else []
                )
                configuration.create_template(
                    actor=actor,
                    practitioner_id=place.practitioner_id,
                    location_id=place.location_id,
                    weekday=weekday,
                    start_time=session_start,
                    end_time=session_end,
                    effective_from=start,
                    blocks=blocks,
                )
                count += 1
    return count


def _rules(
    actor: Actor, places: list[PractitionerPlace], visit_types: dict[str, Any]
) -> set[uuid.UUID]:
    holders = set()
    for place in places:
        if place.practitioner_id in holders:
            continue
        holders.add(place.practitioner_id)
        configuration.create_provider_rule(
            actor=actor,
            practitioner_id=place.practitioner_id,
            kind=RuleKind.NO_NEW_PATIENTS,
            weekday=Weekday.FRIDAY,
            part_of_day=PartOfDay.AFTERNOON,
            description="No new patients on Friday afternoons",
        )
        configuration.create_provider_rule(
            actor=actor,
            practitioner_id=place.practitioner_id,
            kind=RuleKind.MAX_NEW_PER_SESSION,
            parameters={"max": 2},
            description="At most 2 new patients per session",
        )
    return holders


class _History:
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
        self.claims: list[Occupancy] = []
        self.history: list[AppointmentHistory] = []
        self.ct_scanners = dict(
            Resource.objects.filter(kind="CT scanner").values_list("location_id", "pk")
        )

    def add_provider(
        self, practitioner_id: uuid.UUID, location_id: uuid.UUID, specialty: str
    ) -> None:
        if not self.patients:
            return
        practitioner_pk = resolve_practitioner_ids([practitioner_id])[practitioner_id]
        location_pk = resolve_location_ids([location_id])[location_id]
        zone = time_zone_of(list_locations(location_ids=[location_pk])[location_pk].time_zone)
        mix = _HISTORY_MIX[FAMILY if specialty.casefold() == FAMILY.casefold() else RADIOLOGY]
        today = self.now.astimezone(zone).date()
        day = today - timedelta(days=HISTORY_DAYS)
        while day <= today + timedelta(days=AHEAD_DAYS):
            if day.weekday() < 5:
                for session_start, session_end in _SESSIONS:
                    self._session(
                        practitioner_pk,
                        practitioner_id,
                        location_pk,
                        zone,
                        day,
                        session_start,
                        session_end,
                        mix,
                    )
            day += timedelta(days=1)

    def _session(
        self,
        practitioner_pk: int,
        practitioner_id: uuid.UUID,
        location_pk: int,
        zone: ZoneInfo,
        day: date,
        session_start: time,
        session_end: time,
        mix: tuple[tuple[str, int], ...],
    ) -> None:
        moment = local_instant(day, session_start, zone)
        end = local_instant(day, session_end, zone)
        new_patients = 0
        afternoon = session_start >= time(12)
        ruled = practitioner_id in self.rule_holders
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
            if self._book(practitioner_pk, location_pk, visit_type, moment, day):
                new_patients += code == "new-patient-physical"
                moment += duration + buffer
            else:
                moment += STEP

    def _book(
        self,
        practitioner_pk: int,
        location_pk: int,
        visit_type: Any,
        starts_at: datetime,
        day: date,
    ) -> bool:
        for _ in range(5):
            patient_pk, _public_id = self.rng.choice(self.patients)
            if (patient_pk, day) not in self.busy_days:
                break
        else:
            return False
        self.busy_days.add((patient_pk, day))
        ends_at = starts_at + timedelta(minutes=visit_type.duration_minutes)
        status, reason = self._outcome(ends_at)
        booked_at = min(starts_at - timedelta(days=self.rng.randint(1, 30)), self.now)
        changed_at = (
            booked_at
            if status == AppointmentStatus.BOOKED
            else (
                min(starts_at - timedelta(hours=self.rng.randint(2, 72)), self.now)
                if status == AppointmentStatus.CANCELLED
                else ends_at
            )
        )
        appointment = Appointment(
            public_id=uuid.uuid4(),
            patient_id=patient_pk,
            practitioner_id=practitioner_pk,
            location_id=location_pk,
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
        if status == AppointmentStatus.BOOKED:
            self._claim(appointment, practitioner_pk, location_pk, visit_type)
        return True

    def _outcome(self, ends_at: datetime) -> tuple[str, str]:
        draw = self.rng.random()
        if ends_at > self.now:
            if draw < 0.1:
                return AppointmentStatus.CANCELLED, self._reason()
            return AppointmentStatus.BOOKED, ""
        if draw < 0.09:
            return AppointmentStatus.NO_SHOW, ""
        if draw < 0.22:
            return AppointmentStatus.CANCELLED, self._reason()
        return AppointmentStatus.COMPLETED, ""

    def _reason(self) -> str:
        return self.rng.choices(
            [CancelReason.PATIENT, CancelReason.PROVIDER, CancelReason.WEATHER, CancelReason.OTHER],
            weights=[6, 2, 1, 1],
        )[0]

    def _claim(
        self, appointment: Appointment, practitioner_pk: int, location_pk: int, visit_type: Any
    ) -> None:
        own = occupancy.own_slot_key("appointment", appointment.public_id)
        occupied_to = appointment.ends_at + timedelta(minutes=visit_type.buffer_after_minutes)
        keys = [occupancy.practitioner_key(practitioner_pk)]
        if visit_type.required_resource_kinds and location_pk in self.ct_scanners:
            keys.append(occupancy.resource_key(self.ct_scanners[location_pk]))
        self.claims += [
            Occupancy(
                resource_key=key,
                slot_key=own,
                occupied_from=appointment.starts_at,
                occupied_to=occupied_to,
                appointment=appointment,
            )
            for key in keys
        ]
        self.claims.append(
            Occupancy(
                resource_key=occupancy.patient_key(appointment.patient_id),
                slot_key=own,
                occupied_from=appointment.starts_at,
                occupied_to=appointment.ends_at,
                appointment=appointment,
            )
        )

    def write(self, actor: Actor) -> tuple[int, int]:
        with transaction.atomic():
            Appointment.objects.bulk_create(self.rows, batch_size=1000)
            AppointmentHistory.objects.bulk_create(self.history, batch_size=1000)
            Occupancy.objects.bulk_create(self.claims, batch_size=1000)
            audit.record_event(
                actor=actor,
                action=AuditAction.IMPORT,
                resource_type="Appointment",
                details={"generated": len(self.rows)},
            )
        upcoming = sum(row.status == AppointmentStatus.BOOKED for row in self.rows)
        return len(self.rows), upcoming


_RED_FLAG_CODES = ("contrast_reaction", "kidney_disease", "pregnant", "chest_pain")


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
