"""The slot search (re-exported by ``scheduling.selectors``).

**Slot search** (``search_slots``): the next free slots of a visit type across every eligible
practitioner — offering the visit type's specialty, speaking the language, of the gender asked
— at the places given (an ordered list of locations with their distances, nearest first, as
the location search hands them over; none given: everywhere), from a date range. Each slot is
a template slot (``availability.expand``, the function booking checks with), inside the
visit type's booking window, with the practitioner free for the visit and its buffers, a free
room/device of each required kind, the patient free, and the practitioner's rules passed (the
new-patient count of the session included). Held time and frozen or other-type reserved
blocks are not offered. Slots come earliest first; equal times nearest place first.

How it stays fast: the range is scanned in growing chunks (6 hours, 12, 24… up to 16 days);
inside a chunk the template-days are taken in order of their session start, in batches of
``SESSION_BATCH`` with one occupancy query each (those practitioners, the rooms, the patient),
and the scan stops as soon as no later session can beat the slots found. Besides, a fixed
number of queries: the visit type, practitioners (≤ 3), where they work, locations,
exceptions, rules, resources, the patient's facts when a patient is given — and the
templates of each weekday the scan reaches (3).
"""

from __future__ import annotations

import bisect
import heapq
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from careline.directory.visit_types import (
    LocationInfo,
    PractitionerInfo,
    get_visit_type,
    list_locations,
    list_offering_practitioners,
    resolve_location_ids,
    specialty_members,
    time_zone_of,
)
from careline.patients.access import is_self_service
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling import occupancy
from careline.scheduling.access import access_for_scheduling
from careline.scheduling.availability import (
    BookingWindow,
    Candidate,
    TemplateSpec,
    booking_window,
    expand,
    local_instant,
    part_of_day,
)
from careline.scheduling.booking import EARLIEST_YEAR, LATEST_YEAR
from careline.scheduling.calendars import (
    Exceptions,
    load_exceptions,
    load_provider_rules,
    load_template_places,
    load_templates,
)
from careline.scheduling.errors import RuleRefusal
from careline.scheduling.facts import gather_patient_facts
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ProviderRule,
    Resource,
)
from careline.scheduling.rules import (
    PatientFacts,
    SlotContext,
    check_criteria,
    check_provider_rules,
    counts_new_patients,
)
from careline.scheduling.self_service import self_booking_dates

MAX_RANGE_DAYS = 366
MAX_LIMIT = 50
# The range is scanned in chunks of 6 hours, then 12, 24 … up to 16 days: the next slots
# are usually near, and each chunk reads only its own occupancy.
FIRST_CHUNK_HOURS = 6
LAST_CHUNK_HOURS = 16 * 24
# Sessions are read in batches, earliest first, each with one occupancy query for its
# practitioners: the scan usually stops inside the first batch.
SESSION_BATCH = 50


@dataclass(frozen=True, slots=True)
class Place:
    """A location to search, with its distance from the patient (from the location search)."""

    location_id: uuid.UUID
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class SlotOption:
    starts_at: datetime
    ends_at: datetime
    visit_type_id: uuid.UUID
    practitioner_id: uuid.UUID
    practitioner_name: str
    location_id: uuid.UUID
    location_name: str
    time_zone: str
    distance_km: float | None

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(ZoneInfo(self.time_zone))


@dataclass(frozen=True)
class _Search:
    visit_type_pk: int
    visit_type_public_id: uuid.UUID
    duration: timedelta
    buffer_before: timedelta
    buffer_after: timedelta
    capacity: int
    resource_kinds: tuple[str, ...]
    facts: PatientFacts | None
    patient_pk: int | None
    practitioners: dict[int, PractitionerInfo]
    locations: dict[int, LocationInfo]
    ranks: dict[int, int]
    distances: dict[int, float | None]
    windows: dict[str, BookingWindow]
    rules: dict[int, list[ProviderRule]]
    resources: dict[int, dict[str, list[int]]]  # location → kind → resource pks
    exceptions: Exceptions
    now: datetime


