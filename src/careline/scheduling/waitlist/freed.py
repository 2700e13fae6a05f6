"""What the booking services tell the waitlist, inside their own transaction.

- ``record_freed_slot``: a cancelled or rescheduled-away appointment's time becomes a
  ``FreedSlot`` and its first offer round is enqueued (same transaction: no lost job).
- ``note_rebooked``: any booking of a practitioner's time records that the freed slots it
  covers were rebooked (the fill rate counts them, however they were rebooked).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Case, F, Value, When

from careline.scheduling.waitlist import tasks
from careline.scheduling.waitlist.models import FreedSlot, FreedSlotStatus

if TYPE_CHECKING:
    from careline.scheduling.models import Appointment


def record_freed_slot(*, appointment: Appointment, cause: str, now: datetime) -> FreedSlot | None:
    """The appointment's time as a freed slot (None for a past slot or an overbook, whose
    time was never free, or when that slot is already being offered)."""
    if appointment.is_overbook or appointment.starts_at <= now:
        return None
    already = FreedSlot.objects.filter(
        status=FreedSlotStatus.OPEN,
        practitioner_id=appointment.practitioner_id,
        visit_type_id=appointment.visit_type_id,
        starts_at=appointment.starts_at,
    )
    if already.exists():
        return None
    slot = FreedSlot.objects.create(
        practitioner_id=appointment.practitioner_id,
        location_id=appointment.location_id,
        visit_type_id=appointment.visit_type_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        cause=cause,
        source_appointment=appointment,
        freed_at=now,
    )
    tasks.enqueue_offer_round(slot.public_id)
    return slot


def note_rebooked(appointments: Sequence[Appointment], *, now: datetime) -> int:
    """Freed slots (not yet started) whose time these appointments take are rebooked."""
    updated = 0
    for appointment in appointments:
        if appointment.is_overbook:
            continue
        updated += FreedSlot.objects.filter(
            practitioner_id=appointment.practitioner_id,
            starts_at__lt=appointment.ends_at,
            ends_at__gt=appointment.starts_at,
            starts_at__gt=now,
            rebooked_at__isnull=True,
        ).update(
            rebooked_appointment=appointment,
            rebooked_at=now,
            status=Case(
                When(status=FreedSlotStatus.OPEN, then=Value(FreedSlotStatus.FILLED)),
                default=F("status"),
            ),
        )
    return updated
