"""Loading what expansion needs — templates with their blocks, exceptions, provider rules —
in a fixed number of queries, for the slot search and the booking services alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from careline.scheduling.availability import BlockSpec, Interval, TemplateSpec
from careline.scheduling.models import (
    AvailabilityException,
    AvailabilityTemplate,
    ProviderRule,
    TemplateBlock,
)


def load_template_places(
    *, practitioner_ids: Collection[int], location_ids: Collection[int] | None = None
) -> set[tuple[int, int]]:
    """(practitioner, location) pairs that have a template. One query."""
    templates = AvailabilityTemplate.objects.filter(practitioner_id__any_of=list(practitioner_ids))
    if location_ids is not None:
        templates = templates.filter(location_id__any_of=list(location_ids))
    return set(templates.values_list("practitioner_id", "location_id").distinct())


def load_templates(
    *,
    practitioner_ids: Collection[int],
    location_ids: Collection[int] | None = None,
    weekdays: Collection[int] | None = None,
) -> list[TemplateSpec]:
    """Every template of these practitioners (at these locations, on these weekdays).
    Three queries."""
    templates = AvailabilityTemplate.objects.filter(practitioner_id__any_of=list(practitioner_ids))
    if location_ids is not None:
        templates = templates.filter(location_id__any_of=list(location_ids))
    if weekdays is not None:
        templates = templates.filter(weekday__in=list(weekdays))
    rows = list(
        templates.values_list(
            "pk",
            "practitioner_id",
            "location_id",
            "weekday",
            "start_time",
            "end_time",
            "slot_minutes",
            "effective_from",
            "effective_to",
        )
    )
    if not rows:
        return []
    # The same filter as a subquery: no list of thousands of ids to send back.
    template_ids = templates.values("pk")
    visit_types: dict[int, set[int]] = defaultdict(set)
    through = AvailabilityTemplate.visit_types.through.objects.filter(
        availabilitytemplate_id__in=template_ids
    )
    for template_id, visit_type_id in through.values_list(
        "availabilitytemplate_id", "visittype_id"
    ):
        visit_types[template_id].add(visit_type_id)
    blocks: dict[int, list[BlockSpec]] = defaultdict(list)
    for template_id, kind, start, end, visit_type_id, release in (
        TemplateBlock.objects.filter(template_id__in=template_ids)
        .order_by("start_time", "pk")
        .values_list(
            "template_id",
            "kind",
            "start_time",
            "end_time",
            "visit_type_id",
            "release_minutes_before",
        )
    ):
        blocks[template_id].append(BlockSpec(kind, start, end, visit_type_id, release))
    return [
        TemplateSpec(
            id=pk,
            practitioner_id=practitioner_id,
            location_id=location_id,
            weekday=weekday,
            start=start,
            end=end,
            slot_minutes=slot_minutes,
            effective_from=effective_from,
            effective_to=effective_to,
            visit_type_ids=frozenset(visit_types.get(pk, ())),
            blocks=tuple(blocks.get(pk, ())),
        )
        for (
            pk,
            practitioner_id,
            location_id,
            weekday,
            start,
            end,
            slot_minutes,
            effective_from,
            effective_to,
        ) in rows
    ]


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    practitioner_id: int | None  # None: organisation-wide
    location_id: int | None  # None: every location
    interval: Interval


class Exceptions:
    """Exceptions loaded once; ``for_session`` picks those of one practitioner at one place."""

    def __init__(self, rows: Sequence[ExceptionRow]) -> None:
        self.rows = rows
        self._by_session: dict[tuple[int, int], list[Interval]] = {}

    def for_session(self, practitioner_id: int, location_id: int) -> list[Interval]:
        key = (practitioner_id, location_id)
        if key not in self._by_session:
            self._by_session[key] = [
                row.interval
                for row in self.rows
                if row.practitioner_id in (None, practitioner_id)
                and row.location_id in (None, location_id)
            ]
        return self._by_session[key]


def load_exceptions(
    *, practitioner_ids: Collection[int], start: datetime, end: datetime
) -> Exceptions:
    """Leave of these practitioners and organisation-wide closures touching [start, end)."""
    rows = AvailabilityException.objects.filter(
        Q(practitioner_id__any_of=list(practitioner_ids)) | Q(practitioner__isnull=True),
        starts_at__lt=end,
        ends_at__gt=start,
    ).values_list("practitioner_id", "location_id", "starts_at", "ends_at")
    return Exceptions(
        [
            ExceptionRow(practitioner_id, location_id, Interval(starts_at, ends_at))
            for practitioner_id, location_id, starts_at, ends_at in rows
        ]
    )


def load_provider_rules(*, practitioner_ids: Collection[int]) -> dict[int, list[ProviderRule]]:
    """Active provider rules by practitioner. One query."""
    rules: dict[int, list[ProviderRule]] = defaultdict(list)
    for rule in ProviderRule.objects.filter(
        practitioner_id__any_of=list(practitioner_ids), is_active=True
    ).order_by("pk"):
        rules[rule.practitioner_id].append(rule)
    return dict(rules)