def search_slots(
    *,
    actor: Actor,
    visit_type_id: uuid.UUID,
    date_from: date,
    date_to: date,
    patient_id: uuid.UUID | None = None,
    places: Sequence[Place] | None = None,
    language: str = "",
    gender: str = "",
    limit: int = 10,
    per_place: int | None = None,
    only_practitioners: Collection[int] | None = None,
    as_of: datetime | None = None,
) -> list[SlotOption]:
    """The next ``limit`` free slots (see the module docstring). With ``places`` and
    ``per_place``, place by place instead, nearest first: each place's next ``per_place``
    slots (earliest first), ``limit`` in all. With a patient, her
    criteria are judged first (``RuleRefusal`` naming the rule) and the read is audited.
    A portal account searches for a patient it acts for, only what she may book herself
    (``self_service``), and only on the dates a ticket allows when it is a ticket's.
    ``only_practitioners`` (internal keys) narrows the search to those providers — the access
    metrics measure each provider's third next available with it. ``as_of`` (default: the
    clock) is the moment the search is made — booking windows, released blocks and live
    holds are judged at it; the metrics' weekly snapshot passes the moment it stands for."""
    self_serving = is_self_service(actor)
    if not self_serving:
        require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="Slot")
    elif patient_id is None:
        raise ValidationFailed(
            "Name the patient the search is for.", details={"parameter": "patient_id"}
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit is 1 to {MAX_LIMIT}.", details={"parameter": "limit"})
    if not all(EARLIEST_YEAR <= day.year <= LATEST_YEAR for day in (date_from, date_to)):
        raise ValidationFailed(
            f"Search dates fall in the years {EARLIEST_YEAR} to {LATEST_YEAR}.",
            details={"parameter": "date_from"},
        )
    if per_place is not None and not 1 <= per_place <= limit:
        raise ValidationFailed("per_place is 1 to limit.", details={"parameter": "per_place"})
    if not date_from <= date_to or (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"date_to must be on or after date_from, at most {MAX_RANGE_DAYS} days on.",
            details={"parameter": "date_to"},
        )
    visit_type = get_visit_type(visit_type_id=visit_type_id)
    now = as_of or clock.now()
    in_specialty = specialty_members(specialty=visit_type.specialty)
    facts, patient_pk = None, None
    if patient_id is not None:
        access = access_for_scheduling(
            actor,
            patient_id,
            permission=Permission.VIEW_PATIENT,
            action=AuditAction.READ,
            resource_type="Slot",
        )
        organisation_zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
        today = now.astimezone(organisation_zone).date()
        if self_serving:
            allowed = self_booking_dates(access.patient, visit_type, today)
            date_from = max(date_from, allowed.earliest or date_from)
            date_to = min(date_to, allowed.latest or date_to)
            if date_from > date_to:
                return []
        facts = gather_patient_facts(
            patient=access.patient,
            visit_type=visit_type,
            today=today,
            now=now,
            in_specialty=in_specialty,
        )
        violations = check_criteria(visit_type, facts)
        if violations:
            raise RuleRefusal(violations)
        patient_pk = access.patient.pk
    practitioners = list_offering_practitioners(
        specialty=visit_type.specialty,
        language=language,
        gender=gender,
        in_specialty=in_specialty,
        practitioner_ids=only_practitioners,
    )
    ranks, distances, location_filter = _places(places)
    pairs = load_template_places(practitioner_ids=list(practitioners), location_ids=location_filter)
    if not pairs:
        return []
    practitioner_ids = {practitioner_id for practitioner_id, _ in pairs}
    locations = list_locations(location_ids={location_id for _, location_id in pairs})
    windows = {
        location.time_zone: booking_window(
            now=now,
            zone=time_zone_of(location.time_zone),
            minimum_notice_minutes=visit_type.minimum_notice_minutes,
            maximum_horizon_days=visit_type.maximum_horizon_days,
            same_day_cutoff=visit_type.same_day_cutoff,
        )
        for location in locations.values()
    }
    zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
    start = max(local_instant(date_from, time(0), zone), min(w.earliest for w in windows.values()))
    end = min(
        local_instant(date_to + timedelta(days=1), time(0), zone),
        max(w.latest for w in windows.values()),
    )
    if start >= end:
        return []
    search = _Search(
        visit_type_pk=visit_type.pk,
        visit_type_public_id=visit_type.public_id,
        duration=timedelta(minutes=visit_type.duration_minutes),
        buffer_before=timedelta(minutes=visit_type.buffer_before_minutes),
        buffer_after=timedelta(minutes=visit_type.buffer_after_minutes),
        capacity=visit_type.capacity,
        resource_kinds=tuple(visit_type.required_resource_kinds or ()),
        facts=facts,
        patient_pk=patient_pk,
        practitioners=practitioners,
        locations=locations,
        ranks=ranks,
        distances=distances,
        windows=windows,
        rules=(load_provider_rules(practitioner_ids=practitioner_ids) if facts is not None else {}),
        resources=_resources(locations, visit_type.required_resource_kinds or []),
        exceptions=load_exceptions(
            practitioner_ids=practitioner_ids,
            start=start - timedelta(days=1),
            end=end + timedelta(days=1),
        ),
        now=now,
    )
    if per_place is None or places is None:
        return _scan(search, _Templates(search, location_filter), start, end, limit)
    return _scan_by_place(search, start, end, limit, per_place)


def _places(
    places: Sequence[Place] | None,
) -> tuple[dict[int, int], dict[int, float | None], list[int] | None]:
    if places is None:
        return {}, {}, None
    ids = resolve_location_ids(place.location_id for place in places)
    ranks: dict[int, int] = {}
    distances: dict[int, float | None] = {}
    for rank, place in enumerate(places):
        pk = ids.get(place.location_id)
        if pk is not None and pk not in ranks:
            ranks[pk], distances[pk] = rank, place.distance_km
    return ranks, distances, list(ranks)


def _resources(
    locations: dict[int, LocationInfo], kinds: Sequence[str]
) -> dict[int, dict[str, list[int]]]:
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    if kinds:
        rows = Resource.objects.filter(
            location_id__in=list(locations), kind__in=list(kinds), is_active=True
        ).order_by("name", "pk")
        for pk, location_id, kind in rows.values_list("pk", "location_id", "kind"):
            found[location_id][kind].append(pk)
    return found


class _Busy:
    """Occupied intervals by resource key, for quick overlap questions."""

    def __init__(self, rows: Sequence[tuple[str, str, datetime, datetime]]) -> None:
        by_key: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
        self.group_seats: Counter[str] = Counter()
        for key, slot_key, occupied_from, occupied_to in rows:
            by_key[key].append((occupied_from, occupied_to, slot_key))
            if slot_key.startswith("group:") and key.startswith("practitioner:"):
                self.group_seats[slot_key] += 1
        self.intervals = {key: sorted(items) for key, items in by_key.items()}
        self.starts = {key: [item[0] for item in items] for key, items in self.intervals.items()}

    def is_free(self, key: str, start: datetime, end: datetime, shared: str | None = None) -> bool:
        intervals = self.intervals.get(key)
        if not intervals:
            return True
        index = bisect.bisect_left(self.starts[key], end) - 1
        earliest = start - occupancy.MAX_SPAN
        while index >= 0 and intervals[index][0] > earliest:
            _, occupied_to, slot_key = intervals[index]
            if occupied_to > start and slot_key != shared:
                return False
            index -= 1
        return True


def _busy(search: _Search, practitioner_ids: set[int], start: datetime, end: datetime) -> _Busy:
    """What is taken in [start, end) of these practitioners, the rooms and the patient."""
    keys = [occupancy.practitioner_key(pk) for pk in sorted(practitioner_ids)]
    keys += [
        occupancy.resource_key(pk)
        for kinds in search.resources.values()
        for pks in kinds.values()
        for pk in pks
    ]
    if search.patient_pk is not None:
        keys.append(occupancy.patient_key(search.patient_pk))
    rows = occupancy.overlapping(
        keys, start - search.buffer_after, end + search.buffer_before, search.now
    ).filter(is_overbook=False)
    return _Busy(list(rows.values_list("resource_key", "slot_key", "occupied_from", "occupied_to")))


def _new_patient_counts(
    search: _Search, templates: Sequence[TemplateSpec], start: datetime, end: datetime
) -> Counter[tuple[int, date, str]]:
    """New patients booked per (practitioner, local day, am/pm), where a rule counts them."""
    counts: Counter[tuple[int, date, str]] = Counter()
    if search.facts is None or not search.facts.is_new:
        return counts
    counting = [pk for pk, rules in search.rules.items() if counts_new_patients(rules)]
    if not counting:
        return counts
    zones = {t.practitioner_id: search.locations[t.location_id].time_zone for t in templates}
    rows = (
        Appointment.objects.filter(
            practitioner_id__in=counting,
            is_new_patient=True,
            starts_at__gte=start - timedelta(days=1),
            starts_at__lt=end + timedelta(days=1),
        )
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.BUMPED])
        .values_list("practitioner_id", "starts_at")
    )
    for practitioner_id, starts_at in rows:
        zone = time_zone_of(zones.get(practitioner_id, ""))
        counts[
            (practitioner_id, starts_at.astimezone(zone).date(), part_of_day(starts_at, zone))
        ] += 1
    return counts


