"""The offer engine: what happens to a freed slot, round by round (run by ``tasks``).

One round, under a row lock on the freed slot:

1. offers past their time expire (their patients wait on, lower down for this slot);
2. while an offer is still out, nothing more happens (first acceptance wins);
3. too late — fewer than ``CARELINE_WAITLIST_STOP_BEFORE_MINUTES`` or the visit type's
   minimum lead (``WaitlistPolicy``) before the slot — closes it;
4. outside the organisation's offer hours (``CARELINE_WAITLIST_OFFER_HOURS``, quiet hours)
   the round is deferred to the next opening (the slot is not held meanwhile);
5. otherwise the waiting entries that match the slot (visit type, practitioner/location if
   given, date and time window; move-up entries only for an earlier slot), in order of
   priority then age, are judged by the booking rule engine — the visit type's criteria and
   the practitioner's rules on the patient's facts (``rules``/``facts``, as booking does),
   and the patient free then; the first ``offers_at_once`` eligible get an offer, entries a
   rule refuses are listed in ``FreedSlot.skipped`` with the rules' names;
6. the slot is held (``services.hold_slot``) until the offers expire, and the next round is
   enqueued for that moment.

Acceptance books through ``book_appointment`` (``services.accept_offer``), so the database's
no-double-booking guarantee decides between racing acceptances.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q, QuerySet

from careline.directory.visit_types import (
    get_visit_type,
    resolve_location_ids,
    resolve_practitioner_ids,
)
from careline.patients.services import record_timeline_event
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit.services import AuditEntry
from careline.platform.models import AuditAction, AuditChannel
from careline.scheduling import occupancy
from careline.scheduling.availability import local_instant
from careline.scheduling.booking import SlotRequest, resolve_slot_request, slot_context
from careline.scheduling.calendars import load_provider_rules
from careline.scheduling.errors import SlotNotOffered, SlotTaken
from careline.scheduling.facts import gather_patient_facts
from careline.scheduling.models import AppointmentStatus, Hold, ProviderRule
from careline.scheduling.rules import Violation, check_criteria, check_provider_rules
from careline.scheduling.services import hold_slot
from careline.scheduling.slot_search import Place, SlotOption, search_slots
from careline.scheduling.waitlist import tasks
from careline.scheduling.waitlist.models import (
    FreedSlot,
    FreedSlotCause,
    FreedSlotStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistPolicy,
    WaitlistStatus,
)
from careline.scheduling.waitlist.notify import notify_offers

MAX_CANDIDATES = 200  # entries judged per round at most
MAX_SKIPPED_KEPT = 50

# Round outcomes (returned by the task; no PHI).
OFFERED = "offered"
WAITING = "waiting"
DEFERRED = "deferred"
CLOSED = "closed"
NONE_ELIGIBLE = "none_eligible"
GONE = "gone"


def system_actor() -> Actor:
    return Actor.system("waitlist", channel=AuditChannel.TASK)


@dataclass(frozen=True)
class Policy:
    offers_at_once: int
    offer_minutes: int
    minimum_lead: timedelta


def policy_for(visit_type_id: int) -> Policy:
    row = WaitlistPolicy.objects.filter(visit_type_id=visit_type_id).first()
    return Policy(
        offers_at_once=(row and row.offers_at_once) or settings.CARELINE_WAITLIST_OFFERS_AT_ONCE,
        offer_minutes=(row and row.offer_minutes) or settings.CARELINE_WAITLIST_OFFER_MINUTES,
        minimum_lead=timedelta(minutes=row.minimum_lead_minutes if row else 0),
    )


def offer_hours() -> tuple[time, time]:
    """The organisation's offer hours (local), from ``CARELINE_WAITLIST_OFFER_HOURS``."""
    text = settings.CARELINE_WAITLIST_OFFER_HOURS
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise ImproperlyConfigured(
            f'CARELINE_WAITLIST_OFFER_HOURS must be "HH:MM-HH:MM", not {text!r}.'
        ) from error
    if not opens < closes:
        raise ImproperlyConfigured("CARELINE_WAITLIST_OFFER_HOURS must open before it closes.")
    return opens, closes


def next_offer_time(now: datetime) -> datetime | None:
    """None when offers may go out now; else when the offer hours next open."""
    zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
    opens, closes = offer_hours()
    local = now.astimezone(zone)
    if opens <= local.time() < closes:
        return None
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return local_instant(day, opens, zone)


def offer_cutoff(slot: FreedSlot) -> datetime:
    """The last moment an offer of this slot may be open."""
    return slot.starts_at - timedelta(minutes=settings.CARELINE_WAITLIST_STOP_BEFORE_MINUTES)


# --- a round ---------------------------------------------------------------------------------


