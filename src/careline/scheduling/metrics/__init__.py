"""Access metrics — each defined once, here. The Access metrics page, ``GET
/api/scheduling/metrics`` and the weekly snapshot task call these functions and nothing else.

**The period.** ``date_from``..``date_to`` are local days (inclusive) in
``CARELINE_TIME_ZONE``; an appointment belongs to the period, and to a week (Monday to
Sunday, local), by its start. A visit type narrows every metric to that type; a location
narrows the appointment metrics and utilisation to that place (third-next-available is kept
per visit type and provider, not per place).

**Outcomes** (``weekly_outcomes``), kept as separate outcomes:

- *no-show rate* = no-shows ÷ (no-shows + arrived + completed): of the visits whose outcome
  was recorded, the share missed. Cancelled, bumped and still-booked visits are not in it.
- *late cancellation* = cancelled by anyone but the provider (reason not "provider") at or
  after ``CARELINE_LATE_CANCEL_HOURS`` before the start (a reschedule away counts: the old
  appointment is cancelled). Rate over the appointments scheduled in the week.
- *provider bump* = status "bumped", or cancelled with the reason "provider" (whenever it
  happened). Rate over the appointments scheduled in the week.

**Template utilisation** (``utilisation_by_provider``) = booked minutes ÷ available template
minutes. Available: each day a provider's template applies in the period, its session less
breaks and less leave and closures (reserved and frozen blocks are available time). Booked:
the length of every appointment that kept its time — booked, arrived, completed or no-show —
overbooks included, so it can pass 100 %.

**Fill rate** (``weekly_fill``) = freed slots rebooked before they start ÷ freed slots. A
freed slot is an appointment (not an overbook) cancelled or rescheduled away before its
start. It is rebooked when another appointment of the same practitioner that is not
cancelled or bumped overlaps its time and was created after the freeing and before the
freed start. Derived from the appointments alone; when the waitlist keeps its own freed-slot
records, this function is the one place to read them instead.

**Third next available** (``third_next_available``), as IHI defines it: calendar days from
the request date to the third next available slot of the visit type — per visit type across
its providers, and per provider. Slots are what ``search_slots`` offers a booking (the
template expansion, the booking window, free time and rooms): held slots and frozen blocks
(reserves kept back from booking) are not available. None when fewer than three slots are
free within a year. It cannot be recomputed later, so ``record_access_snapshots`` stores it
weekly (``AccessSnapshot``) and the trend reads those snapshots.

Queries: the page's numbers cost a fixed number of queries whatever the number of weeks,
appointments and providers (tested).

The modules: ``period`` (filters, weeks), ``outcomes``, ``fill``, ``utilisation``,
``snapshots`` (third next available and its weekly record), ``report`` (all of them for the
page and the API). Callers import from this package.
"""

from careline.scheduling.metrics.fill import WeekFill, freed_slots, weekly_fill
from careline.scheduling.metrics.outcomes import (
    WeekOutcomes,
    bump_condition,
    late_cancellation_condition,
    late_cancellation_window,
    weekly_outcomes,
)
from careline.scheduling.metrics.period import (
    MetricFilters,
    Scope,
    organisation_zone,
    rate,
    resolve_scope,
    week_of,
)
from careline.scheduling.metrics.report import (
    AccessMetrics,
    default_filters,
    get_access_metrics,
    payload,
)
from careline.scheduling.metrics.snapshots import (
    SnapshotRow,
    is_week_recorded,
    latest_per_provider,
    list_snapshots,
    record_access_snapshots,
    third_next_available,
)
from careline.scheduling.metrics.utilisation import (
    ProviderUtilisation,
    available_minutes,
    utilisation_by_provider,
)

__all__ = [
    "AccessMetrics",
    "MetricFilters",
    "ProviderUtilisation",
    "Scope",
    "SnapshotRow",
    "WeekFill",
    "WeekOutcomes",
    "available_minutes",
    "bump_condition",
    "default_filters",
    "freed_slots",
    "get_access_metrics",
    "is_week_recorded",
    "late_cancellation_condition",
    "late_cancellation_window",
    "latest_per_provider",
    "list_snapshots",
    "organisation_zone",
    "payload",
    "rate",
    "record_access_snapshots",
    "resolve_scope",
    "third_next_available",
    "utilisation_by_provider",
    "week_of",
    "weekly_fill",
    "weekly_outcomes",
]
