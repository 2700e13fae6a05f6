"""Every metric of a period at once, for the page and the API, and the JSON both serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.permissions import Permission
from careline.scheduling.metrics.fill import WeekFill, weekly_fill
from careline.scheduling.metrics.outcomes import WeekOutcomes, weekly_outcomes
from careline.scheduling.metrics.period import MetricFilters, resolve_scope, week_of
from careline.scheduling.metrics.snapshots import SnapshotRow, list_snapshots
from careline.scheduling.metrics.utilisation import ProviderUtilisation, utilisation_by_provider


@dataclass(frozen=True, slots=True)
class AccessMetrics:
    filters: MetricFilters
    late_cancel_hours: int
    outcomes: list[WeekOutcomes]
    fill: list[WeekFill]
    utilisation: list[ProviderUtilisation]
    snapshots: list[SnapshotRow]

    @property
    def totals(self) -> WeekOutcomes:
        return WeekOutcomes(
            week_start=self.filters.date_from,
            scheduled=sum(week.scheduled for week in self.outcomes),
            no_shows=sum(week.no_shows for week in self.outcomes),
            attended=sum(week.attended for week in self.outcomes),
            late_cancellations=sum(week.late_cancellations for week in self.outcomes),
            bumps=sum(week.bumps for week in self.outcomes),
        )

    @property
    def fill_total(self) -> WeekFill:
        return WeekFill(
            self.filters.date_from,
            sum(week.freed for week in self.fill),
            sum(week.rebooked for week in self.fill),
        )


def get_access_metrics(*, actor: Actor, filters: MetricFilters) -> AccessMetrics:
    """Every access metric of the period (aggregates: no patient is read or shown)."""
    require_permission(actor, Permission.VIEW_ACCESS_METRICS, resource_type="AccessMetrics")
    scope = resolve_scope(filters)
    return AccessMetrics(
        filters=filters,
        late_cancel_hours=settings.CARELINE_LATE_CANCEL_HOURS,
        outcomes=weekly_outcomes(scope),
        fill=weekly_fill(scope),
        utilisation=utilisation_by_provider(scope),
        snapshots=list_snapshots(scope),
    )


def default_filters(today: date) -> MetricFilters:
    """The last twelve weeks up to today."""
    return MetricFilters(date_from=week_of(today) - timedelta(weeks=11), date_to=today)


def payload(metrics: AccessMetrics) -> dict[str, object]:
    """The numbers as plain JSON values — what the API answers and the page's charts read."""
    totals, fill_total = metrics.totals, metrics.fill_total
    return {
        "from": metrics.filters.date_from.isoformat(),
        "to": metrics.filters.date_to.isoformat(),
        "visit_type": str(metrics.filters.visit_type_id or "") or None,
        "location": str(metrics.filters.location_id or "") or None,
        "late_cancel_hours": metrics.late_cancel_hours,
        "outcomes": {
            "scheduled": totals.scheduled,
            "no_shows": totals.no_shows,
            "attended": totals.attended,
            "no_show_rate": totals.no_show_rate,
            "late_cancellations": totals.late_cancellations,
            "late_cancellation_rate": totals.late_cancellation_rate,
            "bumps": totals.bumps,
            "bump_rate": totals.bump_rate,
        },
        "weeks": [
            {
                "week_start": week.week_start.isoformat(),
                "scheduled": week.scheduled,
                "no_shows": week.no_shows,
                "attended": week.attended,
                "no_show_rate": week.no_show_rate,
                "late_cancellations": week.late_cancellations,
                "bumps": week.bumps,
            }
            for week in metrics.outcomes
        ],
        "fill": {
            "freed": fill_total.freed,
            "rebooked": fill_total.rebooked,
            "fill_rate": fill_total.fill_rate,
            "weeks": [
                {
                    "week_start": week.week_start.isoformat(),
                    "freed": week.freed,
                    "rebooked": week.rebooked,
                    "fill_rate": week.fill_rate,
                }
                for week in metrics.fill
            ],
        },
        "utilisation": [
            {
                "practitioner_id": str(row.practitioner_id),
                "practitioner_name": row.practitioner_name,
                "available_minutes": row.available_minutes,
                "booked_minutes": row.booked_minutes,
                "utilisation": row.utilisation,
            }
            for row in metrics.utilisation
        ],
        "third_next_available": [
            {
                "week_start": row.week_start.isoformat(),
                "visit_type_id": str(row.visit_type_id),
                "visit_type_name": row.visit_type_name,
                "practitioner_id": str(row.practitioner_id) if row.practitioner_id else None,
                "practitioner_name": row.practitioner_name,
                "days": row.days,
            }
            for row in metrics.snapshots
        ],
    }
