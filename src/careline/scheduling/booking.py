"""The booking engine under ``scheduling.services``: resolve a request, check it is an
offered slot in the booking window, judge the criteria, ask the safety screen, and — inside
the caller's transaction, under the session lock — take the time of the practitioner, the
rooms/devices and the patient (``occupancy``). ``services`` wraps these in its public writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction

from careline.directory.visit_types import (
    LocationInfo,
    SpecialtyMembers,
    get_visit_type,
    list_locations,
    list_offering_practitioners,
    resolve_location_ids,
    resolve_practitioner_ids,
    specialty_members,
    time_zone_of,
)
from careline.patients.access import PatientAccess
from careline.patients.services import record_timeline_event
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.errors import NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling import occupancy
from careline.scheduling.access import access_for_scheduling
from careline.scheduling.availability import (
    booking_window,
    local_instant,
    offers_slot,
    part_of_day,
)
from careline.scheduling.calendars import load_exceptions, load_provider_rules, load_templates
from careline.scheduling.errors import (
    RuleRefusal,
    SafetyScreenPositive,
    SafetyScreenRequired,
    SlotNotOffered,
    SlotTaken,
)
from careline.scheduling.facts import gather_patient_facts
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Hold,
    Occupancy,
    ProviderRule,
    RedFlagList,
)
from careline.scheduling.rules import (
    PatientFacts,
    SlotContext,
    Violation,
    check_criteria,
    check_provider_rules,
    counts_new_patients,
)
from careline.scheduling.self_service import use_ticket

if TYPE_CHECKING:
    from careline.directory.models import VisitType
    from careline.patients.models import Patient

MAX_OCCURRENCES = 52
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999  # far inside what date arithmetic can reach
_TAKEN = "That time was just taken. Pick another slot."


@dataclass(frozen=True)
class SlotRequest:
    """A visit type at a practitioner's place, resolved from public ids."""

    visit_type: VisitType
    practitioner_id: int
    practitioner_public_id: uuid.UUID
    practitioner_name: str
    location: LocationInfo
    in_specialty: SpecialtyMembers

    @property
    def zone(self) -> ZoneInfo:
        return time_zone_of(self.location.time_zone)


@dataclass
class Plan:
    request: SlotRequest
    patient: Patient
    facts: PatientFacts
    starts: list[datetime]
    overbook_reason: str = ""
    safety_screen: dict[str, Any] = field(default_factory=dict)
    hold_id: uuid.UUID | None = None
    rescheduled_from: Appointment | None = None
    is_new_patient: bool | None = None
    ticket_pk: int | None = None  # a patient's booking ticket the first visit uses


# --- resolving and checking the request ------------------------------------------------------


def resolve_slot_request(
    *, visit_type_id: uuid.UUID, practitioner_id: uuid.UUID, location_id: uuid.UUID
) -> SlotRequest:
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    practitioner_pk = resolve_practitioner_ids([practitioner_id]).get(practitioner_id)
    location_pk = resolve_location_ids([location_id]).get(location_id)
    if practitioner_pk is None:
        raise NotFound("No such practitioner.", details={"practitioner_id": str(practitioner_id)})
    if location_pk is None:
        raise NotFound("No such location.", details={"location_id": str(location_id)})
    in_specialty = specialty_members(specialty=visit_type.specialty)
    offering = list_offering_practitioners(
        specialty=visit_type.specialty,
        practitioner_ids=[practitioner_pk],
        in_specialty=in_specialty,
    )
    if practitioner_pk not in offering:
        raise SlotNotOffered(
            f"This practitioner does not offer {visit_type.name} ({visit_type.specialty}).",
            details={"rule": "visit_type.specialty"},
        )
    return SlotRequest(
        visit_type=visit_type,
        practitioner_id=practitioner_pk,
        practitioner_public_id=practitioner_id,
        practitioner_name=offering[practitioner_pk].display_name,
        location=list_locations(location_ids=[location_pk])[location_pk],
        in_specialty=in_specialty,
    )


def as_utc(starts_at: datetime) -> datetime:
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ValidationFailed(
            "Give the start with its time zone offset, e.g. 2026-06-01T09:00:00-04:00.",
            details={"field": "starts_at"},
        )
    if not EARLIEST_YEAR <= starts_at.year <= LATEST_YEAR:
        raise ValidationFailed(
            f"The start must fall in the years {EARLIEST_YEAR} to {LATEST_YEAR}.",
            details={"field": "starts_at"},
        )
    return starts_at.astimezone(UTC)


