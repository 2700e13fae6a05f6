"""Third next available (IHI), measured by the booking's slot search and recorded weekly,
since it cannot be recomputed later (package docstring)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F

from careline.directory.visit_types import list_offering_practitioners, list_visit_types
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.calendars import load_templates
from careline.scheduling.metrics.period import Scope, organisation_zone, week_of
from careline.scheduling.models import AccessSnapshot
from careline.scheduling.slot_search import MAX_RANGE_DAYS, search_slots

THIRD = 3


def third_next_available(
    *,
    actor: Actor,
    visit_type_id: uuid.UUID,
    request_date: date,
    practitioner_pk: int | None,
    now: datetime | None = None,
) -> int | None:
    """Calendar days from ``request_date`` to the third next available slot of the visit
    type (of one provider, or of any), by the booking slot search made at ``now`` (default:
    the clock); None if fewer than three within a year."""
    slots = search_slots(
        actor=actor,
        visit_type_id=visit_type_id,
        date_from=request_date,
        date_to=request_date + timedelta(days=MAX_RANGE_DAYS - 1),
        limit=THIRD,
        only_practitioners=None if practitioner_pk is None else [practitioner_pk],
        as_of=now,
    )
    if len(slots) < THIRD:
        return None
    return (slots[THIRD - 1].local_start.date() - request_date).days


def is_week_recorded(*, now: datetime) -> bool:
    """Whether the snapshot of ``now``'s week has been recorded."""
    week = week_of(now.astimezone(organisation_zone()).date())
    return AccessSnapshot.objects.filter(week_start=week).exists()


def record_access_snapshots(*, actor: Actor, now: datetime | None = None) -> int:
    """Record this week's third-next-available per visit type (across providers and per
    provider who has hours for it); pairs already recorded this week are left as they are,
    so running it again in the same week changes nothing. Returns the rows written.
    ``now`` (default: the clock) is the moment measured: the week, the request date and the
    slot search's own clock all follow it.

    Each pair costs one slot search — the price of measuring with the booking's own rules."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="AccessSnapshot")
    now = now or clock.now()
    today = now.astimezone(organisation_zone()).date()
    week = week_of(today)
    done = set(
        AccessSnapshot.objects.filter(week_start=week).values_list(
            "visit_type_id", "practitioner_id"
        )
    )
    rows = []
    for visit_type in list_visit_types():
        providers = list_offering_practitioners(specialty=visit_type.specialty)
        with_hours = sorted(
            {
                spec.practitioner_id
                for spec in load_templates(practitioner_ids=list(providers))
                if spec.offers(visit_type.pk)
            }
        )
        for practitioner_pk in [None, *with_hours]:
            if (visit_type.pk, practitioner_pk) in done:
                continue
            days = third_next_available(
                actor=actor,
                visit_type_id=visit_type.public_id,
                request_date=today,
                practitioner_pk=practitioner_pk,
                now=now,
            )
            rows.append(
                AccessSnapshot(
                    week_start=week,
                    visit_type_id=visit_type.pk,
                    practitioner_id=practitioner_pk,
                    request_date=today,
                    days=days,
                    recorded_at=now,
                )
            )
    with transaction.atomic():
        written = AccessSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="AccessSnapshot",
            details={"week_start": week.isoformat(), "rows": len(written)},
        )
    return len(written)


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    week_start: date
    visit_type_id: uuid.UUID
    visit_type_name: str
    practitioner_id: uuid.UUID | None  # None: across the visit type's providers
    practitioner_name: str
    days: int | None


def list_snapshots(scope: Scope) -> list[SnapshotRow]:
    """Recorded third-next-available values of the weeks the period touches. One query."""
    zone = organisation_zone()
    first = week_of(scope.start.astimezone(zone).date())
    last = (scope.end - timedelta(microseconds=1)).astimezone(zone).date()
    rows = AccessSnapshot.objects.filter(week_start__gte=first, week_start__lte=last)
    if scope.visit_type_pk is not None:
        rows = rows.filter(visit_type_id=scope.visit_type_pk)
    return [
        SnapshotRow(
            week_start=row.week_start,
            visit_type_id=row.visit_type.public_id,
            visit_type_name=row.visit_type.name,
            practitioner_id=row.practitioner.public_id if row.practitioner else None,
            practitioner_name=row.practitioner.display_name if row.practitioner else "",
            days=row.days,
        )
        for row in rows.select_related("visit_type", "practitioner").order_by(
            "week_start",
            "visit_type__name",
            F("practitioner__family_name").asc(nulls_first=True),  # across providers first
            "pk",
        )
    ]


def latest_per_provider(snapshots: Sequence[SnapshotRow]) -> list[SnapshotRow]:
    """Each (visit type, provider)'s most recent value, by visit type then provider."""
    latest: dict[tuple[uuid.UUID, uuid.UUID], SnapshotRow] = {}
    for row in snapshots:  # earliest week first: later weeks replace earlier ones
        if row.practitioner_id is not None:
            latest[(row.visit_type_id, row.practitioner_id)] = row
    return sorted(latest.values(), key=lambda row: (row.visit_type_name, row.practitioner_name))
