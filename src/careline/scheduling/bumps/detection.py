"""Which booked visits a set-up change displaced — the one rule, in one place.

``review_displaced_appointments`` runs inside the transaction of every change that can move a
provider's availability (``configuration.add_exception``, ``configuration_changes.
remove_template`` / ``update_template``; ``remove_exception`` and ``create_template`` review
only to clear). It loads the visits in the change's scope — booked, Careline's own (an EHR's
imported appointment belongs to the EHR), not yet started — with the templates and exceptions
the slot search loads (``calendars``), and asks ``availability.displacement`` of each: the
same expansion of sessions, breaks and blocks the search and booking use.

- A displaced visit without an open flag, and not kept by staff before, is flagged with the
  change as its cause (history row and audit entry).
- An open flag whose visit is back inside availability, or no longer booked, is cleared.

Idempotent: a second review of the same change finds every displaced visit flagged already
and flags nothing new. The visits reviewed are locked (``select_for_update``) in a fixed
order, so two changes reviewing the same visits take turns.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from careline.directory.visit_types import list_locations, time_zone_of
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.services import AuditEntry
from careline.platform.models import AuditAction
from careline.scheduling.availability import (
    IN_CLOSED_BLOCK,
    IN_EXCEPTION,
    OUTSIDE_HOURS,
    TemplateSpec,
    displacement,
)
from careline.scheduling.bumps.models import (
    FlagCause,
    FlagFinding,
    FlaggedAppointment,
    FlagResolution,
    FlagStatus,
)
from careline.scheduling.calendars import load_exceptions, load_templates
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    AvailabilityException,
    AvailabilityTemplate,
    ExceptionKind,
)

_FINDINGS = {
    IN_EXCEPTION: FlagFinding.EXCEPTION,
    OUTSIDE_HOURS: FlagFinding.OUTSIDE_HOURS,
    IN_CLOSED_BLOCK: FlagFinding.CLOSED_BLOCK,
}


@dataclass(frozen=True, slots=True)
class Scope:
    """The visits a change can concern: these practitioners (None: all), at this location
    (None: all), overlapping ``[start, end)`` (None: unbounded)."""

    practitioner_ids: Collection[int] | None = None
    location_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def filter(self, rows: QuerySet[Appointment]) -> QuerySet[Appointment]:
        if self.practitioner_ids is not None:
            rows = rows.filter(practitioner_id__in=list(self.practitioner_ids))
        if self.location_id is not None:
            rows = rows.filter(location_id=self.location_id)
        if self.end is not None:
            rows = rows.filter(starts_at__lt=self.end)
        if self.start is not None:
            rows = rows.filter(ends_at__gt=self.start)
        return rows


@dataclass(frozen=True, slots=True)
class Change:
    """The set-up change a review follows; ``cause`` None: a change that only adds
    availability (it may clear flags, never raise one)."""

    cause: str | None
    change_id: uuid.UUID | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class ReviewResult:
    flagged: list[FlaggedAppointment]
    cleared: int


def find_displaced(appointments: Sequence[Appointment], *, now: datetime) -> dict[int, str]:
    """``{appointment pk: finding}`` for those of ``appointments`` (booked, not started) that
    lie outside their provider's availability. Reads templates and exceptions in a fixed
    number of queries, whatever the number of visits."""
    live = [
        row
        for row in appointments
        if row.status == AppointmentStatus.BOOKED and row.starts_at > now and not row.is_imported
    ]
    if not live:
        return {}
    practitioner_ids = {row.practitioner_id for row in live}
    location_ids = {row.location_id for row in live}
    templates: dict[tuple[int, int], list[TemplateSpec]] = defaultdict(list)
    for template in load_templates(practitioner_ids=practitioner_ids, location_ids=location_ids):
        templates[(template.practitioner_id, template.location_id)].append(template)
    exceptions = load_exceptions(
        practitioner_ids=practitioner_ids,
        start=min(row.starts_at for row in live),
        end=max(row.ends_at for row in live),
    )
    zones = {
        pk: time_zone_of(info.time_zone)
        for pk, info in list_locations(location_ids=location_ids).items()
    }
    found: dict[int, str] = {}
    for row in live:
        finding = displacement(
            templates[(row.practitioner_id, row.location_id)],
            zones[row.location_id],
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            visit_type_id=row.visit_type_id,
            now=now,
            exceptions=exceptions.for_session(row.practitioner_id, row.location_id),
        )
        if finding is not None:
            found[row.pk] = _FINDINGS[finding]
    return found


def review_displaced_appointments(
    *, actor: Actor, change: Change, scope: Scope, now: datetime
) -> ReviewResult:
    """Flag the visits in ``scope`` that ``change`` left outside availability and clear the
    open flags there that no longer hold. Call it inside the change's transaction."""
    booked = scope.filter(
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, starts_at__gt=now)
    )
    open_flags = list(
        FlaggedAppointment.objects.select_for_update(of=("self",)).filter(
            status=FlagStatus.OPEN, appointment__in=scope.filter(Appointment.objects.all())
        )
    )
    flagged_pks = {flag.appointment_id for flag in open_flags}
    appointments = list(
        Appointment.objects.select_for_update(of=("self",))
        .filter(Q(pk__in=booked.values("pk")) | Q(pk__in=flagged_pks))
        .order_by("pk")
    )
    found = find_displaced(appointments, now=now)
    cleared = _clear(open_flags, found, now)
    new_flags: list[FlaggedAppointment] = []
    if change.cause is not None:
        kept = set(
            FlaggedAppointment.objects.filter(
                appointment_id__in=list(found), resolution=FlagResolution.KEPT
            ).values_list("appointment_id", flat=True)
        )
        by_pk = {row.pk: row for row in appointments}
        new_flags = [
            FlaggedAppointment(
                appointment=by_pk[pk],
                detected_at=now,
                cause=change.cause,
                change_id=change.change_id,
                change_summary=change.summary[:200],
                finding=finding,
            )
            for pk, finding in sorted(found.items())
            if pk not in flagged_pks and pk not in kept
        ]
        FlaggedAppointment.objects.bulk_create(new_flags)
        _record_flags(actor, new_flags, change.cause)
    return ReviewResult(flagged=new_flags, cleared=cleared)


