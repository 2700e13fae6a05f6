"""Waitlist writes: join, remove, and a patient's answer to an offer (accept / decline).

Each checks the actor's permission and access to the patient (``access_patient`` through
booking's ``access_for_booking``; a portal account through the portal's rule), runs in one
transaction, audits and adds a timeline event. Staff, the API and the portal call these same
functions; a patient joining herself is also held to ``self_service.check_self_waitlist``.

**Acceptance** books through ``services.book_appointment`` with the slot's hold (a move-up
entry reschedules its appointment instead), so every booking rule applies and the database
decides between racing acceptances: the first wins; any other gets ``SlotTaken`` ("slot just
taken") and its offer ends as ``taken``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from careline.directory.visit_types import (
    get_visit_type,
    resolve_location_ids,
    resolve_practitioner_ids,
)
from careline.patients.access import PatientAccess, is_self_service
from careline.patients.services import record_timeline_event
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.errors import Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.scheduling import self_service
from careline.scheduling import services as booking_services
from careline.scheduling.booking import access_for_booking
from careline.scheduling.errors import RuleRefusal, SlotTaken
from careline.scheduling.facts import gather_patient_facts
from careline.scheduling.models import Appointment, AppointmentStatus, CancelReason
from careline.scheduling.rules import check_criteria
from careline.scheduling.waitlist import engine, tasks
from careline.scheduling.waitlist.models import (
    FreedSlot,
    FreedSlotStatus,
    OfferStatus,
    RemovedReason,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistPriority,
    WaitlistStatus,
)

TAKEN_MESSAGE = "That slot was just taken by another patient. The patient stays on the waitlist."


def _audit(
    actor: Actor, access: PatientAccess, action: str, resource_type: str, public_id: uuid.UUID
) -> None:
    audit.record_event(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=str(public_id),
        patient_id=access.patient.public_id,
        is_break_glass=access.is_break_glass,
    )


def join_waitlist(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    visit_type_id: uuid.UUID,
    earliest_date: date,
    latest_date: date,
    practitioner_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    earliest_time: time | None = None,
    latest_time: time | None = None,
    priority: int = WaitlistPriority.ROUTINE,
    appointment_id: uuid.UUID | None = None,
    note: str = "",
) -> WaitlistEntry:
    """Put a patient on the waitlist. The visit type's criteria are judged now (a refusal
    names the rule); with ``appointment_id`` the entry moves that booked visit up."""
    access = access_for_booking(actor, patient_id)
    now = clock.now()
    today = now.astimezone(ZoneInfo(settings.CARELINE_TIME_ZONE)).date()
    _check_window(earliest_date, latest_date, earliest_time, latest_time, today)
    if priority not in WaitlistPriority.values:
        raise ValidationFailed("priority must be 1, 2 or 3.", details={"field": "priority"})
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    if is_self_service(actor):
        self_service.check_self_waitlist(visit_type, priority=priority)
    practitioner_pk = _resolve(resolve_practitioner_ids, practitioner_id, "practitioner_id")
    location_pk = _resolve(resolve_location_ids, location_id, "location_id")
    appointment = _move_up_appointment(access, appointment_id, visit_type.pk)
    facts = gather_patient_facts(
        patient=access.patient, visit_type=visit_type, today=today, now=now
    )
    violations = check_criteria(visit_type, facts)
    if violations:
        raise RuleRefusal(violations)
    with transaction.atomic():
        waiting = WaitlistEntry.objects.select_for_update().filter(
            patient=access.patient,
            visit_type=visit_type,
            status__in=[WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED],
        )
        if waiting.exists():
            raise Conflict(
                f"The patient is already on the waitlist for {visit_type.name}.",
                details={"entry_id": str(waiting[0].public_id)},
            )
        entry = WaitlistEntry.objects.create(
            patient=access.patient,
            visit_type=visit_type,
            practitioner_id=practitioner_pk,
            location_id=location_pk,
            earliest_date=earliest_date,
            latest_date=latest_date,
            earliest_time=earliest_time,
            latest_time=latest_time,
            priority=priority,
            appointment=appointment,
            note=note.strip()[:300],
            created_by=actor.user,
            created_at=now,
            updated_at=now,
        )
        _audit(actor, access, AuditAction.CREATE, "WaitlistEntry", entry.public_id)
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=(
                f"{'Asked to move up' if appointment else 'Joined the waitlist for'} "
                f"{visit_type.name} ({earliest_date:%d %b} to {latest_date:%d %b %Y})"
            ),
        )
        _wake_open_slots(visit_type.pk, now)
    return entry


def _check_window(
    earliest: date, latest: date, earliest_time: time | None, latest_time: time | None, today: date
) -> None:
    if latest < earliest:
        raise ValidationFailed(
            "latest_date must be on or after earliest_date.", details={"field": "latest_date"}
        )
    if latest < today:
        raise ValidationFailed("The window has already passed.", details={"field": "latest_date"})
    if earliest_time is not None and latest_time is not None and latest_time <= earliest_time:
        raise ValidationFailed(
            "latest_time must be after earliest_time.", details={"field": "latest_time"}
        )


def _resolve(
    resolver: Callable[[Iterable[uuid.UUID]], dict[uuid.UUID, int]],
    public_id: uuid.UUID | None,
    field: str,
) -> int | None:
    if public_id is None:
        return None
    found = resolver([public_id]).get(public_id)
    if found is None:
        raise NotFound(f"No such {field.removesuffix('_id')}.", details={"field": field})
    return int(found)


def _move_up_appointment(
    access: PatientAccess, appointment_id: uuid.UUID | None, visit_type_pk: int
) -> Appointment | None:
    if appointment_id is None:
        return None
    appointment = Appointment.objects.filter(
        public_id=appointment_id, patient=access.patient
    ).first()
    if appointment is None:
        raise NotFound("No such appointment for this patient.", details={"field": "appointment_id"})
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict("Only a booked appointment can be moved up.")
    if appointment.visit_type_id != visit_type_pk:
        raise ValidationFailed(
            "A move-up entry is for the appointment's own visit type.",
            details={"field": "visit_type_id"},
        )
    return appointment


def _wake_open_slots(visit_type_pk: int, now: datetime) -> None:
    """Open slots of the visit type with no offer out get a round (a new entry may fit)."""
    idle = (
        FreedSlot.objects.filter(
            status=FreedSlotStatus.OPEN, visit_type_id=visit_type_pk, starts_at__gt=now
        )
        .exclude(offers__status=OfferStatus.PENDING)
        .filter(next_round_at__isnull=True)
        .values_list("public_id", flat=True)
    )
    for freed_slot_id in idle[:20]:
        tasks.enqueue_offer_round(freed_slot_id)


def _entry_patient(entry_id: uuid.UUID) -> uuid.UUID:
    found = (
        WaitlistEntry.objects.filter(public_id=entry_id)
        .values_list("patient__public_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound("No such waitlist entry.")
    return found


def remove_from_waitlist(
    *, actor: Actor, entry_id: uuid.UUID, reason: str, note: str = ""
) -> WaitlistEntry:
    """Take an entry off the list with a reason; an offer it has out is withdrawn (and the
    slot's next round runs)."""
    access = access_for_booking(actor, _entry_patient(entry_id))
    if reason not in RemovedReason.values:
        raise ValidationFailed(
            f"reason must be one of: {', '.join(RemovedReason.values)}.",
            details={"field": "reason"},
        )
    now = clock.now()
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(public_id=entry_id)
        if entry.status not in (WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED):
            raise Conflict(f"This entry is already {entry.status}.")
        pending = list(
            entry.offers.filter(status=OfferStatus.PENDING).values_list(
                "pk", "public_id", "entry_id", "freed_slot__public_id"
            )
        )
        engine.end_offers(
            [
                (pk, public_id, entry_id_, access.patient.public_id)
                for pk, public_id, entry_id_, _ in pending
            ],
            OfferStatus.WITHDRAWN,
            now,
        )
        entry.status, entry.removed_reason = WaitlistStatus.REMOVED, reason
        entry.note = (note.strip() or entry.note)[:300]
        entry.updated_at = now
        entry.save(update_fields=["status", "removed_reason", "note", "updated_at"])
        _audit(actor, access, AuditAction.UPDATE, "WaitlistEntry", entry.public_id)
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title=f"Taken off the waitlist ({RemovedReason(reason).label})",
        )
        for *_, freed_slot_id in pending:
            tasks.enqueue_offer_round(freed_slot_id)
    return entry