def run_offer_round(*, freed_slot_id: uuid.UUID) -> str:
    """One round (see the module docstring); returns what happened."""
    now = clock.now()
    with transaction.atomic():
        slot = (
            FreedSlot.objects.select_for_update(of=("self",))
            .select_related("visit_type", "practitioner", "location")
            .defer("practitioner__raw", "location__raw")
            .filter(public_id=freed_slot_id)
            .first()
        )
        if slot is None or slot.status != FreedSlotStatus.OPEN:
            return GONE
        _expire_offers(slot, now)
        if slot.offers.filter(status=OfferStatus.PENDING).exists():
            return WAITING
        policy = policy_for(slot.visit_type_id)
        if now >= min(offer_cutoff(slot), slot.starts_at - policy.minimum_lead):
            close_slot(slot, "Too close to the start to offer.")
            return CLOSED
        if slot.next_round_at is not None and now < slot.next_round_at:
            return DEFERRED  # an early task: the round at next_round_at is enqueued
        opens = next_offer_time(now)
        if opens is not None:
            _release_hold(slot)
            slot.next_round_at = opens
            slot.save(update_fields=["hold", "next_round_at"])
            tasks.enqueue_offer_round(slot.public_id, run_after=opens)
            return DEFERRED
        return _offer(slot, policy, now)


def _offer(slot: FreedSlot, policy: Policy, now: datetime) -> str:
    try:
        request = resolve_slot_request(
            visit_type_id=slot.visit_type.public_id,
            practitioner_id=slot.practitioner.public_id,
            location_id=slot.location.public_id,
        )
    except SlotNotOffered:
        close_slot(slot, "The practitioner no longer offers this visit type.")
        return CLOSED
    chosen, skipped = choose_entries(slot, request, policy.offers_at_once, now)
    slot.skipped = (slot.skipped + skipped)[-MAX_SKIPPED_KEPT:]
    _release_hold(slot)
    if not chosen:
        slot.next_round_at = None
        slot.save(update_fields=["skipped", "hold", "next_round_at"])
        return NONE_ELIGIBLE
    expires_at = min(now + timedelta(minutes=policy.offer_minutes), offer_cutoff(slot))
    outcome = _hold(slot, expires_at, now)
    if outcome is not None:
        slot.save(update_fields=["skipped", "hold", "next_round_at"])
        return outcome
    slot.round += 1
    slot.next_round_at = None
    slot.save(update_fields=["skipped", "hold", "round", "next_round_at"])
    offers = WaitlistOffer.objects.bulk_create(
        [
            WaitlistOffer(
                entry=entry,
                freed_slot=slot,
                round=slot.round,
                offered_at=now,
                expires_at=expires_at,
            )
            for entry in chosen
        ]
    )
    WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in chosen]).update(
        status=WaitlistStatus.OFFERED, updated_at=now
    )
    _record_offers(slot, request, offers, chosen, expires_at)
    tasks.enqueue_offer_round(slot.public_id, run_after=expires_at)
    offer_ids = [offer.public_id for offer in offers]
    transaction.on_commit(lambda: notify_offers(offer_ids))
    return OFFERED


def _hold(slot: FreedSlot, expires_at: datetime, now: datetime) -> str | None:
    """Hold the slot until ``expires_at`` (None), or say why it cannot be offered."""
    try:
        hold = hold_slot(
            actor=system_actor(),
            visit_type_id=slot.visit_type.public_id,
            practitioner_id=slot.practitioner.public_id,
            location_id=slot.location.public_id,
            starts_at=slot.starts_at,
            expires_at=expires_at,
        )
    except SlotNotOffered:
        close_slot(slot, "The slot is no longer offered (hours, leave or booking window).")
        return CLOSED
    except SlotTaken:
        slot.refresh_from_db(fields=["status", "rebooked_at", "rebooked_appointment"])
        if slot.status != FreedSlotStatus.OPEN:
            return CLOSED  # rebooked meanwhile (``freed.note_rebooked`` filled it)
        # Someone holds it while booking: try again once such a hold has run out.
        retry = now + timedelta(minutes=settings.CARELINE_HOLD_MINUTES)
        slot.next_round_at = retry
        tasks.enqueue_offer_round(slot.public_id, run_after=retry)
        return DEFERRED
    slot.hold = hold
    return None


def choose_entries(
    slot: FreedSlot, request: SlotRequest, wanted: int, now: datetime
) -> tuple[list[WaitlistEntry], list[dict[str, Any]]]:
    """The first ``wanted`` eligible entries in queue order, and those a rule refused."""
    rules = load_provider_rules(practitioner_ids=[request.practitioner_id]).get(
        request.practitioner_id, []
    )
    chosen: list[WaitlistEntry] = []
    skipped: list[dict[str, Any]] = []
    patients: set[int] = set()
    for entry in matching_entries(slot, request.zone)[:MAX_CANDIDATES]:
        if entry.patient_id in patients:
            continue
        violations = judge_entry(entry, request, slot.starts_at, rules, now)
        if violations:
            skipped.append(
                {
                    "entry_id": str(entry.public_id),
                    "round": slot.round + 1,
                    "rules": [violation.rule for violation in violations],
                }
            )
            continue
        chosen.append(entry)
        patients.add(entry.patient_id)
        if len(chosen) >= wanted:
            break
    return chosen, skipped


