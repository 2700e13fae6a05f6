"""Reads of the audit trail: the compliance officer's filtered, paged log; the sealer's queue;
a patient's appearances in searches.

``AuditFilter`` narrows the trail (no PHI: user names, action, patient public id, dates,
channel, outcome, break-glass only). The log page reads one keyset page of sealed entries at
a time, newest first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Min, QuerySet

from careline.platform import clock
from careline.platform.models import AuditAction, AuditEvent

PAGE_SIZE = 50
AUDIT_RESOURCE_TYPE = "AuditEvent"  # the resource type of reading or exporting the trail
SEARCH_LISTED_PATIENTS = "patients"  # the details key where a search lists its patients' ids


@dataclass(frozen=True)
class AuditFilter:
    """What the compliance officer asked for; empty values do not filter."""

    actor: str = ""
    action: str = ""
    patient_id: uuid.UUID | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    channel: str = ""
    outcome: str = ""
    break_glass_only: bool = False

    def names(self) -> list[str]:
        """The names of the filters in use (never their values) — for the audit record."""
        return [field.name for field in fields(self) if getattr(self, field.name)]

    def apply(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor:
            queryset = queryset.filter(actor_label__iexact=self.actor)
        if self.action:
            queryset = queryset.filter(action=self.action)
        if self.patient_id is not None:
            queryset = queryset.filter(patient_id=self.patient_id)
        if self.date_from is not None:
            queryset = queryset.filter(occurred_at__gte=_start_of(self.date_from))
        if self.date_to is not None:
            queryset = queryset.filter(occurred_at__lt=_start_of(self.date_to + dt.timedelta(1)))
        if self.channel:
            queryset = queryset.filter(channel=self.channel)
        if self.outcome:
            queryset = queryset.filter(outcome=self.outcome)
        if self.break_glass_only:
            queryset = queryset.filter(is_break_glass=True)
        return queryset


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the clinic's time zone (the one the log is shown in)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.CARELINE_TIME_ZONE))


def filter_events(audit_filter: AuditFilter) -> QuerySet[AuditEvent]:
    """The sealed entries the filter selects (an entry is shown once it has its place)."""
    sealed = AuditEvent.objects.filter(sequence__isnull=False).select_related("actor")
    return audit_filter.apply(sealed)


# --- the log page -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    newer_cursor: int | None  # ?after=… shows the page above this one
    older_cursor: int | None  # ?before=… shows the page below this one


def page_of_events(
    audit_filter: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page, newest first, keyed by ``sequence``: three queries whatever the log size."""
    queryset = filter_events(audit_filter)
    if after is not None:
        rows = list(queryset.filter(sequence__gt=after).order_by("sequence")[: size + 1])
        has_newer = len(rows) > size
        events = rows[:size][::-1]
        has_older = queryset.filter(sequence__lte=after).exists()
    else:
        below = queryset if before is None else queryset.filter(sequence__lt=before)
        rows = list(below.order_by("-sequence")[: size + 1])
        has_older = len(rows) > size
        events = rows[:size]
        has_newer = before is not None and queryset.filter(sequence__gte=before).exists()
    newest = events[0].sequence if events else (before or 0) - 1
    oldest = events[-1].sequence if events else (after or 0) + 1
    return AuditPage(
        events=events,
        newer_cursor=newest if has_newer else None,
        older_cursor=oldest if has_older else None,
    )


def last_sealed_position() -> int:
    return AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0


@dataclass(frozen=True)
class UnsealedEntries:
    count: int
    oldest_age_seconds: float | None


def count_unsealed() -> UnsealedEntries:
    """How many entries wait for the sealer, and how long the oldest has waited."""
    summary = AuditEvent.objects.filter(sequence__isnull=True).aggregate(
        oldest=Min("occurred_at"), count=Count("id")
    )
    oldest = summary["oldest"]
    age = (clock.now() - oldest).total_seconds() if oldest is not None else None
    return UnsealedEntries(count=summary["count"], oldest_age_seconds=age)


def list_search_appearances(*, patient_id: uuid.UUID, limit: int = 50) -> list[AuditEvent]:
    """Searches that listed the patient, newest first ("appeared in a search by …")."""
    searches = AuditEvent.objects.filter(action=AuditAction.SEARCH).select_related("actor")
    # A text match on the listed ids works on both databases (SQLite has no JSON containment);
    # a UUID's text cannot match anything but itself.
    listed = searches.filter(**{f"details__{SEARCH_LISTED_PATIENTS}__icontains": str(patient_id)})
    return list(listed.order_by("-occurred_at", "-id")[:limit])