@dataclass(order=True, frozen=True, slots=True)
class _Key:
    starts_at: datetime
    rank: int
    name: str
    practitioner_id: int


class _Templates:
    """The templates offering the visit type, loaded per weekday as the scan needs them."""

    def __init__(self, search: _Search, location_ids: list[int] | None) -> None:
        self.search = search
        self.location_ids = location_ids
        self.by_weekday: dict[int, list[TemplateSpec]] = {}

    def touching(self, start: datetime, end: datetime) -> list[TemplateSpec]:
        """Templates of the weekdays [start, end) touches in any of the locations' zones."""
        weekdays: set[int] = set()
        for zone_name in {location.time_zone for location in self.search.locations.values()}:
            zone = time_zone_of(zone_name)
            day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
            while day <= last and len(weekdays) < 7:
                weekdays.add(day.weekday())
                day += timedelta(days=1)
        missing = weekdays - set(self.by_weekday)
        if missing:
            for weekday in missing:
                self.by_weekday[weekday] = []
            for template in load_templates(
                practitioner_ids=list(self.search.practitioners),
                location_ids=self.location_ids,
                weekdays=missing,
            ):
                if template.offers(self.search.visit_type_pk):
                    self.by_weekday[template.weekday].append(template)
        return [template for weekday in sorted(weekdays) for template in self.by_weekday[weekday]]


