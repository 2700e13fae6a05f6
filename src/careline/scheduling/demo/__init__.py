"""The demo's scheduling set-up, a few months of appointment history and the access
snapshots of the past weeks (``careline demo``).

Set-up goes through the configuration services (audited like an administrator's): a
red-flag list, six visit types, a CT scanner, weekly hours for the demo's family doctors and
radiologists at their locations, two provider rules and a closure. The history
(``demo.history``) is written in bulk with the booking service's invariants, and backfills
part of the slots cancellations free. The weekly third-next-available snapshots of the past
weeks are measured by the weekly task's own function as of each week (``demo.snapshots``).
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
    time_zone_of,
)
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.errors import CarelineError
from careline.scheduling import configuration
from careline.scheduling.availability import local_instant
from careline.scheduling.bumps.demo import add_demo_leave
from careline.scheduling.configuration import BlockIn
from careline.scheduling.demo.history import (
    FAMILY,
    HISTORY_DAYS,
    RADIOLOGY,
    RED_FLAGS,
    SESSIONS,
    History,
)
from careline.scheduling.demo.snapshots import record_past_snapshots
from careline.scheduling.models import (
    ExceptionKind,
    PartOfDay,
    RuleKind,
    Weekday,
)
from careline.scheduling.waitlist.selectors import list_open_entries
from careline.scheduling.waitlist.services import join_waitlist

MAX_PROVIDERS = 8
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


@dataclass(frozen=True)
class DemoSchedule:
    visit_types: int
    templates: int
    rules: int
    appointments: int
    upcoming: int
    snapshots: int


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
    history = History(rng=rng, now=now, visit_types=visit_types, rule_holders=rules)
    for place in chosen:
        history.add_provider(place.practitioner_id, place.location_id, place.specialty)
    with transaction.atomic():
        written = history.write(actor)
        snapshots = record_past_snapshots(actor=actor, history=history, now=now)
        history.claim_upcoming()
    _waitlist(actor, visit_types, patients=history.patients[:3])
    add_demo_leave(actor=actor, now=now)  # leave after booking: a visit to bump (bumps.demo)
    return DemoSchedule(
        visit_types=len(visit_types),
        templates=templates,
        rules=len(rules) * 2,
        appointments=written[0],
        upcoming=written[1],
        snapshots=snapshots,
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


PORTAL_WAITLIST_TYPES = ("flu-shot", "telehealth-follow-up", "follow-up")


def ensure_portal_waitlist_entry(*, actor: Actor, patient_id: uuid.UUID) -> None:
    """The demo portal patient waits for a visit she could book herself (mornings, the next
    three weeks), so her portal page and her 360 card show an open entry. Nothing when she
    already has one (the schedule's own waitlist may have added her) or when no visit type's
    criteria admit her."""
    if list_open_entries(patient_id=patient_id, now=clock.now()):
        return
    visit_types = {row.code: row for row in list_visit_types()}
    today = clock.now().astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
    for code in PORTAL_WAITLIST_TYPES:
        visit_type = visit_types.get(code)
        if visit_type is None or visit_type.portal_booking != PortalBooking.SELF_SCHEDULABLE:
            continue
        try:
            join_waitlist(
                actor=actor,
                patient_id=patient_id,
                visit_type_id=visit_type.public_id,
                earliest_date=today + timedelta(days=1),
                latest_date=today + timedelta(days=21),
                earliest_time=time(8),
                latest_time=time(12),
                note="Mornings suit her best",
            )
        except CarelineError:
            continue
        return


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
            for session_start, session_end in SESSIONS:
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