def _offer_patient(offer_id: uuid.UUID) -> uuid.UUID:
    found = (
        WaitlistOffer.objects.filter(public_id=offer_id)
        .values_list("entry__patient__public_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound("No such offer.")
    return found


def _locked_offer(offer_id: uuid.UUID) -> WaitlistOffer:
    return (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related(
            "entry",
            "freed_slot__hold",
            "freed_slot__visit_type",
            "freed_slot__practitioner",
            "freed_slot__location",
        )
        .defer("freed_slot__practitioner__raw", "freed_slot__location__raw")
        .get(public_id=offer_id)
    )


def _refuse_unless_open(offer: WaitlistOffer, now: datetime) -> None:
    if offer.status in (OfferStatus.TAKEN, OfferStatus.WITHDRAWN) or (
        offer.freed_slot.status == FreedSlotStatus.FILLED and offer.status == OfferStatus.PENDING
    ):
        raise SlotTaken(TAKEN_MESSAGE)
    if offer.status != OfferStatus.PENDING:
        raise Conflict(f"This offer was already answered ({offer.status}).")
    if offer.expires_at <= now:
        raise Conflict("This offer has expired; the slot is offered to the next patient.")


def accept_offer(
    *,
    actor: Actor,
    offer_id: uuid.UUID,
    safety_answers: Mapping[str, bool] | None = None,
) -> Appointment:
    """Book the offered slot for the patient (move up: reschedule her appointment into it).
    The first acceptance wins; a later one gets ``SlotTaken``."""
    access = access_for_booking(actor, _offer_patient(offer_id))
    now = clock.now()
    try:
        with transaction.atomic():
            # Acceptances of one slot queue on its row; the database guards the rest.
            slot_pk = WaitlistOffer.objects.filter(public_id=offer_id).values_list(
                "freed_slot_id", flat=True
            )
            list(FreedSlot.objects.select_for_update().filter(pk__in=slot_pk).values("pk"))
            offer = _locked_offer(offer_id)
            _refuse_unless_open(offer, now)
            appointment = _book(actor, offer, access.patient.public_id, safety_answers)
            _settle_acceptance(actor, access, offer, appointment, now)
    except SlotTaken:
        _mark_taken(offer_id, now)
        raise
    return appointment


def _book(
    actor: Actor,
    offer: WaitlistOffer,
    patient_id: uuid.UUID,
    safety_answers: Mapping[str, bool] | None,
) -> Appointment:
    slot, entry = offer.freed_slot, offer.entry
    hold_id = slot.hold.public_id if slot.hold is not None else None
    practitioner_id, location_id = slot.practitioner.public_id, slot.location.public_id
    if entry.appointment_id is not None:
        current = Appointment.objects.only("public_id").get(pk=entry.appointment_id)
        return booking_services.reschedule_appointment(
            actor=actor,
            appointment_id=current.public_id,
            starts_at=slot.starts_at,
            practitioner_id=practitioner_id,
            location_id=location_id,
            reason=CancelReason.PATIENT,
            note="Moved up from the waitlist",
            hold_id=hold_id,
        )
    [appointment] = booking_services.book_appointment(
        actor=actor,
        patient_id=patient_id,
        visit_type_id=slot.visit_type.public_id,
        practitioner_id=practitioner_id,
        location_id=location_id,
        starts_at=slot.starts_at,
        hold_id=hold_id,
        safety_answers=safety_answers,
    )
    return appointment


def _settle_acceptance(
    actor: Actor,
    access: PatientAccess,
    offer: WaitlistOffer,
    appointment: Appointment,
    now: datetime,
) -> None:
    slot = offer.freed_slot
    offer.status, offer.responded_at, offer.responded_by = OfferStatus.ACCEPTED, now, actor.display
    offer.appointment = appointment
    offer.save(update_fields=["status", "responded_at", "responded_by", "appointment"])
    entry = offer.entry
    entry.status, entry.booked_appointment, entry.updated_at = (
        WaitlistStatus.BOOKED,
        appointment,
        now,
    )
    entry.save(update_fields=["status", "booked_appointment", "updated_at"])
    engine.end_offers(engine.pending_offers(slot), OfferStatus.TAKEN, now)
    FreedSlot.objects.filter(pk=slot.pk).update(
        status=FreedSlotStatus.FILLED,
        rebooked_appointment=appointment,
        rebooked_at=now,
        hold=None,
    )
    _audit(actor, access, AuditAction.UPDATE, "WaitlistOffer", offer.public_id)
    record_timeline_event(
        actor=actor, patient=access.patient, kind="appointment", title="Accepted a waitlist offer"
    )


def _mark_taken(offer_id: uuid.UUID, now: datetime) -> None:
    with transaction.atomic():
        offer = (
            WaitlistOffer.objects.select_for_update()
            .filter(public_id=offer_id, status=OfferStatus.PENDING)
            .values_list("pk", "public_id", "entry_id", "entry__patient__public_id")
        )
        found = list(offer)
        if found:
            engine.end_offers(found, OfferStatus.TAKEN, now)


def decline_offer(*, actor: Actor, offer_id: uuid.UUID) -> WaitlistOffer:
    """The patient says no: she stays on the list; when no offer of the slot is left out,
    the next round runs at once."""
    access = access_for_booking(actor, _offer_patient(offer_id))
    now = clock.now()
    with transaction.atomic():
        offer = _locked_offer(offer_id)
        _refuse_unless_open(offer, now)
        offer.status, offer.responded_at, offer.responded_by = (
            OfferStatus.DECLINED,
            now,
            actor.display,
        )
        offer.save(update_fields=["status", "responded_at", "responded_by"])
        WaitlistEntry.objects.filter(pk=offer.entry_id, status=WaitlistStatus.OFFERED).update(
            status=WaitlistStatus.ACTIVE, updated_at=now
        )
        _audit(actor, access, AuditAction.UPDATE, "WaitlistOffer", offer.public_id)
        record_timeline_event(
            actor=actor,
            patient=access.patient,
            kind="appointment",
            title="Declined a waitlist offer",
        )
        if not offer.freed_slot.offers.filter(status=OfferStatus.PENDING).exists():
            tasks.enqueue_offer_round(offer.freed_slot.public_id)
    return offer