def matching_entries(slot: FreedSlot, zone: ZoneInfo) -> list[WaitlistEntry]:
    """Waiting entries the slot fits (not offered it before), in queue order."""
    local_start = slot.starts_at.astimezone(zone)
    local_end = slot.ends_at.astimezone(zone)
    day = local_start.date()
    entries: QuerySet[WaitlistEntry] = (
        WaitlistEntry.objects.filter(
            visit_type_id=slot.visit_type_id,
            status=WaitlistStatus.ACTIVE,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(practitioner_id__isnull=True) | Q(practitioner_id=slot.practitioner_id))
        .filter(Q(location_id__isnull=True) | Q(location_id=slot.location_id))
        .filter(
            Q(appointment__isnull=True)
            | Q(
                appointment__status=AppointmentStatus.BOOKED,
                appointment__starts_at__gt=slot.starts_at,
            )
        )
        .exclude(offers__freed_slot=slot)
        .select_related("patient")
        .defer("patient__ssn")
        .order_by("priority", "created_at", "pk")
    )
    return [
        entry
        for entry in entries[: MAX_CANDIDATES * 2]
        if (entry.earliest_time is None or local_start.time() >= entry.earliest_time)
        and (
            entry.latest_time is None
            or local_end.date() > day
            or local_end.time() <= entry.latest_time
        )
    ]


def judge_entry(
    entry: WaitlistEntry,
    request: SlotRequest,
    starts_at: datetime,
    rules: list[ProviderRule],
    now: datetime,
) -> list[Violation]:
    """Booking's own rules for this patient in this slot: criteria, provider rules (with the
    session's new-patient count) and the patient's time. Empty: eligible."""
    visit_type = request.visit_type
    facts = gather_patient_facts(
        patient=entry.patient,
        visit_type=visit_type,
        today=now.astimezone(request.zone).date(),
        now=now,
    )
    violations = check_criteria(visit_type, facts)
    violations += check_provider_rules(
        rules,
        facts,
        visit_type_id=visit_type.pk,
        slot=slot_context(request, starts_at, rules, facts),
    )
    ends_at = starts_at + timedelta(minutes=visit_type.duration_minutes)
    if occupancy.find_overlap([occupancy.patient_key(entry.patient_id)], starts_at, ends_at, now):
        violations.append(
            Violation("patient.busy", "The patient has another appointment at that time.")
        )
    return violations


def _record_offers(
    slot: FreedSlot,
    request: SlotRequest,
    offers: list[WaitlistOffer],
    entries: list[WaitlistEntry],
    expires_at: datetime,
) -> None:
    actor = system_actor()
    zone = request.zone
    when = f"{slot.starts_at.astimezone(zone):%a %d %b %Y %H:%M}"
    until = f"{expires_at.astimezone(zone):%H:%M}"
    for entry in entries:
        record_timeline_event(
            actor=actor,
            patient=entry.patient,
            kind="appointment",
            title=(
                f"Offered from the waitlist: {request.visit_type.name} with "
                f"{request.practitioner_name}, {when} at {request.location.name} "
                f"(answer by {until})"
            ),
        )
    audit.record_events(
        actor=actor,
        entries=[
            AuditEntry(
                action=AuditAction.CREATE,
                resource_type="WaitlistOffer",
                resource_id=str(offer.public_id),
                patient_id=entry.patient.public_id,
                details={"freed_slot": str(slot.public_id), "round": slot.round},
            )
            for offer, entry in zip(offers, entries, strict=True)
        ],
    )


# --- ending offers and slots -----------------------------------------------------------------


def _expire_offers(slot: FreedSlot, now: datetime) -> None:
    due = list(
        slot.offers.filter(status=OfferStatus.PENDING, expires_at__lte=now).values_list(
            "pk", "public_id", "entry_id", "entry__patient__public_id"
        )
    )
    if not due:
        return
    end_offers(
        [(pk, public_id, entry_id, patient_id) for pk, public_id, entry_id, patient_id in due],
        OfferStatus.EXPIRED,
        now,
    )