def review_exception(
    *, actor: Actor, exception: AvailabilityException, added: bool, now: datetime
) -> ReviewResult:
    """Review the visits an exception's time touches: flag them when it was just added,
    clear their flags when it was just removed."""
    reason = f" ({exception.reason})" if exception.reason else ""
    summary = f"{ExceptionKind(exception.kind).label} from {exception.starts_at:%Y-%m-%d}{reason}"
    return review_displaced_appointments(
        actor=actor,
        change=Change(
            cause=FlagCause.EXCEPTION_ADDED if added else None,
            change_id=exception.public_id,
            summary=summary,
        ),
        scope=Scope(
            practitioner_ids=[exception.practitioner_id] if exception.practitioner_id else None,
            location_id=exception.location_id,
            start=exception.starts_at,
            end=exception.ends_at,
        ),
        now=now,
    )


def review_template(
    *, actor: Actor, template: AvailabilityTemplate, cause: str | None, now: datetime
) -> ReviewResult:
    """Review the practitioner's visits at the template's place after it was removed or
    changed (``cause``), or added (None: clear only)."""
    verb: dict[str, str] = {
        FlagCause.TEMPLATE_REMOVED: "removed",
        FlagCause.TEMPLATE_CHANGED: "changed",
    }
    summary = f"{template} at {template.location.name} {verb[cause]}" if cause else ""
    return review_displaced_appointments(
        actor=actor,
        change=Change(cause=cause, change_id=template.public_id, summary=summary),
        scope=Scope(practitioner_ids=[template.practitioner_id], location_id=template.location_id),
        now=now,
    )


def _clear(open_flags: Sequence[FlaggedAppointment], found: dict[int, str], now: datetime) -> int:
    """Resolve as cleared the open flags whose visit is no longer displaced."""
    stale = [flag.pk for flag in open_flags if flag.appointment_id not in found]
    if not stale:
        return 0
    return FlaggedAppointment.objects.filter(pk__in=stale).update(
        status=FlagStatus.RESOLVED,
        resolution=FlagResolution.CLEARED,
        resolved_at=now,
        resolution_note="Back inside the provider's availability, or no longer booked.",
    )


def _record_flags(actor: Actor, flags: Sequence[FlaggedAppointment], cause: str) -> None:
    """The appointment's history and the audit trail say each visit was flagged."""
    if not flags:
        return
    AppointmentHistory.objects.bulk_create(
        [
            AppointmentHistory(
                appointment=flag.appointment,
                occurred_at=flag.detected_at,
                action="flagged",
                from_status=flag.appointment.status,
                to_status=flag.appointment.status,
                actor=actor.user,
                actor_label=actor.display,
                details={"cause": cause, "finding": flag.finding},
            )
            for flag in flags
        ]
    )
    patients = dict(
        Appointment.objects.filter(pk__in=[flag.appointment_id for flag in flags]).values_list(
            "pk", "patient__public_id"
        )
    )
    audit.record_events(
        actor=actor,
        entries=[
            AuditEntry(
                action=AuditAction.CREATE,
                resource_type="FlaggedAppointment",
                resource_id=str(flag.public_id),
                patient_id=patients[flag.appointment_id],
                details={"cause": cause, "finding": flag.finding},
            )
            for flag in flags
        ],
    )


__all__ = [
    "Change",
    "ReviewResult",
    "Scope",
    "find_displaced",
    "review_displaced_appointments",
    "review_exception",
    "review_template",
]