def occurrence_starts(
    first: datetime, zone: ZoneInfo, *, occurrences: int, interval_days: int
) -> list[datetime]:
    """The starts of a series: the same local wall time every ``interval_days`` (so a weekly
    10:00 stays 10:00 across a daylight-saving change)."""
    if not 1 <= occurrences <= MAX_OCCURRENCES:
        raise ValidationFailed(
            f"A series has 1 to {MAX_OCCURRENCES} occurrences.", details={"field": "occurrences"}
        )
    if occurrences > 1 and not 1 <= interval_days <= 365:
        raise ValidationFailed(
            "The interval between occurrences is 1 to 365 days.",
            details={"field": "interval_days"},
        )
    local = first.astimezone(zone)
    return [
        local_instant(local.date() + timedelta(days=index * interval_days), local.time(), zone)
        for index in range(occurrences)
    ]


def check_offered(request: SlotRequest, starts: Sequence[datetime], *, now: datetime) -> None:
    """Each start is a slot of the practitioner's hours at the location, in the booking window."""
    visit_type, zone = request.visit_type, request.zone
    window = booking_window(
        now=now,
        zone=zone,
        minimum_notice_minutes=visit_type.minimum_notice_minutes,
        maximum_horizon_days=visit_type.maximum_horizon_days,
        same_day_cutoff=visit_type.same_day_cutoff,
    )
    templates = load_templates(
        practitioner_ids=[request.practitioner_id], location_ids=[request.location.id]
    )
    exceptions = load_exceptions(
        practitioner_ids=[request.practitioner_id],
        start=min(starts) - timedelta(days=1),
        end=max(starts) + timedelta(days=1),
    ).for_session(request.practitioner_id, request.location.id)
    for starts_at in starts:
        label = f"{starts_at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
        if not window.admits(starts_at, zone):
            raise SlotNotOffered(
                f"{label} is outside the booking window of {visit_type.name}.",
                details={"rule": "visit_type.booking_window", "starts_at": starts_at.isoformat()},
            )
        if not offers_slot(
            templates,
            zone,
            starts_at=starts_at,
            duration_minutes=visit_type.duration_minutes,
            visit_type_id=visit_type.pk,
            now=now,
            exceptions=exceptions,
        ):
            raise SlotNotOffered(
                f"{label} is not a free slot of this practitioner's hours for {visit_type.name}.",
                details={"rule": "availability", "starts_at": starts_at.isoformat()},
            )


def judge_criteria(request: SlotRequest, patient: Patient, now: datetime) -> PatientFacts:
    today = now.astimezone(request.zone).date()
    facts = gather_patient_facts(
        patient=patient,
        visit_type=request.visit_type,
        today=today,
        now=now,
        in_specialty=request.in_specialty,
    )
    violations = check_criteria(request.visit_type, facts)
    if violations:
        raise RuleRefusal(violations)
    return facts


def access_for_booking(
    actor: Actor, patient_id: uuid.UUID, permission: str = Permission.BOOK_APPOINTMENT
) -> PatientAccess:
    """Staff by role and scope, a portal account by the portal's rule (``access``)."""
    return access_for_scheduling(actor, patient_id, permission=permission, action=None)


# --- the safety screen -----------------------------------------------------------------------


def run_safety_screen(
    actor: Actor, access: PatientAccess, visit_type: VisitType, answers: Mapping[str, bool] | None
) -> dict[str, Any]:
    """Ask the visit type's red-flag list; the answers are kept on the appointment."""
    if not visit_type.requires_safety_screen:
        return {}
    red_flags = RedFlagList.objects.filter(
        code=visit_type.safety_screen_code, is_active=True
    ).first()
    if red_flags is None:
        raise SlotNotOffered(
            f"{visit_type.name} asks the safety screen {visit_type.safety_screen_code!r}, "
            "which is not defined: ask an administrator.",
            details={"rule": "visit_type.safety_screen"},
        )
    codes = red_flags.question_codes
    if answers is None or any(not isinstance(answers.get(code), bool) for code in codes):
        raise SafetyScreenRequired(
            f"Answer every question of the safety screen {red_flags.name!r} first.",
            details={
                "list": red_flags.code,
                "questions": [
                    {"code": str(question.get("code")), "text": str(question.get("text"))}
                    for question in red_flags.questions
                ],
            },
        )
    positive = [code for code in codes if answers[code]]
    if positive:
        with transaction.atomic():
            record_timeline_event(
                actor=actor,
                patient=access.patient,
                kind="appointment",
                title=f"Booking of {visit_type.name} stopped by the safety screen",
                detail=red_flags.advice,
            )
            audit.record_event(
                actor=actor,
                action=AuditAction.CREATE,
                resource_type="SafetyScreen",
                resource_id=red_flags.code,
                patient_id=access.patient.public_id,
                is_break_glass=access.is_break_glass,
                details={"positive": positive},
            )
        raise SafetyScreenPositive(
            red_flags.advice, details={"list": red_flags.code, "positive": positive}
        )
    return {"list": red_flags.code, "answers": {code: False for code in codes}}


