"""Waitlist reads: the staff list (per visit type / location) with each entry's offers, the
freed slots being offered, a patient's own offers (what the portal shows) and the fill rate
of freed slots (what the metrics page reads).

Listing patients is a PHI read: the staff list shows only patients in the actor's scope
(her locations, or everyone for a role with ``patients.access_all_patients``) and records
which patients it listed, as the patient search does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet

from careline.directory.visit_types import list_locations, list_visit_types
from careline.patients.access import access_patient
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit.services import AuditEntry
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.availability import local_instant
from careline.scheduling.waitlist.models import (
    FreedSlot,
    FreedSlotCause,
    FreedSlotStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

LIST_LIMIT = 200
OPEN = (WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED)


def _in_scope(actor: Actor, entries: QuerySet[WaitlistEntry]) -> QuerySet[WaitlistEntry]:
    user = actor.user
    if user is None or user.has_careline_permission(Permission.ACCESS_ALL_PATIENTS):
        return entries
    return entries.filter(patient__primary_location_id__in=user.locations.values("pk"))


def list_waitlist(
    *,
    actor: Actor,
    visit_type_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    statuses: tuple[str, ...] = OPEN,
    limit: int = LIST_LIMIT,
) -> list[WaitlistEntry]:
    """Entries in queue order with patient, visit type, practitioner, location and their
    offers (``entry.offers.all()``, newest first, with the slot). Four queries."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="WaitlistEntry")
    entries = WaitlistEntry.objects.filter(status__in=list(statuses))
    if visit_type_id is not None:
        entries = entries.filter(visit_type__public_id=visit_type_id)
    if location_id is not None:
        entries = entries.filter(Q(location__public_id=location_id) | Q(location__isnull=True))
    offers = WaitlistOffer.objects.select_related(
        "freed_slot__practitioner", "freed_slot__location"
    ).defer("freed_slot__practitioner__raw", "freed_slot__location__raw")
    rows = list(
        _in_scope(actor, entries)
        .select_related("patient", "visit_type", "practitioner", "location", "appointment")
        .defer("patient__ssn", "practitioner__raw", "location__raw")
        .prefetch_related(Prefetch("offers", queryset=offers.order_by("-offered_at", "-pk")))
        .order_by("priority", "created_at", "pk")[:limit]
    )
    audit.record_events(
        actor=actor,
        entries=[
            AuditEntry(
                action=AuditAction.READ,
                resource_type="WaitlistEntry",
                resource_id=str(entry.public_id),
                patient_id=entry.patient.public_id,
            )
            for entry in rows
        ],
    )
    return rows