def _scan(
    search: _Search, templates: _Templates, start: datetime, end: datetime, limit: int
) -> list[SlotOption]:
    found: list[tuple[_Key, Candidate]] = []
    chunk_start, hours = start, FIRST_CHUNK_HOURS
    while chunk_start < end and len(found) < limit:
        chunk_end = min(end, chunk_start + timedelta(hours=hours))
        found += _scan_chunk(
            search,
            templates.touching(chunk_start, chunk_end),
            chunk_start,
            chunk_end,
            limit - len(found),
        )
        chunk_start, hours = chunk_end, min(hours * 2, LAST_CHUNK_HOURS)
    found.sort(key=lambda item: item[0])
    return [_option(search, candidate) for _, candidate in found[:limit]]


def _scan_by_place(
    search: _Search, start: datetime, end: datetime, limit: int, per_place: int
) -> list[SlotOption]:
    """Each place's next ``per_place`` slots, the places in their given order."""
    found: list[SlotOption] = []
    for location_pk in sorted(search.ranks, key=search.ranks.__getitem__):
        if len(found) >= limit:
            break
        here = _Templates(search, [location_pk])
        found += _scan(search, here, start, end, min(per_place, limit - len(found)))
    return found


def _scan_chunk(
    search: _Search,
    templates: Sequence[TemplateSpec],
    start: datetime,
    end: datetime,
    limit: int,
) -> list[tuple[_Key, Candidate]]:
    """The best ``limit`` free slots starting in [start, end)."""
    sessions = _sessions(search, templates, start, end)
    if not sessions:
        return []
    new_counts = _new_patient_counts(search, templates, start, end)
    best: list[tuple[_NegKey, Candidate]] = []  # a max-heap of the best ``limit`` by key
    for batch_start in range(0, len(sessions), SESSION_BATCH):
        batch = sessions[batch_start : batch_start + SESSION_BATCH]
        if len(best) >= limit and batch[0][0] >= best[0][0].key:
            break  # no later session can beat what was found
        busy = _busy(search, {session[2].practitioner_id for session in batch}, start, end)
        for session_key, day, template, zone in batch:
            if len(best) >= limit and session_key >= best[0][0].key:
                break
            _scan_session(
                search, busy, new_counts, session_key, day, template, zone, start, end, limit, best
            )
    return [(neg.key, candidate) for neg, candidate in best]