# --- taking time -----------------------------------------------------------------------------


@dataclass
class Claim:
    rows: list[Occupancy]
    is_overbook: bool


def claim_slot(
    request: SlotRequest,
    *,
    patient_pk: int | None,
    starts_at: datetime,
    own_key: str,
    now: datetime,
    overbook_reason: str = "",
) -> Claim:
    """The occupancy rows taking this slot (unsaved), or ``SlotTaken``. Under the lock."""
    visit_type = request.visit_type
    ends_at = starts_at + timedelta(minutes=visit_type.duration_minutes)
    occupied_from = starts_at - timedelta(minutes=visit_type.buffer_before_minutes)
    occupied_to = ends_at + timedelta(minutes=visit_type.buffer_after_minutes)
    group_key = (
        occupancy.group_slot_key(visit_type.pk, request.practitioner_id, starts_at)
        if visit_type.is_group
        else None
    )
    shared_key = group_key or own_key
    if patient_pk is not None and occupancy.find_overlap(
        [occupancy.patient_key(patient_pk)], starts_at, ends_at, now
    ):
        raise SlotTaken("The patient already has an appointment at that time.")
    if group_key is not None and (
        occupancy.count_group_seats(request.practitioner_id, group_key, now) >= visit_type.capacity
    ):
        raise SlotTaken(f"This {visit_type.name} session is full. Pick another slot.")
    taken = occupancy.find_overlap(
        [occupancy.practitioner_key(request.practitioner_id)],
        occupied_from,
        occupied_to,
        now,
        shared_slot_key=group_key,
    )
    kinds = list(visit_type.required_resource_kinds or [])
    resources, missing = occupancy.pick_resources(
        location_id=request.location.id,
        kinds=kinds,
        start=occupied_from,
        end=occupied_to,
        now=now,
        shared_slot_key=group_key,
    )
    is_overbook = bool(taken or missing)
    if is_overbook:
        if not overbook_reason:
            raise SlotTaken(
                _TAKEN if taken else f"No {', '.join(missing)} is free at that time.",
                details={"taken": "practitioner" if taken else "resource"},
            )
        resources = occupancy.any_resources(location_id=request.location.id, kinds=kinds)
    rows = [
        Occupancy(
            resource_key=occupancy.practitioner_key(request.practitioner_id),
            slot_key=shared_key,
            occupied_from=occupied_from,
            occupied_to=occupied_to,
            is_overbook=is_overbook,
        )
    ]
    rows += [
        Occupancy(
            resource_key=occupancy.resource_key(resource_pk),
            slot_key=shared_key,
            occupied_from=occupied_from,
            occupied_to=occupied_to,
            is_overbook=is_overbook,
        )
        for resource_pk in resources.values()
    ]
    if patient_pk is not None:
        rows.append(
            Occupancy(
                resource_key=occupancy.patient_key(patient_pk),
                slot_key=own_key,
                occupied_from=starts_at,
                occupied_to=ends_at,
            )
        )
    return Claim(rows, is_overbook)


def _session_bounds(starts_at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The morning [00:00, 12:00) or afternoon [12:00, 24:00) of the slot's local day."""
    day = starts_at.astimezone(zone).date()
    noon = local_instant(day, time(12), zone)
    if part_of_day(starts_at, zone) == "am":
        return local_instant(day, time(0), zone), noon
    return noon, local_instant(day + timedelta(days=1), time(0), zone)


def _in_session(practitioner_id: int, starts_at: datetime, zone: ZoneInfo) -> Any:
    session_start, session_end = _session_bounds(starts_at, zone)
    return Appointment.objects.filter(
        practitioner_id=practitioner_id, starts_at__gte=session_start, starts_at__lt=session_end
    ).exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.BUMPED])