def end_offers(
    offers: list[tuple[int, uuid.UUID, int, uuid.UUID]], status: str, now: datetime
) -> None:
    """Pending offers (pk, public id, entry pk, patient id) end with ``status``; their
    entries wait again. Audited as the system."""
    WaitlistOffer.objects.filter(
        pk__in=[pk for pk, *_ in offers], status=OfferStatus.PENDING
    ).update(status=status, responded_at=now)
    WaitlistEntry.objects.filter(
        pk__in=[entry_id for _, _, entry_id, _ in offers], status=WaitlistStatus.OFFERED
    ).update(status=WaitlistStatus.ACTIVE, updated_at=now)
    audit.record_events(
        actor=system_actor(),
        entries=[
            AuditEntry(
                action=AuditAction.UPDATE,
                resource_type="WaitlistOffer",
                resource_id=str(public_id),
                patient_id=patient_id,
                details={"status": status},
            )
            for _, public_id, _, patient_id in offers
        ],
    )


def pending_offers(slot: FreedSlot) -> list[tuple[int, uuid.UUID, int, uuid.UUID]]:
    return list(
        slot.offers.filter(status=OfferStatus.PENDING).values_list(
            "pk", "public_id", "entry_id", "entry__patient__public_id"
        )
    )


def close_slot(slot: FreedSlot, reason: str) -> None:
    """Stop offering a slot: pending offers are withdrawn, the hold released."""
    end_offers(pending_offers(slot), OfferStatus.WITHDRAWN, clock.now())
    _release_hold(slot)
    slot.status, slot.closed_reason = FreedSlotStatus.CLOSED, reason[:200]
    slot.save(update_fields=["status", "closed_reason", "hold"])


def _release_hold(slot: FreedSlot) -> None:
    if slot.hold_id is not None:
        Hold.objects.filter(pk=slot.hold_id).delete()
        slot.hold = None


# --- the sweep and new availability ----------------------------------------------------------


def sweep() -> int:
    """Run every open slot's round that is due (a lost task's work): offers expired, a
    deferral due, or no offer out at all. Returns how many rounds ran."""
    now = clock.now()
    due = (
        FreedSlot.objects.filter(status=FreedSlotStatus.OPEN)
        .filter(
            Q(offers__status=OfferStatus.PENDING, offers__expires_at__lte=now)
            | Q(next_round_at__lte=now)
            | Q(starts_at__lte=now)
        )
        .values_list("public_id", flat=True)
        .distinct()
    )
    ids = list(due[:500])
    for freed_slot_id in ids:
        run_offer_round(freed_slot_id=freed_slot_id)
    return len(ids)


def find_new_availability(*, practitioner_id: uuid.UUID) -> int:
    """After a template change: for each visit type with waiting entries this practitioner
    could serve, the earliest free slots of hers inside their windows become freed slots
    (``new_availability``) and are offered. Returns how many were created."""
    now = clock.now()
    today = now.astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
    waiting = (
        WaitlistEntry.objects.filter(status=WaitlistStatus.ACTIVE, latest_date__gte=today)
        .filter(Q(practitioner__isnull=True) | Q(practitioner__public_id=practitioner_id))
        .values_list("visit_type__public_id", "location__public_id", "latest_date")
    )
    windows: dict[uuid.UUID, tuple[set[uuid.UUID | None], Any]] = {}
    for visit_type_id, location_id, latest in waiting:
        places, last = windows.get(visit_type_id, (set(), today))
        places.add(location_id)
        windows[visit_type_id] = (places, max(last, latest))
    created = 0
    with transaction.atomic():
        for visit_type_id, (places, last) in windows.items():
            options = search_slots(
                actor=system_actor(),
                visit_type_id=visit_type_id,
                date_from=today,
                date_to=min(last, today + timedelta(days=365)),
                places=None if None in places else [Place(pk) for pk in places if pk],
                limit=50,
            )
            mine = [option for option in options if option.practitioner_id == practitioner_id]
            wanted = settings.CARELINE_WAITLIST_OFFERS_AT_ONCE
            for option in mine[:wanted]:
                created += _record_new_slot(option, now)
    return created


def _record_new_slot(option: SlotOption, now: datetime) -> int:
    practitioner = resolve_practitioner_ids([option.practitioner_id])[option.practitioner_id]
    location = resolve_location_ids([option.location_id])[option.location_id]
    visit_type = get_visit_type(visit_type_id=option.visit_type_id)
    if FreedSlot.objects.filter(
        status=FreedSlotStatus.OPEN,
        practitioner_id=practitioner,
        visit_type_id=visit_type.pk,
        starts_at=option.starts_at,
    ).exists():
        return 0
    slot = FreedSlot.objects.create(
        practitioner_id=practitioner,
        location_id=location,
        visit_type_id=visit_type.pk,
        starts_at=option.starts_at,
        ends_at=option.ends_at,
        cause=FreedSlotCause.NEW_AVAILABILITY,
        freed_at=now,
    )
    tasks.enqueue_offer_round(slot.public_id)
    return 1