def _sessions(
    search: _Search, templates: Sequence[TemplateSpec], start: datetime, end: datetime
) -> list[tuple[_Key, date, TemplateSpec, ZoneInfo]]:
    """The template-days that overlap [start, end), keyed by the earliest slot they could
    offer, in that order."""
    sessions = []
    for template in templates:
        zone = time_zone_of(search.locations[template.location_id].time_zone)
        day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        while day <= last:
            if template.applies_on(day):
                session_start = local_instant(day, template.start, zone)
                if session_start < end and local_instant(day, template.end, zone) > start:
                    practitioner = search.practitioners[template.practitioner_id]
                    key = _Key(
                        max(session_start, start),
                        search.ranks.get(template.location_id, 0),
                        practitioner.display_name,
                        practitioner.id,
                    )
                    sessions.append((key, day, template, zone))
            day += timedelta(days=1)
    sessions.sort(key=lambda session: session[0])
    return sessions


def _scan_session(
    search: _Search,
    busy: _Busy,
    new_counts: Counter[tuple[int, date, str]],
    session_key: _Key,
    day: date,
    template: TemplateSpec,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    limit: int,
    best: list[tuple[_NegKey, Candidate]],
) -> None:
    """Push the session's free slots that beat the worst of ``best`` (kept at ``limit``)."""
    for candidate in expand(
        template,
        day,
        zone,
        duration_minutes=int(search.duration.total_seconds() // 60),
        visit_type_id=search.visit_type_pk,
        now=search.now,
        exceptions=search.exceptions.for_session(template.practitioner_id, template.location_id),
    ):
        if not start <= candidate.starts_at < end:
            continue
        key = _Key(
            candidate.starts_at, session_key.rank, session_key.name, session_key.practitioner_id
        )
        if len(best) >= limit and key >= best[0][0].key:
            return
        if _is_free(search, busy, new_counts, template, zone, candidate):
            heapq.heappush(best, (_NegKey(key), candidate))
            if len(best) > limit:
                heapq.heappop(best)


@dataclass(frozen=True, slots=True)
class _NegKey:
    """Reverses the order of ``_Key`` so ``heapq`` keeps the largest on top."""

    key: _Key

    def __lt__(self, other: _NegKey) -> bool:
        return other.key < self.key


def _is_free(
    search: _Search,
    busy: _Busy,
    new_counts: Counter[tuple[int, date, str]],
    template: TemplateSpec,
    zone: ZoneInfo,
    candidate: Candidate,
) -> bool:
    starts_at, ends_at = candidate.starts_at, candidate.ends_at
    location = search.locations[template.location_id]
    if not search.windows[location.time_zone].admits(starts_at, zone):
        return False
    occupied = (starts_at - search.buffer_before, ends_at + search.buffer_after)
    group = (
        occupancy.group_slot_key(search.visit_type_pk, template.practitioner_id, starts_at)
        if search.capacity > 1
        else None
    )
    if group is not None and busy.group_seats[group] >= search.capacity:
        return False
    if not busy.is_free(occupancy.practitioner_key(template.practitioner_id), *occupied, group):
        return False
    if search.patient_pk is not None and not busy.is_free(
        occupancy.patient_key(search.patient_pk), starts_at, ends_at
    ):
        return False
    for kind in search.resource_kinds:
        pks = search.resources.get(template.location_id, {}).get(kind, [])
        if not any(busy.is_free(occupancy.resource_key(pk), *occupied, group) for pk in pks):
            return False
    rules = search.rules.get(template.practitioner_id)
    if rules and search.facts is not None:
        local = starts_at.astimezone(zone)
        session = (template.practitioner_id, local.date(), part_of_day(starts_at, zone))
        slot = SlotContext(local.weekday(), session[2], new_counts[session])
        if check_provider_rules(rules, search.facts, visit_type_id=search.visit_type_pk, slot=slot):
            return False
    return True


def _option(search: _Search, candidate: Candidate) -> SlotOption:
    practitioner = search.practitioners[candidate.practitioner_id]
    location = search.locations[candidate.location_id]
    return SlotOption(
        starts_at=candidate.starts_at.astimezone(UTC),
        ends_at=candidate.ends_at.astimezone(UTC),
        visit_type_id=search.visit_type_public_id,
        practitioner_id=practitioner.public_id,
        practitioner_name=practitioner.display_name,
        location_id=location.public_id,
        location_name=location.name,
        time_zone=location.time_zone,
        distance_km=search.distances.get(candidate.location_id),
    )