def slot_context(
    request: SlotRequest, starts_at: datetime, rules: Sequence[ProviderRule], facts: PatientFacts
) -> SlotContext:
    zone = request.zone
    new_patients = 0
    if facts.is_new and counts_new_patients(rules):
        new_patients = (
            _in_session(request.practitioner_id, starts_at, zone)
            .filter(is_new_patient=True)
            .count()
        )
    return SlotContext(
        weekday=starts_at.astimezone(zone).weekday(),
        part_of_day=part_of_day(starts_at, zone),
        new_patients_in_session=new_patients,
    )


def _check_overbook_cap(request: SlotRequest, starts_at: datetime) -> None:
    cap = settings.CARELINE_OVERBOOK_CAP_PER_SESSION
    overbooked = (
        _in_session(request.practitioner_id, starts_at, request.zone)
        .filter(is_overbook=True)
        .count()
    )
    if overbooked >= cap:
        raise RuleRefusal(
            [
                Violation(
                    "overbook_cap",
                    f"This session already has {overbooked} overbooked visits (the cap is {cap}).",
                )
            ]
        )


def take_slots(actor: Actor, plan: Plan, now: datetime) -> list[Appointment]:
    """Inside the transaction: lock, clear, consume the hold, check rules, write."""
    request, visit_type = plan.request, plan.request.visit_type
    zone = request.zone
    duration = timedelta(minutes=visit_type.duration_minutes)
    occupancy.lock_sessions(
        (request.practitioner_id, start.astimezone(zone).date()) for start in plan.starts
    )
    occupancy.clear_expired_holds(now=now, start=min(plan.starts), end=max(plan.starts) + duration)
    if plan.hold_id is not None:
        _consume_hold(plan, plan.hold_id, now)
    rules = load_provider_rules(practitioner_ids=[request.practitioner_id]).get(
        request.practitioner_id, []
    )
    series_id = uuid.uuid4() if len(plan.starts) > 1 else None
    appointments = []
    for starts_at in plan.starts:
        violations = check_provider_rules(
            rules,
            plan.facts,
            visit_type_id=visit_type.pk,
            slot=slot_context(request, starts_at, rules, plan.facts),
        )
        if violations:
            raise RuleRefusal(violations)
        public_id = uuid.uuid4()
        claim = claim_slot(
            request,
            patient_pk=plan.patient.pk,
            starts_at=starts_at,
            own_key=occupancy.own_slot_key("appointment", public_id),
            now=now,
            overbook_reason=plan.overbook_reason,
        )
        if claim.is_overbook:
            _check_overbook_cap(request, starts_at)
        appointment = Appointment.objects.create(
            public_id=public_id,
            patient=plan.patient,
            practitioner_id=request.practitioner_id,
            location_id=request.location.id,
            visit_type=visit_type,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            is_new_patient=plan.facts.is_new
            if plan.is_new_patient is None
            else plan.is_new_patient,
            is_overbook=claim.is_overbook,
            overbook_reason=plan.overbook_reason if claim.is_overbook else "",
            series_id=series_id,
            rescheduled_from=plan.rescheduled_from,
            safety_screen=plan.safety_screen,
            booked_by=actor.user,
            created_at=now,
            updated_at=now,
        )
        for row in claim.rows:
            row.appointment = appointment
        Occupancy.objects.bulk_create(claim.rows)
        appointments.append(appointment)
    if plan.ticket_pk is not None:
        use_ticket(plan.ticket_pk, appointments[0], plan.rescheduled_from)
    return appointments


def _consume_hold(plan: Plan, hold_id: uuid.UUID, now: datetime) -> None:
    hold = Hold.objects.select_for_update().filter(public_id=hold_id, expires_at__gt=now).first()
    if hold is None:
        return  # expired or released: the slot is taken only if someone else has it now
    request = plan.request
    if (
        hold.practitioner_id != request.practitioner_id
        or hold.location_id != request.location.id
        or hold.visit_type_id != request.visit_type.pk
        or hold.starts_at != plan.starts[0]
        or hold.patient_id not in (None, plan.patient.pk)
    ):
        raise ValidationFailed(
            "The hold is for another slot or patient.", details={"field": "hold_id"}
        )
    hold.delete()


def run_booking(work: Any) -> Any:
    """Run a transaction; an overlap the database refused is ``SlotTaken``."""
    try:
        with transaction.atomic():
            return work()
    except IntegrityError as error:
        if occupancy.is_overlap_violation(error):
            raise SlotTaken(_TAKEN) from error
        raise