def list_offered_slots(*, actor: Actor, limit: int = 50) -> list[FreedSlot]:
    """Freed slots still being offered, soonest first (no patient data: ids and counts)."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="FreedSlot")
    return list(
        FreedSlot.objects.filter(status=FreedSlotStatus.OPEN, starts_at__gt=clock.now())
        .select_related("visit_type", "practitioner", "location")
        .defer("practitioner__raw", "location__raw")
        .prefetch_related(
            Prefetch("offers", queryset=WaitlistOffer.objects.order_by("-offered_at", "-pk"))
        )
        .order_by("starts_at", "pk")[:limit]
    )


@dataclass(frozen=True)
class PatientOffer:
    """What a patient (or staff for her) sees of an offer she may accept."""

    offer_id: uuid.UUID
    visit_type_name: str
    practitioner_name: str
    location_name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    expires_at: datetime
    is_move_up: bool


def list_patient_offers(*, actor: Actor, patient_id: uuid.UUID) -> list[PatientOffer]:
    """A patient's offers still open (pending, not expired), soonest answer first. The
    portal shows these; accepting goes through ``services.accept_offer``."""
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.VIEW_SCHEDULE,
        resource_type="WaitlistOffer",
    )
    rows = (
        WaitlistOffer.objects.filter(
            entry__patient=access.patient,
            status=OfferStatus.PENDING,
            expires_at__gt=clock.now(),
        )
        .select_related(
            "entry", "freed_slot__visit_type", "freed_slot__practitioner", "freed_slot__location"
        )
        .defer("freed_slot__practitioner__raw", "freed_slot__location__raw")
        .order_by("expires_at", "pk")
    )
    return [
        PatientOffer(
            offer_id=offer.public_id,
            visit_type_name=offer.freed_slot.visit_type.name,
            practitioner_name=str(offer.freed_slot.practitioner),
            location_name=offer.freed_slot.location.name,
            starts_at=offer.freed_slot.starts_at,
            ends_at=offer.freed_slot.ends_at,
            time_zone=offer.freed_slot.location.time_zone or settings.CARELINE_TIME_ZONE,
            expires_at=offer.expires_at,
            is_move_up=offer.entry.is_move_up,
        )
        for offer in rows
    ]


def waitlist_choices(*, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Visit types and the actor's locations, for the page's filters and form."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="WaitlistEntry")
    location_ids = list(actor.user.locations.values_list("pk", flat=True)) if actor.user else []
    locations = sorted(
        list_locations(location_ids=location_ids).values(), key=lambda place: place.name
    )
    return {
        "visit_types": [(str(vt.public_id), vt.name) for vt in list_visit_types()],
        "locations": [(str(location.public_id), location.name) for location in locations],
    }


@dataclass(frozen=True)
class PendingOffer:
    """The slot an open entry is offered now, and until when she may take it."""

    offer_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    practitioner_name: str
    location_name: str
    time_zone: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenEntry:
    """One open waitlist entry as the 360 page, the API summary and the portal show it."""

    entry_id: uuid.UUID
    visit_type_id: uuid.UUID
    visit_type_name: str
    practitioner_name: str  # "" when any provider will do
    location_name: str  # "" when any location will do
    earliest_date: date
    latest_date: date
    earliest_time: time | None
    latest_time: time | None
    status: str
    status_label: str
    is_move_up: bool
    created_at: datetime
    offer: PendingOffer | None  # an offer out and not yet expired


OPEN_ENTRIES_LIMIT = 20


def list_open_entries(*, patient_id: uuid.UUID, now: datetime) -> list[OpenEntry]:
    """A patient's entries still waiting or offered, oldest first, each with the offer she
    may still answer. The one read behind the 360 page's card, the API summary and the
    portal; two queries whatever the history. No access check: each caller has checked
    (and audited) the patient (``access_for_scheduling``, or the portal's rule)."""
    pending = WaitlistOffer.objects.filter(
        status=OfferStatus.PENDING, expires_at__gt=now
    ).select_related("freed_slot__practitioner", "freed_slot__location")
    rows = (
        WaitlistEntry.objects.filter(patient__public_id=patient_id, status__in=list(OPEN))
        .select_related("visit_type", "practitioner", "location")
        .defer("practitioner__raw", "location__raw")
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=pending.defer(
                    "freed_slot__practitioner__raw", "freed_slot__location__raw"
                ).order_by("expires_at", "pk"),
                to_attr="pending_offers",
            )
        )
        .order_by("created_at", "pk")[:OPEN_ENTRIES_LIMIT]
    )
    return [_open_entry(entry) for entry in rows]


def _open_entry(entry: WaitlistEntry) -> OpenEntry:
    offers: list[WaitlistOffer] = getattr(entry, "pending_offers", [])
    return OpenEntry(
        entry_id=entry.public_id,
        visit_type_id=entry.visit_type.public_id,
        visit_type_name=entry.visit_type.name,
        practitioner_name=str(entry.practitioner) if entry.practitioner is not None else "",
        location_name=entry.location.name if entry.location is not None else "",
        earliest_date=entry.earliest_date,
        latest_date=entry.latest_date,
        earliest_time=entry.earliest_time,
        latest_time=entry.latest_time,
        status=entry.status,
        status_label=entry.get_status_display(),
        is_move_up=entry.is_move_up,
        created_at=entry.created_at,
        offer=_pending_offer(offers[0]) if offers else None,
    )


def _pending_offer(offer: WaitlistOffer) -> PendingOffer:
    slot = offer.freed_slot
    return PendingOffer(
        offer_id=offer.public_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        practitioner_name=str(slot.practitioner),
        location_name=slot.location.name,
        time_zone=slot.location.time_zone or settings.CARELINE_TIME_ZONE,
        expires_at=offer.expires_at,
    )


@dataclass(frozen=True)
class FillRate:
    freed: int
    rebooked_before_start: int

    @property
    def rate(self) -> float | None:
        return self.rebooked_before_start / self.freed if self.freed else None


FREED_CAUSES = (FreedSlotCause.CANCELLATION, FreedSlotCause.RESCHEDULE)


def fill_rate(
    *,
    actor: Actor,
    date_from: date,
    date_to: date,
    causes: tuple[str, ...] = FREED_CAUSES,
) -> FillRate:
    """Freed slots starting in [date_from, date_to] (organisation days) and how many were
    rebooked before they started — by the waitlist or any other booking. Slots that opened
    as new availability are not "freed" and are left out unless ``causes`` names them."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="FreedSlot")
    zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
    slots = FreedSlot.objects.filter(
        cause__in=list(causes),
        starts_at__gte=local_instant(date_from, time(0), zone),
        starts_at__lt=local_instant(date_to + timedelta(days=1), time(0), zone),
    )
    return FillRate(
        freed=slots.count(),
        rebooked_before_start=slots.filter(rebooked_at__lt=F("starts_at")).count(),
    )
